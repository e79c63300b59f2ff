#!/usr/bin/env node
// Chaos run of the Kafka → aggregator → ClickHouse path (issue 12, item 4c): kill -9 of
// aggregators, ClickHouse and Kafka at random while spans flow, then an exact reconciliation.
//
//   node scripts/chaos.mjs [--minutes 5] [--aggregators 2] [--seed N] [--spans-per-second 200]
//                          [--partitions 6] [--settle-minutes 5] [--weights 65,25,10]
//
// --weights: relative odds of each kill: aggregator, ClickHouse, Kafka (e.g. 1,0,0: aggregators only).
// --aggregator PATH: the aggregator's main.js to run (default services/aggregator/dist/src/main.js),
// e.g. a build of another commit.
//
// It starts its own Kafka and ClickHouse (scripts/services.sh with COSTTRACE_RUN_DIR=.cache/chaos-run
// and ports 29092/29093, 28123/29000), so the development pair on 19092/18123 is never touched;
// runs N aggregators (services/aggregator/dist, `npm run build` first) in one consumer group and
// restarts each one whenever it exits; produces OTLP protobuf requests whose spans carry exact
// stamped costs, plus invalid spans and junk messages for the dead-letter topic; kills at random;
// at the end brings everything up, waits for the pipeline to settle and prints expected against
// stored figures. Exit status: 0 when every figure reconciles exactly, 1 when one does not, 2 on
// a usage error, 130 when interrupted. Logs stay under .cache/chaos-run/logs until the next run;
// so does the data when the run did not reconcile (the command to look at it is printed).
/* global AbortController, AbortSignal */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { ExportTraceServiceRequest } from '@costtrace/proto';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.resolve(process.env.COSTTRACE_CACHE_DIR ?? path.join(ROOT, '.cache'));
const RUN_DIR = path.join(CACHE, 'chaos-run');
const LOG_DIR = path.join(RUN_DIR, 'logs');
const SERVICES_SH = path.join(ROOT, 'scripts', 'services.sh');
const DEFAULT_AGGREGATOR = path.join('services', 'aggregator', 'dist', 'src', 'main.js');
const PORTS = { kafka: 29092, kafkaController: 29093, clickhouseHttp: 28123, clickhouseTcp: 29000 };
const BROKER = `127.0.0.1:${PORTS.kafka}`;
const DATABASE = 'costtrace';
const SESSION_TIMEOUT_MS = 6000;
const PICOS_PER_USD = 10n ** 12n;
const HOUR_NS = 3_600_000_000_000n;
/** Header naming the workload message a Kafka message carries (its sequence number). */
const MESSAGE_HEADER = 'chaos.message';

const USAGE =
  'usage: node scripts/chaos.mjs [--minutes 5] [--aggregators 2] [--seed N] [--spans-per-second 200] [--partitions 6] [--settle-minutes 5] [--weights 65,25,10] [--aggregator PATH]';

// ---------------------------------------------------------------- options

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      minutes: { type: 'string' },
      aggregators: { type: 'string' },
      seed: { type: 'string' },
      'spans-per-second': { type: 'string' },
      partitions: { type: 'string' },
      'settle-minutes': { type: 'string' },
      weights: { type: 'string' },
      aggregator: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const number = (name, fallback, min, max, integer) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (
      raw.trim() === '' ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    )
      throw new Error(
        `--${name} ${JSON.stringify(raw)} is invalid: use ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      );
    return value;
  };
  const weights = (values.weights ?? '65,25,10').split(',').map((w) => Number(w));
  if (weights.length !== 3 || weights.some((w) => !Number.isFinite(w) || w < 0) || weights.every((w) => w === 0))
    throw new Error(
      `--weights ${JSON.stringify(values.weights)} is invalid: use three non-negative numbers (aggregator,ClickHouse,Kafka), not all 0`,
    );
  return {
    help: false,
    weights,
    aggregator: values.aggregator ?? DEFAULT_AGGREGATOR,
    // The default is the repository's build wherever the script runs from; a given path is taken from here.
    aggregatorMain:
      values.aggregator === undefined ? path.join(ROOT, DEFAULT_AGGREGATOR) : path.resolve(values.aggregator),
    minutes: number('minutes', 5, 0.1, 24 * 60, false),
    aggregators: number('aggregators', 2, 1, 8, true),
    seed: number('seed', (Date.now() ^ (process.pid << 16)) >>> 0, 0, 2 ** 32 - 1, true),
    spansPerSecond: number('spans-per-second', 200, 1, 20_000, true),
    partitions: number('partitions', 6, 1, 64, true),
    settleMinutes: number('settle-minutes', 5, 0.5, 60, false),
  };
}

function commandLine(options) {
  return (
    `node scripts/chaos.mjs --minutes ${options.minutes} --aggregators ${options.aggregators} --seed ${options.seed}` +
    ` --spans-per-second ${options.spansPerSecond} --partitions ${options.partitions} --settle-minutes ${options.settleMinutes}` +
    ` --weights ${options.weights.join(',')}` +
    (options.aggregator === DEFAULT_AGGREGATOR ? '' : ` --aggregator ${options.aggregator}`)
  );
}

// ---------------------------------------------------------------- small tools

const startedAt = Date.now();

/** One timestamped line on stdout: wall clock (UTC) and seconds since start. */
function say(message) {
  const now = new Date();
  const elapsed = ((now.getTime() - startedAt) / 1000).toFixed(1).padStart(6);
  console.log(`${now.toISOString().slice(11, 23)} +${elapsed}s  ${message}`);
}

/** A deterministic pseudo-random generator (mulberry32), as in the aggregator's test fixtures. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exact decimal text of an amount in 10^-12 USD (12 decimals). */
function usd(picos) {
  const sign = picos < 0n ? '-' : '';
  const abs = picos < 0n ? -picos : picos;
  return `${sign}${abs / PICOS_PER_USD}.${(abs % PICOS_PER_USD).toString().padStart(12, '0')}`;
}

/** Parses ClickHouse's decimal text (at most 12 decimals) into 10^-12 USD. */
function picosOf(text) {
  const match = /^(-?)(\d+)(?:\.(\d{1,12}))?$/.exec(text.trim());
  if (match === null) throw new Error(`not a decimal with at most 12 places: ${JSON.stringify(text)}`);
  const value = BigInt(match[2]) * PICOS_PER_USD + BigInt((match[3] ?? '').padEnd(12, '0'));
  return match[1] === '-' ? -value : value;
}

function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}

/** Aborted on Ctrl-C / SIGTERM: every wait and loop below gives up when it fires. */
const interrupt = new AbortController();

class Interrupted extends Error {}

function checkInterrupt() {
  if (interrupt.signal.aborted) throw new Interrupted('interrupted');
}

/**
 * A pause (pacing, backoff, chosen downtime), never a readiness wait; ends early when `signal`
 * fires (by default on interrupt; null: never).
 */
async function pause(ms, signal = interrupt.signal) {
  try {
    await sleep(ms, undefined, signal === null ? {} : { signal });
  } catch {
    // aborted: the caller checks its own state
  }
}

/**
 * Polls `probe` (truthy = done) every `everyMs` until `timeoutMs` or until `signal` fires (by
 * default on interrupt; null for the waits of the clean-up); returns the last result.
 */
async function poll(probe, timeoutMs, everyMs = 500, signal = interrupt.signal) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result || Date.now() >= deadline || signal?.aborted) return result;
    await pause(everyMs, signal);
  }
}

function processAlive(pid) {
  try {
    // A zombie is gone for every purpose here.
    if (existsSync(`/proc/${pid}/stat`)) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    }
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid in one of our pid files, only when that process really is one of ours (its command names RUN_DIR). */
function ownedPid(pidFile) {
  let pid;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !processAlive(pid)) return undefined;
  if (existsSync('/proc/self/cmdline')) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(RUN_DIR)) return undefined;
    } catch {
      return undefined;
    }
  }
  return pid;
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------- ClickHouse over HTTP

/** Runs one statement on our ClickHouse; resolves with the body, rejects on non-200 or timeout. */
function clickhouse(sql, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port: PORTS.clickhouseHttp, method: 'POST', path: '/', agent: false, timeout: timeoutMs },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode === 200) resolve(body);
          else reject(new Error(`ClickHouse answered ${response.statusCode}: ${body.slice(0, 300).trim()}`));
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`ClickHouse did not answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(sql);
  });
}

