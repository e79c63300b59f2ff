"""A training loop instrumented with the plain OpenTelemetry Python SDK, as docs/jobs.md shows it:
no costtrace package, one span per epoch with its GPU-seconds and samples, the job on the resource.
The aggregator prices the GPU time and files every span under the job.

    python training-loop.py ENDPOINT JOB_ID EPOCHS SAMPLES_PER_EPOCH

Prints what it reported, as JSON: {"epochs": [{"epoch", "gpu_seconds", "samples"}]}.
TRAIN_SIMULATED_EPOCH_SECONDS, when set, stands in for the measured duration of each epoch
(the tests use it to get the same figures on every machine); the model is not trained here.
"""

import json
import os
import sys
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

GPU_TYPE = "h100-80gb"
GPU_COUNT = 8


def train_one_epoch(samples: int) -> int:
    """Stands in for the real work: returns the samples processed."""
    return samples


def main() -> int:
    endpoint, job_id, epochs, samples_per_epoch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    simulated = os.environ.get("TRAIN_SIMULATED_EPOCH_SECONDS")

    # The job is the process: its id, kind and model go on the resource, so every span carries them.
    resource = Resource.create(
        {
            "service.name": "trainer",
            "costtrace.job.id": job_id,
            "costtrace.job.kind": "fine_tuning",
            "costtrace.job.model": "support-bot-v3",
        }
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=10)))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("trainer")

    reported = []
    with tracer.start_as_current_span("fine-tune"):
        for epoch in range(epochs):
            with tracer.start_as_current_span("epoch", attributes={"costtrace.job.epoch": epoch}) as span:
                started = time.monotonic()
                samples = train_one_epoch(samples_per_epoch)
                elapsed = float(simulated) if simulated else time.monotonic() - started
                gpu_seconds = round(elapsed * GPU_COUNT, 3)
                span.set_attribute("costtrace.gpu.type", GPU_TYPE)
                span.set_attribute("costtrace.gpu.count", GPU_COUNT)
                span.set_attribute("costtrace.gpu.seconds", gpu_seconds)
                span.set_attribute("costtrace.job.samples", samples)
                reported.append({"epoch": epoch, "gpu_seconds": gpu_seconds, "samples": samples})

    flushed = provider.force_flush(timeout_millis=30_000)
    provider.shutdown()
    if not flushed:
        print("force_flush timed out", file=sys.stderr)
        return 1
    print(json.dumps({"epochs": reported}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
