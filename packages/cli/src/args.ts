import { parseArgs as tokenize } from 'node:util';

/** A flag a command accepts. Booleans take no value; strings take the next argument or `=value`. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** For help texts (the analysis commands write their own). */
  readonly description?: string;
  /** May be given more than once (values collected in order). */
  readonly multiple?: boolean;
  /** Allowed values, checked by the parser. */
  readonly choices?: readonly string[];
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Option values by name, in the order given; a boolean present is ["true"]. */
export type OptionValues = ReadonlyMap<string, readonly string[]>;

export type ArgsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** What parseLine refuses: an option no spec names, a word where none may stand, a bad value. */
export type LineProblem = 'unknown-option' | 'unexpected-argument' | 'value';

export interface ParsedLine {
  readonly positionals: readonly string[];
  readonly options: OptionValues;
}

/**
 * The one command-line parser of the CLI: node:util's parseArgs splits the line (`--flag value`,
 * `--flag=value`, `--` ending options), and this checks every option against `specs` with
 * messages that say what to fix. `positionals` is how many words may stand outside the options
 * (default none). Pure: never prints, never exits.
 */
export function parseLine(
  argv: readonly string[],
  specs: OptionSpecs,
  positionals: { readonly max?: number } = {},
):
  | { readonly ok: true; readonly value: ParsedLine }
  | { readonly ok: false; readonly message: string; readonly problem: LineProblem } {
  const fail = (problem: LineProblem, message: string) => ({ ok: false as const, message, problem });
  const { tokens } = tokenize({
    args: [...argv],
    options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const words: string[] = [];
  const options = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (words.length >= (positionals.max ?? 0)) {
        return fail('unexpected-argument', `unexpected argument ${JSON.stringify(token.value)}`);
      }
      words.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (spec === undefined) {
      return fail('unknown-option', `unknown option ${token.rawName}`);
    }
    let value = 'true';
    if (spec.type === 'boolean') {
      if (token.inlineValue === true) return fail('value', `${token.rawName} takes no value`);
    } else {
      // A following flag is not a value: `--by --where x` lacks the value of --by.
      if (token.value === undefined || (token.inlineValue !== true && token.value.startsWith('--'))) {
        return fail('value', `${token.rawName} needs a value`);
      }
      value = token.value;
      if (spec.choices !== undefined && !spec.choices.includes(value)) {
        return fail('value', `${token.rawName} must be one of ${spec.choices.join(', ')}; got "${value}"`);
      }
    }
    const list = options.get(token.name) ?? [];
    if (list.length > 0 && spec.multiple !== true) return fail('value', `${token.rawName} given twice`);
    list.push(value);
    options.set(token.name, list);
  }
  return { ok: true, value: { positionals: words, options } };
}

/** One command: its words ("pricing list"), positional arguments and options. */
export interface CommandSpec {
  readonly path: readonly string[];
  readonly summary: string;
  readonly positionals: readonly { readonly name: string; readonly required: boolean }[];
  readonly options: OptionSpecs;
}

export interface ParsedCommand {
  readonly command: CommandSpec;
  readonly positionals: Readonly<Record<string, string>>;
  /** Strings for string options (arrays when `multiple`), true for booleans present. */
  readonly options: Readonly<Record<string, string | boolean | readonly string[]>>;
}

export type ParseResult =
  | { readonly ok: true; readonly value: ParsedCommand }
  | { readonly ok: true; readonly help: string }
  | { readonly ok: false; readonly error: string };

/**
 * Parses argv against the known commands. Pure: returns the command with its arguments, a help
 * text, or an error message naming the problem; never prints, never exits.
 */
export function parseArgs(argv: readonly string[], commands: readonly CommandSpec[]): ParseResult {
  const words = argv.filter((a) => !a.startsWith('-'));
  const command = [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((w, i) => argv[i] === w));
  if (command === undefined) {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h'))
      return { ok: true, help: usage(commands, words) };
    return { ok: false, error: `unknown command "${words.join(' ')}"\n\n${usage(commands, words)}` };
  }
  const rest = argv.slice(command.path.length);
  if (rest.some((a) => a === '--help' || a === '-h')) return { ok: true, help: commandHelp(command) };
  const parsed = parseLine(rest, command.options, { max: command.positionals.length });
  if (!parsed.ok) {
    const where = command.path.join(' ');
    if (parsed.problem === 'unknown-option') {
      // The command's help lists the options.
      return { ok: false, error: `${where}: ${parsed.message}\n\n${commandHelp(command)}` };
    }
    return {
      ok: false,
      error: parsed.problem === 'unexpected-argument' ? `${where}: ${parsed.message}` : parsed.message,
    };
  }
  const positionals = parsed.value.positionals;
  const options: Record<string, string | boolean | readonly string[]> = {};
  for (const [name, values] of parsed.value.options) {
    options[name] =
      command.options[name]?.type === 'boolean' ? true : command.options[name]?.multiple === true ? values : values[0]!;
  }
  const named: Record<string, string> = {};
  for (const [i, p] of command.positionals.entries()) {
    const value = positionals[i];
    if (value === undefined) {
      if (p.required)
        return { ok: false, error: `${command.path.join(' ')}: missing <${p.name}>\n\n${commandHelp(command)}` };
      continue;
    }
    named[p.name] = value;
  }
  return { ok: true, value: { command, positionals: named, options } };
}

function usage(commands: readonly CommandSpec[], words: readonly string[]): string {
  const matching = commands.filter((c) => words.length === 0 || c.path[0] === words[0]);
  const shown = matching.length > 0 ? matching : commands;
  const width = Math.max(...shown.map((c) => c.path.join(' ').length));
  return [
    'usage: costtrace <command> [options]',
    '',
    ...shown.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Run "costtrace <command> --help" for its options.',
  ].join('\n');
}

export function commandHelp(command: CommandSpec): string {
  const args = command.positionals.map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ');
  const entries = Object.entries(command.options).map(([name, spec]) => {
    const flag = spec.type === 'boolean' ? `--${name}` : `--${name} <${spec.choices?.join('|') ?? 'value'}>`;
    return [flag, `${spec.description}${spec.multiple === true ? ' (repeatable)' : ''}`] as const;
  });
  const width = Math.max(0, ...entries.map(([flag]) => flag.length));
  return [
    `usage: costtrace ${command.path.join(' ')}${args ? ` ${args}` : ''} [options]`,
    '',
    command.summary,
    '',
    ...entries.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
  ].join('\n');
}