async function clickhouseRows(sql, timeoutMs) {
  const body = await clickhouse(`${sql} FORMAT TabSeparated`, timeoutMs);
  return body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

// ---------------------------------------------------------------- our Kafka and ClickHouse

/** The shell command that runs `scripts/services.sh <command>` on our pair (for the user to type). */
function servicesCommand(command) {
  const dir = path.relative(ROOT, RUN_DIR);
  return (
    `COSTTRACE_RUN_DIR=${dir.startsWith('..') ? RUN_DIR : dir} COSTTRACE_KAFKA_PORT=${PORTS.kafka}` +
    ` COSTTRACE_KAFKA_CONTROLLER_PORT=${PORTS.kafkaController} COSTTRACE_CLICKHOUSE_HTTP_PORT=${PORTS.clickhouseHttp}` +
    ` COSTTRACE_CLICKHOUSE_TCP_PORT=${PORTS.clickhouseTcp} bash scripts/services.sh ${command}`
  );
}

class Services {
  constructor() {
    this.log = path.join(LOG_DIR, 'services.log');
    this.running = undefined;
    this.restarts = 0;
    interrupt.signal.addEventListener('abort', () => this.stopRunning());
  }

  /** Stops a services.sh still at work (its process group: bash and its readiness checks). */
  stopRunning() {
    const child = this.running;
    if (child === undefined || child.exitCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  }

  env() {
    const env = { ...process.env };
    // services.sh starts nothing for a service whose address is given: ours must always start.
    delete env.KAFKA_BROKERS;
    delete env.CLICKHOUSE_URL;
    return {
      ...env,
      COSTTRACE_RUN_DIR: RUN_DIR,
      COSTTRACE_KAFKA_PORT: String(PORTS.kafka),
      COSTTRACE_KAFKA_CONTROLLER_PORT: String(PORTS.kafkaController),
      COSTTRACE_CLICKHOUSE_HTTP_PORT: String(PORTS.clickhouseHttp),
      COSTTRACE_CLICKHOUSE_TCP_PORT: String(PORTS.clickhouseTcp),
      COSTTRACE_READY_TIMEOUT_S: '90',
    };
  }

  /** Runs `scripts/services.sh <command>` with our run directory and ports; resolves with its exit status. */
  run(command) {
    const fd = openSync(this.log, 'a');
    writeFileSync(fd, `\n### ${new Date().toISOString()} services.sh ${command}\n`);
    return new Promise((resolve) => {
      const child = spawn('bash', [SERVICES_SH, command], {
        cwd: ROOT,
        env: this.env(),
        stdio: ['ignore', fd, fd],
        detached: true, // its own process group, stopped as a whole on interrupt
      });
      this.running = child;
      child.once('error', () => resolve(127));
      child.once('exit', (code, signal) => {
        if (this.running === child) this.running = undefined;
        resolve(code ?? (signal === null ? 1 : 128));
      });
    }).finally(() => closeSync(fd));
  }

  /** `services.sh up` until it succeeds (3 attempts); throws when it cannot. */
  async up() {
    for (let attempt = 1; ; attempt++) {
      checkInterrupt();
      const status = await this.run('up');
      if (status === 0) return;
      checkInterrupt();
      if (attempt >= 3) throw new Error(`scripts/services.sh up failed ${attempt} times; see ${this.log}`);
      say(`services.sh up failed (exit ${status}); trying again (see ${path.relative(ROOT, this.log)})`);
      await pause(2000);
    }
  }

  async down() {
    // An `up` interrupted half way may still be running: stop it first (it is our child).
    this.stopRunning();
    await poll(() => this.running === undefined, 10_000, 100, null);
    const status = await this.run('down');
    if (status !== 0) say(`services.sh down exited ${status}; see ${path.relative(ROOT, this.log)}`);
  }

  pidFile(name) {
    return name === 'kafka'
      ? path.join(RUN_DIR, 'kafka', 'kafka.pid')
      : path.join(RUN_DIR, 'clickhouse', 'clickhouse.pid');
  }

  pid(name) {
    return ownedPid(this.pidFile(name));
  }

  /** SIGKILL of the server's process group (services.sh starts each with setsid); waits until it is gone. */
  async kill(name) {
    const pid = this.pid(name);
    if (pid === undefined) return undefined;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    const gone = await poll(() => !processAlive(pid), 15_000, 50, null);
    if (!gone) throw new Error(`${name} (pid ${pid}) still runs 15 s after SIGKILL`);
    return pid;
  }
}

// ---------------------------------------------------------------- aggregators

/** The message of the last error-level line (pino JSON) in the tail of an aggregator's log. */
function lastFatal(logFile) {
  let tail = '';
  try {
    const fd = openSync(logFile, 'r');
    try {
      const buffer = Buffer.alloc(16_384);
      const size = fstatSync(fd).size;
      const read = readSync(fd, buffer, 0, buffer.length, Math.max(0, size - buffer.length));
      tail = buffer.subarray(0, read).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return 'no log';
  }
  for (const line of tail.split('\n').reverse()) {
    try {
      const entry = JSON.parse(line);
      if (entry.level >= 50) return String(entry.err?.message ?? entry.msg ?? '').slice(0, 200);
    } catch {
      // a cut line
    }
  }
  return 'no error logged';
}

class Aggregators {
  constructor(count, names, main) {
    this.main = main;
    this.stopping = false;
    this.kills = 0;
    this.exits = new Map();
    this.starts = 0;
    this.env = Aggregators.environment(names);
    this.members = Array.from({ length: count }, (_, index) => ({
      index,
      child: undefined,
      killed: false,
      startedAt: 0,
      backoffMs: 1000,
      exitsInARow: 0,
      timer: undefined,
      log: path.join(LOG_DIR, `aggregator-${index}.log`),
    }));
  }

  static environment(names) {
    const env = {};
    // Nothing of the caller's configuration leaks in: only ours.
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(COSTTRACE_|KAFKA_|CLICKHOUSE_)/.test(key)) env[key] = value;
    }
    return {
      ...env,
      KAFKA_BROKERS: BROKER,
      CLICKHOUSE_URL: `http://127.0.0.1:${PORTS.clickhouseHttp}`,
      CLICKHOUSE_DATABASE: DATABASE,
      CLICKHOUSE_TIMEOUT_MS: '3000',
      COSTTRACE_SPANS_TOPIC: names.topic,
      COSTTRACE_DLQ_TOPIC: names.deadLetterTopic,
      COSTTRACE_CONSUMER_GROUP: names.group,
      COSTTRACE_KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS: String(2 * SESSION_TIMEOUT_MS),
      COSTTRACE_MAX_BATCH_ROWS: '150',
      COSTTRACE_MAX_SPAN_AGE_SECONDS: String(3 * 86_400),
      COSTTRACE_HTTP_PORT: '0',
      COSTTRACE_GRPC_PORT: '0',
      COSTTRACE_API_PORT: '0',
      COSTTRACE_BUDGETS: 'off',
      COSTTRACE_RETENTION_INTERVAL_SECONDS: '0',
      COSTTRACE_LOG_LEVEL: 'info',
    };
  }

  startAll() {
    for (const member of this.members) this.start(member);
  }

  start(member) {
    member.timer = undefined;
    if (this.stopping) return;
    const fd = openSync(member.log, 'a');
    const child = spawn(process.execPath, [this.main], {
      cwd: ROOT,
      env: { ...this.env, COSTTRACE_KAFKA_CLIENT_ID: `chaos-aggregator-${member.index}` },
      stdio: ['ignore', fd, fd],
      detached: true, // its own process group: a Ctrl-C in the terminal is ours to handle
    });
    closeSync(fd);
    this.starts++;
    member.child = child;
    member.killed = false;
    member.startedAt = Date.now();
    child.once('error', (err) => say(`aggregator ${member.index} could not start: ${err.message}`));
    child.once('exit', (code, signal) => this.exited(member, child, code, signal));
  }

  exited(member, child, code, signal) {
    if (member.child !== child) return;
    member.child = undefined;
    if (this.stopping) return;
    let delay;
    if (member.killed) {
      delay = 1000;
      member.exitsInARow = 0;
    } else {
      const why = signal === null ? `exit ${code}` : signal;
      this.exits.set(why, (this.exits.get(why) ?? 0) + 1);
      // Today the aggregator exits when Kafka or ClickHouse is down at start: retry with a growing pause.
      const ranLong = Date.now() - member.startedAt > 30_000;
      member.backoffMs = ranLong ? 1000 : Math.min(member.backoffMs * 2, 8000);
      member.exitsInARow = ranLong ? 1 : member.exitsInARow + 1;
      delay = member.backoffMs;
      if (member.exitsInARow <= 3) {
        say(
          `aggregator ${member.index} (pid ${child.pid}) exited by itself (${why}: ${lastFatal(member.log)});` +
            ` restarting in ${delay / 1000} s${member.exitsInARow === 3 ? '; further exits in a row are only counted' : ''}`,
        );
      }
    }
    member.timer = setTimeout(() => this.start(member), delay);
  }

  alive() {
    return this.members.filter((member) => member.child !== undefined && member.child.exitCode === null);
  }

  /** SIGKILL of one running aggregator chosen with `random`; undefined when none runs. */
  killOne(random) {
    const alive = this.alive();
    if (alive.length === 0) return undefined;
    const member = alive[Math.floor(random() * alive.length)];
    member.killed = true;
    member.child.kill('SIGKILL');
    this.kills++;
    return { index: member.index, pid: member.child.pid, ranSeconds: (Date.now() - member.startedAt) / 1000 };
  }

  /** Graceful stop (SIGTERM, 10 s), then SIGKILL of whatever still runs. */
  async stopAll() {
    this.stopping = true;
    for (const member of this.members) clearTimeout(member.timer);
    const alive = this.alive();
    for (const member of alive) member.child.kill('SIGTERM');
    await poll(() => this.alive().length === 0, 10_000, 100, null);
    for (const member of this.alive()) {
      try {
        process.kill(-member.child.pid, 'SIGKILL');
      } catch {
        member.child.kill('SIGKILL');
      }
    }
    await poll(() => this.alive().length === 0, 5_000, 100, null);
  }
}

// ---------------------------------------------------------------- workload

const SERVICES = ['chat-api', 'search-api', 'summarizer', 'embedder'];
const ROUTES = ['/v1/chat', '/v1/search', '/v1/summarize', '/v1/embed'];
const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'claude-sonnet-4'],
  ['openai', 'gpt-4o'],
];
const TEAMS = ['search', 'assist', 'platform'];

