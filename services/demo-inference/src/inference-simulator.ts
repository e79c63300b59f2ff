import type { RouteProfile } from './catalog.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same traffic and token counts. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal sample around `median` (σ = 0.6): token counts have long tails. */
export function logNormal(random: () => number, median: number, sigma = 0.6): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(1, Math.round(median * Math.exp(sigma * z)));
}

export interface TokenUsage {
  /** Prompt tokens including cached ones (GenAI convention), and the cached part. */
  readonly promptTokens: number;
  readonly cachedTokens: number;
  readonly outputTokens: number;
  /** Reasoning tokens inside outputTokens (reasoning models only). */
  readonly reasoningTokens: number;
}

/** Token usage of one request: from the prompt text when given (≈4 chars per token), else sampled. */
export function sampleUsage(
  random: () => number,
  route: RouteProfile,
  model: string,
  request: { prompt?: string | undefined; maxTokens?: number | undefined },
): TokenUsage {
  const promptTokens =
    request.prompt !== undefined && request.prompt.length > 0
      ? Math.max(1, Math.ceil(request.prompt.length / 4))
      : logNormal(random, route.promptMedian);
  const cachedTokens =
    random() < route.cacheHitRatio ? Math.floor((promptTokens * (0.5 + random() * 0.4)) / 64) * 64 : 0;
  let outputTokens = route.outputMedian === 0 ? 0 : logNormal(random, route.outputMedian, 0.5);
  if (request.maxTokens !== undefined) outputTokens = Math.min(outputTokens, request.maxTokens);
  const reasoningTokens = model.startsWith('o3') ? Math.min(outputTokens, logNormal(random, 800, 0.5)) : 0;
  return { promptTokens, cachedTokens, outputTokens: outputTokens + reasoningTokens, reasoningTokens };
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
