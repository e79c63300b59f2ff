import { formatScaled, MONEY_SCALE, parseScaled } from '../money.js';
import type { BilledLine, ParseNotes } from './billed-line.js';
import { exactDecimal, utcSeconds } from './billed-line.js';
import { BillingImportError } from './billing-error.js';
import { jsonPath, JsonObjectReader } from './json-object-reader.js';
import type { JsonValue } from './lossless-json.js';
import { MAX_RESULTS_PER_PAGE, withPageNotes } from './report-page.js';
import type { BucketPeriod, ReportPageOptions, ReportPageResult } from './report-page.js';

/**
 * OpenCost's allocation API (`GET /allocation`, `/allocation/compute`): the cost of a Kubernetes
 * cluster per window step and aggregate (namespace, controller, pod, label…), read exactly.
 *
 * The response is `{ "code": 200, "status": "success", "data": [ set, … ] }`, one set per step of
 * the window, each set a map from the aggregate's value to an allocation (opencost
 * core/pkg/opencost/allocation_json.go: AllocationJSON). OpenCost computes in binary floats and
 * rounds every field on its own to 5 decimals before writing it (formatFloat64ForResponse), and
 * writes `totalCost` as the rounded float sum of the unrounded parts (Allocation.TotalCost: cpu,
 * gpu, ram, pv, network and load balancer costs with their adjustments, plus shared and external
 * cost). So the written parts may miss the written total by a few 0.00001 (the documentation's
 * own example: 0.06359 + 0.04577 = 0.10936, totalCost 0.10937).
 *
 * The rule here: the imported total of an allocation is its `totalCost` as written; every part is
 * kept as written; the difference is a part of its own (`rounding`), so the parts sum to the total
 * exactly. A difference larger than the per-field rounding can explain (0.000005 per non-zero
 * field and the total, plus a billionth of the amounts for older versions that wrote unrounded
 * floats) means the document is not what OpenCost writes: the import fails, naming the allocation.
 */

/** OpenCost's marker names (core/pkg/opencost/allocation.go), matched as OpenCost does: anywhere in the name. */
export const OPENCOST_IDLE = '__idle__';
export const OPENCOST_SHARED = '__shared__';
export const OPENCOST_UNALLOCATED = '__unallocated__';
export const OPENCOST_UNMOUNTED = '__unmounted__';

/**
 * What an allocation is: workload cost (`allocated`), the cluster's idle capacity (`__idle__`),
 * shared overhead not yet distributed (`__shared__`), cost of workloads without a value for the
 * aggregate (`__unallocated__`), or volumes and load balancers no pod mounts (`__unmounted__`).
 */
export type OpenCostAllocationKind = 'allocated' | 'idle' | 'shared' | 'unallocated' | 'unmounted';

/** The cost fields whose sum is `totalCost`, in the order OpenCost writes them. */
export const OPENCOST_COST_FIELDS = [
  'cpuCost',
  'cpuCostAdjustment',
  'gpuCost',
  'gpuCostAdjustment',
  'networkCost',
  'networkCostAdjustment',
  'loadBalancerCost',
  'loadBalancerCostAdjustment',
  'pvCost',
  'pvCostAdjustment',
  'ramCost',
  'ramCostAdjustment',
  'externalCost',
  'sharedCost',
] as const;
export type OpenCostCostField = (typeof OPENCOST_COST_FIELDS)[number];

/**
 * Cost fields every allocation must have: those of every OpenCost version's allocation JSON. The
 * others (adjustments, load balancer, shared, external) were added over time; absent, they are 0.
 */
const REQUIRED_COSTS: ReadonlySet<OpenCostCostField> = new Set([
  'cpuCost',
  'gpuCost',
  'ramCost',
  'pvCost',
  'networkCost',
]);

/** The quantity each resource's cost line carries, and its unit. */
const QUANTITY_OF: Readonly<Partial<Record<OpenCostCostField, { field: OpenCostQuantityField; unit: string }>>> = {
  cpuCost: { field: 'cpuCoreHours', unit: 'core-hours' },
  gpuCost: { field: 'gpuHours', unit: 'gpu-hours' },
  ramCost: { field: 'ramByteHours', unit: 'byte-hours' },
  pvCost: { field: 'pvByteHours', unit: 'byte-hours' },
};

