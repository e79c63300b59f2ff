import {
  parseInstant,
  PRICE_UNITS,
  PRICING_MODELS,
  PricingError,
  RESOURCE_TYPES,
  SERVICE_TIERS,
  USAGE_KINDS,
} from '@costtrace/core';
import type { PriceUnit, PricingModel, ResourceType, ServiceTier, UsageKind } from '@costtrace/core';
import {
  priceUnits,
  pricingModels,
  resourceTypes,
  serviceTiers,
  timestampToWire,
  usageKinds,
} from '@costtrace/proto/pricing';
import {
  GetPriceResponse,
  ListPricesRequest,
  ListPricesResponse,
  PriceUnitEnum,
  PricingModelEnum,
  QuoteRequest,
  QuoteResponse,
  ResourceTypeEnum,
  UsageKindEnum,
} from '@costtrace/proto';
import type { GetPriceRequest, GpuUsage, InstanceUsage, PriceMessage, Timestamp } from '@costtrace/proto';
import type { CommandSpec, OptionSpec, ParsedCommand } from '../args.js';
import { renderJson, renderTable } from '../output.js';
import type { PricingBackend, RemoteOptions } from './pricing-backend.js';

/** What a command needs from the outside world; tests pass fakes. */
export interface PricingContext {
  readonly out: (text: string) => void;
  readonly backend: (offline: boolean, remote: RemoteOptions) => Promise<PricingBackend>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const CONNECTION: Readonly<Record<string, OptionSpec>> = {
  offline: {
    type: 'boolean',
    description: 'use the catalog bundled with costtrace instead of a running pricing-cache',
  },
  address: {
    type: 'string',
    description: 'pricing-cache host:port (env COSTTRACE_PRICING_ADDRESS; default 127.0.0.1:50051)',
  },
  token: { type: 'string', description: 'bearer token (env COSTTRACE_PRICING_TOKEN)' },
  tls: { type: 'boolean', description: 'connect with TLS using the system CAs' },
  ca: { type: 'string', description: 'PEM file of the CA that signed the server certificate (implies --tls)' },
  output: { type: 'string', description: 'output format (default table)', choices: ['table', 'json'] },
  at: { type: 'string', description: 'ISO 8601 time the prices must be valid at (default now)' },
};

const TIER: OptionSpec = { type: 'string', description: 'service tier (default standard)', choices: SERVICE_TIERS };
const MODEL: OptionSpec = {
  type: 'string',
  description: 'pricing model (default on_demand)',
  choices: PRICING_MODELS,
};

export const PRICING_COMMANDS: readonly CommandSpec[] = [
  {
    path: ['pricing', 'list'],
    summary: 'List prices, filtered',
    positionals: [],
    options: {
      ...CONNECTION,
      provider: { type: 'string', description: 'provider, e.g. openai, aws, reference' },
      sku: { type: 'string', description: 'substring of the SKU (model, GPU or instance type)' },
      region: { type: 'string', description: 'region, e.g. us-east-1' },
      resource: { type: 'string', description: 'resource type', choices: RESOURCE_TYPES },
      kind: { type: 'string', description: 'usage kind', choices: USAGE_KINDS },
      history: { type: 'boolean', description: 'every version of every price, superseded ones included' },
      limit: { type: 'string', description: 'at most this many prices (default: all)' },
    },
  },
  {
    path: ['pricing', 'get'],
    summary: 'Show one price and its effective amount after overrides',
    positionals: [
      { name: 'provider', required: true },
      { name: 'sku', required: true },
    ],
    options: {
      ...CONNECTION,
      kind: { type: 'string', description: 'usage kind (required)', choices: USAGE_KINDS },
      region: { type: 'string', description: 'region (default global)' },
      unit: { type: 'string', description: 'express the price per this unit', choices: Object.keys(PRICE_UNITS) },
      tier: TIER,
      'pricing-model': MODEL,
      'input-tokens': { type: 'string', description: 'prompt size, for long-context tiers' },
    },
  },
  {
    path: ['pricing', 'quote'],
    summary: 'Price a usage record: tokens, GPU time, instance time',
    positionals: [],
    options: {
      ...CONNECTION,
      model: { type: 'string', description: 'provider/model, e.g. openai/gpt-4o' },
      tier: TIER,
      'input-tokens': { type: 'string', description: 'input tokens (including cached ones, per OpenTelemetry GenAI)' },
      'output-tokens': { type: 'string', description: 'output tokens (including reasoning)' },
      'cache-read-tokens': { type: 'string', description: 'cache read (cached input) tokens' },
      'cache-write-tokens': { type: 'string', description: 'cache write tokens' },
      'reasoning-tokens': { type: 'string', description: 'reasoning tokens' },
      requests: { type: 'string', description: 'requests, for per-request fees' },
      images: { type: 'string', description: 'generated images' },
      gpu: {
        type: 'string',
        multiple: true,
        description: 'GPU time [provider/]type[@region]:count:seconds, e.g. h100-80gb:8:3600',
      },
      instance: {
        type: 'string',
        multiple: true,
        description: 'instance time provider/type@region:seconds[:count], e.g. aws/p5.48xlarge@us-east-1:3600',
      },
      'pricing-model': MODEL,
    },
  },
];

function str(cmd: ParsedCommand, name: string): string | undefined {
  const v = cmd.options[name];
  return typeof v === 'string' ? v : undefined;
}

function list(cmd: ParsedCommand, name: string): readonly string[] {
  const v = cmd.options[name];
  return Array.isArray(v) ? (v as readonly string[]) : [];
}

function count(cmd: ParsedCommand, name: string): bigint {
  const v = str(cmd, name);
  if (v === undefined) return 0n;
  if (!/^\d+$/.test(v)) throw usage(`--${name} must be a non-negative integer; got "${v}"`);
  return BigInt(v);
}

function usage(message: string): PricingError {
  return new PricingError('INVALID_ARGUMENT', message);
}

function at(cmd: ParsedCommand): Timestamp | undefined {
  const v = str(cmd, 'at');
  if (v === undefined) return undefined;
  try {
    return timestampToWire(parseInstant(v, '--at'));
  } catch {
    throw usage(`--at must be an ISO 8601 date or time, e.g. 2026-01-31T12:00:00Z; got "${v}"`);
  }
}

function remoteOptions(cmd: ParsedCommand, env: PricingContext['env']): RemoteOptions {
  return {
    address: str(cmd, 'address') ?? env.COSTTRACE_PRICING_ADDRESS ?? '127.0.0.1:50051',
    token: str(cmd, 'token') ?? env.COSTTRACE_PRICING_TOKEN,
    caFile: str(cmd, 'ca'),
    tls: cmd.options.tls === true,
    timeoutMs: 10_000,
  };
}

/** Runs a `pricing` command. Returns the process exit code; output goes to ctx.out. */
export async function runPricing(cmd: ParsedCommand, ctx: PricingContext): Promise<number> {
  const json = str(cmd, 'output') === 'json';
  const backend = await ctx.backend(cmd.options.offline === true, remoteOptions(cmd, ctx.env));
  try {
    switch (cmd.command.path[1]) {
      case 'list': {
        const res = await listAll(cmd, backend);
        ctx.out(json ? renderJson(ListPricesResponse.toJSON(res)) : priceTable(res.prices));
        return 0;
      }
      case 'get': {
        const res = await backend.getPrice(getRequest(cmd));
        ctx.out(json ? renderJson(GetPriceResponse.toJSON(res)) : priceDetail(res));
        return 0;
      }
      case 'quote': {
        const res = await backend.quote(quoteRequest(cmd));
        ctx.out(json ? renderJson(QuoteResponse.toJSON(res)) : quoteTable(res));
        return 0;
      }
      default:
        throw usage(`unknown pricing command ${cmd.command.path.join(' ')}`);
    }
  } finally {
    backend.close();
  }
}

async function listAll(cmd: ParsedCommand, backend: PricingBackend): Promise<ListPricesResponse> {
  const limitText = str(cmd, 'limit');
  const limit = limitText === undefined ? Number.POSITIVE_INFINITY : Number(limitText);
  if (!(limit > 0) || (limitText !== undefined && !Number.isInteger(limit))) {
    throw usage(`--limit must be a positive integer; got "${limitText}"`);
  }
  const resource = str(cmd, 'resource') as ResourceType | undefined;
  const kind = str(cmd, 'kind') as UsageKind | undefined;
  const base = ListPricesRequest.fromJSON({});
  const request: ListPricesRequest = {
    ...base,
    provider: str(cmd, 'provider') ?? '',
    skuContains: str(cmd, 'sku') ?? '',
    region: str(cmd, 'region') ?? '',
    resourceType: resource === undefined ? ResourceTypeEnum.RESOURCE_TYPE_UNSPECIFIED : resourceTypes.toWire(resource),
    kind: kind === undefined ? UsageKindEnum.USAGE_KIND_UNSPECIFIED : usageKinds.toWire(kind),
    at: at(cmd),
    includeHistory: cmd.options.history === true,
    pageSize: Math.min(1000, Number.isFinite(limit) ? limit : 1000),
  };
  const prices: PriceMessage[] = [];
  let first: ListPricesResponse | undefined;
  let token = '';
  do {
    const page = await backend.listPrices({ ...request, pageToken: token });
    first ??= page;
    prices.push(...page.prices);
    token = page.nextPageToken;
  } while (token !== '' && prices.length < limit);
  const shown = prices.slice(0, Number.isFinite(limit) ? limit : undefined);
  return {
    prices: shown,
    nextPageToken: '',
    snapshotVersion: first?.snapshotVersion ?? 0n,
    totalSize: first?.totalSize ?? 0,
  };
}

function getRequest(cmd: ParsedCommand): GetPriceRequest {
  const kind = str(cmd, 'kind') as UsageKind | undefined;
  if (kind === undefined) throw usage(`pricing get needs --kind (one of ${USAGE_KINDS.join(', ')})`);
  const unit = str(cmd, 'unit') as PriceUnit | undefined;
  return {
    provider: cmd.positionals.provider ?? '',
    sku: cmd.positionals.sku ?? '',
    region: str(cmd, 'region') ?? '',
    kind: usageKinds.toWire(kind),
    unit: unit === undefined ? PriceUnitEnum.PRICE_UNIT_UNSPECIFIED : priceUnits.toWire(unit),
    at: at(cmd),
    serviceTier: serviceTiers.toWire((str(cmd, 'tier') ?? 'standard') as ServiceTier),
    pricingModel: pricingModels.toWire((str(cmd, 'pricing-model') ?? 'on_demand') as PricingModel),
    inputTokens: count(cmd, 'input-tokens'),
  };
}

const GPU = /^(?:([a-z0-9_-]+)\/)?([a-z0-9._-]+)(?:@([a-z0-9-]+))?:(\d+):(\d+(?:\.\d+)?)$/i;
const INSTANCE = /^([a-z0-9_-]+)\/([a-z0-9._-]+)@([a-z0-9-]+):(\d+(?:\.\d+)?)(?::(\d+))?$/i;

function quoteRequest(cmd: ParsedCommand): QuoteRequest {
  const pricingModel =
    str(cmd, 'pricing-model') === undefined
      ? PricingModelEnum.PRICING_MODEL_UNSPECIFIED
      : pricingModels.toWire(str(cmd, 'pricing-model') as PricingModel);
  const request = QuoteRequest.fromJSON({});
  request.at = at(cmd);
  const model = str(cmd, 'model');
  if (model !== undefined) {
    const slash = model.indexOf('/');
    if (slash <= 0) throw usage(`--model must be provider/model, e.g. openai/gpt-4o; got "${model}"`);
    request.models.push({
      provider: model.slice(0, slash),
      model: model.slice(slash + 1),
      serviceTier: serviceTiers.toWire((str(cmd, 'tier') ?? 'standard') as ServiceTier),
      inputTokenRule: 0,
      inputTokens: count(cmd, 'input-tokens'),
      outputTokens: count(cmd, 'output-tokens'),
      cacheReadTokens: count(cmd, 'cache-read-tokens'),
      cacheWriteTokens: count(cmd, 'cache-write-tokens'),
      reasoningTokens: count(cmd, 'reasoning-tokens'),
      requests: count(cmd, 'requests'),
      images: count(cmd, 'images'),
      region: '',
    });
  }
  for (const spec of list(cmd, 'gpu')) {
    const m = GPU.exec(spec);
    if (m === null)
      throw usage(`--gpu must be [provider/]type[@region]:count:seconds, e.g. h100-80gb:8:3600; got "${spec}"`);
    const gpu: GpuUsage = {
      provider: m[1] ?? '',
      gpuType: m[2] ?? '',
      region: m[3] ?? '',
      gpuCount: Number(m[4]),
      seconds: m[5] ?? '0',
      pricingModel,
    };
    request.gpus.push(gpu);
  }
  for (const spec of list(cmd, 'instance')) {
    const m = INSTANCE.exec(spec);
    if (m === null) {
      throw usage(
        `--instance must be provider/type@region:seconds[:count], e.g. aws/p5.48xlarge@us-east-1:3600; got "${spec}"`,
      );
    }
    const instance: InstanceUsage = {
      provider: m[1] ?? '',
      instanceType: m[2] ?? '',
      region: m[3] ?? '',
      seconds: m[4] ?? '0',
      count: m[5] === undefined ? 0 : Number(m[5]),
      pricingModel,
    };
    request.instances.push(instance);
  }
  if (request.models.length + request.gpus.length + request.instances.length === 0) {
    throw usage('pricing quote needs usage: --model with token counts, --gpu or --instance');
  }
  return request;
}

function unitName(unit: PriceUnitEnum): string {
  return priceUnits.optional(unit, 'unit') ?? '';
}

function kindName(kind: UsageKindEnum): string {
  return usageKinds.optional(kind, 'kind') ?? '';
}

function variant(tier: number, model: number, above: bigint): string {
  const parts = [
    serviceTiers.toCore(tier, 'tier'),
    pricingModels.toCore(model, 'pricing_model'),
    above > 0n ? `>${above} tok` : '',
  ].filter((p) => p !== '' && p !== 'standard' && p !== 'on_demand');
  return parts.join(' ');
}

function priceTable(prices: readonly PriceMessage[]): string {
  if (prices.length === 0) return 'no prices match';
  return renderTable(
    ['PROVIDER', 'SKU', 'REGION', 'KIND', 'VARIANT', 'AMOUNT', 'CUR', 'PER', 'EFFECTIVE FROM'],
    prices.map((p) => [
      p.provider,
      p.sku,
      p.region || 'global',
      kindName(p.kind),
      variant(p.serviceTier, p.pricingModel, p.aboveInputTokens),
      p.amount?.amount ?? '',
      p.amount?.currency ?? '',
      unitName(p.unit),
      p.effectiveFrom === undefined
        ? ''
        : new Date(Number(p.effectiveFrom.seconds) * 1000).toISOString().slice(0, 19) + 'Z',
    ]),
  );
}

function priceDetail(res: GetPriceResponse): string {
  const p = res.price;
  if (p === undefined) return 'no price';
  const rows: [string, string][] = [
    ['price id', p.id],
    ['provider / sku', `${p.provider} / ${p.sku}`],
    ['region', p.region || 'global'],
    ['kind', kindName(p.kind)],
    ['variant', variant(p.serviceTier, p.pricingModel, p.aboveInputTokens) || 'standard, on demand'],
    ['list amount', `${p.amount?.amount ?? ''} ${p.amount?.currency ?? ''} per ${unitName(p.unit)}`],
    [
      'effective amount',
      `${res.effectiveAmount?.amount ?? ''} ${res.effectiveAmount?.currency ?? ''} per ${unitName(p.unit)}`,
    ],
    [
      'overrides',
      res.overrides.map((o) => `${o.id}${o.description ? ` (${o.description})` : ''}`).join(', ') || 'none',
    ],
    [
      'effective from',
      p.effectiveFrom === undefined ? '' : new Date(Number(p.effectiveFrom.seconds) * 1000).toISOString(),
    ],
    ['source', p.source],
    ['snapshot', `${res.snapshotVersion}${res.stale ? ' (stale)' : ''}`],
  ];
  if (p.description) rows.splice(5, 0, ['description', p.description]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

function quoteTable(res: QuoteResponse): string {
  const table = renderTable(
    ['KIND', 'PROVIDER', 'SKU', 'QUANTITY', 'UNIT PRICE', 'PER', 'LIST COST', 'EFFECTIVE COST', 'OVERRIDE'],
    res.lines.map((l) => [
      kindName(l.kind),
      l.provider,
      l.sku + (l.aboveInputTokens > 0n ? ` (>${l.aboveInputTokens} tok)` : ''),
      l.quantity,
      l.listUnitPrice?.amount ?? '',
      unitName(l.unit),
      l.listCost?.amount ?? '',
      l.effectiveCost?.amount ?? '',
      l.overrides.map((o) => o.id).join(',') || (l.effectivePriceId !== l.priceId ? l.effectivePriceId : ''),
    ]),
  );
  const currency = res.listCost?.currency ?? 'USD';
  return [
    table,
    '',
    `list cost       ${res.listCost?.amount ?? '0'} ${currency}`,
    `effective cost  ${res.effectiveCost?.amount ?? '0'} ${currency}`,
    `snapshot        ${res.snapshotVersion}${res.stale ? ' (stale)' : ''}`,
  ].join('\n');
}
