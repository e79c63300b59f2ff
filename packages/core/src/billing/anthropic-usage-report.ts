import type { BilledLine, ParseNotes } from './billed-line.js';
import type { JsonObjectReader } from './json-object-reader.js';
import type { JsonValue } from './lossless-json.js';
import { parseReportPage, pushCount } from './report-page.js';
import type { LineBase, ReportPageOptions, ReportPageResult } from './report-page.js';

/**
 * One page of the Anthropic Admin API usage report for messages
 * (GET /v1/organizations/usage_report/messages): `{ data: [bucket], has_more, next_page }`, a
 * bucket being `{ starting_at, ending_at, results: [...] }` with RFC 3339 times.
 *
 * Each result becomes one usage line per non-zero kind, in this order: `input`
 * (uncached_input_tokens), `cache_read` (cache_read_input_tokens), two `cache_write` lines told
 * apart by description, 'ephemeral_5m' and 'ephemeral_1h' (the two cache lifetimes are priced
 * differently), `output`, and web search requests as kind 'other' with unit
 * 'web_search_requests'. The project is the workspace_id; the API reports the default workspace
 * as null, which becomes ''. A result with nothing in it counts in `notes.empty`. Errors throw
 * BillingImportError naming the JSON path; nothing of the page is returned then.
 */
export function parseAnthropicUsagePage(
  page: JsonValue,
  options: ReportPageOptions,
  notes: ParseNotes,
): ReportPageResult {
  return parseReportPage(page, options, notes, {
    report: 'the Anthropic usage report',
    objectTags: false,
    period: { start: 'starting_at', end: 'ending_at', format: 'rfc3339' },
    result: (result, { account, periodStart, periodEnd }, lines) =>
      readResult(result, account, periodStart, periodEnd, lines),
  });
}

function readResult(
  result: JsonObjectReader,
  account: string,
  periodStart: number,
  periodEnd: number,
  lines: BilledLine[],
): void {
  const uncached = result.count('uncached_input_tokens');
  const cacheCreation = result.object('cache_creation');
  const write1h = cacheCreation.count('ephemeral_1h_input_tokens');
  const write5m = cacheCreation.count('ephemeral_5m_input_tokens');
  const cacheRead = result.count('cache_read_input_tokens');
  const output = result.count('output_tokens');
  const webSearches = result.optionalObject('server_tool_use')?.optionalCount('web_search_requests') ?? 0n;
  const base: LineBase = {
    source: 'anthropic-usage',
    provider: 'anthropic',
    account,
    project: result.optionalString('workspace_id') ?? '',
    apiKey: result.optionalString('api_key_id') ?? '',
    model: result.optionalString('model') ?? '',
    serviceTier: result.optionalString('service_tier') ?? '',
    periodStart,
    periodEnd,
    billedCost: undefined,
    listCost: undefined,
    currency: 'USD',
    description: '',
    chargeCategory: 'Usage',
    service: 'messages',
    resourceId: '',
  };
  pushCount(lines, base, 'input', uncached, 'tokens');
  pushCount(lines, base, 'cache_read', cacheRead, 'tokens');
  pushCount(lines, base, 'cache_write', write5m, 'tokens', 'ephemeral_5m');
  pushCount(lines, base, 'cache_write', write1h, 'tokens', 'ephemeral_1h');
  pushCount(lines, base, 'output', output, 'tokens');
  pushCount(lines, base, 'other', webSearches, 'web_search_requests');
}
