/**
 * What the demo serves: routes, the models behind them, tenants and their traffic mix, and
 * realistic token counts and latencies (per-model time to first token and decode speed).
 */
export interface HostedModel {
  readonly kind: 'hosted';
  readonly provider: 'openai' | 'anthropic';
  readonly model: string;
  /** Seconds to first token and output tokens per second. */
  readonly ttftS: number;
  readonly tokensPerS: number;
  /** Cheaper model the degrade hook switches to under a throttle. */
  readonly cheaper?: string;
}

export interface SelfHostedModel {
  readonly kind: 'self-hosted';
  readonly model: string;
  /** GPU-seconds per batch: fixed overhead plus per-token work. */
  readonly batchOverheadS: number;
  readonly perTokenS: number;
}

export type DemoModel = HostedModel | SelfHostedModel;

export const MODELS: Readonly<Record<string, DemoModel>> = {
  'gpt-4o': {
    kind: 'hosted',
    provider: 'openai',
    model: 'gpt-4o',
    ttftS: 0.45,
    tokensPerS: 85,
    cheaper: 'gpt-4o-mini',
  },
  'gpt-4o-mini': { kind: 'hosted', provider: 'openai', model: 'gpt-4o-mini', ttftS: 0.3, tokensPerS: 120 },
  'o3-mini': {
    kind: 'hosted',
    provider: 'openai',
    model: 'o3-mini',
    ttftS: 1.8,
    tokensPerS: 150,
    cheaper: 'gpt-4o-mini',
  },
  'claude-sonnet-4': {
    kind: 'hosted',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    ttftS: 0.7,
    tokensPerS: 70,
    cheaper: 'claude-3-5-haiku',
  },
  'claude-3-5-haiku': {
    kind: 'hosted',
    provider: 'anthropic',
    model: 'claude-3-5-haiku',
    ttftS: 0.35,
    tokensPerS: 110,
  },
  'llama-3.1-8b-instruct': {
    kind: 'self-hosted',
    model: 'llama-3.1-8b-instruct',
    batchOverheadS: 0.04,
    perTokenS: 0.0009,
  },
  'bge-large-en-v1.5': { kind: 'self-hosted', model: 'bge-large-en-v1.5', batchOverheadS: 0.008, perTokenS: 0.00002 },
};

export interface RouteProfile {
  readonly route: string;
  readonly defaultModel: string;
  readonly models: readonly string[];
  /** Prompt tokens (log-normal median and spread), output tokens, cache-hit ratio. */
  readonly promptMedian: number;
  readonly outputMedian: number;
  readonly cacheHitRatio: number;
}

export const ROUTES: readonly RouteProfile[] = [
  {
    route: '/v1/chat/completions',
    defaultModel: 'gpt-4o-mini',
    models: ['gpt-4o', 'gpt-4o-mini', 'o3-mini', 'claude-sonnet-4', 'claude-3-5-haiku'],
    promptMedian: 900,
    outputMedian: 350,
    cacheHitRatio: 0.4,
  },
  {
    route: '/v1/summarize',
    defaultModel: 'claude-sonnet-4',
    models: ['claude-sonnet-4', 'claude-3-5-haiku', 'gpt-4o'],
    promptMedian: 6000,
    outputMedian: 500,
    cacheHitRatio: 0.7,
  },
  {
    route: '/v1/generate',
    defaultModel: 'llama-3.1-8b-instruct',
    models: ['llama-3.1-8b-instruct'],
    promptMedian: 600,
    outputMedian: 250,
    cacheHitRatio: 0,
  },
  {
    route: '/v1/embeddings',
    defaultModel: 'bge-large-en-v1.5',
    models: ['bge-large-en-v1.5'],
    promptMedian: 400,
    outputMedian: 0,
    cacheHitRatio: 0,
  },
];

export interface TenantProfile {
  readonly tenant: string;
  readonly team: string;
  /** Share of traffic. */
  readonly weight: number;
}

export const TENANTS: readonly TenantProfile[] = [
  { tenant: 'acme', team: 'search', weight: 5 },
  { tenant: 'globex', team: 'support', weight: 3 },
  { tenant: 'initech', team: 'search', weight: 1 },
  { tenant: 'umbrella', team: 'research', weight: 1 },
];
