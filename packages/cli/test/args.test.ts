import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS, parseArgs } from '../src/index.js';

describe('parseArgs', () => {
  it('finds the command, its positionals and options', () => {
    const r = parseArgs(
      ['pricing', 'get', 'openai', 'gpt-4o', '--kind', 'input_tokens', '--offline', '--region=us'],
      COMMANDS,
    );
    assert.ok(r.ok && 'value' in r);
    assert.deepEqual(r.value.command.path, ['pricing', 'get']);
    assert.deepEqual(r.value.positionals, { provider: 'openai', sku: 'gpt-4o' });
    assert.deepEqual(r.value.options, { kind: 'input_tokens', offline: true, region: 'us' });
  });

  it('collects repeatable options in order', () => {
    const r = parseArgs(['pricing', 'quote', '--gpu', 'a:1:2', '--gpu', 'b:1:2'], COMMANDS);
    assert.ok(r.ok && 'value' in r);
    assert.deepEqual(r.value.options.gpu, ['a:1:2', 'b:1:2']);
  });

  it('returns an error message for every misuse, never throws', () => {
    const error = (argv: string[]) => {
      const r = parseArgs(argv, COMMANDS);
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
    const top = parseArgs([], COMMANDS);
    assert.ok(top.ok && 'help' in top && top.help.includes('pricing quote'));
    const cmd = parseArgs(['pricing', 'quote', '--help'], COMMANDS);
    assert.ok(cmd.ok && 'help' in cmd && cmd.help.includes('--gpu'));
  });
});
