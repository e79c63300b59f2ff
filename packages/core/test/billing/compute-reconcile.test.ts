// Cloud instance hours beside the spans' instance time: the drift of a GPU instance split into
// idle hours (at the bill's rate) and the rate difference, with the expected money computed by
// hand in the comments.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconcileCompute } from '../../src/index.js';

const D1 = 1_796_083_200;
const D2 = D1 + 86_400;

describe('reconcileCompute', () => {
  it('splits a GPU instance day into idle hours and rate, and a day not billed yet into timing', () => {
    // Billed: 24 h of p4d.24xlarge at 32.7726 $/h = 786.5424. Spans: 10 h of instance time that
    // costtrace priced at 30 $/h = 300. drift = 486.5424
    //   idle = (24 − 10) h × 32.7726 = 458.8164;   rate = 486.5424 − 458.8164 = 27.726 (= 10 h × 2.7726)
    // D2: spans of 2 h (60 $) on a day the bill does not cover: timing −60.
    const rows = reconcileCompute(
      [
        {
          day: D1,
          provider: 'aws',
          model: 'p4d.24xlarge',
          currency: 'USD',
          hours: '24',
          gpuHours: '24',
          billedCost: '786.5424',
        },
      ],
      [
        {
          day: D1,
          provider: 'aws',
          model: 'p4d.24xlarge',
          currency: 'USD',
          spans: 40,
          instanceSeconds: '36000',
          cost: '300',
        },
        {
          day: D2,
          provider: 'aws',
          model: 'p4d.24xlarge',
          currency: 'USD',
          spans: 8,
          instanceSeconds: '7200',
          cost: '60',
        },
      ],
      ['day', 'model'],
      (_provider, day) => day === D1,
    );
    assert.deepEqual(rows, [
      {
        dimensions: { day: String(D1), model: 'p4d.24xlarge' },
        currency: 'USD',
        billedHours: '24',
        billedGpuHours: '24',
        tracedHours: '10',
        billedCost: '786.5424',
        tracedCost: '300',
        spans: 40,
        drift: '486.5424',
        idle: '458.8164',
        rate: '27.726',
        timing: '0',
      },
      {
        dimensions: { day: String(D2), model: 'p4d.24xlarge' },
        currency: 'USD',
        billedHours: '0',
        billedGpuHours: '0',
        tracedHours: '2',
        billedCost: undefined,
        tracedCost: '60',
        spans: 8,
        drift: '-60',
        idle: '0',
        rate: '0',
        timing: '-60',
      },
    ]);
    // Grouped over both days: exact sums of the days.
    const [all] = reconcileCompute(
      [
        {
          day: D1,
          provider: 'aws',
          model: 'p4d.24xlarge',
          currency: 'USD',
          hours: '24',
          gpuHours: '24',
          billedCost: '786.5424',
        },
      ],
      [
        {
          day: D1,
          provider: 'aws',
          model: 'p4d.24xlarge',
          currency: 'USD',
          spans: 40,
          instanceSeconds: '36000',
          cost: '300',
        },
        {
          day: D2,
          provider: 'aws',
          model: 'p4d.24xlarge',
          currency: 'USD',
          spans: 8,
          instanceSeconds: '7200',
          cost: '60',
        },
      ],
      ['provider'],
      (_provider, day) => day === D1,
    );
    assert.equal(all?.drift, '426.5424');
    assert.equal(all?.idle, '458.8164');
    assert.equal(all?.timing, '-60');
    assert.equal(all?.tracedHours, '12');
  });
});