function anyValue(value) {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'bigint') return { intValue: value };
  return { intValue: BigInt(value) };
}

function attributes(record) {
  return Object.entries(record).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function otlpSpan(traceId, spanId, name, startNs, attrs) {
  return {
    traceId,
    spanId,
    traceState: '',
    parentSpanId: Buffer.alloc(0),
    flags: 0,
    name,
    kind: 3,
    startTimeUnixNano: startNs,
    endTimeUnixNano: startNs + 250_000_000n,
    attributes: attributes(attrs),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: undefined,
  };
}

/**
 * The messages of one run, generated in sequence from the seed: OTLP requests of stamped spans
 * (start times over the last 40 hours, exact 12-decimal costs), some with one invalid span, and
 * some junk. Each message records its valid spans and their exact total, computed here in bigint.
 * Trace and span ids derive from the seed and the message number: unique, and the same on a resend.
 */
class Workload {
  constructor(seed, totalSpans, nowMs) {
    this.seed = seed;
    this.random = mulberry32(seed);
    this.totalSpans = totalSpans;
    this.nowNs = BigInt(nowMs) * 1_000_000n;
    this.generatedSpans = 0;
    this.messages = [];
  }

  get done() {
    return this.generatedSpans >= this.totalSpans;
  }

  int(max) {
    return Math.floor(this.random() * max);
  }

  pick(list) {
    return list[this.int(list.length)];
  }

  traceId(seq) {
    const id = Buffer.alloc(16);
    id.write('chao', 0, 'latin1');
    id.writeUInt32BE(this.seed, 4);
    id.writeBigUInt64BE(BigInt(seq), 8);
    return id;
  }

  spanId(seq, index) {
    const id = Buffer.alloc(8);
    id.writeUInt32BE(seq >>> 0, 0);
    id.writeUInt16BE(index, 4);
    id.writeUInt16BE(0xc0de, 6);
    return id;
  }

  /** One stamped cost: mostly below one dollar, sometimes up to a few hundred, always 12 decimals. */
  cost() {
    const whole = this.random() < 0.05 ? BigInt(this.int(500)) : 0n;
    return whole * PICOS_PER_USD + BigInt(this.int(1_000_000_000)) * 1000n + BigInt(this.int(1000));
  }

  next() {
    const seq = this.messages.length;
    const record = { seq, value: undefined, validSpans: 0, picos: 0n, invalidSpans: 0, junk: undefined };
    this.messages.push(record);
    if (this.random() < 0.02) {
      record.junk = this.pick(['protobuf', 'json', 'empty']);
      record.value =
        record.junk === 'protobuf'
          ? Buffer.from(`\x0fchaos junk #${seq}`, 'latin1') // field 1 with wire type 7: never decodes
          : record.junk === 'json'
            ? Buffer.from(`{"resourceSpans": [{"chaos": ${seq}`) // cut short
            : Buffer.alloc(0);
      return record;
    }
    const traceId = this.traceId(seq);
    const spans = [];
    const count = 1 + this.int(15);
    for (let i = 0; i < count; i++) {
      const picos = this.cost();
      const [provider, model] = this.pick(MODELS);
      const startNs = this.nowNs - BigInt(Math.floor(this.random() * 40 * 3600 * 1000)) * 1_000_000n;
      spans.push(
        otlpSpan(traceId, this.spanId(seq, i), `chat ${model}`, startNs, {
          'cost.total': usd(picos),
          'cost.currency': 'USD',
          'cost.pricing.version': 'chaos',
          'gen_ai.provider.name': provider,
          'gen_ai.request.model': model,
          'gen_ai.usage.input_tokens': 100 + this.int(5000),
          'gen_ai.usage.output_tokens': this.int(2000),
          'http.route': this.pick(ROUTES),
          'costtrace.tenant': `tenant-${this.int(8)}`,
        }),
      );
      record.validSpans++;
      record.picos += picos;
    }
    if (this.random() < 0.04) {
      const kind = this.int(3);
      const startNs = kind === 2 ? this.nowNs - 240n * HOUR_NS : this.nowNs - HOUR_NS;
      const spanId = kind === 0 ? Buffer.alloc(8) : this.spanId(seq, count);
      const cost = kind === 1 ? 'twelve dollars' : '0.000000000001';
      spans.push(
        otlpSpan(traceId, spanId, 'invalid', startNs, {
          'cost.total': cost,
          'cost.currency': 'USD',
          'http.route': '/v1/chat',
        }),
      );
      record.invalidSpans = 1;
    }
    const request = {
      resourceSpans: [
        {
          resource: {
            attributes: attributes({
              'service.name': this.pick(SERVICES),
              'deployment.environment.name': 'chaos',
              'vcs.ref.head.revision': `c${this.int(5)}`,
              'costtrace.team': this.pick(TEAMS),
            }),
            droppedAttributesCount: 0,
            entityRefs: [],
          },
          schemaUrl: '',
          scopeSpans: [
            { scope: { name: 'chaos', version: '1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans },
          ],
        },
      ],
    };
    const bytes = ExportTraceServiceRequest.encode(request).finish();
    record.value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.generatedSpans += record.validSpans;
    return record;
  }
}

// ---------------------------------------------------------------- producer

/**
 * Sends the workload at the given rate, in order, retrying every batch until Kafka acknowledges
 * it (idempotent producer, acks=all). A batch that failed may still have been written: the
 * reconciliation reads the topic back, so a message written twice is counted as written twice.
 */
class SpanSender {
  constructor(kafka, topic, workload, spansPerSecond) {
    this.kafka = kafka;
    this.topic = topic;
    this.workload = workload;
    this.spansPerSecond = spansPerSecond;
    this.queue = [];
    this.acknowledged = 0;
    this.failedSends = 0;
    this.producerRestarts = 0;
    this.producer = undefined;
    this.closed = false;
  }

  newProducer() {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
      retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 4 },
    });
  }

  /**
   * Produces until the whole workload is generated (paced by the clock, so the set of messages
   * depends only on seed, minutes and rate) and acknowledged, or until `giveUp()`.
   */
  async run(startMs, giveUp) {
    let failures = 0;
    let connected = false;
    this.producer = this.newProducer();
    while (!interrupt.signal.aborted && !this.closed && !giveUp()) {
      const due = ((Date.now() - startMs) / 1000) * this.spansPerSecond;
      while (!this.workload.done && this.workload.generatedSpans <= due) {
        this.queue.push(this.workload.next());
      }
      if (this.queue.length === 0) {
        if (this.workload.done) return;
        await pause(50);
        continue;
      }
      const batch = this.queue.slice(0, 200);
      try {
        if (!connected) {
          await this.producer.connect();
          connected = true;
        }
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.map((record) => ({
            key: String(record.seq),
            value: record.value,
            headers: { [MESSAGE_HEADER]: String(record.seq) },
          })),
        });
        this.queue.splice(0, batch.length);
        for (const record of batch) {
          record.acknowledged = true;
          record.value = undefined;
        }
        this.acknowledged += batch.length;
        if (failures > 0) say(`producer: Kafka acknowledges again after ${failures} failed sends`);
        failures = 0;
      } catch (err) {
        failures++;
        this.failedSends++;
        if (failures === 1) say(`producer: send failed (${errorText(err)}); retrying until acknowledged`);
        if (failures % 10 === 0) {
          // A producer stuck on a fenced or unknown producer id: start over with a new one.
          await this.producer.disconnect().catch(() => undefined);
          this.producer = this.newProducer();
          connected = false;
          this.producerRestarts++;
        }
        await pause(Math.min(250 * failures, 2000));
      }
    }
  }

  async close() {
    this.closed = true;
    await this.producer?.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- chaos

class Chaos {
  constructor(seed, weights, services, aggregators) {
    const total = weights[0] + weights[1] + weights[2];
    this.odds = { aggregator: weights[0] / total, clickhouse: (weights[0] + weights[1]) / total };
    this.random = mulberry32((seed ^ 0x9e3779b9) >>> 0);
    this.services = services;
    this.aggregators = aggregators;
    this.stop = new AbortController();
    this.kills = { aggregator: 0, clickhouse: 0, clickhouseDuringInsert: 0, kafka: 0 };
  }

  /** Kills until `stop` fires: aggregators most often, ClickHouse sometimes, Kafka rarely. */
  async run() {
    while (!this.stop.signal.aborted && !interrupt.signal.aborted) {
      await pause(2000 + this.random() * 6000, AbortSignal.any([this.stop.signal, interrupt.signal]));
      if (this.stop.signal.aborted || interrupt.signal.aborted) return;
      const dice = this.random();
      if (dice < this.odds.aggregator) this.killAggregator();
      else if (dice < this.odds.clickhouse) await this.bounce('clickhouse', 1000 + this.random() * 5000);
      else await this.bounce('kafka', 2000 + this.random() * 6000);
    }
  }

  killAggregator() {
    const killed = this.aggregators.killOne(this.random);
    if (killed === undefined) {
      say('chaos: no aggregator is running right now; nothing to kill');
      return;
    }
    this.kills.aggregator++;
    say(`chaos: kill -9 aggregator ${killed.index} (pid ${killed.pid}, up ${killed.ranSeconds.toFixed(1)} s)`);
  }

  /** Waits up to 5 s for an INSERT to show in system.processes, so the kill lands mid-insert. */
  async insertInFlight() {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !interrupt.signal.aborted) {
      try {
        const rows = await clickhouseRows(
          "SELECT written_rows, elapsed FROM system.processes WHERE query LIKE 'INSERT%'",
          1000,
        );
        if (rows.length > 0) return { inserts: rows.length, writtenRows: rows[0][0], elapsed: Number(rows[0][1]) };
      } catch {
        return undefined;
      }
      await pause(5);
    }
    return undefined;
  }

  async bounce(name, downtimeMs) {
    let during;
    if (name === 'clickhouse') during = await this.insertInFlight();
    const pid = await this.services.kill(name);
    if (pid === undefined) {
      say(`chaos: ${name} is not running; starting it`);
    } else {
      this.kills[name]++;
      let what = '';
      if (name === 'clickhouse') {
        if (during !== undefined) this.kills.clickhouseDuringInsert++;
        what =
          during === undefined
            ? ' (no INSERT seen within 5 s)'
            : ` during an INSERT (${during.inserts} running, ${during.writtenRows} rows written, ${(during.elapsed * 1000).toFixed(0)} ms in)`;
      }
      say(`chaos: kill -9 ${name} (pid ${pid})${what}; down for ${(downtimeMs / 1000).toFixed(1)} s`);
      await pause(downtimeMs);
    }
    const started = Date.now();
    await this.services.up();
    this.services.restarts++;
    say(`chaos: ${name} up again (services.sh up took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

// ---------------------------------------------------------------- reading back

/** Every message of `topic` up to its current end: onMessage(partition, message). */
async function readTopic(kafka, topic, onMessage, timeoutMs) {
  const admin = kafka.admin();
  await admin.connect();
  let ends;
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const remaining = new Map(
    ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]),
  );
  if (remaining.size === 0) return;
  const consumer = kafka.consumer({ groupId: `chaos-readback-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic} back took over ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = remaining.get(batch.partition);
            if (end === undefined) return;
            for (const message of batch.messages) {
              if (BigInt(message.offset) < end) onMessage(batch.partition, message);
            }
            if (BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

async function groupLag(kafka, group, topic) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    let lag = 0n;
    for (const end of ends) {
      const offset = at.get(end.partition) ?? -1n;
      lag += BigInt(end.high) - (offset < 0n ? BigInt(end.low) : offset);
    }
    return Number(lag);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function topicEnd(kafka, topic) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    return ends.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- main

async function main(options) {
  say(`reproduce with: ${commandLine(options)}`);
  if (!existsSync(options.aggregatorMain))
    throw new Error(`${options.aggregatorMain} is missing: run 'npm run build' first`);

  // One chaos run at a time owns RUN_DIR; a dead run's servers are stopped and its data wiped.
  const lock = path.join(RUN_DIR, 'chaos.pid');
  const holder = existsSync(lock) ? Number(readFileSync(lock, 'utf8').trim()) : undefined;
  if (holder !== undefined && holder !== process.pid && processAlive(holder)) {
    let command = '';
    try {
      command = readFileSync(`/proc/${holder}/cmdline`, 'utf8');
    } catch {
      // no /proc: trust the lock
    }
    if (command === '' || command.includes('chaos.mjs'))
      throw new Error(`another chaos run (pid ${holder}) is using ${path.relative(ROOT, RUN_DIR)}`);
  }
  const services = new Services();
  mkdirSync(LOG_DIR, { recursive: true });
  if (existsSync(path.join(RUN_DIR, 'kafka')) || existsSync(path.join(RUN_DIR, 'clickhouse'))) {
    say(`removing the previous run's servers and data in ${path.relative(ROOT, RUN_DIR)}`);
    await services.down(); // servers a killed run left behind, if any
    rmSync(RUN_DIR, { recursive: true, force: true });
    mkdirSync(LOG_DIR, { recursive: true });
  }
  writeFileSync(lock, `${process.pid}\n`);

  const state = { services, aggregators: undefined, sender: undefined, chaos: undefined, kafkaLog: undefined };
  let status;
  try {
    status = await run(options, state);
    return status;
  } finally {
    say('cleaning up: stopping aggregators, our Kafka and ClickHouse');
    state.chaos?.stop.abort();
    await state.aggregators?.stopAll();
    await state.sender?.close();
    await services.down();
    state.kafkaLog?.end();
    const busy = [];
    for (const port of Object.values(PORTS)) if (await portOpen(port)) busy.push(port);
    if (busy.length > 0) say(`WARNING: ports ${busy.join(', ')} still answer after services.sh down`);
    if (status === 0) {
      // Thousands of small parts: not worth keeping once everything reconciled.
      rmSync(path.join(RUN_DIR, 'clickhouse', 'data'), { recursive: true, force: true });
      rmSync(path.join(RUN_DIR, 'kafka', 'data'), { recursive: true, force: true });
    } else {
      say(`data kept; to look at it: ${servicesCommand('up')} (and ${servicesCommand('down')} after)`);
    }
    rmSync(lock, { force: true });
    say(`logs: ${path.relative(ROOT, LOG_DIR)}/ (kept until the next run)`);
  }
}

/** Topic, dead-letter topic and consumer group of this run (unique names). */
function runNames(seed) {
  const stamp = Date.now().toString(36);
  return {
    topic: `chaos_spans_${seed}_${stamp}`,
    deadLetterTopic: `chaos_spans_${seed}_${stamp}.dlq`,
    group: `chaos-aggregator-${seed}-${stamp}`,
  };
}

/** The run's own kafkajs client; its log lines go to logs/kafkajs.log. */
function kafkaClient(state) {
  state.kafkaLog = createWriteStream(path.join(LOG_DIR, 'kafkajs.log'), { flags: 'a' });
  return new kafkajs.Kafka({
    clientId: 'costtrace-chaos',
    brokers: [BROKER],
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 4 },
    logLevel: kafkajs.logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, timestamp, ...fields } = log;
        state.kafkaLog.write(`${timestamp} ${kafkajs.logLevel[level] ?? level} ${message} ${JSON.stringify(fields)}\n`);
      },
  });
}

