import { parseLine } from './args.js';
import type { ArgsResult, OptionSpecs, OptionValues } from './args.js';

/**
 * Options only, no positional words: `parseLine` with none allowed. Values by name, in order;
 * a boolean present is ["true"]. Returns a result instead of throwing or exiting, so commands
 * can be tested without a process.
 */
export function parseFlags(argv: readonly string[], specs: OptionSpecs): ArgsResult<OptionValues> {
  const parsed = parseLine(argv, specs);
  if (parsed.ok) return { ok: true, value: parsed.value.options };
  if (parsed.problem !== 'unknown-option') return { ok: false, message: parsed.message };
  const names = Object.keys(specs).map((k) => `--${k}`);
  return { ok: false, message: `${parsed.message}; options: ${names.join(', ')}` };
}

/** Where commands write; injectable for tests. */
export interface CommandOutput {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}
