"""Sends spans the way a Python service without costtrace's SDK does: the OpenTelemetry Python
SDK, a BatchSpanProcessor and the OTLP/HTTP protobuf exporter.

    python emit-spans.py ENDPOINT < spec.json

spec.json: {"resource": {key: value}, "spans": [{"name": str, "attributes": {key: value}}]}
Attribute values keep their JSON types (int, float, str, bool), as Python code would set them.
"""

import json
import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def main() -> int:
    endpoint = sys.argv[1]
    spec = json.load(sys.stdin)
    provider = TracerProvider(resource=Resource.create(spec.get("resource", {})))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=10)))
    tracer = provider.get_tracer("costtrace.test.python-service")
    for span in spec["spans"]:
        with tracer.start_as_current_span(span["name"], attributes=span.get("attributes", {})):
            pass
    flushed = provider.force_flush(timeout_millis=30_000)
    provider.shutdown()
    if not flushed:
        print("force_flush timed out", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
