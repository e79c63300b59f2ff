// Each service's container entrypoint (its Dockerfile's CMD, and the migrate job's command) run
// outside a container: same command, same environment as docker-compose.yml, with the compose
// host names mapped to the local Kafka/ClickHouse and to free local ports, mounts mapped to the
// repository's files (bind mounts) or temporary directories (named volumes). Each one must
// become ready (its readiness endpoint answers 200); migrate must exit 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClickHouseStore } from '@costtrace/store';
import { createTopics, deleteTopics, liveServices, testKafka, uniqueNames, waitFor } from '../support/live-services.js';
import { ROOT, compose, dockerfileCmd, envExample, serviceEnv } from './deploy-files.js';
import type { ComposeService } from './deploy-files.js';

/** Port variables of each service (the container ports compose maps). */
const PORT_VARS: Record<string, string[]> = {
  'aggregator-1': ['COSTTRACE_HTTP_PORT', 'COSTTRACE_GRPC_PORT', 'COSTTRACE_API_PORT'],
  'pricing-cache': ['COSTTRACE_PRICING_PORT', 'COSTTRACE_PRICING_HTTP_PORT'],
  'demo-inference': ['DEMO_HTTP_PORT'],
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('container entrypoints run outside a container and become ready', () => {
  const live = liveServices();
  const names = uniqueNames('entry');
  const kafka = testKafka(live.kafkaBrokers);
  const tmp = mkdtempSync(join(tmpdir(), 'costtrace-entrypoints-'));
  const children = new Set<ChildProcess>();
  const topics = {
    otlp_spans: names.topic,
    'otlp_spans.dlq': names.dlqTopic,
    cost_deltas: `${names.topic}_deltas`,
    'cost_deltas.dlq': `${names.topic}_deltas.dlq`,
    budget_throttles: `${names.topic}_throttles`,
  };
  /** compose "host:port" -> local "127.0.0.1:port". */
  const addresses = new Map<string, string>();
  const vars = { ...envExample(), WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}` };
  const store = new ClickHouseStore({ url: live.clickhouseUrl, database: names.database });

  function localEnv(name: string, service: ComposeService, ports: Record<string, number>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, raw] of Object.entries(serviceEnv(service, vars))) {
      let value = raw;
      if (key === 'KAFKA_BROKERS') value = live.kafkaBrokers.join(',');
      else if (key === 'CLICKHOUSE_URL') value = live.clickhouseUrl;
      else if (key === 'CLICKHOUSE_DATABASE') value = names.database;
      // The local ClickHouse runs without authentication.
      else if (key === 'CLICKHOUSE_USER' || key === 'CLICKHOUSE_PASSWORD') continue;
      else if (key.endsWith('_HOST') && value === '0.0.0.0') value = '127.0.0.1';
      else if (ports[key] !== undefined) value = String(ports[key]);
      else if (Object.hasOwn(topics, value)) value = topics[value as keyof typeof topics];
      else if (key === 'COSTTRACE_CONSUMER_GROUP' || key === 'COSTTRACE_BUDGET_GROUP')
        value = `${names.groupId}-${value}`;
      for (const [from, to] of addresses) value = value.replace(from, to);
      for (const volume of service.volumes ?? []) {
        const [source, target] = volume.split(':') as [string, string];
        const local = source.startsWith('.') ? join(ROOT, source) : join(tmp, name, source);
        if (value.startsWith(`${target}/`) || value === target) value = local + value.slice(target.length);
      }
      env[key] = value;
    }
    return env;
  }

  function start(
    name: string,
    command: string[],
    env: Record<string, string>,
  ): { exit: Promise<number | null>; stderr: () => string } {
    const child = spawn(command[0] === 'node' ? process.execPath : command[0]!, command.slice(1), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    const keep = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exit = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        children.delete(child);
        resolve(code);
      }),
    );
    return { exit, stderr: () => `${name}: ${stderr}` };
  }

  async function ready(
    name: string,
    url: string,
    run: { exit: Promise<number | null>; stderr: () => string },
  ): Promise<void> {
    let exited: number | null | undefined;
    void run.exit.then((code) => (exited = code));
    await waitFor(
      `${name} ${url}`,
      async () => {
        if (exited !== undefined) throw new Error(`${name} exited with ${exited}: ${run.stderr()}`);
        return fetch(url).then(
          (r) => r.status,
          () => 0,
        );
      },
      (status) => status === 200,
      60_000,
    );
  }

  async function startService(name: string): Promise<Record<string, number>> {
    const service = compose().services[name]!;
    const ports: Record<string, number> = {};
    const raw = serviceEnv(service, vars);
    for (const key of PORT_VARS[name] ?? []) {
      ports[key] = await freePort();
      addresses.set(`${name}:${raw[key]}`, `127.0.0.1:${ports[key]}`);
    }
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (!source.startsWith('.')) mkdirSync(join(tmp, name, source), { recursive: true });
    }
    const env = localEnv(name, service, ports);
    const dockerfile =
      service.build?.dockerfile ??
      Object.values(compose().services).find((s) => s.image === service.image && s.build)?.build?.dockerfile;
    const run = start(name, dockerfileCmd(dockerfile!), env);
    const readyVar = PORT_VARS[name]!.at(-1)!;
    await ready(name, `http://127.0.0.1:${ports[readyVar]}/readyz`, run);
    return ports;
  }

  before(async () => {
    await createTopics(kafka, Object.values(topics));
  });

  after(async () => {
    const exits = [...children].map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(exits);
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, Object.values(topics)).catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('migrate (costtrace migrate) applies the schema and exits 0', async () => {
    const service = compose().services.migrate!;
    const run = start('migrate', service.command!, localEnv('migrate', service, {}));
    assert.equal(await run.exit, 0, run.stderr());
  });

  it('webhook-receiver (its compose command) becomes ready', async () => {
    const service = compose().services['webhook-receiver']!;
    const port = await freePort();
    const command = service.command!.map((arg) => {
      for (const volume of service.volumes ?? []) {
        const [source, target] = volume.split(':') as [string, string];
        if (arg === target) return join(ROOT, source);
      }
      return arg;
    });
    const env = { ...serviceEnv(service, vars), HOST: '127.0.0.1', PORT: String(port) };
    const run = start('webhook-receiver', command, env);
    await ready('webhook-receiver', `http://127.0.0.1:${port}/healthz`, run);
  });

  it('pricing-cache becomes ready', async () => {
    await startService('pricing-cache');
  });

  it('budgets-init renders the budgets file; aggregator-1 becomes ready with it', async () => {
    // budgets-init's own command (sh + sed), with its mounts mapped to local directories.
    const init = compose().services['budgets-init']!;
    let script = init.entrypoint!.at(-1)!.replaceAll('$$', '$');
    for (const volume of init.volumes ?? []) {
      const [source, target] = volume.split(':') as [string, string];
      const local = source.startsWith('.') ? join(ROOT, source) : join(tmp, 'aggregator-1', source);
      mkdirSync(local, { recursive: true });
      script = script.replaceAll(`${target}/`, `${local}/`);
    }
    const render = start('budgets-init', [...init.entrypoint!.slice(0, -1), script], {
      WEBHOOK_SECRET: vars.WEBHOOK_SECRET,
    });
    assert.equal(await render.exit, 0, render.stderr());
    const rendered = readFileSync(join(tmp, 'aggregator-1', 'budgets', 'budgets.yaml'), 'utf8');
    assert.ok(rendered.includes(vars.WEBHOOK_SECRET) && !rendered.includes('${WEBHOOK_SECRET}'));
    await startService('aggregator-1');
  });

  it('demo-inference becomes ready, exporting to the aggregator', async () => {
    await startService('demo-inference');
  });
});
