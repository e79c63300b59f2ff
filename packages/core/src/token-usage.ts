import { readTokenCount } from './token-count.js';

/**
 * Token usage of one model call, as billed. The GenAI semantic conventions say
 * `gen_ai.usage.input_tokens` SHOULD include cached tokens and output includes reasoning tokens,
 * but some providers' own numbers (Anthropic's `input_tokens`) exclude cache reads and writes.
 * `InputTokenRule` makes that explicit per provider so no token is charged twice or missed.
 */
export interface ReportedTokenUsage {
  readonly input?: number | undefined;
  readonly output?: number | undefined;
  readonly cacheRead?: number | undefined;
  readonly cacheWrite?: number | undefined;
  readonly reasoning?: number | undefined;
}

/** How a provider's reported input count relates to its cache counts. */
export type InputTokenRule = 'input-includes-cache' | 'input-excludes-cache';

/** Disjoint token counts, each billed at its own price. */
export interface BillableTokens {
  /** Input tokens that were neither read from nor written to a prompt cache. */
  readonly uncachedInput: bigint;
  readonly cacheRead: bigint;
  readonly cacheWrite: bigint;
  /** Output tokens excluding reasoning tokens when reasoning is billed separately. */
  readonly output: bigint;
  readonly reasoning: bigint;
}

/** Providers whose reported input count excludes cache reads and writes. */
const EXCLUDES_CACHE = new Set(['anthropic']);

export function defaultInputTokenRule(provider: string): InputTokenRule {
  return EXCLUDES_CACHE.has(provider) ? 'input-excludes-cache' : 'input-includes-cache';
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function count(name: string, value: number | undefined): bigint {
  const read = readTokenCount(value);
  if (!read.ok) throw new UsageError(`${name} must be a non-negative integer, got ${value}`);
  return BigInt(read.count);
}

/**
 * Splits reported usage into disjoint billable counts.
 * `reasoningBilledSeparately`: when true, reasoning tokens are taken out of output and billed at
 * the reasoning price; otherwise they stay in output (the conventions count them there).
 */
export function toBillableTokens(
  usage: ReportedTokenUsage,
  rule: InputTokenRule,
  reasoningBilledSeparately: boolean,
): BillableTokens {
  const input = count('input tokens', usage.input);
  const output = count('output tokens', usage.output);
  const cacheRead = count('cache read tokens', usage.cacheRead);
  const cacheWrite = count('cache write tokens', usage.cacheWrite);
  const reasoning = count('reasoning tokens', usage.reasoning);
  let uncachedInput = input;
  if (rule === 'input-includes-cache') {
    uncachedInput = input - cacheRead - cacheWrite;
    if (uncachedInput < 0n) {
      throw new UsageError(
        `cache tokens (${cacheRead + cacheWrite}) exceed input tokens (${input}); the provider's input count may exclude cache tokens`,
      );
    }
  }
  if (reasoning > output) {
    throw new UsageError(`reasoning tokens (${reasoning}) exceed output tokens (${output})`);
  }
  return reasoningBilledSeparately
    ? { uncachedInput, cacheRead, cacheWrite, output: output - reasoning, reasoning }
    : { uncachedInput, cacheRead, cacheWrite, output, reasoning: 0n };
}
