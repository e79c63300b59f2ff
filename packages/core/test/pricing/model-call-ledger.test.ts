// One model call, one charge: the ledger's rules on the span shapes real emitters produce (the
// client's span inside an instrumentation's, framework roots over their steps, the same
// response id from two emitters), its idempotence and its bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelCallLedger, readSpanUsage, SpanPricer, SpanUsage } from '../../src/index.js';
import type { UsageSighting } from '../../src/pricing/model-call-ledger.js';

function sighting(over: Partial<UsageSighting> & Pick<UsageSighting, 'spanId'>): UsageSighting {
  return { traceId: 't1', parentSpanId: '', responseId: undefined, usageKey: '100:10', rollup: false, ...over };
}

describe('ModelCallLedger', () => {
  it('charges the first span of a call and marks a wrapper with the same usage a duplicate of it', () => {
    const ledger = new ModelCallLedger();
    // Children end first: the client's own span, then the instrumentation's span around it.
    assert.equal(ledger.decide(sighting({ spanId: 'client', parentSpanId: 'instr' })).role, 'call');
    const wrapper = ledger.decide(sighting({ spanId: 'instr', parentSpanId: 'root' }));
    assert.deepEqual(wrapper, { role: 'duplicate', duplicateOf: 'client', rule: 'child_usage' });
    // A framework span repeating the wrapper's usage points at the charged span, not the wrapper.
    const framework = ledger.decide(sighting({ spanId: 'root' }));
    assert.deepEqual(framework, { role: 'duplicate', duplicateOf: 'client', rule: 'child_usage' });
    assert.equal(ledger.stats().duplicates, 2);
  });

  it('marks a parent that sums several calls a roll-up, and keeps each call charged', () => {
    const ledger = new ModelCallLedger();
    assert.equal(ledger.decide(sighting({ spanId: 'step1', parentSpanId: 'agent', usageKey: '100:10' })).role, 'call');
    assert.equal(ledger.decide(sighting({ spanId: 'step2', parentSpanId: 'agent', usageKey: '250:40' })).role, 'call');
    const agent = ledger.decide(sighting({ spanId: 'agent', usageKey: '350:50' }));
    assert.deepEqual(agent, { role: 'rollup', duplicateOf: undefined, rule: 'children' });
  });

  it('marks a child with its already charged parent’s usage a duplicate (the parent ended first)', () => {
    const ledger = new ModelCallLedger();
    assert.equal(ledger.decide(sighting({ spanId: 'outer' })).role, 'call');
    assert.deepEqual(ledger.decide(sighting({ spanId: 'inner', parentSpanId: 'outer' })), {
      role: 'duplicate',
      duplicateOf: 'outer',
      rule: 'parent_usage',
    });
    // A child with other usage under a charged parent is a call of its own.
    assert.equal(ledger.decide(sighting({ spanId: 'other', parentSpanId: 'outer', usageKey: '7:7' })).role, 'call');
  });

  it('matches spans of one response by gen_ai.response.id, whatever their place in the trace', () => {
    const ledger = new ModelCallLedger();
    assert.equal(ledger.decide(sighting({ spanId: 'a', responseId: 'chatcmpl-1', usageKey: '100:10' })).role, 'call');
    // Another emitter, elsewhere in the trace, counting differently: still the same response.
    const b = ledger.decide(sighting({ spanId: 'b', responseId: 'chatcmpl-1', usageKey: '120:10' }));
    assert.deepEqual(b, { role: 'duplicate', duplicateOf: 'a', rule: 'response_id' });
    // The same response id in another trace is not trusted to be the same call.
    assert.equal(ledger.decide(sighting({ traceId: 't2', spanId: 'c', responseId: 'chatcmpl-1' })).role, 'call');
  });

  it('never charges a marked or recognised roll-up, and decides a span again as it did the first time', () => {
    const ledger = new ModelCallLedger();
    const root = sighting({ spanId: 'root', rollup: true });
    assert.equal(ledger.decide(root).role, 'rollup');
    const step = sighting({ spanId: 'step', parentSpanId: 'root' });
    assert.equal(ledger.decide(step).role, 'call', 'a call under a roll-up is charged');
    const wrapper = sighting({ spanId: 'w', parentSpanId: 'x' });
    const dup = sighting({ spanId: 'x' });
    ledger.decide(wrapper);
    const first = ledger.decide(dup);
    assert.deepEqual(ledger.decide(dup), first, 'a redelivered span gets its first decision');
    assert.deepEqual(ledger.decide(step), { role: 'call', duplicateOf: undefined, rule: undefined });
  });

  it('charges a span sent again from another origin once: the copy is a duplicate of the first', () => {
    const ledger = new ModelCallLedger();
    const first = sighting({ spanId: 's', origin: '10:0' });
    assert.equal(ledger.decide(first).role, 'call');
    assert.equal(ledger.decide(first).role, 'call', 'the same copy redelivered: the same decision');
    assert.deepEqual(ledger.decide({ ...first, origin: '42:3' }), {
      role: 'duplicate',
      duplicateOf: 's',
      rule: 'repeated_span',
    });
  });

  it('charges the span that earlier restored marks point at, whatever order they arrive in', () => {
    const ledger = new ModelCallLedger();
    // The SDK charged the parent (it ended first) and marked its child; the child is exported first.
    ledger.restore(sighting({ spanId: 'child', parentSpanId: 'parent', responseId: 'msg_9' }), 'duplicate', 'parent');
    assert.deepEqual(ledger.decide(sighting({ spanId: 'parent', responseId: 'msg_9' })), {
      role: 'call',
      duplicateOf: undefined,
      rule: undefined,
    });
  });

  it('restores earlier decisions as they were and decides later spans against them', () => {
    const ledger = new ModelCallLedger();
    // Stored before a restart: the wrapper was marked a duplicate of the client's span.
    ledger.restore(sighting({ spanId: 'client', parentSpanId: 'instr', responseId: 'msg_1' }), 'call', undefined);
    ledger.restore(sighting({ spanId: 'instr', parentSpanId: 'root', responseId: 'msg_1' }), 'duplicate', 'client');
    assert.deepEqual(ledger.decide(sighting({ spanId: 'other', responseId: 'msg_1' })), {
      role: 'duplicate',
      duplicateOf: 'client',
      rule: 'response_id',
    });
    assert.equal(ledger.decide(sighting({ spanId: 'instr' })).role, 'duplicate', 'restored decisions stand');
  });

  it('stays within its bounds: least recently used traces go first, and spans past the per-trace bound are decided but not remembered', () => {
    const ledger = new ModelCallLedger({ maxTraces: 2, maxSpansPerTrace: 2 });
    ledger.decide(sighting({ traceId: 'a', spanId: '1' }));
    ledger.decide(sighting({ traceId: 'b', spanId: '1' }));
    ledger.decide(sighting({ traceId: 'a', spanId: '2', usageKey: '5:5' })); // touches a
    ledger.decide(sighting({ traceId: 'c', spanId: '1' })); // evicts b
    assert.equal(ledger.stats().evictedTraces, 1);
    assert.equal(ledger.decide(sighting({ traceId: 'b', spanId: '2', parentSpanId: '1' })).role, 'call', 'b forgotten');
    // Traces now c, b (a evicted in turn): c takes one more span, and its third is not remembered.
    ledger.decide(sighting({ traceId: 'c', spanId: '2', usageKey: '5:5' }));
    ledger.decide(sighting({ traceId: 'c', spanId: '3', usageKey: '9:9' }));
    assert.equal(ledger.stats().unremembered, 1);
    assert.equal(ledger.stats().evictedTraces, 2);
    assert.throws(() => new ModelCallLedger({ maxTraces: 0 }), /maxTraces: must be a positive integer/);
  });
});

