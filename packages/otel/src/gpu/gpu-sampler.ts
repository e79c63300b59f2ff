import { execFile } from 'node:child_process';
import { diag } from '@opentelemetry/api';
import type { DiagLogger, Span } from '@opentelemetry/api';
import { GpuAttr } from '@costtrace/core';
import { invalidOption } from '../sdk-error.js';
import { migShare, migSlicesFor, recordGpuUsage, withGpu } from './gpu-usage.js';
import type { GpuDescriptor } from './gpu-usage.js';
import {
  APP_QUERY_FIELDS,
  GPU_QUERY_FIELDS,
  parseComputeApps,
  parseGpuQuery,
  parseMigDevices,
} from './nvidia-smi-parser.js';
import type { ComputeApp, GpuInfo, MigDeviceInfo } from './nvidia-smi-parser.js';

/** Runs nvidia-smi with arguments and resolves its stdout; rejects when it fails. */
export type NvidiaSmiRunner = (args: readonly string[]) => Promise<string>;

export interface GpuSamplerOptions {
  /** Sampling period. Default 1000 ms; at least 100. */
  readonly intervalMs?: number | undefined;
  /**
   * "utilized" (default): a span is charged device-seconds × measured utilisation, split among
   * the spans active on the device; idle device time is charged to nobody. "occupied": charged
   * device-seconds regardless of utilisation (what the cloud bills).
   */
  readonly mode?: 'utilized' | 'occupied' | undefined;
  /** Path of nvidia-smi. Default "nvidia-smi" on PATH. */
  readonly nvidiaSmiPath?: string | undefined;
  /** Per-run timeout. Default 2000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Replaces running nvidia-smi (tests, or an NVML binding). */
  readonly runner?: NvidiaSmiRunner | undefined;
  readonly logger?: DiagLogger | undefined;
  /** Monotonic clock in nanoseconds (tests). */
  readonly nowNs?: (() => bigint) | undefined;
}

/** A device spans can hold: a whole GPU or a MIG slice. */
export interface SampledDevice {
  /** "0", or "0/1" for MIG device 1 of GPU 0; also matchable by UUID. */
  readonly id: string;
  readonly uuid: string;
  readonly gpuType: string;
  /** Fraction of the physical GPU (MIG slice share; 1 for a whole GPU). */
  readonly share: number;
  /** Last measured utilisation 0..1, undefined when the driver does not report it. */
  readonly utilization: number | undefined;
  readonly mig: MigDeviceInfo | undefined;
}

export interface GpuSample {
  readonly available: boolean;
  readonly reason?: string | undefined;
  readonly gpus: readonly GpuInfo[];
  readonly migDevices: readonly MigDeviceInfo[];
  readonly processes: readonly ComputeApp[];
}

interface Hold {
  readonly span: Span;
  readonly device: SampledDevice;
  readonly startedNs: bigint;
  /** Accrued device-seconds × 10^9 (attributed nanoseconds). */
  accruedNs: number;
  /** Device nanoseconds × utilisation while held, not split: for the mean utilisation. */
  busyNs: number;
  markNs: bigint;
}

/** Runs nvidia-smi once and parses what it says; never throws (unavailable is a result). */
export async function sampleGpus(run: NvidiaSmiRunner = defaultRunner('nvidia-smi', 2000)): Promise<GpuSample> {
  try {
    const [gpuOut, listOut, appsOut] = await Promise.all([
      run([`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits']),
      run(['-L']),
      run([`--query-compute-apps=${APP_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits']).catch(() => ''),
    ]);
    const gpus = parseGpuQuery(gpuOut);
    if (gpus.length === 0)
      return { available: false, reason: 'nvidia-smi lists no GPU', gpus, migDevices: [], processes: [] };
    return { available: true, gpus, migDevices: parseMigDevices(listOut), processes: parseComputeApps(appsOut) };
  } catch (err) {
    return { available: false, reason: describe(err), gpus: [], migDevices: [], processes: [] };
  }
}

/** The devices of a sample: whole GPUs, and on MIG-enabled GPUs each MIG slice instead. */
export function devicesOf(sample: GpuSample): SampledDevice[] {
  const devices: SampledDevice[] = [];
  for (const gpu of sample.gpus) {
    const slices = sample.migDevices.filter((m) => m.gpuIndex === gpu.index);
    if (gpu.migEnabled && slices.length > 0) {
      for (const mig of slices) {
        devices.push({
          id: `${gpu.index}/${mig.deviceIndex}`,
          uuid: mig.uuid,
          gpuType: gpu.gpuType,
          share: migShare(mig.profile, migSlicesFor(gpu.name)),
          // Per-slice utilisation is not reported by nvidia-smi: the slice counts as busy while held.
          utilization: undefined,
          mig,
        });
      }
    } else {
      devices.push({
        id: String(gpu.index),
        uuid: gpu.uuid,
        gpuType: gpu.gpuType,
        share: 1,
        utilization: gpu.utilization,
        mig: undefined,
      });
    }
  }
  return devices;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'nvidia-smi not found (no NVIDIA driver on this host)' : err.message;
  }
  return String(err);
}

function defaultRunner(path: string, timeoutMs: number): NvidiaSmiRunner {
  return (args) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        path,
        [...args],
        { encoding: 'utf8', timeout: timeoutMs, windowsHide: true, maxBuffer: 1 << 20 },
        (err: Error | null, stdout: string) => {
          if (err !== null) reject(err);
          else resolve(stdout);
        },
      );
    });
}

