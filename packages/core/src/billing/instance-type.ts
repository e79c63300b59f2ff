/** An instance (VM, machine) type named in a bill, and whether it is a GPU or ML-accelerator type. */
export interface InstanceType {
  /** As written in the bill: 'p4d.24xlarge', 'Standard_ND96asr_v4', 'a3-highgpu-8g'. */
  readonly name: string;
  readonly gpu: boolean;
}

/**
 * AWS: family, generation, attributes, then a size ("p4d.24xlarge", "g6e.xlarge",
 * "p6-b200.48xlarge", "m7i-flex.large"), optionally with SageMaker's `ml.` (or RDS `db.`,
 * ElastiCache `cache.`) prefix. Usage types embed them after a colon ("USE1-BoxUsage:p5.48xlarge").
 */
const AWS =
  /(?<![A-Za-z0-9.])((?:ml\.|db\.|cache\.)?[a-z]{1,4}\d+[a-z0-9]*(?:-[a-z0-9]+)*\.(?:nano|micro|small|medium|\d*xlarge|large|metal(?:-\d+xl)?))(?![A-Za-z0-9])/g;
/**
 * Every AWS family of GPU or ML-accelerator instances starts with one of these: p (NVIDIA
 * training), g (graphics/inference GPUs: g4dn, g4ad, g5, g5g, g6, g6e), gr6, trn (Trainium), inf
 * (Inferentia), dl (Gaudi). No CPU family does (Graviton's "g" is a suffix: m6g).
 */
const AWS_GPU_FAMILY = /^(?:ml\.)?(?:p\d|g\d|gr\d|trn\d|inf\d|dl\d)[a-z0-9-]*\./;

/** Azure VM sizes as ARM names them: "Standard_ND96asr_v4", "Standard_D4s_v3" (Azure also lower-cases them). */
const AZURE =
  /(?<![A-Za-z0-9])((?:Standard|Basic)_[A-Z]{1,4}\d+[A-Za-z0-9-]*(?:_[A-Za-z0-9-]+)*|standard_[a-z]{1,4}\d+[a-z0-9-]*(?:_[a-z0-9-]+)*)/g;
/** Azure's N series (NC, ND, NV; NG for AMD GPUs) are its GPU sizes. */
const AZURE_GPU = /^standard_n[cdvg]/i;

/**
 * GCP machine types: series, then a shape and a size ("a2-highgpu-1g", "a3-megagpu-8g",
 * "g2-standard-4", "n2-standard-8"), or a shared-core type ("e2-medium"); also inside GKE node
 * pool names ("gke-train-a3-highgpu-8g-pool").
 */
const GCP =
  /(?<![A-Za-z0-9])([a-z]{1,2}\d[a-z]{0,2}-(?:standard|highgpu|ultragpu|megagpu|edgegpu|highmem|highcpu|ultramem|megamem|hypermem|custom)(?:-\d+g?)?(?:-lssd)?|(?:e2|f1|g1)-(?:micro|small|medium))(?![A-Za-z0-9])/g;
/** GCP's accelerator-optimized series: A2/A3/A4 (NVIDIA A100/H100/B200…), G2/G4 (L4, RTX). g1 is a CPU type. */
const GCP_GPU = /^(?:a\d+x?|g[2-9])-/;

/** Whether an instance type name is of a known GPU (or ML accelerator) family. */
export function isGpuInstanceType(name: string): boolean {
  return AWS_GPU_FAMILY.test(name) || AZURE_GPU.test(name) || GCP_GPU.test(name);
}

/**
 * The instance type a bill's text names: in a description ("$32.7726 per On Demand Linux
 * p4d.24xlarge Instance Hour"), a usage type, a SKU, a resource name, a tags or details JSON
 * cell. When the text names several, the first GPU type wins, else the first other one.
 */
export function findInstanceType(text: string | undefined): InstanceType | undefined {
  if (text === undefined || text === '') return undefined;
  let found: InstanceType | undefined;
  for (const pattern of [AWS, AZURE, GCP]) {
    for (const match of text.matchAll(pattern)) {
      const name = match[1] ?? '';
      const type = { name, gpu: isGpuInstanceType(name) };
      if (type.gpu) return type;
      found ??= type;
    }
  }
  return found;
}

/**
 * The instance type named by any of several texts, searched in order: the first GPU type found
 * in any of them, else the first type found.
 */
export function findInstanceTypeIn(texts: Iterable<string | undefined>): InstanceType | undefined {
  let found: InstanceType | undefined;
  for (const text of texts) {
    const type = findInstanceType(text);
    if (type?.gpu === true) return type;
    found ??= type;
  }
  return found;
}
