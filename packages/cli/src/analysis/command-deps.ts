import type { CommandOutput } from '../command-args.js';
import type { CostSource } from './common-flags.js';

/** What an analysis command needs from outside: data, output, the clock, and whether stdout is a TTY. */
export interface AnalysisDeps {
  readonly source: CostSource;
  readonly output: CommandOutput;
  readonly nowSeconds?: number;
  /** Colour (bold headers) and progress notes only when true. */
  readonly isTTY?: boolean;
}

export function nowOf(deps: { readonly nowSeconds?: number }): number {
  return deps.nowSeconds ?? Math.floor(Date.now() / 1000);
}

/** Reports a usage error the same way for every command: message, then the usage line. Exit 2. */
export function usageError(command: string, message: string, usage: string, output: CommandOutput): number {
  output.err(`costtrace ${command}: ${message}\nusage: ${usage}\nRun "costtrace ${command} --help" for examples.\n`);
  return 2;
}

/** A progress note on stderr, only on a TTY. */
export function progress(deps: AnalysisDeps, text: string): void {
  if (deps.isTTY === true) deps.output.err(`\u001b[2m${text}\u001b[0m\n`);
}

/** Bold header line for tables on a TTY. */
export function decorate(deps: AnalysisDeps, format: string, text: string): string {
  if (deps.isTTY !== true || format !== 'table') return text;
  const nl = text.indexOf('\n');
  return nl === -1 ? text : `\u001b[1m${text.slice(0, nl)}\u001b[0m${text.slice(nl)}`;
}
