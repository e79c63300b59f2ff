import type { InputTokenRule } from '../token-usage.js';

/**
 * The attribute dialects real LLM instrumentations write, read by `readSpanUsage`. Each list is
 * in order of preference: the OpenTelemetry GenAI conventions (current, then deprecated names),
 * OpenLLMetry / Traceloop, OpenInference (`llm.*`), the Vercel AI SDK (`ai.*`) and OpenLIT. The
 * first key present on the span wins. Sources (read at the commits named in docs/instrumentations.md's emitter
 * table): semantic-conventions(-genai) registry, opentelemetry-js-contrib instrumentation-openai,
 * opentelemetry-python-contrib openai-v2, opentelemetry-python-genai anthropic, openllmetry(-js),
 * openinference semconv, vercel/ai packages/otel, openlit sdk/python and sdk/typescript.
 */
export const USAGE_KEYS = {
  provider: ['gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system', 'ai.model.provider'],
  model: [
    'gen_ai.response.model',
    'gen_ai.request.model',
    'llm.response.model_name',
    'llm.model_name',
    'llm.request.model_name',
    'ai.response.model',
    'ai.model.id',
  ],
  input: [
    'gen_ai.usage.input_tokens',
    'gen_ai.usage.prompt_tokens',
    'llm.token_count.prompt',
    'ai.usage.inputTokens',
    'ai.usage.promptTokens',
  ],
  output: [
    'gen_ai.usage.output_tokens',
    'gen_ai.usage.completion_tokens',
    'llm.token_count.completion',
    'ai.usage.outputTokens',
    'ai.usage.completionTokens',
  ],
  cacheRead: [
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.cache_read_input_tokens',
    'llm.token_count.prompt_details.cache_read',
    'ai.usage.inputTokenDetails.cacheReadTokens',
    'ai.usage.cachedInputTokens',
    'gen_ai.usage.prompt_tokens_details.cached_tokens',
  ],
  cacheWrite: [
    'gen_ai.usage.cache_write.input_tokens',
    'gen_ai.usage.cache_creation.input_tokens',
    'gen_ai.usage.cache_creation_input_tokens',
    'llm.token_count.prompt_details.cache_write',
    'ai.usage.inputTokenDetails.cacheWriteTokens',
    'gen_ai.usage.prompt_tokens_details.cache_creation_tokens',
  ],
  reasoning: [
    'gen_ai.usage.reasoning.output_tokens',
    'gen_ai.usage.reasoning_tokens',
    'llm.usage.reasoning_tokens',
    'llm.token_count.completion_details.reasoning',
    'ai.usage.reasoningTokens',
    'ai.usage.outputTokenDetails.reasoningTokens',
    'gen_ai.usage.completion_tokens_details.reasoning_tokens',
  ],
} as const;

/**
 * The keys of spans whose input count is the current `gen_ai.usage.input_tokens` (most spans of
 * most emitters): the GenAI names and the variants emitters that use it write (OpenLLMetry and
 * OpenLIT `reasoning_tokens`, OpenLIT's older `prompt_tokens_details`, the `cache_write` rename,
 * the AI SDK 7's opt-in reasoning detail). The reader looks no further for them.
 */
export const GENAI_USAGE_KEYS = {
  cacheRead: [
    'gen_ai.usage.cache_read.input_tokens',
    'gen_ai.usage.cache_read_input_tokens',
    'gen_ai.usage.prompt_tokens_details.cached_tokens',
    // The AI SDK's legacy integration (scope "ai") writes the GenAI input count on its
    // doGenerate/doStream spans and the cache counts only under ai.usage.*.
    'ai.usage.inputTokenDetails.cacheReadTokens',
    'ai.usage.cachedInputTokens',
  ],
  cacheWrite: [
    'gen_ai.usage.cache_write.input_tokens',
    'gen_ai.usage.cache_creation.input_tokens',
    'gen_ai.usage.cache_creation_input_tokens',
    'gen_ai.usage.prompt_tokens_details.cache_creation_tokens',
    'ai.usage.inputTokenDetails.cacheWriteTokens',
  ],
  reasoning: [
    'gen_ai.usage.reasoning.output_tokens',
    'gen_ai.usage.reasoning_tokens',
    'ai.usage.outputTokenDetails.reasoningTokens',
    'ai.usage.reasoningTokens',
  ],
} as const;

