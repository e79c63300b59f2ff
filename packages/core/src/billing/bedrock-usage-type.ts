import { tokenKindOf } from './token-kind.js';
import type { TokenKind } from './token-kind.js';

/** What an Amazon Bedrock token usage type says: the model as AWS names it, and the token kind. */
export interface BedrockTokenUsage {
  /** The middle of the usage type, as written: 'Claude3.5Sonnet', 'Llama3-1-70B', 'NovaPro'. */
  readonly model: string;
  readonly kind: TokenKind;
}

/**
 * An AWS region prefix of a usage type ("USE1-", "USW2-", "EUC1-", "APN1-", "CAN1-", "UGW1-"):
 * area letters, a direction and a number. Listing the areas keeps model names such as
 * "AI21-…" from being taken for a region.
 */
const REGION = /^(?:US|EU|AP|SA|CA|ME|AF|IL|MX|UG|CN)[A-Z]{0,2}\d{1,2}-/;
/** The token part at the end: input-tokens, output-tokens, input-token-count, cache-read-input-token-count… */
const TOKENS = /^(.+?)-((?:cache-?(?:read|write)-)?(?:input|output)-tokens?(?:-count)?)$/i;

/**
 * Reads a Bedrock token usage type: `USE1-Claude3.5Sonnet-input-tokens`,
 * `USW2-Llama3-1-70B-output-tokens`, `USE1-Claude3.7Sonnet-cache-read-input-token-count`,
 * `…-cache-write-input-token-count`. Undefined for any other usage type (provisioned throughput,
 * model units, images…).
 */
export function readBedrockUsageType(usageType: string | undefined): BedrockTokenUsage | undefined {
  if (usageType === undefined) return undefined;
  const match = TOKENS.exec(usageType.trim().replace(REGION, ''));
  if (match === null) return undefined;
  const [, model = '', tokens = ''] = match;
  const kind = tokenKindOf(tokens);
  return kind === undefined || model === '' ? undefined : { model, kind };
}
