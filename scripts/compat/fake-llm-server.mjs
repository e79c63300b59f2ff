#!/usr/bin/env node
// A fake OpenAI- and Anthropic-compatible HTTP server for the compatibility suite: real clients
// and instrumentation libraries call it, and it answers in the shapes the official APIs document,
// with the token usage the caller chose. Plain Node, no dependencies.
//
//   node scripts/compat/fake-llm-server.mjs [--log GROUND_TRUTH.jsonl] [--port N]
//
// Listens on 127.0.0.1 (an ephemeral port unless --port) and prints {"port":N} as its first
// stdout line. Stops on SIGTERM / SIGINT (or when stdin closes, with --exit-on-stdin-close).
//
// Endpoints:
//   POST /v1/chat/completions   OpenAI Chat Completions; `stream: true` gives SSE chunks and,
//                               with `stream_options: {include_usage: true}`, the final usage chunk
//   POST /v1/responses          OpenAI Responses (what the AI SDK's `openai(model)` calls);
//                               `stream: true` gives the response.* SSE events
//   POST /v1/messages           Anthropic Messages; `stream: true` gives message_start,
//                               content_block_*, message_delta (final usage), message_stop
//
// Usage is chosen by the caller: the text of the request's last user message may carry a tag
//   usage:in=1200,cached=800,out=150,reasoning=40                        (OpenAI)
//   usage:in=300,cache_read=2000,cache_write=500,out=90[,reasoning=30]  (Anthropic)
// OpenAI: `in` is prompt_tokens / input_tokens (cached included), `cached` the cached part, `out`
// completion_tokens / output_tokens (reasoning included), `reasoning` the reasoning part.
// Anthropic: `in` is input_tokens (cache excluded), `cache_read` / `cache_write` the cache
// counts, `out` output_tokens, `reasoning` (optional) usage.output_tokens_details.thinking_tokens
// with a thinking block in the content. Without a tag: in=10, out=5, the rest 0.
//
// Every call is appended to the ground-truth log (--log, else env COMPAT_GROUND_TRUTH) before its
// response is sent, as one JSON line: id (the response id the API returned), api
// (openai|anthropic), endpoint (chat.completions|responses|messages), model, stream, usage (the
// usage object exactly as the API reported it, its final value for a stream), usage_sent (false
// for an OpenAI chat stream without include_usage: the call is billed, the client never sees it),
// tag (the usage tag read), at (ISO time).

import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
function arg(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const logPath = arg('--log') ?? process.env.COMPAT_GROUND_TRUTH ?? undefined;
const port = Number(arg('--port') ?? 0);

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomId(length) {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHANUM[b % ALPHANUM.length];
  return out;
}
const hex = (n) => randomBytes(n).toString('hex');

const TAG = /usage:([a-z_]+=\d+(?:,[a-z_]+=\d+)*)/;
const OPENAI_KEYS = new Set(['in', 'cached', 'out', 'reasoning']);
const ANTHROPIC_KEYS = new Set(['in', 'cache_read', 'cache_write', 'out', 'reasoning']);

/** The usage tag in `text`: { tag, values } (values by key), or the default usage. */
function parseTag(text, allowed) {
  const m = TAG.exec(text ?? '');
  const values = { in: 10, out: 5 };
  if (!m) return { tag: null, values };
  for (const pair of m[1].split(',')) {
    const [key, value] = pair.split('=');
    if (!allowed.has(key))
      throw new HttpError(400, `usage tag key ${JSON.stringify(key)} is not one of ${[...allowed].join(', ')}`);
    values[key] = Number(value);
  }
  return { tag: m[0], values };
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Text of a message content: a string, or an array of parts with `text`. */
function contentText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === 'string' ? part : typeof part?.text === 'string' ? part.text : ''))
      .join('\n');
  }
  return '';
}

function lastUserText(messages) {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && m.role === 'user') return contentText(m.content);
  }
  return '';
}

/** Responses API `input`: a string, or items ({role, content} messages among them). */
function responsesUserText(input) {
  if (typeof input === 'string') return input;
  if (Array.isArray(input)) {
    for (let i = input.length - 1; i >= 0; i--) {
      const item = input[i];
      if (item && item.role === 'user') return contentText(item.content);
    }
  }
  return '';
}

function record(entry) {
  if (logPath === undefined) return;
  appendFileSync(logPath, `${JSON.stringify({ ...entry, at: new Date().toISOString() })}\n`);
}

