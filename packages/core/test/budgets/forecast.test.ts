import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forecastSampleMs, forecastSpend } from '../../src/index.js';

describe('forecast', () => {
  it('projects a calendar period from the burn rate', () => {
    // $1 in the last 10 minutes = $6/h; 2 h left; $5 spent of $20.
    const f = forecastSpend({
      spend: 5n * 10n ** 12n,
      limit: 20n * 10n ** 12n,
      nowMs: 0,
      sampleSpend: 10n ** 12n,
      sampleMs: 600_000,
      window: { kind: 'calendar', endMs: 7_200_000 },
    });
    assert.equal(f.burnRatePerHour, 6n * 10n ** 12n);
    assert.equal(f.projected, 17n * 10n ** 12n);
    assert.equal(f.exhaustionAtMs, null, '15 $ more need 2.5 h, after the period ends');
  });

  it('projects a rolling window and the time to exhaustion', () => {
    const f = forecastSpend({
      spend: 3n,
      limit: 10n,
      nowMs: 1000,
      sampleSpend: 2n,
      sampleMs: 10_000,
      window: { kind: 'rolling', durationMs: 60_000 },
    });
    assert.equal(f.projected, 12n);
    assert.equal(f.exhaustionAtMs, 1000 + 35_000);
    assert.equal(forecastSampleMs(60_000, 1000), 10_000);
    assert.equal(forecastSampleMs(86_400_000, 1_440_000), 8_640_000);
  });
});