async function createTopics(kafka, names, partitions) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: names.topic, numPartitions: partitions, replicationFactor: 1 },
        { topic: names.deadLetterTopic, numPartitions: 1, replicationFactor: 1 },
      ],
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Whether all `members` aggregators joined the group (polled, bounded). */
function groupJoined(kafka, group, members) {
  return poll(async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const { groups } = await admin.describeGroups([group]);
      return groups[0]?.state === 'Stable' && groups[0].members.length === members;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }, 120_000);
}

/**
 * Produces and kills for the run's duration, then brings everything up again and lets the
 * producer deliver what is left (for at most 3 more minutes).
 */
async function chaosPhase(options, state, kafka, names) {
  const { services, aggregators } = state;
  const durationMs = options.minutes * 60_000;
  const workload = new Workload(options.seed, Math.round((options.spansPerSecond * durationMs) / 1000), Date.now());
  const sender = new SpanSender(kafka, names.topic, workload, options.spansPerSecond);
  const chaos = new Chaos(options.seed, options.weights, services, aggregators);
  state.sender = sender;
  state.chaos = chaos;

  const start = Date.now();
  const flushDeadline = start + durationMs + 180_000;
  const chaosDone = chaos.run();
  const chaosTimer = setTimeout(() => chaos.stop.abort(), durationMs);
  const sent = sender.run(start, () => Date.now() >= flushDeadline);
  try {
    await chaosDone;
  } finally {
    clearTimeout(chaosTimer);
  }
  checkInterrupt();
  say('chaos over; making sure Kafka, ClickHouse and every aggregator run');
  await services.up();
  const everyone = await poll(() => aggregators.alive().length === options.aggregators, 60_000);
  if (!everyone) say(`WARNING: only ${aggregators.alive().length} of ${options.aggregators} aggregators run`);
  await sent;
  checkInterrupt();
  await sender.close();
  say(
    `producer done: ${sender.acknowledged} of ${workload.messages.length} messages acknowledged` +
      ` (${sender.failedSends} failed sends retried, ${sender.producerRestarts} producer restarts)`,
  );
  return { workload, sender, chaos };
}

