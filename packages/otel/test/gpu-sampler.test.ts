import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GpuSampler } from '../src/index.js';
import { devicesOf, sampleGpus } from '../src/gpu/gpu-sampler.js';
import { gpuTypeFromName, parseComputeApps, parseGpuQuery, parseMigDevices } from '../src/gpu/nvidia-smi-parser.js';
import type { NvidiaSmiRunner } from '../src/gpu/gpu-sampler.js';

// Captured on an H100 host (driver 5xx), idle:
//   nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu,mig.mode.current,pci.bus_id --format=csv,noheader,nounits
//   nvidia-smi -L
const H100_QUERY =
  '0, GPU-1b0aec21-3046-7a4d-3718-326ff3c44da4, NVIDIA H100 80GB HBM3, 81559, 0, 0, Disabled, 00000000:00:06.0\n';
const H100_LIST = 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1b0aec21-3046-7a4d-3718-326ff3c44da4)\n';

// An 8×A100 node with GPU 0 in MIG mode (3g.20gb + 2g.10gb + 1g.5gb) and two busy GPUs.
const A100_QUERY = [
  '0, GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77, NVIDIA A100-SXM4-40GB, 40960, 2115, [N/A], Enabled, 00000000:07:00.0',
  '1, GPU-8f6c1b9e-11aa-4c6e-9d1e-2b9a0e1c7f21, NVIDIA A100-SXM4-40GB, 40960, 31245, 87, Disabled, 00000000:0F:00.0',
  '2, GPU-0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f, NVIDIA A100-SXM4-40GB, 40960, 4, 0, Disabled, 00000000:47:00.0',
  '',
].join('\n');
const A100_LIST = [
  'GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77)',
  '  MIG 3g.20gb     Device  0: (UUID: MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f)',
  '  MIG 2g.10gb     Device  1: (UUID: MIG-a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d)',
  '  MIG 1g.5gb      Device  2: (UUID: MIG-0f1e2d3c-4b5a-5968-8776-655443322110)',
  'GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-8f6c1b9e-11aa-4c6e-9d1e-2b9a0e1c7f21)',
  'GPU 2: NVIDIA A100-SXM4-40GB (UUID: GPU-0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f)',
  '',
].join('\n');
const A100_APPS = [
  'GPU-8f6c1b9e-11aa-4c6e-9d1e-2b9a0e1c7f21, 48213, python3, 31200',
  'GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77, 51022, /usr/bin/tritonserver, [N/A]',
  '',
].join('\n');

function runner(outputs: { query: string; list: string; apps?: string }): NvidiaSmiRunner {
  return (args) => {
    if (args[0]?.startsWith('--query-gpu')) return Promise.resolve(outputs.query);
    if (args[0] === '-L') return Promise.resolve(outputs.list);
    return Promise.resolve(outputs.apps ?? '');
  };
}

describe('nvidia-smi parsing', () => {
  it('parses a captured H100 query and names its SKU', () => {
    const [gpu] = parseGpuQuery(H100_QUERY);
    assert.deepEqual(gpu, {
      index: 0,
      uuid: 'GPU-1b0aec21-3046-7a4d-3718-326ff3c44da4',
      name: 'NVIDIA H100 80GB HBM3',
      gpuType: 'h100-80gb',
      memoryTotalMiB: 81559,
      memoryUsedMiB: 0,
      utilization: 0,
      migEnabled: false,
      pciBusId: '00000000:00:06.0',
    });
    assert.deepEqual(parseMigDevices(H100_LIST), []);
    assert.deepEqual(parseComputeApps(''), []);
  });

  it('parses a MIG node: [N/A] utilisation, MIG slices with their profile, compute apps', () => {
    const gpus = parseGpuQuery(A100_QUERY);
    assert.equal(gpus.length, 3);
    assert.equal(gpus[0]?.utilization, undefined);
    assert.equal(gpus[0]?.migEnabled, true);
    assert.equal(gpus[1]?.utilization, 0.87);
    assert.equal(gpus[1]?.gpuType, 'a100-40gb');
    const migs = parseMigDevices(A100_LIST);
    assert.deepEqual(
      migs.map((m) => [m.gpuIndex, m.profile, m.deviceIndex, m.uuid.slice(0, 12)]),
      [
        [0, '3g.20gb', 0, 'MIG-c6d4f1ef'],
        [0, '2g.10gb', 1, 'MIG-a1b2c3d4'],
        [0, '1g.5gb', 2, 'MIG-0f1e2d3c'],
      ],
    );
    const apps = parseComputeApps(A100_APPS);
    assert.deepEqual(apps[0], {
      gpuUuid: 'GPU-8f6c1b9e-11aa-4c6e-9d1e-2b9a0e1c7f21',
      pid: 48213,
      processName: 'python3',
      usedMemoryMiB: 31200,
    });
    assert.equal(apps[1]?.usedMemoryMiB, undefined);
  });

  it('derives priced SKUs from marketing names and memory', () => {
    assert.equal(gpuTypeFromName('NVIDIA A100 80GB PCIe', 81920), 'a100-80gb');
    assert.equal(gpuTypeFromName('NVIDIA L4', 23034), 'l4');
    assert.equal(gpuTypeFromName('Tesla T4', 15360), 't4');
    assert.equal(gpuTypeFromName('NVIDIA A10G', 23028), 'a10g');
    assert.equal(gpuTypeFromName('NVIDIA L40S', 46068), 'l40s');
    assert.equal(gpuTypeFromName('NVIDIA H200', 143771), 'h200');
    assert.equal(gpuTypeFromName('NVIDIA H100 NVL', 95830), 'h100-94gb');
    assert.equal(gpuTypeFromName('NVIDIA GeForce RTX 4090', 24564), 'geforce-rtx-4090');
  });

  it('lists whole GPUs, and MIG slices priced by their share instead of a MIG-enabled GPU', async () => {
    const sample = await sampleGpus(runner({ query: A100_QUERY, list: A100_LIST, apps: A100_APPS }));
    assert.equal(sample.available, true);
    const devices = devicesOf(sample);
    assert.deepEqual(
      devices.map((d) => [d.id, d.gpuType, d.share]),
      [
        ['0/0', 'a100-40gb', 3 / 7],
        ['0/1', 'a100-40gb', 2 / 7],
        ['0/2', 'a100-40gb', 1 / 7],
        ['1', 'a100-40gb', 1],
        ['2', 'a100-40gb', 1],
      ],
    );
  });
});

