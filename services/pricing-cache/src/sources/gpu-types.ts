/**
 * Canonical GPU type names ("h100-80gb", "a100-40gb", "l4") and how cloud catalogs spell them.
 * Reference GPU-hour rates, instance prices and usage all use the canonical names.
 */
export interface GpuSpec {
  readonly gpuType: string;
  readonly count: number;
}

/** AWS instance families with GPUs: family → GPU type. Count comes from the offer's `gpu`. */
const AWS_FAMILIES: Readonly<Record<string, string>> = {
  p5: 'h100-80gb',
  p5e: 'h200',
  p5en: 'h200',
  p4d: 'a100-40gb',
  p4de: 'a100-80gb',
  p3: 'v100',
  p3dn: 'v100',
  g6: 'l4',
  g6e: 'l40s',
  g5: 'a10g',
  g4dn: 't4',
};

export function awsInstanceGpu(instanceType: string, gpuCount: string | undefined): GpuSpec | undefined {
  const family = instanceType.toLowerCase().split('.')[0] ?? '';
  const gpuType = AWS_FAMILIES[family];
  const count = Number(gpuCount ?? '0');
  if (gpuType === undefined || !Number.isInteger(count) || count <= 0) return undefined;
  return { gpuType, count };
}

/** Azure VM sizes: armSkuName patterns → GPU type and count. */
const AZURE_SIZES: readonly (readonly [RegExp, string, (m: RegExpExecArray) => number])[] = [
  [/^Standard_ND96is?r_H200_v5$/i, 'h200', () => 8],
  [/^Standard_ND96is?r_H100_v5$/i, 'h100-80gb', () => 8],
  [/^Standard_NC(\d+)ads_H100_v5$/i, 'h100-94gb', (m) => Number(m[1]) / 40],
  [/^Standard_ND96amsr_A100_v4$/i, 'a100-80gb', () => 8],
  [/^Standard_ND96asr_v4$/i, 'a100-40gb', () => 8],
  [/^Standard_NC(\d+)ads_A100_v4$/i, 'a100-80gb', (m) => Number(m[1]) / 24],
  [/^Standard_NC(\d+)as_T4_v3$/i, 't4', (m) => ({ 4: 1, 8: 1, 16: 1, 64: 4 })[Number(m[1])] ?? 0],
  [/^Standard_NC(\d+)s_v3$/i, 'v100', (m) => Number(m[1]) / 6],
  [/^Standard_NV(\d+)ads_A10_v5$/i, 'a10', (m) => (Number(m[1]) === 36 ? 1 : Number(m[1]) === 72 ? 2 : 0)],
];

export function azureVmGpu(armSkuName: string): GpuSpec | undefined {
  for (const [pattern, gpuType, count] of AZURE_SIZES) {
    const match = pattern.exec(armSkuName);
    if (match === null) continue;
    const n = count(match);
    return Number.isInteger(n) && n > 0 ? { gpuType, count: n } : undefined;
  }
  return undefined;
}

/** GCP GPU SKU descriptions ("Nvidia H100 80GB GPU running in Americas") → GPU type. */
const GCP_GPUS: readonly (readonly [RegExp, string])[] = [
  [/\bH200\b/i, 'h200'],
  [/\bH100 80GB Mega\b/i, 'h100-80gb'],
  [/\bH100 80GB\b/i, 'h100-80gb'],
  [/\bA100 80GB\b/i, 'a100-80gb'],
  [/\bTesla A100\b|\bA100\b/i, 'a100-40gb'],
  [/\bL4\b/i, 'l4'],
  [/\bTesla T4\b/i, 't4'],
  [/\bTesla V100\b/i, 'v100'],
  [/\bTesla P100\b/i, 'p100'],
  [/\bTesla P4\b/i, 'p4'],
];

export function gcpGpuFromDescription(description: string): string | undefined {
  if (!/\bGPU\b/i.test(description) || /\bworkstation\b|\bvirtual workstation\b/i.test(description)) return undefined;
  for (const [pattern, gpuType] of GCP_GPUS) if (pattern.test(description)) return gpuType;
  return undefined;
}
