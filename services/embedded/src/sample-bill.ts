/**
 * A sample bill for `costtrace dev`: what OpenAI and Anthropic would bill for the demo's traffic,
 * written as their usage and cost API pages and imported like any bill, with two differences a
 * FinOps engineer would find in a real one: a negotiated discount (every line billed at
 * `discountPercent` below list) and an uninstrumented caller (a nightly job's tokens on one model,
 * billed under its own API key, with no span). `costtrace reconcile` then finds both: the
 * caller as untraced usage, the discount as the rate difference with a matching override.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  catalogListPrices,
  defaultInputTokenRule,
  divideRoundHalfEven,
  formatScaled,
  MONEY_SCALE,
} from '@costtrace/core';
import type { BillSource, ListTokenPrices, PriceSnapshot } from '@costtrace/core';
import { importBillFiles } from '@costtrace/cli';
import type { BillStore } from '@costtrace/store';

export interface SampleBillOptions {
  /** The demo's spans in [since, until) (unix seconds) are billed; the bill's day buckets hold them. */
  readonly since: number;
  readonly until: number;
  /** Percent below list the providers bill (default 15). */
  readonly discountPercent?: number | undefined;
  /** The caller without instrumentation (default: 2,000,000 input and 400,000 output tokens of openai/gpt-4o-mini). */
  readonly uninstrumented?:
    | {
        readonly provider: 'openai' | 'anthropic';
        readonly model: string;
        readonly input: bigint;
        readonly output: bigint;
      }
    | undefined;
}

export interface SampleBill {
  readonly files: readonly { readonly source: BillSource; readonly path: string }[];
  readonly discountPercent: number;
  readonly uninstrumented: NonNullable<SampleBillOptions['uninstrumented']>;
  /** Days (unix seconds of UTC midnight) the bill covers. */
  readonly days: readonly number[];
}

const DAY = 86_400;

interface Usage {
  input: bigint;
  output: bigint;
  cacheRead: bigint;
  cacheWrite: bigint;
  requests: number;
}

