// Checks GPU-time measurement on a real NVIDIA GPU: GpuSampler attributes measured GPU-seconds
// to the spans holding device 0 while a PyTorch workload (gpu-load.py) keeps it busy, and none
// while it idles; CostSpanProcessor prices the measured time. Prints one JSON document.
//   node bench/gpu/gpu-sampler-check.mjs [python3]
// Needs nvidia-smi and a Python with torch (CUDA). Exit 0 with "available": false elsewhere.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CostSpanProcessor, GpuSampler } from '@costtrace/otel';

const python = process.argv[2] ?? 'python3';
const loadScript = fileURLToPath(new URL('./gpu-load.py', import.meta.url));
const sampler = new GpuSampler({ intervalMs: 200 });
if (!(await sampler.start())) {
  process.stdout.write(`${JSON.stringify({ available: false, reason: sampler.reason })}\n`);
  process.exit(0);
}
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new CostSpanProcessor(), new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('gpu-check');
const fallback = { gpuType: 'unknown', count: 1 };

const runLoad = (seconds) =>
  new Promise((resolve, reject) => {
    const child = spawn(python, [loadScript, String(seconds)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gpu-load.py exited ${code}`))));
  });

const busy = tracer.startSpan('busy: 6 s of matmul');
await sampler.measure(busy, 0, fallback, () => runLoad(6));
busy.end();
const idle = tracer.startSpan('idle: 3 s');
await sampler.measure(idle, 0, fallback, () => new Promise((resolve) => setTimeout(resolve, 3000)));
idle.end();
await sampler.shutdown?.();
await provider.forceFlush();

const spans = exporter.getFinishedSpans().map((s) => ({
  name: s.name,
  wallSeconds: (s.duration[0] + s.duration[1] / 1e9).toFixed(3),
  attributes: Object.fromEntries(
    Object.entries(s.attributes).filter(([k]) => k.startsWith('costtrace.gpu') || k.startsWith('cost.')),
  ),
}));
process.stdout.write(`${JSON.stringify({ available: true, devices: sampler.devices(), spans }, null, 2)}\n`);
await provider.shutdown();
