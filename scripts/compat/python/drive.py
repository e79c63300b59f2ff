"""Drives the real Python LLM clients, instrumented by real instrumentation libraries (the pinned
venvs that scripts/compat/install-python.sh installs under .cache/), against the fake server
(scripts/compat/fake-llm-server.mjs), and exports the spans as OTLP/HTTP protobuf.

    PY=$(scripts/compat/install-python.sh main)      # openai-v2 for otel-openai-v2, openlit for openlit-*
    OTLP_ENDPOINT=http://127.0.0.1:4318/v1/traces FAKE_LLM_URL=http://127.0.0.1:PORT \\
      $PY scripts/compat/python/drive.py SETUP < calls.json

calls.json: [{"api": "openai" | "openai-responses" | "anthropic", "model": "gpt-4o-mini",
              "stream": false, "usage": "in=1200,cached=800,out=150,reasoning=40"}, ...]
Each call runs inside its own root span `compat.call` (its own trace); one JSON line per call goes
to stdout: {call, setup, api, model, stream, trace_id, response_id}. Then the tracer provider is
flushed and shut down; exit 0 (1 when a call failed, 2 on a usage error).

Environment: OTLP_ENDPOINT, FAKE_LLM_URL (required), OTEL_SERVICE_NAME (default
costtrace-compat-py-SETUP), ANTHROPIC_OPEN_TELEMETRY=false (the anthropic client's own switch for
its built-in spans, on by default in anthropic 2.16.0), COSTTRACE_PRICE_SNAPSHOT_FILE (the prices
OpenLIT is given, default scripts/compat/prices.json). costtrace's SDK is TypeScript only: Python
spans reach costtrace unpriced and the aggregator prices them.
"""

import json
import os
import re
import sys
import tempfile
from importlib.metadata import version

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
API_KEYS = {"openai": "sk-compat-not-a-key", "anthropic": "sk-ant-compat-not-a-key"}
PRICES_FILE = os.environ.get("COSTTRACE_PRICE_SNAPSHOT_FILE") or os.path.join(ROOT, "scripts", "compat", "prices.json")


def fail(message):
    print(f"drive.py: {message}", file=sys.stderr)
    sys.exit(2)


def prompt(call):
    return f"Say something short. usage:{call['usage']}"


def has_reasoning(call):
    return re.search(r"(?:^|,)reasoning=", call["usage"]) is not None


# ------------------------------------------------------------------ clients (loaded after instrumenting)


def openai_client(fake):
    import openai

    return openai.OpenAI(base_url=f"{fake}/v1", api_key=API_KEYS["openai"], max_retries=0)


def anthropic_client(fake):
    import anthropic

    return anthropic.Anthropic(base_url=fake, api_key=API_KEYS["anthropic"], max_retries=0)


def call_openai(clients, call):
    params = {"model": call["model"], "messages": [{"role": "user", "content": prompt(call)}]}
    if not call.get("stream"):
        return clients["openai"].chat.completions.create(**params).id
    # include_usage: without it the API sends no usage in a stream, and no instrumentation can report it.
    stream = clients["openai"].chat.completions.create(**params, stream=True, stream_options={"include_usage": True})
    response_id = None
    for chunk in stream:
        response_id = chunk.id
    return response_id


def call_openai_responses(clients, call):
    params = {"model": call["model"], "input": prompt(call)}
    if not call.get("stream"):
        return clients["openai"].responses.create(**params).id
    response_id = None
    for event in clients["openai"].responses.create(**params, stream=True):
        if event.type == "response.completed":
            response_id = event.response.id
    return response_id


def call_anthropic(clients, call):
    params = {"model": call["model"], "max_tokens": 2048, "messages": [{"role": "user", "content": prompt(call)}]}
    if has_reasoning(call):
        params["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    if not call.get("stream"):
        return clients["anthropic"].messages.create(**params).id
    response_id = None
    for event in clients["anthropic"].messages.create(**params, stream=True):
        if event.type == "message_start":
            response_id = event.message.id
    return response_id


CALLS = {"openai": call_openai, "openai-responses": call_openai_responses, "anthropic": call_anthropic}

# ------------------------------------------------------------------ setups


def otel_openai_v2(provider, fake):
    # OpenTelemetry's own (opentelemetry-python-contrib), the older package name.
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=provider)
    return {"openai": openai_client(fake)}


def otel_genai_openai(provider, fake):
    # OpenTelemetry's own, current package name (opentelemetry-instrumentation-genai-openai).
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=provider)
    return {"openai": openai_client(fake)}


def otel_genai_anthropic(provider, fake):
    from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

    AnthropicInstrumentor().instrument(tracer_provider=provider)
    return {"anthropic": anthropic_client(fake)}


def traceloop_openai(provider, fake):
    # OpenLLMetry: the PyPI name opentelemetry-instrumentation-openai is Traceloop's.
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=provider)
    return {"openai": openai_client(fake)}


def traceloop_anthropic(provider, fake):
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

    AnthropicInstrumentor().instrument(tracer_provider=provider)
    return {"anthropic": anthropic_client(fake)}


def openinference_openai(provider, fake):
    from openinference.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=provider)
    return {"openai": openai_client(fake)}


def openinference_anthropic(provider, fake):
    from openinference.instrumentation.anthropic import AnthropicInstrumentor

    AnthropicInstrumentor().instrument(tracer_provider=provider)
    return {"anthropic": anthropic_client(fake)}