describe('GpuSampler', () => {
  it('finds the devices a process holds from the compute apps', async () => {
    const sampler = new GpuSampler({ runner: runner({ query: A100_QUERY, list: A100_LIST, apps: A100_APPS }) });
    assert.equal(await sampler.start(), true);
    assert.deepEqual(
      sampler.processDevices(48213).map((d) => d.id),
      ['1'],
    );
    // On a MIG GPU the app is listed against the parent GPU: every slice of it is a candidate.
    assert.deepEqual(
      sampler.processDevices(51022).map((d) => d.id),
      ['0/0', '0/1', '0/2'],
    );
    assert.deepEqual(sampler.processDevices(1), []);
    await sampler.shutdown();
  });

  it('falls back cleanly where nvidia-smi does not exist', async () => {
    const logs: string[] = [];
    const logger = { info: (m: string) => logs.push(m), warn() {}, error() {}, debug() {}, verbose() {} };
    const sampler = new GpuSampler({ nvidiaSmiPath: '/nonexistent/nvidia-smi', logger });
    assert.equal(await sampler.start(), false);
    assert.match(sampler.reason ?? '', /nvidia-smi not found/);
    assert.equal(logs.length, 1);
    // measure() falls back to wall time with the given descriptor.
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const span = provider.getTracer('t').startSpan('x');
    const value = await sampler.measure(span, 0, { gpuType: 'l4' }, () => 'done');
    span.end();
    assert.equal(value, 'done');
    assert.equal(exporter.getFinishedSpans()[0]?.attributes['costtrace.gpu.source'], 'timer');
    await sampler.shutdown();
    await sampler.shutdown();
  });

  it('splits measured device time among the spans holding it, weighted by utilisation', async () => {
    let now = 0n;
    const second = 1_000_000_000n;
    let util = '50';
    const query = () => `0, GPU-aaaa, NVIDIA H100 80GB HBM3, 81559, 4000, ${util}, Disabled, 00000000:00:06.0\n`;
    const run: NvidiaSmiRunner = (args) =>
      Promise.resolve(args[0]?.startsWith('--query-gpu') ? query() : args[0] === '-L' ? '' : '');
    const sampler = new GpuSampler({ runner: run, nowNs: () => now, intervalMs: 100_000 });
    assert.equal(await sampler.start(), true);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('t');
    const a = tracer.startSpan('a');
    const b = tracer.startSpan('b');
    const ha = sampler.hold(a, 0);
    now = 1n * second; // a alone for 1 s at 50 %: 0.5
    const hb = sampler.hold(b, 'GPU-aaaa');
    util = '100';
    // nvidia-smi reports utilisation over the period just past, so the sample at 3 s prices
    // [1 s, 3 s] at 100 %: shared by two, 1 each.
    now = 3n * second;
    await (sampler as unknown as { tick(): Promise<void> }).tick();
    now = 4n * second; // 1 s shared at 100 %: 0.5 each
    assert.ok(ha !== undefined && hb !== undefined);
    sampler.release(ha);
    now = 5n * second; // b alone 1 s at 100 %: 1
    sampler.release(hb);
    a.end();
    b.end();
    const [sa, sb] = exporter.getFinishedSpans();
    assert.equal(sa?.attributes['costtrace.gpu.seconds'], 0.5 + 1 + 0.5);
    assert.equal(sb?.attributes['costtrace.gpu.seconds'], 1 + 0.5 + 1);
    // a held the device 4 s: busy 0.5 + 2 + 1 device-seconds.
    assert.equal(sa?.attributes['costtrace.gpu.utilization'], 3.5 / 4);
    assert.equal(sa?.attributes['costtrace.gpu.source'], 'sampler');
    assert.equal(sa?.attributes['costtrace.gpu.type'], 'h100-80gb');
    await sampler.shutdown();
  });
});
