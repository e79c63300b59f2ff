import { readFile } from 'node:fs/promises';
import { BudgetError, budgetToDocument, parseBudget, parseDriftRule, parsePreflightRule } from '@costtrace/core';
import type { Budget, DriftRule, PreflightRule } from '@costtrace/core';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { endpointToDocument, parseWebhookEndpoint } from '../webhooks/webhook-endpoint.js';
import type { WebhookEndpoint } from '../webhooks/webhook-endpoint.js';
import { WebhookError } from '../webhooks/webhook-error.js';
import { BudgetCatalog } from './budget-catalog.js';
import type { BudgetStore, DocumentKind, StoredDocument } from './budget-store.js';

export interface BudgetFile {
  readonly budgets: readonly Budget[];
  readonly webhooks: readonly WebhookEndpoint[];
  readonly anomalyWebhooks: readonly string[];
  /** Alerts on the difference between the bill and the spans (costtrace reconcile). */
  readonly drift: readonly DriftRule[];
  /** Policy for planned work (POST /v1/preflight): thresholds per scope, approvers, reservations. */
  readonly preflight: readonly PreflightRule[];
}

const FILE_KEYS = new Set(['budgets', 'webhooks', 'anomalies', 'drift', 'preflight']);

/** Parses a budgets file (YAML or JSON, same shape); errors name the field. */
export function parseBudgetFile(text: string, maxBudgets = 10_000): BudgetFile {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (cause) {
    throw new BudgetError('INVALID_BUDGET', 'file', `not YAML or JSON: ${(cause as Error).message}`, { cause });
  }
  if (raw === null || raw === undefined)
    return { budgets: [], webhooks: [], anomalyWebhooks: [], drift: [], preflight: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BudgetError(
      'INVALID_BUDGET',
      'file',
      'must be a mapping with `budgets`, `webhooks`, `anomalies`, `drift` and `preflight`',
    );
  }
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!FILE_KEYS.has(key))
      throw new BudgetError(
        'INVALID_BUDGET',
        key,
        'unknown top-level field; use budgets, webhooks, anomalies, drift, preflight',
      );
  }
  const list = (value: unknown, field: string, max: number): unknown[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.length > max)
      throw new BudgetError('INVALID_BUDGET', field, `must be a list of at most ${max} entries`);
    return value;
  };
  const webhooks = list(doc.webhooks, 'webhooks', 100).map((w, i) => {
    try {
      return parseWebhookEndpoint(w, `webhooks[${i}]`);
    } catch (cause) {
      throw new BudgetError('INVALID_BUDGET', `webhooks[${i}]`, (cause as Error).message, { cause });
    }
  });
  const endpointIds = new Set<string>();
  webhooks.forEach((w, i) => {
    if (endpointIds.has(w.id)) throw new BudgetError('INVALID_BUDGET', `webhooks[${i}].id`, `duplicate id ${w.id}`);
    endpointIds.add(w.id);
  });
  const budgets = list(doc.budgets, 'budgets', maxBudgets).map((b, i) => parseBudget(b, `budgets[${i}]`));
  const ids = new Set<string>();
  budgets.forEach((b, i) => {
    if (ids.has(b.id)) throw new BudgetError('INVALID_BUDGET', `budgets[${i}].id`, `duplicate id ${b.id}`);
    ids.add(b.id);
    b.webhooks.forEach((w, j) => {
      if (!endpointIds.has(w))
        throw new BudgetError(
          'INVALID_BUDGET',
          `budgets[${i}].webhooks[${j}]`,
          `no webhook endpoint with id ${w} in this file`,
        );
    });
  });
  const anomalies = (doc.anomalies ?? {}) as Record<string, unknown>;
  const anomalyWebhooks = list(anomalies.webhooks, 'anomalies.webhooks', 10).map((w, i) => {
    if (typeof w !== 'string' || !endpointIds.has(w))
      throw new BudgetError('INVALID_BUDGET', `anomalies.webhooks[${i}]`, 'must name a webhook endpoint of this file');
    return w;
  });
  const drift = list(doc.drift, 'drift', 100).map((d, i) => {
    const rule = parseDriftRule(d, `drift[${i}]`);
    rule.webhooks.forEach((w, j) => {
      if (!endpointIds.has(w)) {
        throw new BudgetError(
          'INVALID_BUDGET',
          `drift[${i}].webhooks[${j}]`,
          `no webhook endpoint with id ${w} in this file`,
        );
      }
    });
    return rule;
  });
  const driftIds = new Set<string>();
  drift.forEach((d, i) => {
    if (driftIds.has(d.id)) throw new BudgetError('INVALID_BUDGET', `drift[${i}].id`, `duplicate id ${d.id}`);
    driftIds.add(d.id);
  });
  const preflight = list(doc.preflight, 'preflight', 1000).map((d, i) => {
    const rule = parsePreflightRule(d, `preflight[${i}]`);
    rule.webhooks.forEach((w, j) => {
      if (!endpointIds.has(w)) {
        throw new BudgetError(
          'INVALID_BUDGET',
          `preflight[${i}].webhooks[${j}]`,
          `no webhook endpoint with id ${w} in this file`,
        );
      }
    });
    return rule;
  });
  const preflightIds = new Set<string>();
  preflight.forEach((r, i) => {
    if (preflightIds.has(r.id)) throw new BudgetError('INVALID_BUDGET', `preflight[${i}].id`, `duplicate id ${r.id}`);
    preflightIds.add(r.id);
  });
  return { budgets, webhooks, anomalyWebhooks, drift, preflight };
}

