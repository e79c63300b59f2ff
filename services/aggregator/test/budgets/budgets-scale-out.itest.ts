// Scale-out: two aggregator processes in one evaluator group share the cost_deltas partitions,
// so every budget key is evaluated by exactly one of them; per-key totals are exact and every
// breached key fires exactly one throttle.engaged across both.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ClickHouseStore } from '@costtrace/store';
import { BudgetCatalog, budgetDeltas, generateSecret } from '../../src/index.js';
import { CostDeltaProducer } from '../../src/budgets/cost-delta-producer.js';
import { parseBudget } from '@costtrace/core';
import { budgetTopics, createBudgetTopics } from '../support/budget-harness.js';
import { costRow } from '../support/cost-rows.js';
import { deleteTopics, liveServices, testKafka, testMessageLog, uniqueNames } from '../support/live-services.js';
import { until, WebhookReceiver } from '../support/webhook-receiver.js';

const CENT = 10_000_000_000n;
const TENANTS = 40;

describe('budgets scale-out: two evaluator processes', () => {
  const services = liveServices();
  const names = uniqueNames('budgets_scale');
  const topics = budgetTopics(names.topic);
  const kafka = testKafka(services.kafkaBrokers);
  const receiver = new WebhookReceiver();
  const children: ChildProcess[] = [];
  const bases: string[] = [];
  let dir = '';

  async function spawnEvaluator(instanceId: string, file: string): Promise<void> {
    const script = fileURLToPath(new URL('../support/evaluator-process.js', import.meta.url));
    const options = {
      brokers: services.kafkaBrokers,
      clickhouseUrl: services.clickhouseUrl,
      database: names.database,
      topics,
      groupId: names.groupId,
      budgetsFile: file,
      outboxDirectory: join(dir, `outbox-${instanceId}`),
      instanceId,
    };
    const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const lines = createInterface({ input: child.stdout });
    bases.push(
      await new Promise<string>((resolve, reject) => {
        lines.on('line', (line) => {
          if (line.startsWith('ready ')) resolve(line.slice(6));
        });
        child.once('exit', (code) => reject(new Error(`evaluator ${instanceId} exited with ${code}`)));
      }),
    );
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-scale-'));
    const hook = await receiver.start();
    await createBudgetTopics(kafka, topics, 4);
    const file = join(dir, 'budgets.yaml');
    await writeFile(
      file,
      `webhooks: [{ id: ops, url: "${hook}", secrets: ["${generateSecret()}"] }]
budgets:
  - { id: tenant-day, per: [tenant], window: day, limit_usd: "0.5", action: reject, forecast: false, thresholds: [100], webhooks: [ops] }
`,
    );
    // The first process creates the schema; the second starts once it is there.
    await spawnEvaluator('one', file);
    await spawnEvaluator('two', file);
  });

  after(async () => {
    for (const child of children) {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    }
    const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`);
    await store.close();
    await deleteTopics(kafka, [topics.deltas, topics.deltasDlq, topics.throttles]);
    await receiver.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('evaluates each key in exactly one process, with exact totals', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await until(
      'both processes in the evaluator group',
      async () => {
        const { groups } = await admin.describeGroups([names.groupId]);
        return groups[0]?.state === 'Stable' && groups[0].members.length === 2;
      },
      30_000,
    );
    await admin.disconnect();

    const catalog = new BudgetCatalog([
      parseBudget({ id: 'tenant-day', per: ['tenant'], window: 'day', limit_usd: '0.5', thresholds: [100] }),
    ]);
    const expected = new Map<string, bigint>();
    const rows = [];
    const t = Date.now();
    for (let tenant = 0; tenant < TENANTS; tenant++) {
      for (let i = 0; i < 5; i++) {
        // Tenants 0-9 spend 5 × 0.11 $ = 0.55 $ (over the limit), the others 5 × 0.01 $.
        const picos = (tenant < 10 ? 11n : 1n) * CENT + BigInt(tenant * 10 + i);
        rows.push(costRow({ picos, tenant: `t${tenant}`, endMs: t, offset: BigInt(tenant * 10 + i) }));
        const key = `tenant-day|tenant=t${tenant}`;
        expected.set(key, (expected.get(key) ?? 0n) + picos);
      }
    }
    const producer = new CostDeltaProducer(testMessageLog(services.kafkaBrokers), topics.deltas);
    await producer.connect();
    await producer.send(budgetDeltas(rows, catalog, { anomalies: false }));
    await producer.disconnect();

    type Status = { keys: { scope_key: string; spend_usd: string; evaluated_here: boolean }[] };
    const local = (s: Status): Status => ({ keys: s.keys.filter((k) => k.evaluated_here) });
    const statuses = async () =>
      Promise.all(
        bases.map(
          async (base) => (await (await fetch(`${base}/v1/budgets/tenant-day/status?limit=1000`)).json()) as Status,
        ),
      );
    let last: Status[] = [];
    await until(
      'all keys evaluated',
      async () => {
        last = (await statuses()).map(local);
        return (
          last.reduce((n, s) => n + s.keys.length, 0) >= TENANTS &&
          receiver.acknowledged().filter((e) => e.type === 'throttle.engaged').length >= 10
        );
      },
      30_000,
    );
    const [one, two] = last as [Status, Status];
    const keysOne = new Set(one.keys.map((k) => k.scope_key));
    const keysTwo = new Set(two.keys.map((k) => k.scope_key));
    assert.ok(keysOne.size > 0 && keysTwo.size > 0, `both processes own keys (${keysOne.size} + ${keysTwo.size})`);
    assert.deepEqual(
      [...keysOne].filter((k) => keysTwo.has(k)),
      [],
      'no key is evaluated twice',
    );
    assert.equal(keysOne.size + keysTwo.size, TENANTS);
    const toPicos = (usd: string) => {
      const [w, f = ''] = usd.split('.');
      return BigInt(w!) * 10n ** 12n + BigInt(f.padEnd(12, '0'));
    };
    for (const k of [...one.keys, ...two.keys])
      assert.equal(toPicos(k.spend_usd), expected.get(k.scope_key), k.scope_key);
    // Any instance's status shows every key: its own live, the others' from persisted state.
    await until(
      'persisted state of the other instance visible',
      async () => (await statuses()).every((s) => s.keys.length === TENANTS),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const engaged = receiver.acknowledged().filter((e) => e.type === 'throttle.engaged');
    assert.equal(engaged.length, 10, 'one engagement per breached key, across both processes');
    assert.equal(new Set(engaged.map((e) => (e.data.scope as { key: string }).key)).size, 10);
    // Every instance serves the whole throttle set (shared through the compacted topic).
    for (const base of bases) {
      await until(
        'throttles shared',
        async () =>
          ((await (await fetch(`${base}/v1/throttles`)).json()) as { throttles: unknown[] }).throttles.length === 10,
        10_000,
      );
    }
  });
});
