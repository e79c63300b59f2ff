import type { Money } from '@costtrace/core';

/**
 * A versioned re-pricing correction for one span: the span's total as it stood before (original
 * plus earlier corrections) and as the new snapshot prices it. span_costs is never changed, so
 * every figure ever reported stays reproducible; reports add the deltas when asked to.
 */
export interface CostCorrectionRow {
  /** One id per `reprice --apply` run, shared by all its rows. */
  readonly correctionId: string;
  readonly snapshotVersion: string;
  readonly appliedAtUnixSeconds: number;
  readonly reason: string;
  readonly startTimeUnixSeconds: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly service: string;
  readonly environment: string;
  readonly route: string;
  readonly commit: string;
  readonly model: string;
  readonly provider: string;
  readonly team: string;
  readonly tenant: string;
  readonly currency: string;
  readonly previousTotal: Money;
  readonly correctedTotal: Money;
}