export interface BudgetRegistryOptions {
  readonly store: BudgetStore;
  readonly logger: Logger;
  /** Budgets file loaded at start (YAML or JSON). */
  readonly file?: string | undefined;
  /** Extra endpoints (e.g. from config) and anomaly destinations. */
  readonly anomalyWebhooks?: readonly string[] | undefined;
  /** How often to pick up changes made through other instances. Default 2 s. */
  readonly refreshMs?: number | undefined;
  readonly maxBudgets?: number | undefined;
  readonly maxEndpoints?: number | undefined;
}

type Listener = (catalog: BudgetCatalog) => void;

/**
 * The budgets and webhook endpoints in force. Loaded from the store, then the budgets file is
 * applied on top (file entries win at start); changes through the API are saved to the store and
 * take effect at once here, and within `refreshMs` on other instances (polling the store).
 */
export class BudgetRegistry {
  private budgets = new Map<string, Budget>();
  private endpoints = new Map<string, WebhookEndpoint>();
  private versions = new Map<string, bigint>();
  private anomalyWebhooks: readonly string[];
  private drift: readonly DriftRule[] = [];
  private preflight: readonly PreflightRule[] = [];
  private current: BudgetCatalog;
  private revision = 0;
  private lastVersion = 0n;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly maxBudgets: number;
  private readonly maxEndpoints: number;

  constructor(private readonly options: BudgetRegistryOptions) {
    this.anomalyWebhooks = options.anomalyWebhooks ?? [];
    this.current = new BudgetCatalog([], this.anomalyWebhooks, 0);
    this.maxBudgets = options.maxBudgets ?? 10_000;
    this.maxEndpoints = options.maxEndpoints ?? 100;
  }

  catalog(): BudgetCatalog {
    return this.current;
  }

  endpointMap(): ReadonlyMap<string, WebhookEndpoint> {
    return this.endpoints;
  }

  /** The preflight policy rules of the budgets file (they live in the file only). */
  preflightRules(): readonly PreflightRule[] {
    return this.preflight;
  }

  /** The drift rules of the budgets file (they live in the file only). */
  driftRules(): readonly DriftRule[] {
    return this.drift;
  }

