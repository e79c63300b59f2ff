// `costtrace dev` for real: the built CLI spawned in a temp working directory, with no Kafka
// and no ClickHouse. It must print its addresses, store priced cost rows within seconds (read
// through its query API and with the CLI's budget command), stop on SIGINT with exit code 0,
// and leave its data in the DuckDB file under ./.costtrace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DuckDbStore } from '@costtrace/store';
import { run } from '../src/index.js';
import { parseDevArgs } from '../src/commands/dev.js';

const BIN = fileURLToPath(new URL('../src/bin.js', import.meta.url));
/** The repository root (packages/cli/dist/test → ../../../..). */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/** Runs a printed command line with bash from the repository root, as a user would paste it. */
function shell(command: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: REPO, env: { ...process.env, npm_config_yes: 'false' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

interface CostsBody {
  rows: { dimensions: Record<string, string>; cost: string; spans: number; requests: number }[];
}

describe('costtrace dev', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-dev-'));
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('parses its flags and says what to fix', () => {
    assert.deepEqual(parseDevArgs([]), {
      ok: true,
      options: { dataDir: './.costtrace', rps: 20, deployAfterSeconds: 60 },
    });
    assert.deepEqual(parseDevArgs(['--rps', '5', '--data-dir', 'x', '--deploy-after', '2']), {
      ok: true,
      options: { dataDir: 'x', rps: 5, deployAfterSeconds: 2 },
    });
    assert.equal(parseDevArgs(['--rps', 'many']).ok, false);
    assert.equal(parseDevArgs(['--bogus']).ok, false);
  });

  it('runs everything in one process, stores costs within seconds, and stops on SIGINT', async () => {
    child = spawn(process.execPath, [BIN, 'dev', '--rps', '20', '--deploy-after', '3'], {
      cwd: dir,
      env: { ...process.env, COSTTRACE_LOG_LEVEL: 'warn', KAFKA_BROKERS: '', CLICKHOUSE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const api = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed; stderr: ${stderr}`)), 30_000);
      child!.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      void exited.then((code) => reject(new Error(`exited with ${code} before starting; stderr: ${stderr}`)));
    });
    assert.match(stdout, /no Kafka, no ClickHouse/);
    assert.match(stdout, /npx costtrace budget status demo-tenant-hourly/);

    // Cost rows of both commits (the deploy happens after 3 s), within seconds.
    const deadline = Date.now() + 30_000;
    let body: CostsBody = { rows: [] };
    for (;;) {
      const res = await fetch(`${api}/api/v1/costs?by=commit&since=1h`);
      body = (await res.json()) as CostsBody;
      const commits = body.rows.filter((r) => r.spans > 0 && Number(r.cost) > 0).map((r) => r.dimensions.commit);
      if (commits.includes('a1f3c9e') && commits.includes('b7d2e41')) break;
      if (Date.now() > deadline) assert.fail(`no cost rows of both commits: ${JSON.stringify(body)}; ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    // The CLI reaches the running embedded stack through its API.
    const out: string[] = [];
    let code = 1;
    for (let tries = 0; tries < 40; tries++) {
      out.length = 0;
      code = await run(['budget', 'status', 'demo-tenant-hourly'], {
        out: (t) => out.push(t),
        err: (t) => out.push(t),
        env: { COSTTRACE_API_URL: api },
      });
      if (code === 0 && /tenant=/.test(out.join('\n'))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(code, 0, out.join('\n'));
    assert.match(out.join('\n'), /demo-tenant-hourly\|tenant=/);

    // The printed report command reads the locked DuckDB file through the running API, and its
    // per-commit totals are the ones the API itself serves.
    assert.match(stdout, /npx costtrace report --store api:http:\/\/127\.0\.0\.1:\d+ --by route,commit --since 1h/);
    // Every command it prints runs verbatim from the repository (npx finds the workspace's bin).
    const printed = stdout
      .split('\n')
      .filter((line) => /^ {2}(\S+=\S+ )?npx costtrace /.test(line))
      .map((line) => line.trim());
    assert.equal(printed.length, 3, stdout);
    for (const command of printed) {
      const result = await shell(command);
      assert.equal(result.code, 0, `${command}\n${result.output}`);
      assert.match(result.output, /\S/, `${command} printed something`);
    }
    const reportOut: string[] = [];
    code = await run(['report', '--store', `api:${api}`, '--by', 'commit', '--since', '1h', '--format', 'json'], {
      out: (t) => reportOut.push(t),
      err: (t) => reportOut.push(t),
      env: {},
    });
    assert.equal(code, 0, reportOut.join('\n'));
    const reported = JSON.parse(reportOut.join('\n')) as {
      commit?: string;
      dimensions?: { commit: string };
      spans: number;
    }[];
    const reportedCommits = reported.map((r) => r.dimensions?.commit ?? r.commit);
    assert.ok(reportedCommits.includes('a1f3c9e') && reportedCommits.includes('b7d2e41'), reportOut.join('\n'));

    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /stopped/);

    // The data persists, and the file is free again once dev has stopped.
    const store = new DuckDbStore({ path: join(dir, '.costtrace', 'costtrace.duckdb'), readOnly: true });
    try {
      const [row] = await store.select<{ n: string }>('SELECT count(*)::VARCHAR AS n FROM span_costs');
      assert.ok(Number(row?.n) > 0);
    } finally {
      await store.close();
    }
  });
});
