import { formatScaled, MONEY_SCALE, parseScaled } from '@costtrace/core';
import { stringLiteral, tsvRow, uintLiteral } from '@costtrace/store';
import type { ClickHouseStore } from '@costtrace/store';
import { BUDGET_MIGRATIONS } from './budget-migrations.js';
import type { KeySnapshot } from './budget-engine.js';

/** What a stored document is: a budget, a webhook endpoint, or a preflight record (preflight-service.ts). */
export const DOCUMENT_KINDS = ['budget', 'webhook', 'preflight'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** A stored kind read back; an unknown one (a newer version's) is left out by the caller. */
export function documentKind(text: string): DocumentKind | undefined {
  return (DOCUMENT_KINDS as readonly string[]).includes(text) ? (text as DocumentKind) : undefined;
}

function kindList(kinds: readonly DocumentKind[], literal: (v: string) => string): string {
  return kinds.map(literal).join(', ');
}

export interface StoredDocument {
  readonly kind: DocumentKind;
  readonly id: string;
  readonly version: bigint;
  readonly deleted: boolean;
  /** JSON text of the document. */
  readonly document: string;
}

/**
 * Persistence of budgets, webhook endpoints and evaluator key state. ClickHouse in production
 * (ClickHouseBudgetStore); the embedded mode implements the same interface on its local store.
 */
export interface BudgetStore {
  migrate(): Promise<void>;
  /** Latest version of every document of these kinds, deleted ones included (so deletions propagate). */
  loadDocuments(kinds: readonly DocumentKind[]): Promise<StoredDocument[]>;
  saveDocument(doc: StoredDocument): Promise<void>;
  /** Latest snapshot of every key of the given cost_deltas partitions. */
  loadKeyStates(topic: string, partitions: readonly number[]): Promise<KeySnapshot[]>;
  saveKeyStates(
    topic: string,
    snapshots: readonly { snapshot: KeySnapshot; spend: bigint; version: bigint }[],
  ): Promise<void>;
  /** Latest persisted state of every key of one budget (all partitions), with its spend then. */
  loadBudgetKeys(topic: string, budgetId: string, limit: number): Promise<{ snapshot: KeySnapshot; spend: bigint }[]>;
}

export class ClickHouseBudgetStore implements BudgetStore {
  constructor(private readonly store: ClickHouseStore) {}

  async migrate(): Promise<void> {
    await this.store.migrate(BUDGET_MIGRATIONS);
  }

  async loadDocuments(kinds: readonly DocumentKind[]): Promise<StoredDocument[]> {
    if (kinds.length === 0) return [];
    const rows = await this.store.select<{
      kind: string;
      id: string;
      v: string;
      del: number;
      doc: string;
    }>(
      `SELECT kind, id, toString(max(version)) AS v, argMax(deleted, version) AS del, argMax(document, version) AS doc
       FROM ${this.store.database}.budget_documents WHERE kind IN (${kindList(kinds, stringLiteral)})
       GROUP BY kind, id ORDER BY kind, id`,
    );
    return storedDocuments(rows);
  }

  async saveDocument(doc: StoredDocument): Promise<void> {
    const body = tsvRow([doc.kind, doc.id, doc.version, doc.deleted ? 1 : 0, doc.document]);
    await this.store.command(
      `INSERT INTO ${this.store.database}.budget_documents (kind, id, version, deleted, document) FORMAT TabSeparated\n${body}`,
    );
  }

  async loadKeyStates(topic: string, partitions: readonly number[]): Promise<KeySnapshot[]> {
    if (partitions.length === 0) return [];
    const rows = await this.store.select<{ state: string }>(
      `SELECT argMax(state, version) AS state FROM ${this.store.database}.budget_key_state
       WHERE delta_topic = ${stringLiteral(topic)} AND delta_partition IN (${partitions.map((p) => uintLiteral(p)).join(', ')})
       GROUP BY delta_partition, budget_id, scope_key`,
    );
    return rows.map((r) => JSON.parse(r.state) as KeySnapshot);
  }

  async loadBudgetKeys(
    topic: string,
    budgetId: string,
    limit: number,
  ): Promise<{ snapshot: KeySnapshot; spend: bigint }[]> {
    const rows = await this.store.select<{ state: string; spend: string }>(
      `SELECT argMax(state, version) AS state, toString(argMax(spend, version)) AS spend FROM ${this.store.database}.budget_key_state
       WHERE delta_topic = ${stringLiteral(topic)} AND budget_id = ${stringLiteral(budgetId)}
       GROUP BY scope_key ORDER BY scope_key LIMIT ${uintLiteral(limit)}`,
    );
    return rows.map((r) => ({
      snapshot: JSON.parse(r.state) as KeySnapshot,
      spend: parseScaled(r.spend, MONEY_SCALE),
    }));
  }

  async saveKeyStates(
    topic: string,
    snapshots: readonly { snapshot: KeySnapshot; spend: bigint; version: bigint }[],
  ): Promise<void> {
    if (snapshots.length === 0) return;
    let body = '';
    for (const { snapshot, spend, version } of snapshots) {
      body += tsvRow([
        topic,
        snapshot.partition,
        snapshot.budgetId,
        snapshot.scopeKey,
        version,
        formatScaled(spend, MONEY_SCALE),
        snapshot.thresholds.throttle.engaged ? 1 : 0,
        JSON.stringify(snapshot),
      ]);
    }
    await this.store.command(
      `INSERT INTO ${this.store.database}.budget_key_state (delta_topic, delta_partition, budget_id, scope_key, version, spend, engaged, state) FORMAT TabSeparated\n${body}`,
    );
  }
}

/** In-process BudgetStore for unit tests and single-process use without ClickHouse. */
export class MemoryBudgetStore implements BudgetStore {
  private readonly documents = new Map<string, StoredDocument>();
  private readonly keys = new Map<string, { snapshot: KeySnapshot; version: bigint; spend: bigint }>();

  migrate(): Promise<void> {
    return Promise.resolve();
  }

  loadDocuments(kinds: readonly DocumentKind[]): Promise<StoredDocument[]> {
    return Promise.resolve([...this.documents.values()].filter((d) => kinds.includes(d.kind)));
  }

  saveDocument(doc: StoredDocument): Promise<void> {
    const k = `${doc.kind}/${doc.id}`;
    const current = this.documents.get(k);
    if (current === undefined || current.version <= doc.version) this.documents.set(k, doc);
    return Promise.resolve();
  }

  loadKeyStates(topic: string, partitions: readonly number[]): Promise<KeySnapshot[]> {
    return Promise.resolve(
      [...this.keys.entries()]
        .filter(([k, v]) => k.startsWith(`${topic}\u0000`) && partitions.includes(v.snapshot.partition))
        .map(([, v]) => v.snapshot),
    );
  }

  loadBudgetKeys(topic: string, budgetId: string, limit: number): Promise<{ snapshot: KeySnapshot; spend: bigint }[]> {
    return Promise.resolve(
      [...this.keys.entries()]
        .filter(([k, v]) => k.startsWith(`${topic}\u0000`) && v.snapshot.budgetId === budgetId)
        .slice(0, limit)
        .map(([, v]) => ({ snapshot: v.snapshot, spend: v.spend })),
    );
  }

  saveKeyStates(
    topic: string,
    snapshots: readonly { snapshot: KeySnapshot; spend: bigint; version: bigint }[],
  ): Promise<void> {
    for (const s of snapshots) {
      const k = `${topic}\u0000${s.snapshot.scopeKey}`;
      const current = this.keys.get(k);
      if (current === undefined || current.version <= s.version)
        this.keys.set(k, { snapshot: s.snapshot, version: s.version, spend: s.spend });
    }
    return Promise.resolve();
  }
}

/** Rows of a documents query as StoredDocuments (kinds this version does not know are left out). */
export function storedDocuments(
  rows: readonly { kind: string; id: string; v: string; del: number | string; doc: string }[],
): StoredDocument[] {
  return rows.flatMap((r) => {
    const kind = documentKind(r.kind);
    return kind === undefined
      ? []
      : [{ kind, id: r.id, version: BigInt(r.v), deleted: Number(r.del) === 1, document: r.doc }];
  });
}
