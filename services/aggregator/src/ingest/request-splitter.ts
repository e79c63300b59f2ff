import { ExportTraceServiceRequest, ResourceSpans, ScopeSpans, Span } from '@costtrace/proto';

/** Bytes a length-delimited field adds around a body of `size` bytes (tag + length varint). */
function framed(size: number): number {
  let varint = 1;
  for (let v = size; v >= 0x80; v = Math.floor(v / 128)) varint++;
  return 1 + varint + size;
}

export interface SplitResult {
  readonly parts: ExportTraceServiceRequest[];
  /** Spans that alone exceed the message limit (not included in any part). */
  readonly oversizeSpans: number;
}

/**
 * Splits a request into requests whose encoding stays within `maxBytes` (Kafka's message size
 * limit), keeping each span with its resource and scope. Order is preserved.
 */
export function splitRequest(request: ExportTraceServiceRequest, maxBytes: number): SplitResult {
  const whole = ExportTraceServiceRequest.encode(request).finish().length;
  if (whole <= maxBytes) return { parts: [request], oversizeSpans: 0 };
  const parts: ExportTraceServiceRequest[] = [];
  let oversizeSpans = 0;
  let current: ResourceSpans[] = [];
  let currentSize = 0;
  const flush = (): void => {
    if (current.length > 0) parts.push({ resourceSpans: current });
    current = [];
    currentSize = 0;
  };
  for (const rs of request.resourceSpans) {
    const resourceOverhead = framed(ResourceSpans.encode({ ...rs, scopeSpans: [] }).finish().length);
    for (const ss of rs.scopeSpans) {
      const scopeOverhead = framed(ScopeSpans.encode({ ...ss, spans: [] }).finish().length);
      let open: ScopeSpans | undefined;
      for (const span of ss.spans) {
        const spanSize = framed(Span.encode(span).finish().length);
        // Generous bound: a new resource and scope wrapper may be needed, each adding framing.
        const needed = spanSize + (open === undefined ? resourceOverhead + scopeOverhead + 12 : 6);
        if (resourceOverhead + scopeOverhead + spanSize + 12 > maxBytes) {
          oversizeSpans++;
          continue;
        }
        if (currentSize + needed > maxBytes) {
          flush();
          open = undefined;
        }
        if (open === undefined) {
          open = { ...ss, spans: [] };
          const last = current[current.length - 1];
          if (last !== undefined && last.resource === rs.resource) last.scopeSpans.push(open);
          else current.push({ ...rs, scopeSpans: [open] });
          currentSize += resourceOverhead + scopeOverhead + 12;
        }
        open.spans.push(span);
        currentSize += spanSize + 6;
      }
    }
  }
  flush();
  return { parts, oversizeSpans };
}
