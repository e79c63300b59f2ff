// retry (backoff, give-up, refusal, abort) and runService's one shutdown sequence, driven by a
// fake process: a signal stops the service and exits 0; a failed stop, a stop past its deadline
// and a failed start exit 1; a second signal exits 130 at once.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ConfigError, loadConfigOrExit, retry, runService } from '../src/index.js';

const logger = pino({ level: 'silent' });
const fast = { initialMs: 1, maxMs: 4, jitter: 0 };

describe('retry', () => {
  it('retries with the backoff delays until the attempt succeeds', async () => {
    const delays: number[] = [];
    const result = await retry((n) => (n < 4 ? Promise.reject(new Error(`fail ${n}`)) : Promise.resolve(n)), {
      policy: fast,
      onRetry: (_err, _n, delay) => delays.push(delay),
    });
    assert.equal(result, 4);
    assert.deepEqual(delays, [1, 2, 4]);
  });

  it('gives up after maxAttempts, and at once on a failure it may not retry', async () => {
    let calls = 0;
    await assert.rejects(
      retry(() => Promise.reject(new Error(`fail ${++calls}`)), { policy: fast, maxAttempts: 3 }),
      /fail 3/,
    );
    calls = 0;
    await assert.rejects(
      retry(() => Promise.reject(new Error(`fatal ${++calls}`)), { policy: fast, retryable: () => false }),
      /fatal 1/,
    );
  });

  it('ends a wait when aborted, with the signal reason', async () => {
    const controller = new AbortController();
    const pending = retry(() => Promise.reject(new Error('down')), {
      policy: { initialMs: 60_000, maxMs: 60_000, jitter: 0 },
      signal: controller.signal,
    });
    controller.abort(new Error('stopping'));
    await assert.rejects(pending, /stopping/);
  });
});

/** A process stand-in: emits signals, records exit codes. */
function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let exited: (code: number) => void = () => undefined;
  const exitedOnce = new Promise<number>((resolve) => (exited = resolve));
  return {
    process: {
      on: (event: string, listener: () => void) => emitter.on(event, listener),
      exit: (code?: number) => {
        exits.push(code ?? 0);
        exited(code ?? 0);
        return undefined as never;
      },
    } as unknown as Pick<NodeJS.Process, 'on' | 'exit'>,
    signal: (name: string) => emitter.emit(name),
    exits,
    exitedOnce,
  };
}

describe('runService', () => {
  it('stops gracefully on SIGTERM and exits 0', async () => {
    const fake = fakeProcess();
    const order: string[] = [];
    await runService(
      { start: () => Promise.resolve(order.push('start')), stop: () => Promise.resolve(void order.push('stop')) },
      { logger, process: fake.process },
    );
    fake.signal('SIGTERM');
    assert.equal(await fake.exitedOnce, 0);
    assert.deepEqual(order, ['start', 'stop']);
  });

  it('exits 1 when stopping fails or outlasts its deadline, and 130 on a second signal', async () => {
    const failing = fakeProcess();
    await runService(
      { start: () => Promise.resolve(), stop: () => Promise.reject(new Error('stuck')) },
      { logger, process: failing.process },
    );
    failing.signal('SIGINT');
    assert.equal(await failing.exitedOnce, 1);

    // The deadline timer is unref'd (it never keeps a process alive): hold the loop open meanwhile.
    const hold = setInterval(() => undefined, 1_000);
    const slow = fakeProcess();
    let release: () => void = () => undefined;
    const never = new Promise<void>((resolve) => (release = resolve));
    await runService(
      { start: () => Promise.resolve(), stop: () => never },
      { logger, process: slow.process, stopTimeoutMs: 20 },
    );
    slow.signal('SIGTERM');
    assert.equal(await slow.exitedOnce, 1);
    slow.signal('SIGTERM');
    assert.deepEqual(slow.exits, [1, 130]);
    release();
    clearInterval(hold);
  });

  it('exits 1 after a failed start, stopping what started; a stop that aborted the start is no failure', async () => {
    const failed = fakeProcess();
    let stopped = false;
    await runService(
      { start: () => Promise.reject(new Error('bad credentials')), stop: () => Promise.resolve(void (stopped = true)) },
      { logger, process: failed.process },
    );
    assert.deepEqual(failed.exits, [1]);
    assert.ok(stopped);

    const aborted = fakeProcess();
    let fail: (err: Error) => void = () => undefined;
    const starting = new Promise<void>((_resolve, reject) => (fail = reject));
    const running = runService(
      { start: () => starting, stop: () => Promise.resolve(fail(new Error('aborted'))) },
      { logger, process: aborted.process, isAbort: (err) => (err as Error).message === 'aborted' },
    );
    aborted.signal('SIGTERM');
    await running;
    assert.equal(await aborted.exitedOnce, 0);
    assert.deepEqual(aborted.exits, [0]);
  });
});

describe('loadConfigOrExit', () => {
  it('returns the configuration, exits 2 on a ConfigError naming it, and rethrows anything else', () => {
    const lines: string[] = [];
    const log = pino({ level: 'fatal' }, { write: (line: string) => void lines.push(line) });
    const exits: number[] = [];
    const proc = { exit: (code?: number) => void exits.push(code ?? 0) } as unknown as Pick<NodeJS.Process, 'exit'>;
    assert.equal(
      loadConfigOrExit(() => 42, log, proc),
      42,
    );
    loadConfigOrExit(
      () => {
        throw new ConfigError('PORT="x" is invalid: use an integer from 0 to 65535', { variable: 'PORT' });
      },
      log,
      proc,
    );
    assert.deepEqual(exits, [2]);
    assert.match(lines.join(''), /invalid configuration: PORT=\\"x\\" is invalid/);
    assert.match(lines.join(''), /"variable":"PORT"/);
    assert.throws(
      () =>
        loadConfigOrExit(
          () => {
            throw new Error('bug');
          },
          log,
          proc,
        ),
      /bug/,
    );
  });
});