/** Writes the bill as API page files under `dir` and imports them into `store`. */
export async function loadSampleBill(
  store: BillStore,
  snapshot: PriceSnapshot,
  dir: string,
  options: SampleBillOptions,
): Promise<SampleBill> {
  const discountPercent = options.discountPercent ?? 15;
  const caller = options.uninstrumented ?? {
    provider: 'openai',
    model: 'gpt-4o-mini',
    input: 2_000_000n,
    output: 400_000n,
  };
  const catalog = catalogListPrices(snapshot);
  // Whole UTC days: the bills are daily.
  const since = Math.floor(options.since / DAY) * DAY;
  const traced = await store.tracedUsage({
    since,
    until: options.until,
    groupBy: ['day', 'provider', 'model'],
    providers: ['openai', 'anthropic'],
  });
  // Per provider, day and model: the usage the bill states (uncached input, as the APIs count).
  const usage = new Map<string, Map<number, Map<string, Usage>>>();
  const entry = (provider: string, day: number, model: string): Usage => {
    const byDay = usage.get(provider) ?? new Map<number, Map<string, Usage>>();
    usage.set(provider, byDay);
    const byModel = byDay.get(day) ?? new Map<string, Usage>();
    byDay.set(day, byModel);
    let u = byModel.get(model);
    if (u === undefined)
      byModel.set(model, (u = { input: 0n, output: 0n, cacheRead: 0n, cacheWrite: 0n, requests: 0 }));
    return u;
  };
  for (const row of traced) {
    const provider = row.dimensions.provider ?? '';
    const model = catalog.canonicalModel(provider, row.dimensions.model ?? '');
    const u = entry(provider, Number(row.dimensions.day), model);
    const includes = defaultInputTokenRule(provider) === 'input-includes-cache';
    const uncached = includes ? row.inputTokens - row.cacheReadTokens - row.cacheWriteTokens : row.inputTokens;
    u.input += uncached > 0n ? uncached : 0n;
    u.output += row.outputTokens;
    u.cacheRead += row.cacheReadTokens;
    u.cacheWrite += row.cacheWriteTokens;
    u.requests += row.requests;
  }
  const firstDay = since;
  const days = [...new Set([...usage.values()].flatMap((byDay) => [...byDay.keys()]))].sort((a, b) => a - b);
  const callerDay = days[0] ?? firstDay;

  const billedCost = (tokens: bigint, perMillion: bigint): bigint =>
    divideRoundHalfEven(tokens * perMillion * BigInt(100 - discountPercent), 100_000_000n);
  const pricesOf = (provider: string, model: string, day: number): ListTokenPrices => {
    const prices = catalog.tokenPrices(provider, model, 'standard', day * 1000);
    if (prices === undefined)
      throw new Error(`no catalog price for ${provider}/${model}: the demo prices every model it calls`);
    return prices;
  };

  await mkdir(dir, { recursive: true });
  const files: { source: BillSource; path: string }[] = [];
  const write = async (name: string, source: BillSource, page: string): Promise<void> => {
    const path = join(dir, name);
    await writeFile(path, `${page}\n`);
    files.push({ source, path });
  };
  const money = (pico: bigint): string => formatScaled(pico, MONEY_SCALE);

  // OpenAI: usage (completions, grouped by model and API key) and costs (by model line item).
  const openaiUsage: string[] = [];
  const openaiCosts: string[] = [];
  const anthropicUsage: string[] = [];
  const anthropicCosts: string[] = [];
  for (const day of days.length > 0 ? days : [firstDay]) {
    const usageResults: string[] = [];
    const costResults: string[] = [];
    const aUsage: string[] = [];
    const aCost: string[] = [];
    for (const provider of ['openai', 'anthropic'] as const) {
      const byModel = new Map(usage.get(provider)?.get(day) ?? []);
      const callerHere = caller.provider === provider && day === callerDay;
      for (const [model, u] of byModel) {
        const p = pricesOf(provider, model, day);
        const billed: Usage = { ...u };
        if (callerHere && model === caller.model) {
          billed.input += caller.input;
          billed.output += caller.output;
        }
        if (provider === 'openai') {
          usageResults.push(
            openaiUsageResult(
              model,
              'key_demo',
              u.input + u.cacheRead + u.cacheWrite,
              u.cacheRead,
              u.output,
              u.requests,
            ),
          );
          const lines: [string, bigint, bigint][] = [
            ['input', billed.input + billed.cacheWrite, p.input],
            ['cached input', billed.cacheRead, p.cacheRead],
            ['output', billed.output, p.output],
          ];
          for (const [item, tokens, perMillion] of lines) {
            if (tokens > 0n)
              costResults.push(openaiCostResult(`${model}, ${item}`, money(billedCost(tokens, perMillion))));
          }
        } else {
          aUsage.push(anthropicUsageResult(model, 'apikey_demo', u));
          const lines: [string, bigint, bigint][] = [
            ['uncached_input_tokens', billed.input, p.input],
            ['cache_read_input_tokens', billed.cacheRead, p.cacheRead],
            ['cache_creation.ephemeral_5m_input_tokens', billed.cacheWrite, p.cacheWrite],
            ['output_tokens', billed.output, p.output],
          ];
          for (const [tokenType, tokens, perMillion] of lines) {
            // The cost report's amounts are in cents, as decimal strings.
            if (tokens > 0n)
              aCost.push(anthropicCostResult(model, tokenType, formatScaled(billedCost(tokens, perMillion), 10)));
          }
        }
      }
      if (callerHere) {
        // The nightly job's own usage line (its API key has no span), billed on the model's cost lines above.
        const extra = { input: caller.input, output: caller.output, cacheRead: 0n, cacheWrite: 0n, requests: 0 };
        if (!byModel.has(caller.model)) {
          const p = pricesOf(provider, caller.model, day);
          if (provider === 'openai') {
            costResults.push(openaiCostResult(`${caller.model}, input`, money(billedCost(caller.input, p.input))));
            costResults.push(openaiCostResult(`${caller.model}, output`, money(billedCost(caller.output, p.output))));
          } else {
            aCost.push(
              anthropicCostResult(
                caller.model,
                'uncached_input_tokens',
                formatScaled(billedCost(caller.input, p.input), 10),
              ),
            );
            aCost.push(
              anthropicCostResult(caller.model, 'output_tokens', formatScaled(billedCost(caller.output, p.output), 10)),
            );
          }
        }
        if (provider === 'openai')
          usageResults.push(openaiUsageResult(caller.model, 'key_nightly_job', caller.input, 0n, caller.output, 40));
        else aUsage.push(anthropicUsageResult(caller.model, 'apikey_nightly_job', extra));
      }
    }
    openaiUsage.push(openaiBucket(day, usageResults));
    openaiCosts.push(openaiBucket(day, costResults));
    anthropicUsage.push(anthropicBucket(day, aUsage));
    anthropicCosts.push(anthropicBucket(day, aCost));
  }
  await write('openai-usage.json', 'openai-usage', openaiPage(openaiUsage));
  await write('openai-costs.json', 'openai-costs', openaiPage(openaiCosts));
  await write('anthropic-usage.json', 'anthropic-usage', anthropicPage(anthropicUsage));
  await write('anthropic-cost.json', 'anthropic-cost', anthropicPage(anthropicCosts));
  for (const { source, path } of files) {
    await importBillFiles(store, source, [path], { account: 'demo-org' });
  }
  return { files, discountPercent, uninstrumented: caller, days: days.length > 0 ? days : [firstDay] };
}