/**
 * Costs other tools put on spans (USD unless a currency key says otherwise): OpenLIT's
 * `gen_ai.usage.cost`, OpenInference's `llm.cost.total`, and the proposed GenAI
 * `gen_ai.usage.cost.amount` with `gen_ai.usage.cost.currency` (semantic-conventions-genai #443).
 * Read for comparison only: costtrace never adds them to its own cost.
 */
export const EMITTED_COST_KEYS = ['gen_ai.usage.cost.amount', 'gen_ai.usage.cost', 'llm.cost.total'] as const;
export const EMITTED_COST_CURRENCY_KEY = 'gen_ai.usage.cost.currency';

/**
 * The provider's id of the response (the same call seen by two emitters has the same id): GenAI
 * `gen_ai.response.id` (OpenTelemetry, OpenLLMetry, OpenLIT, the AI SDK 7), the AI SDK's
 * `ai.response.id`.
 */
export const RESPONSE_ID_KEYS = ['gen_ai.response.id', 'ai.response.id'] as const;

/** Every key the reader may read for usage, model or provider (e.g. to keep them out of extra attributes). */
export const ALL_USAGE_KEYS: readonly string[] = Object.values(USAGE_KEYS).flat();

/**
 * Provider names as emitters write them → the name prices use (pricing-cache's catalogs: openai,
 * anthropic, google, bedrock, azure, mistral, xai, …). Lower-cased before lookup; a name
 * with an API suffix (`openai.chat`, `anthropic.messages`, `google.vertex.chat`) is looked up
 * whole first, then by its prefixes.
 */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  openai: 'openai',
  'azure.ai.openai': 'azure',
  'az.ai.openai': 'azure',
  azure: 'azure',
  'azure-openai': 'azure',
  anthropic: 'anthropic',
  'anthropic-aws': 'bedrock',
  'bedrock.anthropic': 'bedrock',
  'googlevertex.anthropic': 'google',
  'aws.bedrock': 'bedrock',
  aws: 'bedrock',
  'amazon-bedrock': 'bedrock',
  bedrock: 'bedrock',
  'gcp.vertex_ai': 'google',
  vertex_ai: 'google',
  vertexai: 'google',
  'google.vertex': 'google',
  'google-vertex': 'google',
  'gcp.gemini': 'google',
  gemini: 'google',
  'gcp.gen_ai': 'google',
  'google.generative-ai': 'google',
  google: 'google',
  mistral_ai: 'mistral',
  mistralai: 'mistral',
  mistral: 'mistral',
  x_ai: 'xai',
  xai: 'xai',
  deepseek: 'deepseek',
  groq: 'groq',
  together_ai: 'together',
  together: 'together',
  fireworks_ai: 'fireworks',
  fireworks: 'fireworks',
  perplexity: 'perplexity',
  cohere: 'cohere',
  'ibm.watsonx.ai': 'watsonx',
  watsonx: 'watsonx',
};

/** API suffixes the Vercel AI SDK appends to provider names (`openai.chat`, `anthropic.messages`). */
const API_SUFFIX =
  /\.(chat|responses|completion|completions|embedding|embeddings|image|transcription|speech|messages|generative-ai)$/;

/**
 * The provider name prices use for `raw` as an emitter wrote it. `aliases` (user configuration,
 * lower-case keys) come first; unknown names pass through lower-cased.
 */
export function normalizeProvider(raw: string, aliases?: Readonly<Record<string, string>>): string {
  const name = raw.trim().toLowerCase();
  const aliased = aliases?.[name];
  if (aliased !== undefined) return aliased;
  let candidate = name;
  for (;;) {
    const known = PROVIDER_NAMES[candidate];
    if (known !== undefined) return known;
    const stripped = API_SUFFIX.test(candidate) ? candidate.replace(API_SUFFIX, '') : undefined;
    const dot = candidate.lastIndexOf('.');
    const next = stripped ?? (dot > 0 ? candidate.slice(0, dot) : undefined);
    if (next === undefined || next === candidate) return name;
    candidate = next;
  }
}

/**
 * How an emitter counts input tokens for providers whose API reports them without the cache
 * (Anthropic): per instrumentation scope name, and for some by which key the count was read
 * from (an emitter that changed its rule also changed its key). Absent: the provider's default.
 */
