/**
 * A small, pure parser for `--flag value`, `--flag=value` and boolean `--flag` options. It
 * returns a result instead of throwing or exiting, so commands can be tested without a process.
 */
export interface FlagSpec {
  /** Takes a value (`--since 24h`) or is a switch (`--apply`). */
  readonly value: boolean;
  /** May be given more than once (values collected in order). */
  readonly repeatable?: boolean;
}

export type ParsedFlags = ReadonlyMap<string, readonly string[]>;

export type ArgsResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

export function parseFlags(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): ArgsResult<ParsedFlags> {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) return { ok: false, message: `unexpected argument ${JSON.stringify(arg)}` };
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = spec[name];
    if (flag === undefined) {
      return {
        ok: false,
        message: `unknown option --${name}; options: ${Object.keys(spec)
          .map((k) => `--${k}`)
          .join(', ')}`,
      };
    }
    let value = 'true';
    if (flag.value) {
      if (eq !== -1) value = arg.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) return { ok: false, message: `--${name} needs a value` };
        value = next;
        i++;
      }
    } else if (eq !== -1) {
      return { ok: false, message: `--${name} takes no value` };
    }
    const list = flags.get(name) ?? [];
    if (list.length > 0 && !flag.repeatable) return { ok: false, message: `--${name} may be given once` };
    list.push(value);
    flags.set(name, list);
  }
  return { ok: true, value: flags };
}

/** Where commands write; injectable for tests. */
export interface CommandOutput {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}
