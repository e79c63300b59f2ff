import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBudgetArgs } from '../src/index.js';
import { parseArgs, parseLine } from '../src/args.js';
import { parseDevArgs } from '../src/commands/dev.js';
import { PRICING_COMMANDS } from '../src/commands/pricing.js';
import { extractStoreFlag } from '../src/store-selection.js';

describe('parseArgs', () => {
  it('finds the command, its positionals and options', () => {
    const r = parseArgs(
      ['pricing', 'get', 'openai', 'gpt-4o', '--kind', 'input_tokens', '--offline', '--region=us'],
      PRICING_COMMANDS,
    );
    assert.ok(r.ok && 'value' in r);
    assert.deepEqual(r.value.command.path, ['pricing', 'get']);
    assert.deepEqual(r.value.positionals, { provider: 'openai', sku: 'gpt-4o' });
    assert.deepEqual(r.value.options, { kind: 'input_tokens', offline: true, region: 'us' });
  });

  it('collects repeatable options in order', () => {
    const r = parseArgs(['pricing', 'quote', '--gpu', 'a:1:2', '--gpu', 'b:1:2'], PRICING_COMMANDS);
    assert.ok(r.ok && 'value' in r);
    assert.deepEqual(r.value.options.gpu, ['a:1:2', 'b:1:2']);
  });

  it('returns an error message for every misuse, never throws', () => {
    const error = (argv: string[]) => {
      const r = parseArgs(argv, PRICING_COMMANDS);
      return r.ok ? '' : r.error;
    };
    assert.match(error(['pricing', 'frobnicate']), /unknown command "pricing frobnicate"/);
    assert.match(error(['pricing', 'list', '--nope']), /unknown option --nope/);
    assert.match(error(['pricing', 'list', '--provider']), /--provider needs a value/);
    assert.match(error(['pricing', 'list', '--output', 'xml']), /--output must be one of table, json/);
    assert.match(error(['pricing', 'get', 'openai']), /missing <sku>/);
    assert.match(error(['pricing', 'list', 'extra']), /unexpected argument "extra"/);
    assert.match(error(['pricing', 'list', '--offline=yes']), /--offline takes no value/);
    assert.match(error(['pricing', 'list', '--sku', 'a', '--sku', 'b']), /--sku given twice/);
  });

  it('answers help for no arguments and --help', () => {
    const top = parseArgs([], PRICING_COMMANDS);
    assert.ok(top.ok && 'help' in top && top.help.includes('pricing quote'));
    const cmd = parseArgs(['pricing', 'quote', '--help'], PRICING_COMMANDS);
    assert.ok(cmd.ok && 'help' in cmd && cmd.help.includes('--gpu'));
  });
});

describe('parseLine, the one parser every command uses', () => {
  const specs = {
    by: { type: 'string', multiple: true },
    format: { type: 'string', choices: ['table', 'csv'] },
    apply: { type: 'boolean' },
  } as const;

  it('collects values in order, words up to the allowed count, and words after `--` as words', () => {
    const r = parseLine(['compare', '--by', 'a', '--by=b', '--apply', '--', '--by'], specs, { max: 2 });
    assert.ok(r.ok);
    assert.deepEqual(r.value.positionals, ['compare', '--by']);
    assert.deepEqual(Object.fromEntries(r.value.options), { by: ['a', 'b'], apply: ['true'] });
  });

  it('names the problem and its kind', () => {
    const cases: [string[], string, RegExp][] = [
      [['--nope'], 'unknown-option', /^unknown option --nope$/],
      [['-x'], 'unknown-option', /^unknown option -x$/],
      [['word'], 'unexpected-argument', /^unexpected argument "word"$/],
      [['--by'], 'value', /^--by needs a value$/],
      [['--by', '--apply'], 'value', /^--by needs a value$/],
      [['--apply=yes'], 'value', /^--apply takes no value$/],
      [['--format', 'xml'], 'value', /^--format must be one of table, csv; got "xml"$/],
      [['--format', 'csv', '--format', 'csv'], 'value', /^--format given twice$/],
    ];
    for (const [argv, problem, message] of cases) {
      const r = parseLine(argv, specs);
      assert.ok(!r.ok, argv.join(' '));
      assert.equal(r.problem, problem, argv.join(' '));
      assert.match(r.message, message);
    }
  });

  it('is what the budget, dev and store flags go through', () => {
    assert.match((parseBudgetArgs(['budget', 'list', '--url']) as { error: string }).error, /^--url needs a value\n/);
    assert.equal(parseBudgetArgs(['budget', 'get', 'a', 'b']).ok, false);
    assert.deepEqual(parseDevArgs(['--rps=5']), {
      ok: true,
      options: { dataDir: './.costtrace', rps: 5, deployAfterSeconds: 60 },
    });
    assert.deepEqual(extractStoreFlag(['top', '--', '--store', 'x'], {}), {
      argv: ['top', '--', '--store', 'x'],
      store: undefined,
    });
  });
});