def openlit_pricing_file():
    """prices.json in OpenLIT's pricing format (USD per 1K tokens), as a file openlit.init reads."""
    doc = json.load(open(PRICES_FILE, encoding="utf-8"))
    field = {"input_tokens": "promptPrice", "output_tokens": "completionPrice", "cache_read_tokens": "cacheReadPrice", "cache_write_tokens": "cacheCreationPrice"}
    chat = {}
    for p in doc["prices"]:
        if p.get("resourceType") != "model" or p["kind"] not in field:
            continue
        per_token = float(p["amount"]) / (1_000_000 if p["unit"] == "1m_tokens" else 1)
        chat.setdefault(p["sku"], {})[field[p["kind"]]] = per_token * 1000
    f = tempfile.NamedTemporaryFile("w", suffix=".json", prefix="compat-openlit-pricing-", delete=False)
    json.dump({"chat": chat, "embeddings": {}, "images": {}, "audio": {}}, f)
    f.close()
    return f.name


def openlit_setup(which):
    def setup(provider, fake):
        # OpenLIT finds the SDK TracerProvider this driver registered and reuses it (adds no
        # exporter of its own). Metrics and events off; prices from prices.json, so it fetches
        # nothing from the network.
        import openlit

        pricing = openlit_pricing_file()
        try:
            openlit.init(
                application_name=SERVICE_NAME,
                environment="compat",
                disable_metrics=True,
                disable_events=True,
                collect_gpu_stats=False,
                collect_system_metrics=False,
                pricing_json=pricing,
            )
        finally:
            os.unlink(pricing)
        return {"openai": openai_client(fake)} if which == "openai" else {"anthropic": anthropic_client(fake)}

    return setup


def anthropic_builtin(provider, fake):
    # The anthropic client's own spans (scope com.anthropic.sdk.python): no instrumentation library.
    return {"anthropic": anthropic_client(fake)}


SETUPS = {
    "otel-openai-v2": (otel_openai_v2, ("openai", "openai-responses"), ("opentelemetry-instrumentation-openai-v2", "openai")),
    "otel-genai-openai": (otel_genai_openai, ("openai", "openai-responses"), ("opentelemetry-instrumentation-genai-openai", "openai")),
    "otel-genai-anthropic": (otel_genai_anthropic, ("anthropic",), ("opentelemetry-instrumentation-genai-anthropic", "anthropic")),
    "traceloop-openai": (traceloop_openai, ("openai", "openai-responses"), ("opentelemetry-instrumentation-openai", "openai")),
    "traceloop-anthropic": (traceloop_anthropic, ("anthropic",), ("opentelemetry-instrumentation-anthropic", "anthropic")),
    "openinference-openai": (openinference_openai, ("openai", "openai-responses"), ("openinference-instrumentation-openai", "openai")),
    "openinference-anthropic": (openinference_anthropic, ("anthropic",), ("openinference-instrumentation-anthropic", "anthropic")),
    "openlit-openai": (openlit_setup("openai"), ("openai", "openai-responses"), ("openlit", "openai")),
    "openlit-anthropic": (openlit_setup("anthropic"), ("anthropic",), ("openlit", "anthropic")),
    "anthropic-builtin": (anthropic_builtin, ("anthropic",), ("anthropic",)),
}

SETUP = sys.argv[1] if len(sys.argv) == 2 else None
SERVICE_NAME = os.environ.get("OTEL_SERVICE_NAME") or f"costtrace-compat-py-{SETUP}"


def main():
    if SETUP not in SETUPS:
        fail(f"usage: drive.py SETUP < calls.json; SETUP one of {', '.join(SETUPS)}")
    endpoint = os.environ.get("OTLP_ENDPOINT") or fail("OTLP_ENDPOINT is required (e.g. http://127.0.0.1:4318/v1/traces)")
    fake = (os.environ.get("FAKE_LLM_URL") or fail("FAKE_LLM_URL is required (e.g. http://127.0.0.1:PORT)")).rstrip("/")
    if os.environ.get("COSTTRACE_SDK") == "1":
        fail("COSTTRACE_SDK=1: costtrace's SDK is TypeScript only; the aggregator prices Python spans")
    register, apis, packages = SETUPS[SETUP]
    calls = json.load(sys.stdin)
    for call in calls:
        if call["api"] not in apis:
            fail(f"setup {SETUP} makes {' / '.join(apis)} calls, not {call['api']!r}")

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": SERVICE_NAME, "deployment.environment.name": "compat", "compat.setup": SETUP, "compat.costtrace_sdk": False}
        )
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=10)))
    trace.set_tracer_provider(provider)
    clients = register(provider, fake)
    tracer = provider.get_tracer("costtrace.compat.driver")
    print(f"drive.py {SETUP}: {json.dumps({p: version(p) for p in packages})}", file=sys.stderr)

    failed = 0
    for index, call in enumerate(calls):
        out = {"call": index, "setup": SETUP, "api": call["api"], "model": call["model"], "stream": bool(call.get("stream"))}
        attributes = {"compat.setup": SETUP, "compat.call_index": index, "compat.api": call["api"], "compat.stream": bool(call.get("stream"))}
        # An empty context: each call is a root span, its own trace.
        with tracer.start_as_current_span("compat.call", context=otel_context.Context(), attributes=attributes) as span:
            out["trace_id"] = format(span.get_span_context().trace_id, "032x")
            try:
                out["response_id"] = CALLS[call["api"]](clients, call)
                span.set_attribute("compat.response_id", out["response_id"] or "")
            except Exception as err:  # noqa: BLE001 - reported per call
                failed += 1
                out["error"] = repr(err)
                span.record_exception(err)
                span.set_status(Status(StatusCode.ERROR, str(err)))
                print(f"drive.py {SETUP}: call {index} failed: {err!r}", file=sys.stderr)
        print(json.dumps(out), flush=True)
    flushed = provider.force_flush(timeout_millis=30_000)
    provider.shutdown()
    if not flushed:
        print(f"drive.py {SETUP}: force_flush timed out", file=sys.stderr)
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
