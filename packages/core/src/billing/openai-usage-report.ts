import type { BilledLine, ParseNotes } from './billed-line.js';
import { BillingImportError } from './billing-error.js';
import type { JsonObjectReader } from './json-object-reader.js';
import type { JsonValue } from './lossless-json.js';
import { parseReportPage, pushCount } from './report-page.js';
import type { LineBase, ReportPageOptions, ReportPageResult, ResultContext } from './report-page.js';

/** `object` of a result of GET /v1/organization/usage/completions. */
export const OPENAI_COMPLETIONS_RESULT = 'organization.usage.completions.result';
/** `object` of a result of GET /v1/organization/usage/embeddings. */
export const OPENAI_EMBEDDINGS_RESULT = 'organization.usage.embeddings.result';

/**
 * One page of the OpenAI organization Usage API, completions or embeddings (told apart by each
 * result's `object`): `{ object: "page", data: [bucket], has_more, next_page }`, a bucket being
 * `{ object: "bucket", start_time, end_time, results: [...] }` in unix seconds.
 *
 * Each result becomes one usage line per non-zero kind: `input` (input_tokens less
 * input_cached_tokens, since OpenAI's input count includes the cached tokens and costtrace's kinds
 * are disjoint), `cache_read`, `output` (tokens) and `requests`. The audio token counts are not
 * read: input_tokens and output_tokens already include them. The service tier is `service_tier`,
 * else 'batch' for a `batch: true` group, else ''. A result with nothing in it counts in
 * `notes.empty`. Anything unreadable throws BillingImportError naming its JSON path; nothing of
 * the page is returned then, and `notes` is left as it was.
 */
export function parseOpenAiUsagePage(page: JsonValue, options: ReportPageOptions, notes: ParseNotes): ReportPageResult {
  return parseReportPage(page, options, notes, {
    report: 'the OpenAI Usage API',
    objectTags: true,
    period: { start: 'start_time', end: 'end_time', format: 'unix' },
    result: (result, context, lines) => readResult(result, context, lines),
  });
}

function readResult(result: JsonObjectReader, context: ResultContext, lines: BilledLine[]): void {
  const object = result.string('object');
  if (object !== OPENAI_COMPLETIONS_RESULT && object !== OPENAI_EMBEDDINGS_RESULT) {
    throw new BillingImportError(
      'INVALID_FORMAT',
      `unsupported usage result ${JSON.stringify(object.slice(0, 80))}: only completions and embeddings usage ` +
        `is imported (${OPENAI_COMPLETIONS_RESULT}, ${OPENAI_EMBEDDINGS_RESULT})`,
      result.where('object'),
    );
  }
  const completions = object === OPENAI_COMPLETIONS_RESULT;
  const inputTokens = result.count('input_tokens');
  const cachedTokens = completions ? (result.optionalCount('input_cached_tokens') ?? 0n) : 0n;
  if (cachedTokens > inputTokens) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `input_cached_tokens (${cachedTokens}) exceeds input_tokens (${inputTokens}), which include the cached tokens`,
      result.where('input_cached_tokens'),
    );
  }
  const outputTokens = completions ? result.count('output_tokens') : 0n;
  const requests = result.count('num_model_requests');
  const base: LineBase = {
    source: 'openai-usage',
    provider: 'openai',
    account: context.account,
    project: result.optionalString('project_id') ?? '',
    apiKey: result.optionalString('api_key_id') ?? '',
    model: result.optionalString('model') ?? '',
    serviceTier: serviceTier(result),
    periodStart: context.periodStart,
    periodEnd: context.periodEnd,
    billedCost: undefined,
    listCost: undefined,
    currency: 'USD',
    description: '',
    chargeCategory: 'Usage',
    service: completions ? 'completions' : 'embeddings',
    resourceId: '',
  };
  pushCount(lines, base, 'input', inputTokens - cachedTokens, 'tokens');
  pushCount(lines, base, 'cache_read', cachedTokens, 'tokens');
  pushCount(lines, base, 'output', outputTokens, 'tokens');
  pushCount(lines, base, 'requests', requests, 'requests');
}

/** `service_tier` when grouped by it; a `batch: true` group is the batch tier; else unknown (''). */
function serviceTier(result: JsonObjectReader): string {
  const tier = result.optionalString('service_tier');
  const batch = result.optionalBoolean('batch');
  if (tier !== undefined) return tier;
  return batch === true ? 'batch' : '';
}