export const OPENCOST_QUANTITY_FIELDS = ['cpuCoreHours', 'gpuHours', 'ramByteHours', 'pvByteHours'] as const;
export type OpenCostQuantityField = (typeof OPENCOST_QUANTITY_FIELDS)[number];

/** The `description` of the line that holds totalCost minus the sum of the written parts. */
export const OPENCOST_ROUNDING = 'rounding';

/** One allocation of one window step, exact. */
export interface OpenCostAllocation {
  /** The aggregate's value: a namespace, a label value, `__idle__`, `cluster-one/__idle__`… */
  readonly name: string;
  readonly kind: OpenCostAllocationKind;
  /** The step's window, unix seconds UTC (end exclusive). */
  readonly windowStart: number;
  readonly windowEnd: number;
  /** `properties` (each '' when OpenCost leaves it out: the aggregated allocations differ in it). */
  readonly cluster: string;
  readonly node: string;
  readonly namespace: string;
  readonly controllerKind: string;
  readonly controller: string;
  readonly pod: string;
  readonly container: string;
  readonly labels: ReadonlyMap<string, string>;
  /** Every cost field, exact decimal ('0' when absent). */
  readonly costs: Readonly<Record<OpenCostCostField, string>>;
  /** totalCost minus the sum of `costs`: OpenCost's rounding of each field (see the module note). */
  readonly rounding: string;
  /** totalCost as written: what the allocation's lines sum to. */
  readonly totalCost: string;
  /** Resource time, exact decimal ('0' when absent). */
  readonly quantities: Readonly<Record<OpenCostQuantityField, string>>;
  /** 0-based index of the step in `data`. */
  readonly step: number;
}

export interface OpenCostReportOptions {
  /** The file or URL, named in errors; `field` a path prefix, as for the other report pages. */
  readonly location?: ReportPageOptions['location'];
  /**
   * What the report was aggregated by (the `aggregate` query parameter), checked against the
   * allocations where they say: a namespace report's allocation is named after its namespace.
   */
  readonly aggregate?: string | undefined;
}

/** Most allocations one report may hold (all its steps together): a guard. */
export const MAX_OPENCOST_ALLOCATIONS = MAX_RESULTS_PER_PAGE;
/** Longest allocation name and property read (multi-aggregate keys join several names with '/'). */
const MAX_NAME_LENGTH = 1024;

/** OpenCost's aggregation properties (opencost core/pkg/opencost/allocationprops.go: ParseProperty). */
const AGGREGATE_FIELD =
  /^(?:cluster|node|namespace|controllerKind|controller|service|pod|container|providerID|deployment|daemonset|statefulset|job|department|environment|owner|product|team|(?:label|annotation):[\w./-]{1,253})$/;
/** The aggregates whose values are label values (label:NAME, and the label-config names). */
const LABEL_AGGREGATE = /^(?:label:[\w./-]{1,253}|department|environment|owner|product|team)$/;

/**
 * Checks an `aggregate` as OpenCost takes it: a comma list of cluster, node, namespace,
 * controllerKind, controller, service, pod, container, providerID, deployment, daemonset,
 * statefulset, job, label:NAME, annotation:NAME, and the label-config names department,
 * environment, owner, product and team. Returns the problem, or undefined.
 */
export function openCostAggregateProblem(aggregate: string): string | undefined {
  const fields = aggregate.split(',');
  if (aggregate.length > 1000 || fields.some((f) => !AGGREGATE_FIELD.test(f))) {
    return `${JSON.stringify(aggregate.slice(0, 80))} is not an OpenCost aggregate (namespace, controller, pod, label:NAME, … or a comma list of them)`;
  }
  return undefined;
}

/**
 * Whether the report's allocation names are label values (`label:team`, or OpenCost's `team`,
 * `department`… label-config aggregates): then they can name a team or tenant as they are.
 */
