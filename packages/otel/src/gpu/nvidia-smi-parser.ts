/**
 * Parsers for nvidia-smi output (nvidia-smi is NVML's command-line front end, installed with
 * every NVIDIA driver). Pure functions so they are tested against captured output.
 */

/** Fields asked of `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`, in order. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'mig.mode.current',
  'pci.bus_id',
] as const;

/** Fields asked of `nvidia-smi --query-compute-apps=… --format=csv,noheader,nounits`. */
export const APP_QUERY_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

export interface GpuInfo {
  readonly index: number;
  readonly uuid: string;
  readonly name: string;
  /** Priced SKU derived from the name and memory, e.g. "h100-80gb". */
  readonly gpuType: string;
  readonly memoryTotalMiB: number | undefined;
  readonly memoryUsedMiB: number | undefined;
  /** 0..1; undefined where the driver reports [N/A] (MIG-enabled GPUs, some vGPUs). */
  readonly utilization: number | undefined;
  readonly migEnabled: boolean;
  readonly pciBusId: string;
}

export interface MigDeviceInfo {
  /** Index of the parent GPU. */
  readonly gpuIndex: number;
  readonly parentUuid: string;
  /** "3g.40gb". */
  readonly profile: string;
  readonly deviceIndex: number;
  /** "MIG-…": what CUDA_VISIBLE_DEVICES names. */
  readonly uuid: string;
}

export interface ComputeApp {
  readonly gpuUuid: string;
  readonly pid: number;
  readonly processName: string;
  readonly usedMemoryMiB: number | undefined;
}

function cells(line: string): string[] {
  return line.split(',').map((c) => c.trim());
}

/** nvidia-smi prints "[N/A]", "[Not Supported]", "N/A" or "[Unknown Error]" for missing values. */
function number(cell: string | undefined): number | undefined {
  if (cell === undefined || cell === '' || cell.startsWith('[') || cell === 'N/A') return undefined;
  const value = Number(cell);
  return Number.isFinite(value) ? value : undefined;
}

const MODELS = [
  'gh200',
  'h200',
  'h100',
  'h800',
  'b200',
  'b100',
  'a100',
  'a800',
  'l40s',
  'l40',
  'a10g',
  'a10',
  'a30',
  'a40',
  'l4',
  't4',
  'v100',
  'p100',
  'k80',
];
const STANDARD_GB = [8, 12, 16, 24, 32, 40, 48, 64, 80, 94, 96, 141, 180, 192];

/** Families sold with several memory sizes: their SKU carries the size ("a100-40gb"). */
const SIZED = new Set(['h100', 'a100', 'a800', 'h800']);

/**
 * Priced SKU of a GPU, as pricing-cache's catalogs name them: the model family, plus the memory
 * for families sold in several sizes. "NVIDIA H100 80GB HBM3" → "h100-80gb", "NVIDIA A100-SXM4-40GB"
 * → "a100-40gb", "NVIDIA H100 NVL" (95830 MiB) → "h100-94gb", "NVIDIA L4" → "l4".
 * Unknown models keep their lower-cased, dash-joined name.
 */
export function gpuTypeFromName(name: string, memoryTotalMiB: number | undefined): string {
  const lower = name
    .toLowerCase()
    .replace(/^(nvidia|tesla)\s+/, '')
    .replace(/^tesla\s+/, '');
  const model = MODELS.find((m) => new RegExp(`(^|[^a-z0-9])${m}([^a-z0-9]|$)`).test(lower));
  const named = /(\d+)\s*gb/.exec(lower);
  let gb: number | undefined = named?.[1] !== undefined ? Number(named[1]) : undefined;
  if (gb === undefined && memoryTotalMiB !== undefined) {
    const gib = memoryTotalMiB / 1024;
    gb = STANDARD_GB.reduce((best, size) => (Math.abs(size - gib) < Math.abs(best - gib) ? size : best));
  }
  if (model === undefined) return lower.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return gb === undefined || !SIZED.has(model) ? model : `${model}-${gb}gb`;
}

/** Parses `--query-gpu=<GPU_QUERY_FIELDS> --format=csv,noheader,nounits`. */
export function parseGpuQuery(output: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [index, uuid, name, total, used, util, mig, bus] = cells(line);
    const idx = number(index);
    if (idx === undefined || uuid === undefined || name === undefined) continue;
    const memoryTotalMiB = number(total);
    const utilization = number(util);
    gpus.push({
      index: idx,
      uuid,
      name,
      gpuType: gpuTypeFromName(name, memoryTotalMiB),
      memoryTotalMiB,
      memoryUsedMiB: number(used),
      utilization: utilization === undefined ? undefined : Math.min(1, Math.max(0, utilization / 100)),
      migEnabled: mig === 'Enabled',
      pciBusId: bus ?? '',
    });
  }
  return gpus;
}

/** Parses `nvidia-smi -L`: the GPUs and, on MIG-enabled ones, their MIG devices. */
export function parseMigDevices(output: string): MigDeviceInfo[] {
  const devices: MigDeviceInfo[] = [];
  let gpuIndex = -1;
  let parentUuid = '';
  for (const line of output.split(/\r?\n/)) {
    const gpu = /^GPU (\d+): .*\(UUID: (GPU-[0-9a-fA-F-]+)\)/.exec(line);
    if (gpu !== null) {
      gpuIndex = Number(gpu[1]);
      parentUuid = gpu[2] ?? '';
      continue;
    }
    const mig = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[0-9a-zA-Z/-]+)\)/.exec(line);
    if (mig !== null && gpuIndex >= 0) {
      devices.push({
        gpuIndex,
        parentUuid,
        profile: mig[1] ?? '',
        deviceIndex: Number(mig[2]),
        uuid: mig[3] ?? '',
      });
    }
  }
  return devices;
}

/** Parses `--query-compute-apps=<APP_QUERY_FIELDS> --format=csv,noheader,nounits`. */
export function parseComputeApps(output: string): ComputeApp[] {
  const apps: ComputeApp[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('No running')) continue;
    const [gpuUuid, pid, processName, used] = cells(line);
    const p = number(pid);
    if (gpuUuid === undefined || p === undefined) continue;
    apps.push({ gpuUuid, pid: p, processName: processName ?? '', usedMemoryMiB: number(used) });
  }
  return apps;
}