/**
 * The expected figures, from the workload's own bigint sums, for the messages really in the
 * spans topic (read back: a send that failed may have been written, then written again).
 */
async function expectedFigures(kafka, names, workload) {
  const inTopic = new Map(); // seq → [{ partition, offset }]
  let unknown = 0;
  await readTopic(
    kafka,
    names.topic,
    (partition, message) => {
      const seq = Number(message.headers?.[MESSAGE_HEADER]?.toString());
      if (!Number.isInteger(seq) || workload.messages[seq] === undefined) {
        unknown++;
        return;
      }
      const copies = inTopic.get(seq) ?? [];
      copies.push({ partition, offset: message.offset });
      inTopic.set(seq, copies);
    },
    120_000,
  );
  const expected = {
    messages: workload.messages.length,
    acknowledged: 0,
    generatedSpans: 0,
    generatedPicos: 0n,
    junk: 0,
    invalidSpans: 0,
    topicMessages: 0,
    unknown,
    duplicated: 0,
    lostAcknowledged: 0,
    rows: 0,
    picos: 0n,
    distinctSpans: 0,
    distinctPicos: 0n,
    deadLetters: new Set(), // "topic/partition/offset", as the dead-letter messages' keys
    perOffset: new Map(), // "partition/offset" → valid spans
  };
  for (const record of workload.messages) {
    expected.generatedSpans += record.validSpans;
    expected.generatedPicos += record.picos;
    if (record.acknowledged) expected.acknowledged++;
    if (record.junk !== undefined) expected.junk++;
    expected.invalidSpans += record.invalidSpans;
    const copies = inTopic.get(record.seq) ?? [];
    if (copies.length === 0 && record.acknowledged) expected.lostAcknowledged++;
    if (copies.length > 0) {
      expected.distinctSpans += record.validSpans;
      expected.distinctPicos += record.picos;
    }
    if (copies.length > 1) expected.duplicated += copies.length - 1;
    for (const copy of copies) {
      expected.topicMessages++;
      expected.rows += record.validSpans;
      expected.picos += record.picos;
      const key = `${copy.partition}/${copy.offset}`;
      expected.perOffset.set(key, record.validSpans);
      if (record.junk !== undefined || record.invalidSpans > 0) expected.deadLetters.add(`${names.topic}/${key}`);
    }
  }
  return expected;
}

