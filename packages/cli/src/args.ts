/** A flag a command accepts. Booleans take no value; strings take the next argument or `=value`. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly description: string;
  /** May be given more than once (values collected in order). */
  readonly multiple?: boolean;
  /** Allowed values, checked by the parser. */
  readonly choices?: readonly string[];
}

/** One command: its words ("pricing list"), positional arguments and options. */
export interface CommandSpec {
  readonly path: readonly string[];
  readonly summary: string;
  readonly positionals: readonly { readonly name: string; readonly required: boolean }[];
  readonly options: Readonly<Record<string, OptionSpec>>;
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
  const options: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--help' || arg === '-h') return { ok: true, help: commandHelp(command) };
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = command.options[name];
    if (spec === undefined)
      return { ok: false, error: `${command.path.join(' ')}: unknown option --${name}\n\n${commandHelp(command)}` };
    if (spec.type === 'boolean') {
      if (eq >= 0) return { ok: false, error: `--${name} takes no value` };
      options[name] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : rest[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--')))
      return { ok: false, error: `--${name} needs a value` };
    if (spec.choices !== undefined && !spec.choices.includes(value)) {
      return { ok: false, error: `--${name} must be one of ${spec.choices.join(', ')}; got "${value}"` };
    }
    if (spec.multiple === true) options[name] = [...((options[name] as string[] | undefined) ?? []), value];
    else if (options[name] !== undefined) return { ok: false, error: `--${name} given twice` };
    else options[name] = value;
  }
  if (positionals.length > command.positionals.length) {
    return {
      ok: false,
      error: `${command.path.join(' ')}: unexpected argument "${positionals[command.positionals.length]}"`,
    };
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
