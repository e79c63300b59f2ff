// The configuration readers (zod schemas of one variable each), the message every failure turns
// into (NAME="value" is invalid: use …, or NAME entry "x" is invalid: use …), and envReader's
// precedence: a value given in code, then the environment, then the schema's default.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkSetting,
  choice,
  commaList,
  ConfigError,
  configErrorFromZod,
  envReader,
  envSchema,
  flag,
  hostPort,
  httpUrl,
  integer,
  keyValuePairs,
  LOG_LEVELS,
  number,
  optional,
  pattern,
  secret,
  text,
  topicName,
} from '../src/index.js';
import { z } from 'zod';

/** The value `schema` makes of `value` given in variable X. */
const parse = (schema: z.ZodType, value: unknown): unknown => checkSetting(schema, { variable: 'X', value });

/** The ConfigError `schema` throws for `value` given in variable X. */
function failure(schema: z.ZodType, value: unknown): ConfigError {
  try {
    parse(schema, value);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${JSON.stringify(value)} was accepted`);
}

describe('ConfigError', () => {
  it('carries the variable and the cause', () => {
    const cause = new Error('underneath');
    const err = new ConfigError('X="1" is invalid: use 2', { variable: 'X', cause });
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.variable, 'X');
    assert.equal(err.cause, cause);
    assert.equal(new ConfigError('plain').variable, undefined);
    assert.ok(!('cause' in new ConfigError('plain')), 'no cause property without one');
  });
});

describe('readers', () => {
  it('integer: a range, blank as unset, the fallback', () => {
    const port = integer(0, 65535, 8090);
    assert.equal(parse(port, '4318'), 4318);
    assert.equal(parse(port, 4318), 4318, 'a number from code or a file');
    assert.equal(parse(port, undefined), 8090);
    assert.equal(parse(port, ''), 8090);
    assert.equal(parse(port, '  '), 8090);
    assert.equal(parse(integer(1, 10), undefined), undefined, 'no fallback: unset');
    for (const bad of ['eighty', '65536', '-1', '2.5', 'Infinity']) {
      assert.equal(failure(port, bad).message, `X=${JSON.stringify(bad)} is invalid: use an integer from 0 to 65535`);
    }
  });

  it('number: a range with fractions', () => {
    assert.equal(parse(number(0, 100, 1), '0.05'), 0.05);
    assert.equal(parse(number(0, 100, 1), ''), 1);
    assert.equal(failure(number(0, 100), '101').message, 'X="101" is invalid: use a number from 0 to 100');
  });

  it('flag: true/1 and false/0', () => {
    assert.equal(parse(flag(false), 'true'), true);
    assert.equal(parse(flag(false), '1'), true);
    assert.equal(parse(flag(true), 'false'), false);
    assert.equal(parse(flag(true), '0'), false);
    assert.equal(parse(flag(true), ''), true);
    assert.equal(parse(flag(), undefined), undefined);
    assert.equal(failure(flag(false), 'maybe').message, 'X="maybe" is invalid: use true or false');
  });

  it('choice: one of the values, exactly', () => {
    const level = choice(LOG_LEVELS).default('info');
    assert.equal(parse(level, 'debug'), 'debug');
    assert.equal(parse(level, undefined), 'info');
    assert.equal(
      failure(level, 'DEBUG').message,
      'X="DEBUG" is invalid: use one of fatal, error, warn, info, debug, trace, silent',
    );
    assert.equal(
      failure(level, '').message,
      'X="" is invalid: use one of fatal, error, warn, info, debug, trace, silent',
    );
  });

  it('text and optional: empty kept, or blank as unset', () => {
    assert.equal(parse(text().default('d'), ''), '');
    assert.equal(parse(text().default('d'), undefined), 'd');
    assert.equal(parse(optional(text()), ' '), undefined);
    assert.equal(parse(optional(text(), 'd'), ''), 'd');
    assert.equal(parse(optional(text()), 'a.json'), 'a.json');
    assert.equal(failure(text(), 5).message, 'X=5 is invalid: use a string');
  });

  it('pattern, topicName, httpUrl, hostPort', () => {
    assert.equal(parse(pattern(/^[a-z]+$/, 'use lower-case letters'), 'abc'), 'abc');
    assert.equal(
      parse(
        pattern((v) => v.length === 2, 'use two characters'),
        'ab',
      ),
      'ab',
    );
    assert.equal(
      failure(pattern(/^[a-z]+$/, 'use lower-case letters'), 'A').message,
      'X="A" is invalid: use lower-case letters',
    );
    assert.equal(parse(topicName(), 'otlp_spans.dlq'), 'otlp_spans.dlq');
    assert.match(failure(topicName(), 'bad topic').message, /^X="bad topic" is invalid: use a Kafka topic name/);
    assert.match(failure(topicName(), 'x'.repeat(250)).message, /is invalid: use a Kafka topic name/);
    assert.equal(parse(httpUrl(), 'https://ch.example:8443/'), 'https://ch.example:8443/');
    for (const bad of ['localhost:8123', 'ftp://x/', '']) {
      assert.equal(failure(httpUrl(), bad).message, `X=${JSON.stringify(bad)} is invalid: use http(s)://host:port`);
    }
    const address = hostPort('pricing-cache:50051');
    assert.equal(parse(address, ' pricing-cache:50051 '), 'pricing-cache:50051');
    for (const bad of ['http://p:1', 'p', 'p:x', 'a b:1']) {
      assert.equal(
        failure(address, bad).message,
        `X=${JSON.stringify(bad)} is invalid: use host:port, e.g. pricing-cache:50051`,
      );
    }
  });

  it('commaList: trimmed entries, empty ones dropped, each checked, lists from code too', () => {
    const brokers = commaList(hostPort('127.0.0.1:9092'), 'use host:port[,host:port]').default(['127.0.0.1:9092']);
    assert.deepEqual(parse(brokers, ' a:1 , b:2 ,'), ['a:1', 'b:2']);
    assert.deepEqual(parse(brokers, undefined), ['127.0.0.1:9092']);
    assert.deepEqual(parse(brokers, ['c:3']), ['c:3']);
    assert.equal(failure(brokers, 'a:1,nope').message, 'X entry "nope" is invalid: use host:port, e.g. 127.0.0.1:9092');
    assert.equal(failure(brokers, ['nope']).message, 'X entry "nope" is invalid: use host:port, e.g. 127.0.0.1:9092');
    assert.equal(failure(brokers, ' , ').message, 'X=" , " is invalid: use host:port[,host:port]');
    assert.deepEqual(parse(commaList(text()).default([]), ''), []);
  });

  it('keyValuePairs: key=value entries, the failing entry as written', () => {
    const rules = keyValuePairs(choice(['a', 'b']), 'use key=a or key=b').default({});
    assert.deepEqual(parse(rules, ' x = a ,, y=b'), { x: 'a', y: 'b' });
    assert.deepEqual(parse(rules, undefined), {});
    for (const bad of ['x=c', '=a', 'x', ' =b']) {
      assert.equal(
        failure(rules, `y=a,${bad}`).message,
        `X entry ${JSON.stringify(bad)} is invalid: use key=a or key=b`,
      );
    }
  });

  it('secret: the message says which entry failed, never the value', () => {
    const tokens = secret(commaList(pattern((t) => t.length >= 16, 'use at least 16 characters')).default([]));
    const err = failure(tokens, 'aaaaaaaaaaaaaaaa,hunter2');
    assert.equal(err.message, 'X entry #2 is invalid: use at least 16 characters');
    assert.ok(!err.message.includes('hunter2'));
    const password = secret(pattern((p) => p.length > 3, 'use more than 3 characters'));
    assert.equal(failure(password, 'abc').message, 'X (value hidden) is invalid: use more than 3 characters');
  });
});

