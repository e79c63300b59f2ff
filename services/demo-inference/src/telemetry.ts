import { OTLPTraceExporter as OTLPGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Attributes } from '@opentelemetry/api';
import { CostSpanProcessor, PricingClient } from '@costtrace/otel';
import type { DemoConfig } from './config.js';

export interface Telemetry {
  readonly provider: NodeTracerProvider;
  readonly processor: CostSpanProcessor;
  readonly prices: PricingClient;
  shutdown(): Promise<void>;
}

/**
 * The SDK set-up an inference team adds: a tracer provider with CostSpanProcessor in front of a
 * batch OTLP exporter, prices from pricing-cache (bundled catalog until it answers), W3C trace
 * context and baggage propagation. The resource is `service.name`, then OTEL_RESOURCE_ATTRIBUTES,
 * then `resourceAttributes` (explicit wins). `exporter` replaces the OTLP exporter (tests).
 */
export function startTelemetry(
  config: DemoConfig,
  options: { readonly exporter?: SpanExporter; readonly resourceAttributes?: Attributes } = {},
): Telemetry {
  const { exporter } = options;
  const prices = new PricingClient({ address: config.pricingAddress, env: {} }).start();
  const processor = new CostSpanProcessor({
    prices,
    instanceCost: config.instanceCost,
    selfHostedProviders: ['self-hosted'],
  });
  const out =
    exporter ??
    (config.otlpEndpoint === undefined
      ? undefined
      : config.otlpProtocol === 'grpc'
        ? new OTLPGrpcTraceExporter({ url: config.otlpEndpoint })
        : new OTLPProtoTraceExporter({ url: config.otlpEndpoint }));
  const spanProcessors: SpanProcessor[] = [processor];
  if (out !== undefined) spanProcessors.push(new BatchSpanProcessor(out, { maxQueueSize: 8192 }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName })
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes(options.resourceAttributes ?? {})),
    spanProcessors,
  });
  provider.register();
  let done: Promise<void> | undefined;
  return {
    provider,
    processor,
    prices,
    shutdown: () => (done ??= provider.shutdown().finally(() => prices.shutdown())),
  };
}
