// The anomaly detectors on a demo-like load: the demo inference service's traffic shape
// (Poisson arrivals per route, log-normal cost per request, a slow diurnal swing). The
// false-positive rate is measured here and printed; the README quotes it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommitShiftDetector, SpendRateDetector } from '../../src/index.js';

/** Deterministic PRNG (mulberry32) so the measured rate is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function poisson(r: () => number, lambda: number): number {
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(r)));
  let k = 0;
  let p = Math.exp(-lambda);
  let s = p;
  const u = r();
  while (u > s) {
    k++;
    p *= lambda / k;
    s += p;
  }
  return k;
}

/** Cost of one request in 10^-12 USD: log-normal around $0.002, σ = 0.8. */
function requestCost(r: () => number, scale = 1): bigint {
  return BigInt(Math.round(0.002 * scale * Math.exp(0.8 * normal(r)) * 1e12));
}

const ROUTES = 12;
const MINUTES = 6 * 60;

describe('anomaly detection on a demo-like load', () => {
  it('spend-rate detector: false-positive rate on normal traffic, and a 5× spike is caught within its minute', () => {
    const r = rng(42);
    const detector = new SpendRateDetector();
    let falseAlarms = 0;
    for (let minute = 0; minute < MINUTES; minute++) {
      const diurnal = 1 + 0.3 * Math.sin((2 * Math.PI * minute) / (24 * 60));
      for (let route = 0; route < ROUTES; route++) {
        const lambda = (5 + route * 8) * diurnal; // 5 … 93 requests per minute
        const n = poisson(r, lambda);
        for (let i = 0; i < n; i++) {
          const t = minute * 60_000 + Math.floor(r() * 60_000);
          if (detector.observe(`svc|/route/${route}`, t, requestCost(r)) !== null) falseAlarms++;
        }
      }
      detector.advance((minute + 1) * 60_000);
    }
    const evaluated = ROUTES * (MINUTES - 15);
    const rate = falseAlarms / evaluated;
    console.log(
      `spend-rate detector: ${falseAlarms} false alarms in ${evaluated} scope-minutes (FPR ${(rate * 100).toFixed(3)} %)`,
    );
    assert.ok(rate < 0.002, `false-positive rate ${rate} should stay under 0.2 %`);

    // Now route 6 (≈ 53 req/min) spends 5× per request for a minute.
    let found = null;
    const start = MINUTES * 60_000;
    for (let i = 0; i < 53 && found === null; i++) {
      found = detector.observe('svc|/route/6', start + i * 1000, requestCost(r, 5));
    }
    assert.ok(found, 'spike detected');
    assert.equal(found.kind, 'spend_rate');
    assert.ok(found.observed > found.threshold && found.threshold > found.baseline);
  });

  it('commit-shift detector: no alarm across releases with the same cost, alarm on a 2× cost per request', () => {
    const r = rng(7);
    const detector = new CommitShiftDetector();
    let falseAlarms = 0;
    const releases = 200;
    for (let release = 0; release < releases; release++) {
      for (let i = 0; i < 200; i++) {
        const commit = `c${release + (i < 100 && r() < 0.5 ? 0 : 1)}`; // rolling deploy: both run for a while
        const cost = requestCost(r);
        const usd = Number(cost) / 1e12;
        if (detector.observe('svc|/v1/chat', commit, 1, cost, usd * usd) !== null) falseAlarms++;
      }
    }
    console.log(`commit-shift detector: ${falseAlarms} false alarms in ${releases} releases`);
    assert.ok(falseAlarms <= 1, `false alarms ${falseAlarms}`);
    let found = null;
    for (let i = 0; i < 200 && found === null; i++) {
      const cost = requestCost(r, 2);
      const usd = Number(cost) / 1e12;
      found = detector.observe('svc|/v1/chat', 'expensive', 1, cost, usd * usd);
    }
    assert.ok(found, '2× cost per request detected');
    assert.equal(found.commit, 'expensive');
    assert.ok(found.observed > found.baseline);
  });
});