const REPLY = 'This is the fake model answering.';
const REPLY_PARTS = ['This is the fake ', 'model answering.'];
const nowSeconds = () => Math.floor(Date.now() / 1000);

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function startSse(res, headers = {}) {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
  });
}

// ---------------------------------------------------------------- OpenAI Chat Completions

function openaiChatUsage(v) {
  return {
    prompt_tokens: v.in,
    completion_tokens: v.out,
    total_tokens: v.in + v.out,
    prompt_tokens_details: { cached_tokens: v.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: v.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function chatCompletions(body, res) {
  const { tag, values } = parseTag(lastUserText(body.messages), OPENAI_KEYS);
  const id = `chatcmpl-${randomId(29)}`;
  const model = body.model;
  const created = nowSeconds();
  const fingerprint = `fp_${hex(5)}`;
  const usage = openaiChatUsage(values);
  const headers = { 'x-request-id': `req_${hex(16)}`, 'openai-processing-ms': '12' };
  if (!body.stream) {
    record({ id, api: 'openai', endpoint: 'chat.completions', model, stream: false, usage, usage_sent: true, tag });
    sendJson(
      res,
      200,
      {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: REPLY, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
        service_tier: 'default',
        system_fingerprint: fingerprint,
      },
      headers,
    );
    return;
  }
  const includeUsage = body.stream_options?.include_usage === true;
  record({
    id,
    api: 'openai',
    endpoint: 'chat.completions',
    model,
    stream: true,
    usage,
    usage_sent: includeUsage,
    tag,
  });
  startSse(res, headers);
  const chunk = (choices, extra = {}) => {
    const data = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: fingerprint,
      choices,
      ...extra,
    };
    if (includeUsage && !('usage' in extra)) data.usage = null;
    res.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
  for (const part of REPLY_PARTS) chunk([{ index: 0, delta: { content: part }, logprobs: null, finish_reason: null }]);
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
  if (includeUsage) chunk([], { usage });
  res.end('data: [DONE]\n\n');
}

// ---------------------------------------------------------------- OpenAI Responses

function responsesUsage(v) {
  return {
    input_tokens: v.in,
    input_tokens_details: { cached_tokens: v.cached ?? 0 },
    output_tokens: v.out,
    output_tokens_details: { reasoning_tokens: v.reasoning ?? 0 },
    total_tokens: v.in + v.out,
  };
}

function responses(body, res) {
  const { tag, values } = parseTag(responsesUserText(body.input), OPENAI_KEYS);
  const id = `resp_${hex(24)}`;
  const model = body.model;
  const createdAt = nowSeconds();
  const usage = responsesUsage(values);
  const messageId = `msg_${hex(24)}`;
  const reasoningItem =
    (values.reasoning ?? 0) > 0 ? { id: `rs_${hex(24)}`, type: 'reasoning', summary: [] } : undefined;
  const text = { type: 'output_text', text: REPLY, annotations: [], logprobs: [] };
  const message = { id: messageId, type: 'message', status: 'completed', role: 'assistant', content: [text] };
  const base = {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output: [],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: null },
    service_tier: 'default',
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: null,
    user: null,
    metadata: {},
  };
  const output = reasoningItem ? [reasoningItem, message] : [message];
  const completed = { ...base, status: 'completed', output, usage };
  const headers = { 'x-request-id': `req_${hex(16)}` };
  record({
    id,
    api: 'openai',
    endpoint: 'responses',
    model,
    stream: body.stream === true,
    usage,
    usage_sent: true,
    tag,
  });
  if (!body.stream) {
    sendJson(res, 200, completed, headers);
    return;
  }
  startSse(res, headers);
  let sequence = 0;
  const event = (type, data) => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  };
  event('response.created', { response: base });
  event('response.in_progress', { response: base });
  let outputIndex = 0;
  if (reasoningItem) {
    event('response.output_item.added', { output_index: outputIndex, item: reasoningItem });
    event('response.output_item.done', { output_index: outputIndex, item: reasoningItem });
    outputIndex += 1;
  }
  event('response.output_item.added', {
    output_index: outputIndex,
    item: { id: messageId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
  });
  event('response.content_part.added', {
    item_id: messageId,
    output_index: outputIndex,
    content_index: 0,
    part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
  });
  for (const part of REPLY_PARTS) {
    event('response.output_text.delta', {
      item_id: messageId,
      output_index: outputIndex,
      content_index: 0,
      delta: part,
      logprobs: [],
    });
  }
  event('response.output_text.done', {
    item_id: messageId,
    output_index: outputIndex,
    content_index: 0,
    text: REPLY,
    logprobs: [],
  });
  event('response.content_part.done', { item_id: messageId, output_index: outputIndex, content_index: 0, part: text });
  event('response.output_item.done', { output_index: outputIndex, item: message });
  event('response.completed', { response: completed });
  res.end();
}

// ---------------------------------------------------------------- Anthropic Messages

function anthropicUsage(v, outputTokens) {
  const usage = {
    input_tokens: v.in,
    cache_creation_input_tokens: v.cache_write ?? 0,
    cache_read_input_tokens: v.cache_read ?? 0,
    cache_creation: { ephemeral_5m_input_tokens: v.cache_write ?? 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
  if (v.reasoning !== undefined) usage.output_tokens_details = { thinking_tokens: v.reasoning };
  return usage;
}

function messages(body, res) {
  const { tag, values } = parseTag(lastUserText(body.messages), ANTHROPIC_KEYS);
  const id = `msg_${randomId(24)}`;
  const model = body.model;
  const usage = anthropicUsage(values, values.out);
  const thinking = values.reasoning !== undefined;
  const signature = randomBytes(48).toString('base64');
  const content = [
    ...(thinking ? [{ type: 'thinking', thinking: 'Thinking about it.', signature }] : []),
    { type: 'text', text: REPLY },
  ];
  const headers = {
    'request-id': `req_${randomId(24)}`,
    'anthropic-organization-id': '00000000-0000-4000-8000-000000000000',
  };
  record({
    id,
    api: 'anthropic',
    endpoint: 'messages',
    model,
    stream: body.stream === true,
    usage,
    usage_sent: true,
    tag,
  });
  if (!body.stream) {
    sendJson(
      res,
      200,
      { id, type: 'message', role: 'assistant', model, content, stop_reason: 'end_turn', stop_sequence: null, usage },
      headers,
    );
    return;
  }
  startSse(res, headers);
  const event = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  // message_start carries the input counts and a placeholder output count, as the API does.
  const startUsage = anthropicUsage(values, 1);
  delete startUsage.output_tokens_details;
  event('message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: startUsage,
    },
  });
  let index = 0;
  if (thinking) {
    event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } });
    event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: 'Thinking about it.' } });
    event('content_block_delta', { index, delta: { type: 'signature_delta', signature } });
    event('content_block_stop', { index });
    index += 1;
  }
  event('content_block_start', { index, content_block: { type: 'text', text: '' } });
  event('ping', {});
  for (const part of REPLY_PARTS) event('content_block_delta', { index, delta: { type: 'text_delta', text: part } });
  event('content_block_stop', { index });
  // message_delta: the final output count, and the cumulative input and cache counts.
  const deltaUsage = {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    output_tokens: usage.output_tokens,
    ...(usage.output_tokens_details ? { output_tokens_details: usage.output_tokens_details } : {}),
  };
  event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: deltaUsage });
  event('message_stop', {});
  res.end();
}

