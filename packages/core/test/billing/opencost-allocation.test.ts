// OpenCost allocation API responses, read exactly. The fixtures are in the documented format
// (opencost core/pkg/opencost/allocation_json.go, the website's example output): the documentation's
// own example (one 7-day set, whose "opencost" parts miss totalCost by 0.00001), a namespace report
// of two daily steps with idle and unmounted cost, and a label:team report as older OpenCost
// versions wrote it (unrounded binary floats: 0.1 + 0.2 = 0.30000000000000004). The expected
// figures are written out by hand from the fixtures' text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MONEY_SCALE, parseScaled } from '../../src/index.js';
import {
  emptyNotes,
  isOpenCostLabelAggregate,
  openCostAggregateProblem,
  openCostAllocationKind,
  openCostBilledLines,
  parseJson,
  parseOpenCostAllocationPage,
  parseOpenCostAllocations,
} from '../../src/billing/index.js';
import type { BilledLine, OpenCostAllocation } from '../../src/billing/index.js';
import { throwsBilling } from './api-report-assertions.js';

const FIXTURES = new URL('../../../test/billing/fixtures/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const DOCS = fixture('opencost-allocation-docs-example.json');
const DAILY = fixture('opencost-allocation-namespace-daily.json');
const LABELS = fixture('opencost-allocation-label-team.json');

const D0 = Date.UTC(2026, 10, 10) / 1000;
const D1 = D0 + 86_400;
const D2 = D1 + 86_400;

function sum(values: readonly (string | undefined)[]): string {
  const total = values.reduce((a, v) => a + parseScaled(v ?? '0', MONEY_SCALE), 0n);
  // Formatted by hand so the test does not lean on the code under test for the comparison.
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(13, '0');
  const fraction = digits.slice(-12).replace(/0+$/, '');
  return `${negative ? '-' : ''}${digits.slice(0, -12)}${fraction === '' ? '' : `.${fraction}`}`;
}

function byName(allocations: readonly OpenCostAllocation[], name: string): OpenCostAllocation {
  const found = allocations.find((a) => a.name === name);
  assert.ok(found !== undefined, `no allocation ${name}`);
  return found;
}

function linesOf(lines: readonly BilledLine[], project: string, start?: number): BilledLine[] {
  return lines.filter((l) => l.project === project && (start === undefined || l.periodStart === start));
}

describe('parseOpenCostAllocations: the documentation example', () => {
  const notes = emptyNotes();
  const steps = parseOpenCostAllocations(parseJson(DOCS), { aggregate: 'namespace' }, notes);

  it('reads one set of three namespaces over the 7-day window', () => {
    assert.equal(steps.length, 1);
    assert.deepEqual(
      steps[0]!.map((a) => [a.name, a.kind, a.step]),
      [
        ['kube-system', 'allocated', 0],
        ['opencost', 'allocated', 0],
        ['prometheus', 'allocated', 0],
      ],
    );
    const opencost = byName(steps[0]!, 'opencost');
    assert.equal(opencost.windowStart, Date.UTC(2023, 6, 12, 11, 2, 46) / 1000);
    assert.equal(opencost.windowEnd, Date.UTC(2023, 6, 19, 11, 2, 46) / 1000);
    assert.equal(opencost.cluster, 'default-cluster');
    assert.equal(opencost.namespace, 'opencost');
    assert.equal(opencost.node, 'ip-192-168-20-42.ap-southeast-2.compute.internal');
    assert.equal(opencost.controller, 'opencost');
    assert.equal(opencost.controllerKind, 'deployment');
    assert.equal(opencost.pod, '');
    assert.equal(opencost.labels.size, 0);
    assert.equal(notes.rounded, 0);
  });

  it('keeps totalCost as written and the parts as written, the difference as rounding', () => {
    const opencost = byName(steps[0]!, 'opencost');
    // 0.06359 + 0.04577 = 0.10936; OpenCost wrote totalCost 0.10937.
    assert.equal(opencost.costs.cpuCost, '0.06359');
    assert.equal(opencost.costs.ramCost, '0.04577');
    assert.equal(opencost.costs.gpuCost, '0');
    assert.equal(opencost.totalCost, '0.10937');
    assert.equal(opencost.rounding, '0.00001');
    assert.equal(opencost.quantities.cpuCoreHours, '3.35808');
    assert.equal(opencost.quantities.ramByteHours, '19365292575.77626');
    const kube = byName(steps[0]!, 'kube-system');
    assert.equal(kube.totalCost, '1.52743');
    assert.equal(kube.rounding, '0');
  });

  it('maps an allocation to billed lines that sum to its totalCost exactly', () => {
    const opencost = byName(steps[0]!, 'opencost');
    const lines = openCostBilledLines(opencost, { aggregate: 'namespace' });
    assert.deepEqual(
      lines.map((l) => [l.description, l.billedCost, l.quantity, l.unit]),
      [
        ['cpuCost', '0.06359', '3.35808', 'core-hours'],
        ['ramCost', '0.04577', '19365292575.77626', 'byte-hours'],
        ['rounding', '0.00001', '0', ''],
      ],
    );
    assert.equal(sum(lines.map((l) => l.billedCost)), '0.10937');
    for (const line of lines) {
      assert.equal(line.source, 'opencost');
      assert.equal(line.provider, 'opencost');
      assert.equal(line.account, 'default-cluster');
      assert.equal(line.project, 'opencost');
      assert.equal(line.service, 'namespace');
      assert.equal(line.kind, 'other');
      assert.equal(line.currency, 'USD');
      assert.equal(line.chargeCategory, 'Usage');
      assert.equal(line.periodStart, Date.UTC(2023, 6, 12, 11, 2, 46) / 1000);
    }
    const booked = openCostBilledLines(opencost, { account: 'prod-eu', currency: 'EUR' });
    assert.ok(booked.every((l) => l.account === 'prod-eu' && l.currency === 'EUR' && l.service === ''));
  });
});

describe('parseOpenCostAllocations: daily steps by namespace, with idle and unmounted cost', () => {
  const notes = emptyNotes();
  const steps = parseOpenCostAllocations(parseJson(DAILY), { aggregate: 'namespace' }, notes);

  it('reads each step with its own window', () => {
    assert.equal(steps.length, 2);
    assert.deepEqual(
      steps.map((s) => s.map((a) => `${a.name}:${a.kind}`)),
      [
        [
          '__idle__:idle',
          'kube-system:allocated',
          'ml-serving:allocated',
          'ml-training:allocated',
          'opencost:allocated',
        ],
        [
          '__idle__:idle',
          '__unmounted__:unmounted',
          'kube-system:allocated',
          'ml-serving:allocated',
          'ml-training:allocated',
          'opencost:allocated',
        ],
      ],
    );
    assert.ok(steps[0]!.every((a) => a.windowStart === D0 && a.windowEnd === D1));
    assert.ok(steps[1]!.every((a) => a.windowStart === D1 && a.windowEnd === D2 && a.step === 1));
  });

  it('reads GPU hours, idle and adjustments exactly', () => {
    const idle = byName(steps[0]!, '__idle__');
    assert.deepEqual([idle.costs.cpuCost, idle.costs.gpuCost, idle.costs.ramCost], ['9.52247', '117.6', '3.21042']);
    assert.equal(idle.quantities.gpuHours, '48');
    assert.equal(idle.totalCost, '130.33289');
    assert.equal(idle.cluster, 'gpu-cluster-1');
    const training = byName(steps[1]!, 'ml-training');
    assert.equal(training.controller, 'llama-finetune');
    assert.equal(training.controllerKind, 'job');
    assert.equal(training.costs.cpuCostAdjustment, '-0.25');
    assert.equal(training.costs.gpuCostAdjustment, '-1.66667');
    assert.equal(training.quantities.gpuHours, '64');
    assert.equal(training.quantities.pvByteHours, '25769803776000');
    // 16.18483 - 0.25 + 156.8 - 1.66667 + 0.0312 + 1.33333 + 6.16667 = 178.59936; totalCost 178.59937.
    assert.equal(training.totalCost, '178.59937');
    assert.equal(training.rounding, '0.00001');
    assert.equal(byName(steps[1]!, '__idle__').rounding, '-0.00001');
    assert.equal(byName(steps[1]!, 'kube-system').rounding, '-0.00001');
  });

  it('as a bill-import page: lines per component that sum to each step total, both days covered', () => {
    const pageNotes = emptyNotes();
    const page = parseOpenCostAllocationPage(parseJson(DAILY), { aggregate: 'namespace' }, pageNotes);
    assert.deepEqual(page.periods, [
      { start: D0, end: D1 },
      { start: D1, end: D2 },
    ]);
    assert.deepEqual(page.coveredAccounts, ['gpu-cluster-1']);
    assert.equal(page.hasMore, false);
    assert.deepEqual(pageNotes, { rounded: 0, empty: 0 });
    // The step totals: the sums of the allocations' totalCost as written.
    // Day 1: 130.33289 + 0.21821 + 126.70527 + 270.10808 + 0.01562
    assert.equal(sum(page.lines.filter((l) => l.periodStart === D0).map((l) => l.billedCost)), '527.38007');
    // Day 2: 86.8367 + 0.26667 + 0.21832 + 110.14308 + 178.59937 + 0.01562
    assert.equal(sum(page.lines.filter((l) => l.periodStart === D1).map((l) => l.billedCost)), '376.07976');
    assert.deepEqual(
      linesOf(page.lines, 'ml-training', D1).map((l) => [l.description, l.billedCost, l.quantity]),
      [
        ['cpuCost', '16.18483', '512'],
        ['cpuCostAdjustment', '-0.25', '0'],
        ['gpuCost', '156.8', '64'],
        ['gpuCostAdjustment', '-1.66667', '0'],
        ['networkCost', '0.0312', '0'],
        ['pvCost', '1.33333', '25769803776000'],
        ['ramCost', '6.16667', '4398046511104'],
        ['rounding', '0.00001', '0'],
      ],
    );
    assert.deepEqual(
      linesOf(page.lines, '__unmounted__').map((l) => [l.description, l.billedCost, l.unit]),
      [['pvCost', '0.26667', 'byte-hours']],
    );
    assert.ok(page.lines.every((l) => l.account === 'gpu-cluster-1' && l.service === 'namespace'));
  });
});

describe('parseOpenCostAllocations: label:team, unrounded floats of older versions', () => {
  it('rounds what has more than 12 decimals once, half to even, and counts it', () => {
    const notes = emptyNotes();
    const [step] = parseOpenCostAllocations(parseJson(LABELS), { aggregate: 'label:team' }, notes);
    assert.ok(step !== undefined);
    // 0.30000000000000004, 127.42247458799999, 0.08333333333333333, 0.18333333333333335,
    // 126.70526878909999, 1.3333333333333333, 270.1080813333333
    assert.equal(notes.rounded, 7);
    const idle = byName(step, '__idle__');
    assert.equal(idle.costs.ramCost, '0.3');
    assert.equal(idle.totalCost, '127.422474588');
    assert.equal(idle.rounding, '0');
    const unallocated = byName(step, '__unallocated__');
    assert.equal(unallocated.kind, 'unallocated');
    assert.equal(unallocated.costs.cpuCost, '0.083333333333');
    assert.equal(unallocated.totalCost, '0.183333333333');
    const chat = byName(step, 'chat');
    assert.equal(chat.labels.get('team'), 'chat');
    assert.equal(chat.labels.get('app'), 'vllm');
    assert.equal(chat.namespace, 'ml-serving');
    assert.equal(chat.totalCost, '126.7052687891');
    assert.equal(byName(step, 'search').totalCost, '270.108081333333');
  });

  it('refuses a report that is not aggregated as stated', () => {
    throwsBilling(
      () => parseOpenCostAllocations(parseJson(LABELS), { aggregate: 'namespace' }, emptyNotes()),
      'INVALID_VALUE',
      { field: 'data[0].chat.name', says: 'not aggregated by namespace' },
    );
    throwsBilling(
      () => parseOpenCostAllocations(parseJson(LABELS), { aggregate: 'label:app' }, emptyNotes()),
      'INVALID_VALUE',
      { field: 'data[0].chat.name', says: 'has label app "vllm"' },
    );
    // No allocation of the namespace report has a team label: nothing there contradicts label:team.
    assert.doesNotThrow(() => parseOpenCostAllocations(parseJson(DAILY), { aggregate: 'label:team' }, emptyNotes()));
  });
});

describe('parseOpenCostAllocations: what is not the documented format', () => {
  /** The docs example with one edit to the "opencost" allocation's text. */
  const edited = (from: string, to: string): string => {
    const at = DOCS.indexOf(from, DOCS.indexOf('"name": "opencost"'));
    assert.ok(at > 0, from);
    return DOCS.slice(0, at) + to + DOCS.slice(at + from.length);
  };
  const parse = (text: string): unknown =>
    parseOpenCostAllocations(
      parseJson(text, { file: 'alloc.json' }),
      { location: { file: 'alloc.json' } },
      emptyNotes(),
    );

  it('names the allocation whose totalCost is not the sum of its parts', () => {
    throwsBilling(() => parse(edited('"totalCost": 0.10937', '"totalCost": 0.11937')), 'INVALID_VALUE', {
      file: 'alloc.json',
      line: 117,
      field: 'data[0].opencost.totalCost',
      says: "totalCost 0.11937 is not the sum of the allocation's costs (0.10936): they differ by 0.01001",
    });
    // Within OpenCost's rounding (3 fields × 0.000005): accepted, kept as the rounding part.
    const steps = parseOpenCostAllocations(
      parseJson(edited('"totalCost": 0.10937', '"totalCost": 0.10935')),
      {},
      emptyNotes(),
    );
    assert.equal(byName(steps[0]!, 'opencost').rounding, '-0.00001');
  });

  it('refuses null amounts (NaN), strings, missing and out-of-range numbers', () => {
    throwsBilling(() => parse(edited('"totalCost": 0.10937', '"totalCost": null')), 'INVALID_VALUE', {
      field: 'data[0].opencost.totalCost',
      says: 'NaN or infinite',
    });
    throwsBilling(() => parse(edited('"cpuCost": 0.06359', '"cpuCost": "0.06359"')), 'INVALID_VALUE', {
      field: 'data[0].opencost.cpuCost',
      says: 'expected a number, got a string',
    });
    throwsBilling(() => parse(edited('"cpuCost": 0.06359,', '')), 'MISSING_FIELD', {
      field: 'data[0].opencost.cpuCost',
    });
    throwsBilling(() => parse(edited('"ramCost": 0.04577', '"ramCost": 1e40')), 'INVALID_VALUE', {
      field: 'data[0].opencost.ramCost',
      says: 'out of range',
    });
    throwsBilling(() => parse(edited('"gpuHours": 0', '"gpuHours": null')), 'INVALID_VALUE', {
      field: 'data[0].opencost.gpuHours',
    });
  });

  it('refuses open, reversed or unreadable windows', () => {
    throwsBilling(() => parse(edited('"start": "2023-07-12T11:02:46Z"', '"start": "null"')), 'INVALID_VALUE', {
      field: 'data[0].opencost.window.start',
      says: 'open window',
    });
    throwsBilling(
      () => parse(edited('"end": "2023-07-19T11:02:46Z"', '"end": "2023-07-12T11:02:46Z"')),
      'INVALID_VALUE',
      { field: 'data[0].opencost.window.end', says: 'does not end after it starts' },
    );
    throwsBilling(() => parse(edited('"start": "2023-07-12T11:02:46Z"', '"start": "last week"')), 'INVALID_VALUE', {
      field: 'data[0].opencost.window.start',
      says: 'not a time',
    });
  });

  it('refuses an allocation filed under another name, and envelopes that are not allocation responses', () => {
    throwsBilling(() => parse(edited('"name": "opencost"', '"name": "kubecost"')), 'INVALID_VALUE', {
      field: 'data[0].opencost.name',
      says: 'filed under "opencost" but named "kubecost"',
    });
    throwsBilling(
      () => parse('{"code": 500, "status": "error", "message": "Error: bad request: window", "data": null}'),
      'INVALID_FORMAT',
      { file: 'alloc.json', field: 'code', says: 'code 500: Error: bad request: window' },
    );
    throwsBilling(() => parse('{"code": 200, "status": "success"}'), 'MISSING_FIELD', { field: 'data' });
    throwsBilling(() => parse('{"code": 200, "data": [[]]}'), 'INVALID_VALUE', {
      field: 'data[0]',
      says: 'expected an object, got an array',
    });
    throwsBilling(() => parse('{"code": 200, "data": [{"x": 1}]}'), 'INVALID_VALUE', {
      field: 'data[0].x',
      says: 'expected an object, got a number',
    });
    throwsBilling(() => parse('[{"code": 200, "data": []}]'), 'INVALID_VALUE', { says: 'expected an object' });
    // Empty sets are allocations of nothing: nothing to import, nothing wrong.
    assert.deepEqual(parse('{"code": 200, "data": [{}, {}]}'), [[], []]);
  });

  it('leaves neither lines nor counts behind when a page fails', () => {
    const notes = emptyNotes();
    const bad = LABELS.replace('"totalCost": 270.1080813333333', '"totalCost": 271.1080813333333');
    throwsBilling(() => parseOpenCostAllocationPage(parseJson(bad), {}, notes), 'INVALID_VALUE', {
      field: 'data[0].search.totalCost',
    });
    assert.deepEqual(notes, { rounded: 0, empty: 0 });
  });
});

describe('OpenCost names and aggregates', () => {
  it('flags idle, shared, unallocated and unmounted allocations as OpenCost matches them', () => {
    assert.equal(openCostAllocationKind('__idle__'), 'idle');
    assert.equal(openCostAllocationKind('cluster-one/__idle__'), 'idle');
    assert.equal(openCostAllocationKind('__shared__'), 'shared');
    assert.equal(openCostAllocationKind('overhead/__shared__'), 'shared');
    assert.equal(openCostAllocationKind('__unallocated__'), 'unallocated');
    assert.equal(openCostAllocationKind('ml-serving/__unallocated__'), 'unallocated');
    assert.equal(openCostAllocationKind('__unmounted__'), 'unmounted');
    assert.equal(openCostAllocationKind('kube-system'), 'allocated');
    assert.equal(openCostAllocationKind('idle'), 'allocated');
  });

  it('checks aggregates as OpenCost parses them', () => {
    for (const ok of [
      'namespace',
      'controller',
      'pod',
      'label:team',
      'label:app.kubernetes.io/name',
      'namespace,label:app',
      'team',
    ]) {
      assert.equal(openCostAggregateProblem(ok), undefined, ok);
    }
    for (const bad of ['', 'namespaces', 'label:', 'label:a b', 'namespace,,pod', 'namespace;drop']) {
      assert.match(openCostAggregateProblem(bad) ?? '', /is not an OpenCost aggregate/, bad);
    }
    assert.equal(isOpenCostLabelAggregate('label:team'), true);
    assert.equal(isOpenCostLabelAggregate('team'), true);
    assert.equal(isOpenCostLabelAggregate('namespace'), false);
    assert.equal(isOpenCostLabelAggregate('namespace,label:team'), false);
  });
});