export function isOpenCostLabelAggregate(aggregate: string): boolean {
  return LABEL_AGGREGATE.test(aggregate);
}

/** What an allocation's name says it is (OpenCost matches the markers anywhere in the name). */
export function openCostAllocationKind(name: string): OpenCostAllocationKind {
  if (name.includes(OPENCOST_IDLE)) return 'idle';
  if (name.includes(OPENCOST_SHARED)) return 'shared';
  if (name.includes(OPENCOST_UNMOUNTED)) return 'unmounted';
  if (name.includes(OPENCOST_UNALLOCATED)) return 'unallocated';
  return 'allocated';
}

/**
 * Reads one OpenCost allocation response (see the module note): every step and allocation,
 * exact, in the order of the document. All or nothing: anything that is not the documented
 * format throws a BillingImportError naming the file, line and JSON path; an error response
 * (`code` other than 200) is INVALID_FORMAT with OpenCost's message.
 */
export function parseOpenCostAllocations(
  page: JsonValue,
  options: OpenCostReportOptions,
  notes: ParseNotes,
): OpenCostAllocation[][] {
  return withPageNotes(notes, (local) => readResponse(page, options, local));
}

function readResponse(page: JsonValue, options: OpenCostReportOptions, notes: ParseNotes): OpenCostAllocation[][] {
  const root = JsonObjectReader.root(page, options.location);
  const code = root.count('code');
  if (code !== 200n) {
    const message = root.optional('message');
    throw new BillingImportError(
      'INVALID_FORMAT',
      `OpenCost answered with an error (code ${code}${typeof message === 'string' ? `: ${message.slice(0, 300)}` : ''}), not allocations`,
      root.where('code'),
    );
  }
  const data = root.array('data');
  const steps: JsonObjectReader[] = [];
  let count = 0;
  for (let index = 0; index < data.length; index++) {
    const site = { file: root.site.file, line: data.lineOf(index), path: jsonPath(root.siteOf('data').path, index) };
    const set = JsonObjectReader.at(data.at(index) ?? null, site);
    count += set.node.size;
    if (count > MAX_OPENCOST_ALLOCATIONS) {
      throw new BillingImportError(
        'TOO_LARGE',
        `the report holds more than ${MAX_OPENCOST_ALLOCATIONS} allocations (fetch a shorter window or a coarser aggregate)`,
        root.where('data'),
      );
    }
    steps.push(set);
  }
  return steps.map((set, step) => {
    const allocations: OpenCostAllocation[] = [];
    for (const key of set.node.keys()) allocations.push(readAllocation(set, key, step, options.aggregate, notes));
    return allocations;
  });
}