// ---------------------------------------------------------------- server

const ROUTES = {
  '/v1/chat/completions': chatCompletions,
  '/chat/completions': chatCompletions,
  '/v1/responses': responses,
  '/responses': responses,
  '/v1/messages': messages,
  '/messages': messages,
};

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    const handler = ROUTES[path];
    const anthropic = path.endsWith('/messages');
    const fail = (status, message) => {
      const body = anthropic
        ? { type: 'error', error: { type: status === 404 ? 'not_found_error' : 'invalid_request_error', message } }
        : { error: { message, type: 'invalid_request_error', param: null, code: null } };
      sendJson(res, status, body);
    };
    if (req.method !== 'POST' || handler === undefined) {
      fail(404, `no route for ${req.method} ${path}`);
      return;
    }
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      fail(400, 'the body is not JSON');
      return;
    }
    if (typeof body?.model !== 'string' || body.model === '') {
      fail(400, 'model is required');
      return;
    }
    try {
      handler(body, res);
    } catch (err) {
      if (err instanceof HttpError) fail(err.status, err.message);
      else {
        process.stderr.write(`fake-llm-server: ${err?.stack ?? err}\n`);
        if (!res.headersSent) fail(500, 'internal error');
        else res.end();
      }
    }
  });
});

server.keepAliveTimeout = 1000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (args.includes('--exit-on-stdin-close')) {
  process.stdin.resume();
  process.stdin.on('end', stop);
}