  budget(id: string): Budget | undefined {
    return this.budgets.get(id);
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.options.store.migrate();
    await this.refresh();
    if (this.options.file !== undefined) {
      const file = parseBudgetFile(await readFile(this.options.file, 'utf8'), this.maxBudgets);
      if (file.anomalyWebhooks.length > 0) this.anomalyWebhooks = file.anomalyWebhooks;
      this.drift = file.drift;
      this.preflight = file.preflight;
      for (const w of file.webhooks) {
        if (
          JSON.stringify(endpointToDocument(w)) !==
          JSON.stringify(this.endpoints.has(w.id) ? endpointToDocument(this.endpoints.get(w.id)!) : null)
        ) {
          await this.putEndpoint(w);
        }
      }
      for (const b of file.budgets) {
        const existing = this.budgets.get(b.id);
        if (
          existing === undefined ||
          JSON.stringify(budgetToDocument(existing)) !== JSON.stringify(budgetToDocument(b))
        )
          await this.putBudget(b);
      }
      this.rebuild();
      this.options.logger.info(
        { file: this.options.file, budgets: file.budgets.length, webhooks: file.webhooks.length },
        'budgets file loaded',
      );
    }
    const refreshMs = this.options.refreshMs ?? 2_000;
    this.timer = setInterval(() => {
      this.refreshing ??= this.refresh()
        .catch((err: unknown) =>
          this.options.logger.warn({ err }, 'refreshing budgets from the store failed; keeping the current set'),
        )
        .finally(() => (this.refreshing = undefined));
    }, refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
  }

  /** Validates and saves a budget document from outside; returns the budget. */
  async putBudgetDocument(input: unknown): Promise<{ budget: Budget; created: boolean }> {
    const budget = parseBudget(input);
    budget.webhooks.forEach((w, i) => {
      if (!this.endpoints.has(w))
        throw new BudgetError(
          'INVALID_BUDGET',
          `budget.webhooks[${i}]`,
          `no webhook endpoint with id ${w}; create it first (PUT /v1/webhooks/endpoints/${w})`,
        );
    });
    const created = !this.budgets.has(budget.id);
    if (created && this.budgets.size >= this.maxBudgets) {
      throw new BudgetError('INVALID_BUDGET', 'budget', `at most ${this.maxBudgets} budgets (COSTTRACE_MAX_BUDGETS)`);
    }
    await this.putBudget(budget);
    this.rebuild();
    return { budget, created };
  }

  async deleteBudget(id: string): Promise<boolean> {
    if (!this.budgets.has(id)) return false;
    await this.save('budget', id, true, '{}');
    this.budgets.delete(id);
    this.rebuild();
    return true;
  }

  async putEndpointDocument(input: unknown): Promise<WebhookEndpoint> {
    let endpoint: WebhookEndpoint;
    try {
      endpoint = parseWebhookEndpoint(input);
    } catch (err) {
      if (err instanceof WebhookError) throw new BudgetError('INVALID_BUDGET', 'webhook', err.message, { cause: err });
      throw err;
    }
    if (!this.endpoints.has(endpoint.id) && this.endpoints.size >= this.maxEndpoints) {
      throw new BudgetError('INVALID_BUDGET', 'webhook', `at most ${this.maxEndpoints} webhook endpoints`);
    }
    await this.putEndpoint(endpoint);
    this.rebuild();
    return endpoint;
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    if (!this.endpoints.has(id)) return false;
    const users = [...this.budgets.values()].filter((b) => b.webhooks.includes(id)).map((b) => b.id);
    if (users.length > 0)
      throw new BudgetError(
        'INVALID_BUDGET',
        'webhook',
        `endpoint ${id} is used by budgets ${users.slice(0, 5).join(', ')}`,
      );
    await this.save('webhook', id, true, '{}');
    this.endpoints.delete(id);
    this.rebuild();
    return true;
  }

  /** Picks up documents changed elsewhere (other instances). */
  async refresh(): Promise<void> {
    const docs = await this.options.store.loadDocuments(['budget', 'webhook']);
    let changed = false;
    for (const doc of docs) {
      const k = `${doc.kind}/${doc.id}`;
      if ((this.versions.get(k) ?? -1n) >= doc.version) continue;
      this.versions.set(k, doc.version);
      if (doc.version > this.lastVersion) this.lastVersion = doc.version;
      changed = true;
      try {
        this.applyDocument(doc);
      } catch (err) {
        this.options.logger.error({ err, kind: doc.kind, id: doc.id }, 'stored document is invalid; ignored');
      }
    }
    if (changed) this.rebuild();
  }

  private applyDocument(doc: StoredDocument): void {
    if (doc.kind === 'budget') {
      if (doc.deleted) this.budgets.delete(doc.id);
      else this.budgets.set(doc.id, parseBudget(JSON.parse(doc.document)));
    } else if (doc.kind !== 'webhook') {
      return;
    } else if (doc.deleted) this.endpoints.delete(doc.id);
    else this.endpoints.set(doc.id, parseWebhookEndpoint(JSON.parse(doc.document)));
  }

  private async putBudget(budget: Budget): Promise<void> {
    await this.save('budget', budget.id, false, JSON.stringify(budgetToDocument(budget)));
    this.budgets.set(budget.id, budget);
  }

  private async putEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.save('webhook', endpoint.id, false, JSON.stringify(endpointToDocument(endpoint)));
    this.endpoints.set(endpoint.id, endpoint);
  }

  private async save(kind: DocumentKind, id: string, deleted: boolean, document: string): Promise<void> {
    const now = BigInt(Date.now()) * 1000n;
    this.lastVersion = now > this.lastVersion ? now : this.lastVersion + 1n;
    const version = this.lastVersion;
    await this.options.store.saveDocument({ kind, id, version, deleted, document });
    this.versions.set(`${kind}/${id}`, version);
  }

  private rebuild(): void {
    this.revision++;
    this.current = new BudgetCatalog([...this.budgets.values()], this.anomalyWebhooks, this.revision);
    for (const listener of this.listeners) listener(this.current);
  }
}
