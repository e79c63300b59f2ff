import { exactDecimal, isZeroDecimal } from './billed-line.js';
import type { BilledKind, BilledLine, ParseNotes } from './billed-line.js';
import { BillingImportError } from './billing-error.js';
import { readBedrockUsageType } from './bedrock-usage-type.js';
import {
  cellText,
  optionalDecimal,
  requiredCurrency,
  requiredDecimal,
  requiredPeriod,
  requiredText,
} from './bill-cells.js';
import { ColumnBinding } from './bill-row.js';
import type { BillRow, ColumnSpec, RequiredColumn } from './bill-row.js';
import { readBillUnit, scaledDecimal } from './bill-units.js';
import { CsvBillParser } from './csv-bill-parser.js';
import type { CsvBillParserOptions } from './csv-bill-parser.js';
import { findInstanceTypeIn } from './instance-type.js';
import { tokenKindOf } from './token-kind.js';

/**
 * The FOCUS columns every row needs. FOCUS 1.3 renames ProviderName to ServiceProviderName;
 * either will do.
 */
export const FOCUS_REQUIRED_COLUMNS: readonly RequiredColumn[] = [
  'BilledCost',
  'BillingCurrency',
  'ChargePeriodStart',
  'ChargePeriodEnd',
  'ChargeCategory',
  ['ProviderName', 'ServiceProviderName'],
];

/** FOCUS column names are matched exactly, or else regardless of case (see ColumnSpec). */
export const FOCUS_COLUMNS: ColumnSpec = { required: FOCUS_REQUIRED_COLUMNS, caseInsensitive: true };

export interface FocusMapOptions {
  /**
   * The billing account for rows without a BillingAccountId (the account the file was exported
   * from, as the importer knows it). A BillingAccountId in the row always wins.
   */
  readonly account?: string | undefined;
}

export interface FocusBillParserOptions extends FocusMapOptions, CsvBillParserOptions {}

/**
 * A FinOps FOCUS 1.0–1.2 (and 1.3) cost and usage dataset in CSV: AWS Data Exports (FOCUS),
 * Azure cost exports in FOCUS format, the GCP FOCUS BigQuery view exported to CSV. Push text
 * chunks, get BilledLines (source 'focus') as rows complete; see mapFocusRow for the mapping.
 */
export class FocusBillParser extends CsvBillParser {
  constructor(options: FocusBillParserOptions = {}) {
    super(FOCUS_COLUMNS, (row, notes) => mapFocusRow(row, notes, options), options);
  }
}

/**
 * Binds a FOCUS dataset's columns (a CSV header, or a Parquet file's schema as DuckDB lists it),
 * checking the required ones; `binding.row(values, rowNumber)` then makes the rows for mapFocusRow.
 */
export function bindFocusColumns(columns: readonly string[], file?: string): ColumnBinding {
  return new ColumnBinding(columns, FOCUS_COLUMNS, { file });
}

/** ProviderName values as AWS, Azure, GCP and others write them, lower-cased, to costtrace's names. */
const PROVIDERS: ReadonlyMap<string, string> = new Map([
  ['amazon web services', 'aws'],
  ['aws', 'aws'],
  ['microsoft', 'azure'],
  ['microsoft azure', 'azure'],
  ['azure', 'azure'],
  ['google cloud', 'gcp'],
  ['google cloud platform', 'gcp'],
  ['gcp', 'gcp'],
  ['google', 'gcp'],
  ['openai', 'openai'],
  ['anthropic', 'anthropic'],
]);

/** costtrace's provider name for a FOCUS ProviderName: 'aws', 'azure', 'gcp'…, or the name lower-cased. */
export function focusProvider(providerName: string): string {
  const key = providerName.trim().toLowerCase();
  return PROVIDERS.get(key) ?? key;
}

/** Columns that may name the instance type of a row, searched in this order (then Tags and x_ columns). */
const INSTANCE_COLUMNS = ['ResourceType', 'SkuId', 'ChargeDescription', 'ResourceName', 'Tags'] as const;
/** Columns that may say which tokens a row counts: AWS usage types and Azure meter names carry it too. */
const TOKEN_COLUMNS = ['ChargeDescription', 'SkuId', 'x_UsageType', 'x_SkuMeterName'] as const;

/**
 * Maps one FOCUS row to a BilledLine (see BilledLine for the fields): amounts exact, the period in
 * unix seconds, the provider normalised. Quantity and kind come from ConsumedQuantity and
 * ConsumedUnit, or PricingQuantity and PricingUnit when those are hours or tokens and the consumed
 * pair is not (GCP consumes seconds but prices hours) or absent:
 * - hours of a GPU instance type (found in ResourceType, SkuId, ChargeDescription, ResourceName,
 *   Tags or an x_ column) are 'gpu_hours', the model being the instance type; other hours are
 *   'instance_hours' when ServiceCategory is Compute, else 'other' (still in hours);
 * - tokens, counted singly ("1K tokens" × 1000), are input, output, cache_read or cache_write as
 *   the description, SKU, usage type or meter says, else 'other' (still in tokens); the model is
 *   named only where an AWS usage type names it (Bedrock);
 * - anything else is 'other', quantity and unit as given.
 * Only Usage rows get usage kinds: a commitment purchase or an adjustment that states the hours
 * again must not count them twice. A row with zero quantity and zero cost is counted in
 * notes.empty and yields undefined. Errors name the line and column (the parser adds the file).
 */