/**
 * Samples GPU utilisation with nvidia-smi and attributes measured GPU-seconds to the spans that
 * hold each device. A span holds a device between `hold` and `release` (or for the duration of
 * `measure`); every sample period the device's measured seconds are split equally among the
 * spans holding it; release stamps `costtrace.gpu.seconds` (× MIG share) with
 * `costtrace.gpu.source=sampler` and the mean utilisation.
 *
 * Where no GPU or no nvidia-smi exists, `start()` resolves false, logs once, and `measure`
 * falls back to wall-time (`withGpu` semantics) with the descriptor it is given.
 * The timer is unref'd, one nvidia-smi runs at a time, and `shutdown()` is idempotent.
 */
export class GpuSampler {
  private readonly intervalMs: number;
  private readonly mode: 'utilized' | 'occupied';
  private readonly run: NvidiaSmiRunner;
  private readonly logger: DiagLogger;
  private readonly nowNs: () => bigint;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private devicesById = new Map<string, SampledDevice>();
  private lastSample: GpuSample | undefined;
  private readonly holds = new Map<string, Set<Hold>>();
  private state: 'new' | 'running' | 'unavailable' | 'stopped' = 'new';
  private failures = 0;
  private warned = false;
  private unavailableReason: string | undefined;

  constructor(options: GpuSamplerOptions = {}) {
    const interval = options.intervalMs ?? 1000;
    if (!Number.isFinite(interval) || interval < 100) {
      throw invalidOption('GpuSampler.intervalMs', `is ${interval}`, 'use at least 100 ms');
    }
    const mode = options.mode ?? 'utilized';
    if (mode !== 'utilized' && mode !== 'occupied') {
      throw invalidOption('GpuSampler.mode', `is ${JSON.stringify(mode)}`, "use 'utilized' or 'occupied'");
    }
    this.intervalMs = interval;
    this.mode = mode;
    this.run = options.runner ?? defaultRunner(options.nvidiaSmiPath ?? 'nvidia-smi', options.timeoutMs ?? 2000);
    this.logger = options.logger ?? diag;
    this.nowNs = options.nowNs ?? (() => process.hrtime.bigint());
  }

  /** Probes the GPUs and starts sampling. Resolves false (after one log line) where there are none. */
  async start(): Promise<boolean> {
    if (this.state === 'running') return true;
    if (this.state === 'stopped') return false;
    const sample = await sampleGpus(this.run);
    if (!sample.available) {
      this.state = 'unavailable';
      this.unavailableReason = sample.reason;
      this.logger.info(`costtrace: GPU sampler off (${sample.reason ?? 'no GPU'}); GPU time falls back to timers`);
      return false;
    }
    this.apply(sample);
    this.state = 'running';
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    return true;
  }

  get available(): boolean {
    return this.state === 'running';
  }

  get reason(): string | undefined {
    return this.unavailableReason;
  }

  devices(): SampledDevice[] {
    return [...this.devicesById.values()];
  }

  /** Finds a device by id ("0", "0/1"), GPU UUID or MIG UUID. */
  device(idOrUuid: string | number): SampledDevice | undefined {
    const key = String(idOrUuid);
    const direct = this.devicesById.get(key);
    if (direct !== undefined) return direct;
    for (const d of this.devicesById.values()) if (d.uuid === key) return d;
    return undefined;
  }