/**
 * Waits until every row is stored, every offset committed and every dead letter written; or,
 * when rows are missing for good, until all offsets are committed and nothing changed for 30 s;
 * at most `minutes`. Returns how it ended.
 */
async function settle(kafka, names, expected, minutes) {
  const deadline = Date.now() + minutes * 60_000;
  let last = { rows: -1, lag: -1, deadLetters: -1 };
  let unchangedSince = Date.now();
  let lastReport = 0;
  for (;;) {
    checkInterrupt();
    const now = { rows: -1, lag: -1, deadLetters: -1 };
    try {
      now.rows = Number((await clickhouse(`SELECT count() FROM ${DATABASE}.span_costs`, 5000)).trim());
    } catch {
      // ClickHouse busy or the table not there yet
    }
    try {
      now.lag = await groupLag(kafka, names.group, names.topic);
      now.deadLetters = await topicEnd(kafka, names.deadLetterTopic);
    } catch {
      // Kafka busy
    }
    if (now.rows >= expected.rows && now.lag === 0 && now.deadLetters >= expected.deadLetters.size) return 'complete';
    if (now.rows !== last.rows || now.lag !== last.lag || now.deadLetters !== last.deadLetters)
      unchangedSince = Date.now();
    last = now;
    if (now.lag === 0 && Date.now() - unchangedSince > 30_000)
      return 'all offsets committed and nothing changed for 30 s';
    if (Date.now() >= deadline) return `not settled within ${minutes} min`;
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      say(
        `settling: ${now.rows} of ${expected.rows} rows, lag ${now.lag}, dead letters ${now.deadLetters} of ${expected.deadLetters.size}`,
      );
    }
    await pause(1000);
  }
}

