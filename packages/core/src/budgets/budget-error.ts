export type BudgetErrorCode = 'INVALID_BUDGET' | 'INVALID_WINDOW' | 'INVALID_TIME_ZONE' | 'INVALID_SELECTOR';

/** The one error class of budget definitions and windows; `field` names the offending input. */
export class BudgetError extends Error {
  override readonly name = 'BudgetError';
  constructor(
    readonly code: BudgetErrorCode,
    /** Path of the offending field, e.g. `budgets[2].window`. */
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}