function openaiUsageResult(
  model: string,
  apiKey: string,
  inputWithCache: bigint,
  cached: bigint,
  output: bigint,
  requests: number,
): string {
  // Token counts written as JSON numbers from bigints (JSON.stringify cannot write a bigint).
  return (
    `{"object":"organization.usage.completions.result","input_tokens":${inputWithCache},` +
    `"input_cached_tokens":${cached},"output_tokens":${output},"num_model_requests":${requests},` +
    `"project_id":"proj_demo","user_id":null,"api_key_id":${JSON.stringify(apiKey)},` +
    `"model":${JSON.stringify(model)},"batch":false,"service_tier":null}`
  );
}

function openaiCostResult(lineItem: string, amount: string): string {
  // The Costs API writes amounts as JSON numbers: written from exact decimal text.
  return `{"object":"organization.costs.result","amount":{"value":${amount},"currency":"usd"},"line_item":${JSON.stringify(lineItem)},"project_id":"proj_demo"}`;
}

function openaiBucket(day: number, results: readonly string[]): string {
  return `{"object":"bucket","start_time":${day},"end_time":${day + DAY},"results":[${results.join(',')}]}`;
}

function openaiPage(buckets: readonly string[]): string {
  return `{"object":"page","data":[${buckets.join(',')}],"has_more":false,"next_page":null}`;
}

function anthropicUsageResult(model: string, apiKey: string, u: Usage): string {
  return (
    `{"uncached_input_tokens":${u.input},"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":${u.cacheWrite}},` +
    `"cache_read_input_tokens":${u.cacheRead},"output_tokens":${u.output},"server_tool_use":{"web_search_requests":0},` +
    `"api_key_id":${JSON.stringify(apiKey)},"workspace_id":"wrkspc_demo","model":${JSON.stringify(model)},"service_tier":"standard","context_window":"0-200k"}`
  );
}

function anthropicCostResult(model: string, tokenType: string, cents: string): string {
  return JSON.stringify({
    currency: 'USD',
    amount: cents,
    workspace_id: 'wrkspc_demo',
    description: `${model} ${tokenType}`,
    cost_type: 'tokens',
    context_window: '0-200k',
    model,
    service_tier: 'standard',
    token_type: tokenType,
  });
}

function anthropicBucket(day: number, results: readonly string[]): string {
  const at = (t: number): string => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  return `{"starting_at":${JSON.stringify(at(day))},"ending_at":${JSON.stringify(at(day + DAY))},"results":[${results.join(',')}]}`;
}

function anthropicPage(buckets: readonly string[]): string {
  return `{"data":[${buckets.join(',')}],"has_more":false,"next_page":null}`;
}
