import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorMetrics } from '../src/operations/aggregator-metrics.js';

describe('costtrace_webhook_deliveries_total', () => {
  it("reads the dispatcher's counters at scrape time", async () => {
    const metrics = new AggregatorMetrics();
    const counts = { delivered: 0, failedAttempts: 0, deadLettered: 0 };
    metrics.bridgeWebhookDeliveries(() => counts);
    metrics.bridgeWebhookDeliveries(() => undefined); // a second bridge is ignored
    counts.delivered = 5;
    counts.failedAttempts = 2;
    counts.deadLettered = 1;
    const text = await metrics.registry.metrics();
    assert.match(text, /costtrace_webhook_deliveries_total\{outcome="delivered"\} 5/);
    assert.match(text, /costtrace_webhook_deliveries_total\{outcome="failed_attempt"\} 2/);
    assert.match(text, /costtrace_webhook_deliveries_total\{outcome="dead"\} 1/);
  });

  it('reports zeros when budgets are stopped', async () => {
    const metrics = new AggregatorMetrics();
    metrics.bridgeWebhookDeliveries(() => undefined);
    assert.match(await metrics.registry.metrics(), /costtrace_webhook_deliveries_total\{outcome="delivered"\} 0/);
  });
});