/** What the pipeline stored: ClickHouse sums (exact decimal text), the dead-letter topic, the group's lag. */
async function storedFigures(kafka, names) {
  const [[rows, distinct, sum]] = await clickhouseRows(
    `SELECT count(), uniqExact(trace_id, span_id), toString(sum(cost_total)) FROM ${DATABASE}.span_costs`,
  );
  const [[distinctSum]] = await clickhouseRows(
    `SELECT toString(sum(c)) FROM (SELECT any(cost_total) AS c FROM ${DATABASE}.span_costs GROUP BY trace_id, span_id)`,
  );
  const [[rollupSpans, rollupSum]] = await clickhouseRows(
    `SELECT sum(spans), toString(sum(cost_total)) FROM ${DATABASE}.span_costs_1m`,
  );
  // Minutes where the rollup and the span rows it summarises differ (spans or cost).
  const minuteDiffs = await clickhouseRows(
    `SELECT m, sum(n) AS spans, toString(sum(c)) AS cost FROM (
       SELECT toUInt32(minute) AS m, toInt64(spans) AS n, cost_total AS c FROM ${DATABASE}.span_costs_1m
       UNION ALL
       SELECT toUInt32(intDiv(toUInt32(start_time), 60) * 60) AS m, toInt64(-1) AS n, -cost_total AS c
       FROM ${DATABASE}.span_costs
     ) GROUP BY m HAVING spans != 0 OR sum(c) != 0 ORDER BY m`,
  );
  const perOffset = await clickhouseRows(
    `SELECT kafka_partition, kafka_offset, count() FROM ${DATABASE}.span_costs GROUP BY kafka_partition, kafka_offset`,
    60_000,
  );
  const deadLetters = { messages: 0, keys: new Set(), reasons: new Map() };
  await readTopic(
    kafka,
    names.deadLetterTopic,
    (_partition, message) => {
      deadLetters.messages++;
      deadLetters.keys.add(message.key?.toString() ?? '');
      const reason = message.headers?.['costtrace.dlq.reason']?.toString() ?? '?';
      deadLetters.reasons.set(reason, (deadLetters.reasons.get(reason) ?? 0) + 1);
    },
    120_000,
  );
  let lag = -1;
  try {
    lag = await groupLag(kafka, names.group, names.topic);
  } catch (err) {
    say(`could not read the group's lag: ${errorText(err)}`);
  }
  return {
    rows: Number(rows),
    distinct: Number(distinct),
    picos: picosOf(sum),
    distinctPicos: picosOf(distinctSum),
    rollupSpans: Number(rollupSpans),
    rollupPicos: picosOf(rollupSum),
    minuteDiffs,
    perOffset: new Map(perOffset.map(([partition, offset, n]) => [`${partition}/${offset}`, Number(n)])),
    deadLetters,
    lag,
  };
}

/** Which messages are missing, partly stored or stored more than once, and when the repeats were written. */
async function printMessageDiagnostics(expected, stored) {
  const lost = [];
  const partial = [];
  const doubled = [];
  for (const [key, want] of expected.perOffset) {
    const have = stored.perOffset.get(key) ?? 0;
    if (want > 0 && have === 0) lost.push(`${key} (${want} spans)`);
    else if (have < want) partial.push(`${key} (${have} of ${want})`);
    else if (have > want) doubled.push(`${key} (${have} for ${want})`);
  }
  const stray = [...stored.perOffset.keys()].filter((key) => !expected.perOffset.has(key));
  console.log(
    `  messages (partition/offset) lost: ${lost.length}, partly stored: ${partial.length},` +
      ` stored more than once: ${doubled.length}, unknown: ${stray.length}`,
  );
  for (const [label, list] of [
    ['lost', lost],
    ['partly stored', partial],
    ['more than once', doubled],
    ['unknown', stray],
  ]) {
    if (list.length > 0) console.log(`    ${label}: ${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''}`);
  }
  if (stored.rows > stored.distinct) {
    // Into which partitions and when (to line up with the kills above).
    const repeats = await clickhouseRows(
      `SELECT kafka_partition, count(), toString(min(inserted_at)), toString(max(inserted_at))
       FROM ${DATABASE}.span_costs
       WHERE (trace_id, span_id) IN (
         SELECT trace_id, span_id FROM ${DATABASE}.span_costs GROUP BY trace_id, span_id HAVING count() > 1)
       GROUP BY kafka_partition ORDER BY kafka_partition`,
      60_000,
    );
    const shown = repeats.map(
      ([partition, n, from, to]) => `partition ${partition}: ${n} rows inserted ${from.slice(11)}–${to.slice(11)} UTC`,
    );
    console.log(`    spans stored more than once (all copies): ${shown.join('; ')}`);
  }
}