describe('SpanPricer.usageKey', () => {
  const pricer = new SpanPricer();
  const key = (span: Record<string, unknown>, scope?: string): string | undefined =>
    pricer.usageKey(
      readSpanUsage(span, {}, new SpanUsage(), undefined, scope === undefined ? undefined : { name: scope }),
    );

  it('gives one key for one Anthropic call whether the emitter counts the cache in its input or not', () => {
    const call = { 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4' };
    const cache = { 'gen_ai.usage.cache_read.input_tokens': 3000, 'gen_ai.usage.cache_creation.input_tokens': 2000 };
    const excludes = key({ ...call, ...cache, 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 7 });
    const includes = key(
      { ...call, ...cache, 'gen_ai.usage.input_tokens': 5010, 'gen_ai.usage.output_tokens': 7 },
      'opentelemetry.instrumentation.anthropic',
    );
    assert.equal(excludes, '5010:7');
    assert.equal(includes, excludes);
  });

  it('gives one key for one OpenAI call whether or not the emitter reports cached tokens', () => {
    const call = {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.output_tokens': 9,
    };
    const withCache = key({ ...call, 'gen_ai.usage.input_tokens': 1200, 'gen_ai.usage.cache_read.input_tokens': 800 });
    const without = key({ ...call, 'gen_ai.usage.input_tokens': 1200 }, '@opentelemetry/instrumentation-openai');
    assert.equal(withCache, '1200:9');
    assert.equal(without, withCache);
    assert.equal(key({ 'gen_ai.request.model': 'gpt-4o' }), undefined, 'no tokens, no key');
    assert.equal(key({ ...call, 'gen_ai.usage.input_tokens': -1 }), undefined, 'an unusable count, no key');
  });

  it('recognises framework roll-ups and reads the response id in each dialect', () => {
    const read = (span: Record<string, unknown>): SpanUsage => readSpanUsage(span, {}, new SpanUsage());
    const tokens = { 'gen_ai.usage.input_tokens': 1, 'gen_ai.usage.output_tokens': 1 };
    assert.equal(read({ ...tokens, 'ai.operationId': 'ai.generateText' }).rollup, true);
    assert.equal(read({ ...tokens, 'ai.operationId': 'ai.generateText.doGenerate' }).rollup, false);
    assert.equal(read({ ...tokens, 'openinference.span.kind': 'CHAIN' }).rollup, true);
    assert.equal(read({ ...tokens, 'openinference.span.kind': 'LLM' }).rollup, false);
    assert.equal(read({ ...tokens, 'traceloop.span.kind': 'workflow' }).rollup, true);
    assert.equal(read({ 'ai.operationId': 'ai.generateText' }).rollup, false, 'looked for only on spans with tokens');
    assert.equal(read({ ...tokens, 'gen_ai.response.id': 'chatcmpl-9' }).responseId, 'chatcmpl-9');
    assert.equal(read({ ...tokens, 'ai.response.id': 'aitxt-1' }).responseId, 'aitxt-1');
  });
});
