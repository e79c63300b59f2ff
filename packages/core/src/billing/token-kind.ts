/** The token kinds a bill line can be sorted into (see BilledKind). */
export type TokenKind = 'input' | 'output' | 'cache_read' | 'cache_write';

/**
 * Patterns in the order they are tried, on lower-cased text with CamelCase words split: cache
 * kinds first, because their names also say "input" ("cached input",
 * "cache-read-input-token-count"). A word must start after a non-letter ("input", not
 * "throughput"); Azure's meter abbreviations ("Inp", "Outp") must also end there.
 */
const TOKEN_KINDS: readonly (readonly [TokenKind, RegExp])[] = [
  ['cache_write', /(?<![a-z])cache[\s_-]*(?:write|creation)/],
  ['cache_read', /(?<![a-z])(?:cache[\s_-]*(?:read|hit)|cached)/],
  ['output', /(?<![a-z])(?:output|outp(?![a-z])|completion)/],
  ['input', /(?<![a-z])(?:input|inp(?![a-z])|prompt)/],
];
/** A CamelCase word boundary ("CacheReadInputTokenCount", "gpt4oInputTokens"). */
const CAMEL = /([a-z0-9])([A-Z])/g;

/**
 * The token kind a bill's text names (a charge description, SKU or usage type), or undefined
 * when it names none: "Claude 3.5 Sonnet input tokens", "USE1-Claude3Haiku-output-tokens",
 * "gpt-4o cached input", "…-cache-write-input-token-count", "GPT-4o-0806-Outp-glbl Tokens".
 */
export function tokenKindOf(text: string | undefined): TokenKind | undefined {
  if (text === undefined) return undefined;
  const words = text.replace(CAMEL, '$1 $2').toLowerCase();
  for (const [kind, pattern] of TOKEN_KINDS) if (pattern.test(words)) return kind;
  return undefined;
}