  /** Starts attributing a device's measured time to `span`; undefined when there is no such device. */
  hold(span: Span, device: string | number): object | undefined {
    const found = this.available ? this.device(device) : undefined;
    if (found === undefined) return undefined;
    const now = this.nowNs();
    const hold: Hold = { span, device: found, startedNs: now, accruedNs: 0, busyNs: 0, markNs: now };
    let set = this.holds.get(found.id);
    if (set === undefined) this.holds.set(found.id, (set = new Set()));
    this.accrue(found.id, now); // earlier holders accrue up to now at the old split
    set.add(hold);
    return hold;
  }

  /** Stops attributing and stamps the measured GPU-seconds on the span. */
  release(handle: object): void {
    const hold = handle as Hold;
    const set = this.holds.get(hold.device.id);
    if (set === undefined || !set.has(hold)) return;
    const now = this.nowNs();
    this.accrue(hold.device.id, now);
    set.delete(hold);
    const seconds = hold.accruedNs / 1e9;
    const wall = Number(now - hold.startedNs) / 1e9;
    recordGpuUsage(hold.span, {
      gpuType: hold.device.gpuType,
      share: hold.device.share,
      seconds,
      source: 'sampler',
    });
    if (wall > 0) hold.span.setAttribute(GpuAttr.utilization, Math.min(1, hold.busyNs / 1e9 / wall));
  }

  /**
   * Runs `fn` holding `device`; where the sampler is off or the device unknown, falls back to
   * wall-time with `fallback` (like withGpu).
   */
  async measure<T>(span: Span, device: string | number, fallback: GpuDescriptor, fn: () => Promise<T> | T): Promise<T> {
    const handle = this.hold(span, device);
    if (handle === undefined) {
      return withGpu(span, fallback, fn);
    }
    try {
      return await fn();
    } finally {
      this.release(handle);
    }
  }

  /** Attributes time since each hold's last mark at the device's current split and utilisation. */
  private accrue(deviceId: string, now: bigint): void {
    const set = this.holds.get(deviceId);
    if (set === undefined || set.size === 0) return;
    const device = this.devicesById.get(deviceId);
    const factor = this.mode === 'occupied' ? 1 : (device?.utilization ?? 1);
    const n = set.size;
    for (const hold of set) {
      const dt = Number(now - hold.markNs);
      if (dt > 0) {
        hold.accruedNs += (dt * factor) / n;
        hold.busyNs += dt * factor;
      }
      hold.markNs = now;
    }
  }

  /** One sample; the returned promise settles when it has been applied (tests await it). */
  private tick(): Promise<void> {
    if (this.inFlight || this.state !== 'running') return Promise.resolve();
    this.inFlight = true;
    return sampleGpus(this.run)
      .then((sample) => {
        if (this.state !== 'running') return;
        if (!sample.available) {
          this.failures += 1;
          if (!this.warned) {
            this.warned = true;
            this.logger.warn(
              `costtrace: nvidia-smi sample failed (${sample.reason ?? '?'}); further failures only counted`,
            );
          }
          return;
        }
        this.lastSample = sample;
        const now = this.nowNs();
        // Time up to this sample is attributed at the utilisation measured over it.
        const next = new Map(devicesOf(sample).map((d) => [d.id, d]));
        for (const [id, device] of next) {
          this.devicesById.set(id, device);
          this.accrue(id, now);
        }
      })
      .catch((err: unknown) => {
        this.failures += 1;
        this.logger.warn('costtrace: GPU sampler failed', err);
      })
      .finally(() => {
        this.inFlight = false;
      });
  }

  private apply(sample: GpuSample): void {
    this.lastSample = sample;
    this.devicesById = new Map(devicesOf(sample).map((d) => [d.id, d]));
  }

  /**
   * The devices a process has a CUDA context on (default: this one), from the last sample's
   * compute apps: what to `hold` when the code does not know its device index.
   */
  processDevices(pid: number = process.pid): SampledDevice[] {
    const sample = this.lastSample;
    if (sample === undefined) return [];
    const uuids = new Set(sample.processes.filter((p) => p.pid === pid).map((p) => p.gpuUuid));
    return devicesOf(sample).filter((d) => uuids.has(d.uuid) || (d.mig !== undefined && uuids.has(d.mig.parentUuid)));
  }

  stats(): { failures: number; holds: number } {
    let holds = 0;
    for (const set of this.holds.values()) holds += set.size;
    return { failures: this.failures, holds };
  }

  /** Stops sampling. Idempotent. */
  shutdown(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.state = 'stopped';
    return Promise.resolve();
  }
}