describe('configErrorFromZod', () => {
  it('names the variable (or the label), the value and the fix; keeps the variable and the cause', () => {
    const result = integer(1, 64).safeParse('0', { reportInput: true });
    assert.ok(!result.success);
    const err = configErrorFromZod(result.error, { variable: 'PORTS', value: '0' });
    assert.equal(err.message, 'PORTS="0" is invalid: use an integer from 1 to 64');
    assert.equal(err.variable, 'PORTS');
    assert.equal(err.cause, result.error);
    const labelled = configErrorFromZod(result.error, { variable: 'PORTS', value: 0, label: 'ports in app.json' });
    assert.equal(labelled.message, 'ports in app.json=0 is invalid: use an integer from 1 to 64');
    assert.equal(labelled.variable, 'PORTS');
  });

  it('names a field inside a JSON value by its path', () => {
    const sources = z.array(z.object({ type: z.enum(['a', 'b'], 'must be one of a, b') }));
    const value = [{ type: 'a' }, { type: 'c' }];
    const result = sources.safeParse(value, { reportInput: true });
    assert.ok(!result.success);
    assert.equal(
      configErrorFromZod(result.error, { variable: 'SOURCES', value }).message,
      'SOURCES[1].type must be one of a, b',
    );
  });
});

describe('envReader', () => {
  const schema = envSchema({
    PORT: integer(0, 65535, 8080),
    LEVEL: choice(LOG_LEVELS).default('info'),
    TOPIC: topicName().optional(),
  });

  it('takes a value given in code over the environment over the default, and reads only what it is asked', () => {
    const read: string[] = [];
    const values: Record<string, string> = { PORT: '9000', LEVEL: 'debug' };
    const env = new Proxy(values, {
      get: (target, name: string) => {
        read.push(name);
        return target[name];
      },
    });
    const { read: value } = envReader(schema, env);
    assert.equal(value('PORT'), 9000);
    assert.equal(value('LEVEL', 'warn'), 'warn');
    assert.equal(value('TOPIC'), undefined);
    assert.deepEqual(read, ['PORT', 'TOPIC'], 'LEVEL was given in code');
    assert.equal(envReader(schema, {}).read('PORT'), 8080);
  });

  it('checks values given in code and derived defaults with the same schema', () => {
    const { read, check } = envReader(schema, {});
    assert.throws(() => read('LEVEL', 'loud'), /^ConfigError: LEVEL="loud" is invalid: use one of fatal/);
    assert.equal(check('TOPIC', 'spans.dlq'), 'spans.dlq');
    assert.throws(
      () => check('TOPIC', 'spans dlq'),
      (err: unknown) =>
        err instanceof ConfigError && err.variable === 'TOPIC' && /TOPIC="spans dlq" is invalid/.test(err.message),
    );
  });

  it('stops with a ConfigError naming the variable and the value from the environment', () => {
    assert.throws(
      () => envReader(schema, { PORT: 'eighty' }).read('PORT'),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.variable === 'PORT' &&
        err.message === 'PORT="eighty" is invalid: use an integer from 0 to 65535' &&
        err.cause instanceof z.ZodError,
    );
  });
});