export function mapFocusRow(row: BillRow, notes: ParseNotes, options: FocusMapOptions = {}): BilledLine | undefined {
  const billedCost = requiredDecimal(row, 'BilledCost', notes);
  const currency = requiredCurrency(row, 'BillingCurrency');
  const period = requiredPeriod(row, 'ChargePeriodStart', 'ChargePeriodEnd');
  const chargeCategory = requiredText(row, 'ChargeCategory');
  const provider = focusProvider(providerName(row));
  const listCost = optionalDecimal(row, 'ListCost', notes);
  const usage = focusUsage(row, notes, chargeCategory);
  if (isZeroDecimal(usage.quantity) && isZeroDecimal(billedCost)) {
    notes.empty++;
    return undefined;
  }
  return {
    source: 'focus',
    provider,
    account: cellText(row, 'BillingAccountId') ?? options.account ?? '',
    project: cellText(row, 'SubAccountId') ?? '',
    apiKey: '',
    model: usage.model,
    serviceTier: '',
    periodStart: period.start,
    periodEnd: period.end,
    kind: usage.kind,
    quantity: usage.quantity,
    unit: usage.unit,
    billedCost,
    listCost,
    currency,
    description: cellText(row, 'ChargeDescription') ?? cellText(row, 'SkuId') ?? '',
    chargeCategory,
    service: cellText(row, 'ServiceName') ?? '',
    resourceId: cellText(row, 'ResourceId') ?? '',
  };
}

/** ProviderName, or FOCUS 1.3's ServiceProviderName (1.3 files may carry both, the old one empty). */
function providerName(row: BillRow): string {
  const name = cellText(row, 'ProviderName') ?? cellText(row, 'ServiceProviderName');
  if (name !== undefined) return name;
  const column = row.get('ProviderName') === undefined ? 'ServiceProviderName' : 'ProviderName';
  throw new BillingImportError('INVALID_VALUE', `${column} is empty`, { line: row.line, field: column });
}

interface Usage {
  readonly kind: BilledKind;
  readonly quantity: string;
  readonly unit: string;
  readonly model: string;
}

interface QuantityColumns {
  readonly quantityColumn: string;
  readonly quantity: string;
  readonly unit: string | undefined;
}

function focusUsage(row: BillRow, notes: ParseNotes, chargeCategory: string): Usage {
  const pairs = (
    [
      ['ConsumedQuantity', 'ConsumedUnit'],
      ['PricingQuantity', 'PricingUnit'],
    ] as const
  ).flatMap(([quantityColumn, unitColumn]): QuantityColumns[] => {
    const quantity = cellText(row, quantityColumn);
    return quantity === undefined ? [] : [{ quantityColumn, quantity, unit: cellText(row, unitColumn) }];
  });
  const isUsage = chargeCategory.toLowerCase() === 'usage';
  const measured = isUsage ? pairs.find((pair) => readBillUnit(pair.unit).base !== undefined) : undefined;
  if (measured === undefined) {
    const pair = pairs[0];
    if (pair === undefined) return { kind: 'other', quantity: '0', unit: '', model: '' };
    const quantity = exactDecimal(pair.quantity, { line: row.line, field: pair.quantityColumn }, notes);
    return { kind: 'other', quantity, unit: pair.unit ?? '', model: '' };
  }
  const unit = readBillUnit(measured.unit);
  const quantity = scaledDecimal(
    measured.quantity,
    unit.multiplier,
    { line: row.line, field: measured.quantityColumn },
    notes,
  );
  if (unit.base === 'tokens') {
    const kind = TOKEN_COLUMNS.map((column) => tokenKindOf(cellText(row, column))).find((k) => k !== undefined);
    const model = readBedrockUsageType(cellText(row, 'x_UsageType'))?.model ?? '';
    return { kind: kind ?? 'other', quantity, unit: 'tokens', model };
  }
  const instance = findInstanceTypeIn(instanceTexts(row));
  if (instance?.gpu === true) return { kind: 'gpu_hours', quantity, unit: 'hours', model: instance.name };
  if (cellText(row, 'ServiceCategory')?.toLowerCase() === 'compute') {
    return { kind: 'instance_hours', quantity, unit: 'hours', model: instance?.name ?? '' };
  }
  return { kind: 'other', quantity, unit: 'hours', model: '' };
}

function* instanceTexts(row: BillRow): Generator<string | undefined> {
  for (const column of INSTANCE_COLUMNS) yield cellText(row, column);
  for (const column of providerColumns(row.columns)) yield cellText(row, column);
}

const PROVIDER_COLUMNS = new WeakMap<readonly string[], readonly string[]>();

/** The x_ (provider-specific) columns of a dataset, computed once per header. */
function providerColumns(columns: readonly string[]): readonly string[] {
  let found = PROVIDER_COLUMNS.get(columns);
  if (found === undefined) {
    found = columns.filter((column) => /^x_/i.test(column));
    PROVIDER_COLUMNS.set(columns, found);
  }
  return found;
}
