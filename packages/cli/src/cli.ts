import { PricingError } from '@costtrace/core';
import { parseArgs } from './args.js';
import type { CommandSpec } from './args.js';
import { offlineBackend, remoteBackend } from './commands/pricing-backend.js';
import type { PricingBackend, RemoteOptions } from './commands/pricing-backend.js';
import { PRICING_COMMANDS, runPricing } from './commands/pricing.js';

/** Everything the CLI touches outside itself, injected so commands run in tests without a process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Defaults to the real backends (bundled catalog offline, gRPC otherwise). */
  readonly pricingBackend?: ((offline: boolean, remote: RemoteOptions) => Promise<PricingBackend>) | undefined;
}

/** Every command the CLI knows. Command groups add their specs here and a case in `run`. */
export const COMMANDS: readonly CommandSpec[] = [...PRICING_COMMANDS];

/** Parses and runs one invocation; returns the exit code (0 ok, 1 failed, 2 usage error). */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, COMMANDS);
  if (!parsed.ok) {
    io.err(parsed.error);
    return 2;
  }
  if ('help' in parsed) {
    io.out(parsed.help);
    return 0;
  }
  const cmd = parsed.value;
  try {
    switch (cmd.command.path[0]) {
      case 'pricing':
        return await runPricing(cmd, {
          out: io.out,
          env: io.env,
          backend:
            io.pricingBackend ??
            ((offline, remote) => (offline ? offlineBackend() : Promise.resolve(remoteBackend(remote)))),
        });
      default:
        io.err(`no handler for ${cmd.command.path.join(' ')}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof PricingError) {
      io.err(`error: ${err.message}`);
      return err.code === 'INVALID_ARGUMENT' ? 2 : 1;
    }
    throw err;
  }
}