/** Prints expected against stored, one line per figure; true when every one matches exactly. */
async function printReconciliation(options, expected, stored, context) {
  const { aggregators, chaos, outcome } = context;
  const deadLetterKeys = stored.deadLetters.keys;
  const missingDeadLetters = [...expected.deadLetters].filter((key) => !deadLetterKeys.has(key)).length;
  const strayDeadLetters = [...deadLetterKeys].filter((key) => !expected.deadLetters.has(key)).length;
  const checks = [
    ['messages acknowledged by Kafka', expected.messages, expected.acknowledged],
    ['acknowledged messages missing from the topic', 0, expected.lostAcknowledged],
    ['span rows (span_costs)', expected.rows, stored.rows],
    ['distinct (trace_id, span_id)', expected.distinctSpans, stored.distinct],
    ['sum(cost_total) USD', usd(expected.picos), usd(stored.picos)],
    ['sum over distinct spans USD', usd(expected.distinctPicos), usd(stored.distinctPicos)],
    ['rollup sum(spans) (span_costs_1m)', expected.rows, stored.rollupSpans],
    ['rollup sum(cost_total) USD', usd(expected.picos), usd(stored.rollupPicos)],
    ['minutes where rollup != span rows', 0, stored.minuteDiffs.length],
    ['dead letters (distinct source offsets)', expected.deadLetters.size, deadLetterKeys.size],
    ['dead letters missing / unexpected', '0 / 0', `${missingDeadLetters} / ${strayDeadLetters}`],
    ['consumer group lag', 0, stored.lag],
  ];
  const width = Math.max(...checks.map(([label]) => label.length));
  const valueWidth = Math.max(...checks.map(([, want, got]) => Math.max(String(want).length, String(got).length)));
  console.log('');
  console.log(`reconciliation (seed ${options.seed}, ${options.minutes} min, ${options.aggregators} aggregators)`);
  console.log(`  ${''.padEnd(width)}  ${'expected'.padStart(valueWidth)}  ${'stored'.padStart(valueWidth)}`);
  let ok = true;
  for (const [label, want, got] of checks) {
    const same = String(want) === String(got);
    ok &&= same;
    console.log(
      `  ${label.padEnd(width)}  ${String(want).padStart(valueWidth)}  ${String(got).padStart(valueWidth)}  ${same ? 'ok' : 'MISMATCH'}`,
    );
  }
  const reasons = [...stored.deadLetters.reasons].map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none';
  console.log(
    `  dead-letter messages written: ${stored.deadLetters.messages}` +
      ` (${stored.deadLetters.messages - deadLetterKeys.size} repeats; at least once by design); reasons: ${reasons}`,
  );
  if (stored.rows !== expected.rows || stored.distinct !== expected.distinctSpans) {
    await printMessageDiagnostics(expected, stored);
  }
  if (stored.minuteDiffs.length > 0) {
    const shown = stored.minuteDiffs
      .slice(0, 5)
      .map(
        ([minute, spans, cost]) =>
          `${new Date(Number(minute) * 1000).toISOString().slice(0, 16)}Z spans ${spans} cost ${cost}`,
      );
    console.log(
      `  rollup minus span rows, first minutes: ${shown.join('; ')}${stored.minuteDiffs.length > 5 ? '; …' : ''}`,
    );
  }
  const exits = [...aggregators.exits].map(([why, n]) => `${n}× ${why}`).join(', ') || 'none';
  console.log(
    `  kills: aggregator ${chaos.kills.aggregator}, ClickHouse ${chaos.kills.clickhouse}` +
      ` (${chaos.kills.clickhouseDuringInsert} during an INSERT), Kafka ${chaos.kills.kafka};` +
      ` aggregator starts ${aggregators.starts}, exits by themselves: ${exits}`,
  );
  console.log(`  settle: ${outcome}`);
  console.log(`  result: ${ok ? 'RECONCILED' : 'NOT RECONCILED'}`);
  console.log(`  reproduce with: ${commandLine(options)}`);
  console.log('');
  return ok;
}

async function run(options, state) {
  const { services } = state;
  const names = runNames(options.seed);
  say(
    `starting our Kafka (127.0.0.1:${PORTS.kafka}) and ClickHouse (127.0.0.1:${PORTS.clickhouseHttp}) in ${path.relative(ROOT, RUN_DIR)}`,
  );
  await services.up();
  say(`Kafka and ClickHouse ${(await clickhouse('SELECT version()')).trim()} ready`);

  const kafka = kafkaClient(state);
  await createTopics(kafka, names, options.partitions);
  say(`topics ${names.topic} (${options.partitions} partitions) and ${names.deadLetterTopic}; group ${names.group}`);

  const aggregators = new Aggregators(options.aggregators, names, options.aggregatorMain);
  state.aggregators = aggregators;
  aggregators.startAll();
  const joined = await groupJoined(kafka, names.group, options.aggregators);
  checkInterrupt();
  if (!joined) say(`WARNING: not all ${options.aggregators} aggregators joined ${names.group} within 120 s; going on`);
  say(`chaos for ${options.minutes} min at ${options.spansPerSecond} spans/s`);

  const { workload, chaos } = await chaosPhase(options, state, kafka, names);
  const expected = await expectedFigures(kafka, names, workload);
  say(
    `workload (seed ${options.seed}): ${expected.messages} messages (${expected.junk} junk,` +
      ` ${expected.invalidSpans} with an invalid span), ${expected.generatedSpans} valid spans, ${usd(expected.generatedPicos)} USD`,
  );
  say(
    `spans topic: ${expected.topicMessages} messages (${expected.duplicated} written twice by retried sends,` +
      ` ${expected.unknown} unknown), ${expected.lostAcknowledged} acknowledged messages missing`,
  );
  const outcome = await settle(kafka, names, expected, options.settleMinutes);
  say(`settled: ${outcome}`);
  const stored = await storedFigures(kafka, names);
  const ok = await printReconciliation(options, expected, stored, { aggregators, chaos, outcome });
  return ok ? 0 : 1;
}

// ---------------------------------------------------------------- entry

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  console.error(`${errorText(err)}\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    signals++;
    if (signals === 1) {
      say(`${signal}: stopping and cleaning up (two more to leave at once, without cleaning up)`);
      interrupt.abort();
    } else if (signals === 2) {
      say(`${signal}: still cleaning up (once more to leave at once, without cleaning up)`);
    } else {
      say(`${signal}: leaving now; stop our servers with: ${servicesCommand('down')}`);
      process.exit(130);
    }
  });
}

let status;
try {
  status = await main(options);
} catch (err) {
  if (err instanceof Interrupted || interrupt.signal.aborted) {
    status = 130;
  } else {
    // Plain errors are expected failures (a service that does not start…); others are bugs here.
    const text = err instanceof Error ? (err.constructor === Error ? err.message : (err.stack ?? err.message)) : err;
    say(`FAILED: ${String(text)}`);
    status = 1;
  }
}
process.exit(status);