export interface EmitterRule {
  /** Instrumentation scope name, exactly. */
  readonly scope: string;
  /** Input rule for Anthropic-style providers; `byInputKey` first when it names the key read. */
  readonly inputRule: InputTokenRule;
  readonly byInputKey?: Readonly<Record<string, InputTokenRule>>;
  /** The emitter writes no cached-token count for OpenAI-style providers (cost is an upper bound). */
  readonly noCachedTokens?: boolean;
  readonly note: string;
}

export const EMITTER_RULES: readonly EmitterRule[] = [
  {
    scope: 'com.anthropic.sdk.typescript',
    inputRule: 'input-includes-cache',
    note: "Anthropic's TypeScript client's own spans (1.x, 0.13x): input + cache read + cache write",
  },
  {
    scope: 'com.anthropic.sdk.python',
    inputRule: 'input-includes-cache',
    note: "Anthropic's Python client's own spans (2.x): input + cache read + cache write",
  },
  {
    scope: '@opentelemetry/instrumentation-openai',
    inputRule: 'input-includes-cache',
    noCachedTokens: true,
    note: 'OpenTelemetry JS openai instrumentation 0.19-0.22: no cached-token count',
  },
  {
    scope: 'opentelemetry.instrumentation.openai_v2',
    inputRule: 'input-includes-cache',
    noCachedTokens: true,
    note: 'OpenTelemetry Python openai-v2: no cached-token count',
  },
  {
    scope: 'opentelemetry.util.genai.handler',
    inputRule: 'input-includes-cache',
    noCachedTokens: true,
    note: 'OpenTelemetry Python openai-v2 2.4b0 emits under this scope (util-genai 1.1b0): no cached-token count',
  },
  {
    scope: '@traceloop/instrumentation-openai',
    inputRule: 'input-includes-cache',
    noCachedTokens: true,
    note: 'OpenLLMetry JS openai 0.27: no cached-token count (and no usage on streams)',
  },
  {
    scope: 'opentelemetry.instrumentation.genai.anthropic',
    inputRule: 'input-includes-cache',
    note: 'OpenTelemetry Python genai anthropic: input + cache_creation + cache_read',
  },
  {
    scope: 'opentelemetry.instrumentation.anthropic',
    inputRule: 'input-includes-cache',
    note: 'OpenLLMetry Python ≥ 0.47: input_tokens = prompt + cache_read + cache_creation',
  },
  {
    scope: '@traceloop/instrumentation-anthropic',
    inputRule: 'input-excludes-cache',
    note: 'OpenLLMetry JS anthropic 0.27: input_tokens = usage.input_tokens (run against it, 2026-12)',
  },
  {
    scope: 'openinference.instrumentation.anthropic',
    inputRule: 'input-includes-cache',
    note: 'OpenInference Python: prompt = input + cache_creation + cache_read',
  },
  {
    scope: '@arizeai/openinference-instrumentation-anthropic',
    inputRule: 'input-includes-cache',
    note: 'OpenInference JS anthropic 0.2.8: prompt = input + cache read + cache write, cache counts reported',
  },
  {
    scope: 'openlit.instrumentation.anthropic',
    inputRule: 'input-excludes-cache',
    note: 'OpenLIT Python: input_tokens exclusive of cache',
  },
  {
    scope: '@openlit/instrumentation-anthropic',
    inputRule: 'input-excludes-cache',
    note: 'OpenLIT TypeScript: input_tokens = usage.input_tokens',
  },
  {
    scope: 'gen_ai',
    inputRule: 'input-includes-cache',
    note: 'Vercel AI SDK 7 OpenTelemetry integration: input includes cache',
  },
  {
    scope: 'ai',
    inputRule: 'input-includes-cache',
    byInputKey: { 'ai.usage.promptTokens': 'input-excludes-cache' },
    note: 'Vercel AI SDK (scope "ai"): v6+ include cache in input; v4/v5 generateText (ai.usage.promptTokens) did not',
  },
];

const RULES_BY_SCOPE = new Map(EMITTER_RULES.map((r) => [r.scope, r]));

export function emitterRule(scope: string | undefined): EmitterRule | undefined {
  return scope === undefined ? undefined : RULES_BY_SCOPE.get(scope);
}