function readAllocation(
  set: JsonObjectReader,
  key: string,
  step: number,
  aggregate: string | undefined,
  notes: ParseNotes,
): OpenCostAllocation {
  const allocation = set.object(key);
  const name = allocation.string('name');
  if (name !== key) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `the allocation is filed under ${JSON.stringify(key.slice(0, 80))} but named ${JSON.stringify(name.slice(0, 80))} (OpenCost files each allocation under its name)`,
      allocation.where('name'),
    );
  }
  if (name === '' || name.length > MAX_NAME_LENGTH) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `expected an allocation name of 1 to ${MAX_NAME_LENGTH} characters`,
      allocation.where('name'),
    );
  }
  const window = allocation.object('window');
  const windowStart = windowTime(window, 'start');
  const windowEnd = windowTime(window, 'end');
  if (windowEnd <= windowStart) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `the window does not end after it starts (start ${windowStart}, end ${windowEnd}, unix seconds)`,
      window.where('end'),
    );
  }
  const properties = allocation.optionalObject('properties');
  const property = (field: string): string => {
    if (properties === undefined) return '';
    const value = properties.optionalString(field) ?? '';
    if (value.length > MAX_NAME_LENGTH) {
      throw new BillingImportError(
        'INVALID_VALUE',
        `longer than ${MAX_NAME_LENGTH} characters`,
        properties.where(field),
      );
    }
    return value;
  };
  const labels = new Map<string, string>();
  const labelsReader = properties?.optionalObject('labels');
  if (labelsReader !== undefined) {
    for (const label of labelsReader.node.keys()) labels.set(label, labelsReader.string(label));
  }
  const kind = openCostAllocationKind(name);
  const namespace = property('namespace');
  if (kind === 'allocated' && aggregate !== undefined) checkAggregate(allocation, name, aggregate, namespace, labels);

  const costs = {} as Record<OpenCostCostField, string>;
  let sum = 0n;
  let nonZero = 0;
  let magnitude = 0n;
  for (const field of OPENCOST_COST_FIELDS) {
    const text = REQUIRED_COSTS.has(field) || allocation.node.has(field) ? amount(allocation, field, notes) : '0';
    costs[field] = text;
    const value = parseScaled(text, MONEY_SCALE);
    sum += value;
    if (value !== 0n) nonZero++;
    magnitude += value < 0n ? -value : value;
  }
  const totalCost = amount(allocation, 'totalCost', notes);
  const total = parseScaled(totalCost, MONEY_SCALE);
  const rounding = total - sum;
  magnitude += total < 0n ? -total : total;
  const tolerance = BigInt(nonZero + 1) * HALF_ROUNDING_STEP + magnitude / 1_000_000_000n;
  if ((rounding < 0n ? -rounding : rounding) > tolerance) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `totalCost ${totalCost} is not the sum of the allocation's costs (${formatScaled(sum, MONEY_SCALE)}): ` +
        `they differ by ${formatScaled(rounding, MONEY_SCALE)}, more than OpenCost's rounding of each field to 5 decimals explains`,
      allocation.where('totalCost'),
    );
  }
  const quantities = {} as Record<OpenCostQuantityField, string>;
  for (const field of OPENCOST_QUANTITY_FIELDS) {
    quantities[field] = allocation.node.has(field) ? amount(allocation, field, notes) : '0';
  }
  return {
    name,
    kind,
    windowStart,
    windowEnd,
    cluster: property('cluster'),
    node: property('node'),
    namespace,
    controllerKind: property('controllerKind'),
    controller: property('controller'),
    pod: property('pod'),
    container: property('container'),
    labels,
    costs,
    rounding: formatScaled(rounding, MONEY_SCALE),
    totalCost,
    quantities,
    step,
  };
}

/** Half of OpenCost's rounding step (0.00001), at the money scale. */
const HALF_ROUNDING_STEP = 5n * 10n ** BigInt(MONEY_SCALE - 6);

/** A JSON number, exact (null is what OpenCost writes for NaN and infinities: refused). */
function amount(reader: JsonObjectReader, field: string, notes: ParseNotes): string {
  const value = reader.value(field);
  if (value === null) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `${field} is null: OpenCost writes null for a value that is not a number (NaN or infinite), which has no exact amount`,
      reader.where(field),
    );
  }
  return exactDecimal(reader.numberText(field), reader.where(field), notes);
}

/** A window bound: RFC 3339 text; OpenCost writes the string "null" for an open bound. */
function windowTime(window: JsonObjectReader, bound: 'start' | 'end'): number {
  const text = window.string(bound);
  if (text === 'null') {
    throw new BillingImportError(
      'INVALID_VALUE',
      `the window's ${bound} is "null": an open window has no period to import`,
      window.where(bound),
    );
  }
  return utcSeconds(text, window.where(bound));
}

/**
 * Where the allocation says what it was aggregated by, it must agree with `aggregate`: under
 * `namespace` its name is its namespace, under `label:K` its name is its label K.
 */
function checkAggregate(
  allocation: JsonObjectReader,
  name: string,
  aggregate: string,
  namespace: string,
  labels: ReadonlyMap<string, string>,
): void {
  let says: string | undefined;
  let what = '';
  if (aggregate === 'namespace' && namespace !== '') {
    says = namespace;
    what = 'namespace';
  } else if (aggregate.startsWith('label:') && !aggregate.includes(',')) {
    // OpenCost keys labels by their Prometheus-sanitized names (app.kubernetes.io/name → app_kubernetes_io_name).
    const label = aggregate.slice('label:'.length).replace(/[^A-Za-z0-9_]/g, '_');
    says = labels.get(label);
    what = `label ${label}`;
  }
  if (says !== undefined && says !== name) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `allocation ${JSON.stringify(name.slice(0, 80))} has ${what} ${JSON.stringify(says.slice(0, 80))}: ` +
        `the report is not aggregated by ${aggregate} (name what it is aggregated by: --aggregate)`,
      allocation.where('name'),
    );
  }
}

