import { diag } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  BUNDLED_TOKEN_PRICES,
  BUNDLED_TOKEN_PRICES_VERSION,
  CostAttr,
  costAttributes,
  priceGenAiUsage,
  TokenPriceTable,
  tokenPriceFromRecord,
} from '@costtrace/core';
import type { InputTokenRule } from '@costtrace/core';

export interface CostSpanProcessorOptions {
  /** Token prices to use. Default: the table bundled with costtrace. */
  readonly prices?: TokenPriceTable | undefined;
  /** Per-provider rule for whether reported input tokens include cache tokens. */
  readonly inputTokenRules?: Readonly<Record<string, InputTokenRule>> | undefined;
}

export interface CostSpanProcessorStats {
  readonly priced: number;
  readonly unpriced: number;
  readonly errors: number;
}

/**
 * Stamps `cost.*` attributes on spans that report GenAI token usage, at `onEnding` — the SDK
 * hook (sdk-trace-base ≥ 2.0) that runs before the span becomes read-only, so any exporter sees
 * the cost. Pure in-memory pricing: no I/O, never throws into the application.
 */
export class CostSpanProcessor implements SpanProcessor {
  private readonly prices: TokenPriceTable;
  private readonly inputTokenRules: Readonly<Record<string, InputTokenRule>> | undefined;
  private readonly provenance: { version: string; source: 'bundled'; stale: false };
  private priced = 0;
  private unpriced = 0;
  private errors = 0;
  private warned = false;

  constructor(options: CostSpanProcessorOptions = {}) {
    this.prices =
      options.prices ??
      new TokenPriceTable(BUNDLED_TOKEN_PRICES_VERSION, BUNDLED_TOKEN_PRICES.map(tokenPriceFromRecord));
    this.inputTokenRules = options.inputTokenRules;
    this.provenance = { version: this.prices.version, source: 'bundled', stale: false };
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnding(span: Span): void {
    try {
      const own = span.attributes;
      const resource = span.resource.attributes;
      const result = priceGenAiUsage((key) => own[key] ?? resource[key], this.prices, {
        inputTokenRules: this.inputTokenRules,
      });
      if (result.kind === 'priced') {
        span.setAttributes(costAttributes(result.cost, this.provenance));
        this.priced += 1;
      } else if (result.kind === 'unpriced') {
        span.setAttribute(CostAttr.unpricedReason, result.reason);
        this.unpriced += 1;
      }
    } catch (err) {
      this.errors += 1;
      if (!this.warned) {
        this.warned = true;
        diag.warn('costtrace: CostSpanProcessor failed to price a span; further failures are only counted', err);
      }
    }
  }

  onEnd(_span: ReadableSpan): void {}

  stats(): CostSpanProcessorStats {
    return { priced: this.priced, unpriced: this.unpriced, errors: this.errors };
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
