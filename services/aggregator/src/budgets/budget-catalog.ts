import { BUDGET_DIMENSIONS, compileScope } from '@costtrace/core';
import type { Budget, BudgetDimension, CompiledScope, DimensionValues } from '@costtrace/core';

export interface CompiledBudget {
  readonly budget: Budget;
  readonly scope: CompiledScope;
}

/**
 * An immutable set of budgets compiled for matching. Budgets with an exact pattern on some
 * dimension are indexed by that value, so a row is compared only with budgets that can match
 * it: 10k per-tenant budgets cost one map lookup per row, not 10k pattern checks.
 */
export class BudgetCatalog {
  private readonly byId = new Map<string, CompiledBudget>();
  private readonly index = new Map<BudgetDimension, Map<string, CompiledBudget[]>>();
  private readonly scan: CompiledBudget[] = [];

  constructor(
    budgets: readonly Budget[],
    /** Webhook endpoints that receive `cost.anomaly` events. */
    readonly anomalyWebhooks: readonly string[] = [],
    /** Bumped on every change, so holders can tell catalogs apart cheaply. */
    readonly revision = 0,
  ) {
    for (const budget of budgets) {
      const compiled: CompiledBudget = { budget, scope: compileScope(budget) };
      this.byId.set(budget.id, compiled);
      const dim = BUDGET_DIMENSIONS.find((d) => {
        const p = budget.scope[d];
        return p !== undefined && !p.includes('*');
      });
      if (dim === undefined) {
        this.scan.push(compiled);
        continue;
      }
      let byValue = this.index.get(dim);
      if (byValue === undefined) this.index.set(dim, (byValue = new Map<string, CompiledBudget[]>()));
      const value = budget.scope[dim]!;
      const list = byValue.get(value);
      if (list === undefined) byValue.set(value, [compiled]);
      else list.push(compiled);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): CompiledBudget | undefined {
    return this.byId.get(id);
  }

  list(): Budget[] {
    return [...this.byId.values()].map((c) => c.budget);
  }

  /** Budgets whose selector matches the row's dimension values. */
  matching(values: DimensionValues): CompiledBudget[] {
    const out: CompiledBudget[] = [];
    for (const [dim, byValue] of this.index) {
      const candidates = byValue.get(values[dim]);
      if (candidates !== undefined) for (const c of candidates) if (c.scope.matches(values)) out.push(c);
    }
    for (const c of this.scan) if (c.scope.matches(values)) out.push(c);
    return out;
  }
}