// ---- the bill-import view ------------------------------------------------------------------

export interface OpenCostPageOptions extends OpenCostReportOptions {
  /** The cluster every line is booked to; default each allocation's `properties.cluster` ('' when absent). */
  readonly account?: string | undefined;
  /** ISO 4217 code of OpenCost's currency (its `currencyCode` setting); default USD. */
  readonly currency?: string | undefined;
}

/**
 * The billed lines of one allocation: one per non-zero cost field (the field's name is the
 * description; cpu, gpu, ram and pv carry their core-, GPU- and byte-hours as the quantity), and
 * one `rounding` line when totalCost is not the sum of the fields. Their costs sum to totalCost
 * exactly. Provider and source `opencost`, account the cluster, project the allocation's name,
 * service the aggregate, kind `other` (cluster cost is compared with nothing in the spans; it is
 * spread by `costtrace chargeback --cluster-cost opencost`).
 */
export function openCostBilledLines(allocation: OpenCostAllocation, options: OpenCostPageOptions = {}): BilledLine[] {
  const lines: BilledLine[] = [];
  const account = options.account ?? allocation.cluster;
  const push = (description: string, cost: string, quantity: string, unit: string): void => {
    if (cost === '0' && quantity === '0') return;
    lines.push({
      source: 'opencost',
      provider: 'opencost',
      account,
      project: allocation.name,
      apiKey: '',
      model: '',
      serviceTier: '',
      periodStart: allocation.windowStart,
      periodEnd: allocation.windowEnd,
      kind: 'other',
      quantity,
      unit: quantity === '0' ? '' : unit,
      billedCost: cost,
      listCost: undefined,
      currency: options.currency ?? 'USD',
      description,
      chargeCategory: 'Usage',
      service: options.aggregate ?? '',
      resourceId: '',
    });
  };
  for (const field of OPENCOST_COST_FIELDS) {
    const quantity = QUANTITY_OF[field];
    push(
      field,
      allocation.costs[field],
      quantity === undefined ? '0' : allocation.quantities[quantity.field],
      quantity?.unit ?? '',
    );
  }
  push(OPENCOST_ROUNDING, allocation.rounding, '0', '');
  return lines;
}

/**
 * One OpenCost allocation response as a bill-import page: the lines of every allocation (see
 * openCostBilledLines; an allocation with no cost and no resource time counts in `notes.empty`),
 * and the allocations' windows as the periods the import covers, for every cluster the lines are
 * booked to (`coveredAccounts`): a cluster's day that an import covers is replaced as a whole,
 * allocations that no longer appear included. (An empty set carries no window: it covers nothing.)
 * Never paginated.
 */
export function parseOpenCostAllocationPage(
  page: JsonValue,
  options: OpenCostPageOptions,
  notes: ParseNotes,
): ReportPageResult {
  return withPageNotes(notes, (local) => {
    const steps = readResponse(page, options, local);
    const lines: BilledLine[] = [];
    const periods = new Map<string, BucketPeriod>();
    const accounts = new Set<string>();
    if (options.account !== undefined) accounts.add(options.account);
    for (const allocations of steps) {
      for (const allocation of allocations) {
        periods.set(`${allocation.windowStart}/${allocation.windowEnd}`, {
          start: allocation.windowStart,
          end: allocation.windowEnd,
        });
        const own = openCostBilledLines(allocation, options);
        if (own.length === 0) local.empty++;
        accounts.add(options.account ?? allocation.cluster);
        lines.push(...own);
      }
    }
    return {
      lines,
      periods: [...periods.values()],
      coveredAccounts: accounts.size === 0 ? [''] : [...accounts],
      hasMore: false,
      nextPage: undefined,
    };
  });
}
