import { exactDecimal, isZeroDecimal } from './billed-line.js';
import type { BilledKind, BilledLine, ParseNotes } from './billed-line.js';
import type { BillingErrorLocation } from './billing-error.js';
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
import { findInstanceType, isGpuInstanceType } from './instance-type.js';

/** The CUR 2.0 columns every row needs. */
export const AWS_CUR_REQUIRED_COLUMNS: readonly RequiredColumn[] = [
  'line_item_usage_start_date',
  'line_item_usage_end_date',
  'line_item_unblended_cost',
  'line_item_currency_code',
  'line_item_line_item_type',
  'line_item_product_code',
];

/** CUR 2.0 column names are fixed snake_case: matched exactly. */
export const AWS_CUR_COLUMNS: ColumnSpec = { required: AWS_CUR_REQUIRED_COLUMNS };

export interface AwsCurMapOptions {
  /** The payer account for rows without bill_payer_account_id; the row's value always wins. */
  readonly account?: string | undefined;
}

export interface AwsCurParserOptions extends AwsCurMapOptions, CsvBillParserOptions {}

/**
 * An AWS Cost and Usage Report 2.0 (Data Exports, CUR 2.0 schema) in CSV. Push text chunks, get
 * BilledLines (source 'aws-cur') as rows complete; see mapCurRow for the mapping.
 */
export class AwsCurParser extends CsvBillParser {
  constructor(options: AwsCurParserOptions = {}) {
    super(AWS_CUR_COLUMNS, (row, notes) => mapCurRow(row, notes, options), options);
  }
}

/** Binds a CUR 2.0 dataset's columns (CSV header or Parquet schema), checking the required ones. */
export function bindCurColumns(columns: readonly string[], file?: string): ColumnBinding {
  return new ColumnBinding(columns, AWS_CUR_COLUMNS, { file });
}

/** CUR line item types as FOCUS charge categories; types not listed are kept as written. */
const CHARGE_CATEGORIES: ReadonlyMap<string, string> = new Map([
  ['Usage', 'Usage'],
  ['DiscountedUsage', 'Usage'],
  ['SavingsPlanCoveredUsage', 'Usage'],
  ['Tax', 'Tax'],
  ['Credit', 'Credit'],
  ['Refund', 'Credit'],
  ['Fee', 'Purchase'],
  ['RIFee', 'Purchase'],
  ['SavingsPlanUpfrontFee', 'Purchase'],
  ['SavingsPlanRecurringFee', 'Purchase'],
  ['SavingsPlanNegation', 'Adjustment'],
  ['BundledDiscount', 'Adjustment'],
  ['EdpDiscount', 'Adjustment'],
  ['PrivateRateDiscount', 'Adjustment'],
  ['DistributorDiscount', 'Adjustment'],
  ['Discount', 'Adjustment'],
]);

/**
 * The FOCUS charge category of a CUR line item type: usage (on demand, reserved, Savings Plan
 * covered), tax, credit (credits and refunds), purchase (fees of commitments and others),
 * adjustment (negations and every kind of discount); an unknown type as written.
 */
export function curChargeCategory(lineItemType: string): string {
  return (
    CHARGE_CATEGORIES.get(lineItemType) ?? (/(?:Discount|Negation)$/.test(lineItemType) ? 'Adjustment' : lineItemType)
  );
}

/**
 * Usage types of instance time: EC2 box, spot, dedicated and host usage ("USE1-BoxUsage:p5.48xlarge",
 * "SpotUsage:g5.xlarge", "HostBoxUsage:…", "UnusedBox:…") and SageMaker instances
 * ("USE1-Train:ml.p4d.24xlarge"). Not "EBSOptimized:…", which bills the same instance again.
 */
const INSTANCE_USAGE = /(?:^|-)[A-Za-z]*(?:Usage|Box|Ded)[A-Za-z]*:|:ml\./;
/** A usage type whose name says it counts instance hours ("BoxUsage:", "SpotUsage:"). */
const HOURS_USAGE = /Usage:/;
/** `instance_type` in the product column: JSON in CSV, DuckDB's `{key=value, …}` text of a Parquet map. */
const PRODUCT_INSTANCE_TYPE = /(?:^|[{,\s"])instance_type"?\s*[:=]\s*"?([A-Za-z0-9._-]+)/;

/**
 * Maps one CUR 2.0 row to a BilledLine: provider 'aws', payer account and usage account, the
 * unblended cost, the public on-demand cost as list cost. Usage rows of a GPU instance type
 * counted in hours are 'gpu_hours' (model: the instance type), other instance hours
 * 'instance_hours'; Amazon Bedrock token usage types are input, output, cache_read or
 * cache_write tokens, model the usage type's model part, counted singly ("1K tokens" × 1000);
 * everything else is 'other' with the usage amount and pricing unit as given. A row with zero
 * quantity and zero cost is counted in notes.empty and yields undefined.
 */
export function mapCurRow(row: BillRow, notes: ParseNotes, options: AwsCurMapOptions = {}): BilledLine | undefined {
  const billedCost = requiredDecimal(row, 'line_item_unblended_cost', notes);
  const currency = requiredCurrency(row, 'line_item_currency_code');
  const period = requiredPeriod(row, 'line_item_usage_start_date', 'line_item_usage_end_date');
  const chargeCategory = curChargeCategory(requiredText(row, 'line_item_line_item_type'));
  const productCode = requiredText(row, 'line_item_product_code');
  const listCost = optionalDecimal(row, 'pricing_public_on_demand_cost', notes);
  const usage = curUsage(row, notes, chargeCategory === 'Usage', productCode);
  if (isZeroDecimal(usage.quantity) && isZeroDecimal(billedCost)) {
    notes.empty++;
    return undefined;
  }
  return {
    source: 'aws-cur',
    provider: 'aws',
    account: cellText(row, 'bill_payer_account_id') ?? options.account ?? '',
    project: cellText(row, 'line_item_usage_account_id') ?? '',
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
    description: cellText(row, 'line_item_line_item_description') ?? '',
    chargeCategory,
    service: productCode,
    resourceId: cellText(row, 'line_item_resource_id') ?? '',
  };
}

interface Usage {
  readonly kind: BilledKind;
  readonly quantity: string;
  readonly unit: string;
  readonly model: string;
}

/**
 * Kind, quantity, unit and model of a CUR row. Only Usage rows get usage kinds: an RI fee or a
 * Savings Plan negation restates hours the usage rows already count.
 */
function curUsage(row: BillRow, notes: ParseNotes, isUsage: boolean, productCode: string): Usage {
  const amount = cellText(row, 'line_item_usage_amount') ?? '0';
  const where: BillingErrorLocation = { line: row.line, field: 'line_item_usage_amount' };
  const pricingUnit = cellText(row, 'pricing_unit');
  const usageType = cellText(row, 'line_item_usage_type');
  const unit = readBillUnit(pricingUnit);
  if (isUsage && productCode === 'AmazonBedrock') {
    const tokens = readBedrockUsageType(usageType);
    if (tokens !== undefined) {
      const multiplier = unit.base === 'tokens' ? unit.multiplier : 1n;
      const quantity = scaledDecimal(amount, multiplier, where, notes);
      return { kind: tokens.kind, quantity, unit: 'tokens', model: tokens.model };
    }
  }
  if (isUsage && (usageType === undefined || INSTANCE_USAGE.test(usageType))) {
    const hours = unit.base === 'hours' || (usageType !== undefined && HOURS_USAGE.test(usageType));
    const instanceType = hours ? curInstanceType(row, usageType) : undefined;
    if (instanceType !== undefined) {
      const quantity = scaledDecimal(amount, unit.base === 'hours' ? unit.multiplier : 1n, where, notes);
      const kind = isGpuInstanceType(instanceType) ? 'gpu_hours' : 'instance_hours';
      return { kind, quantity, unit: 'hours', model: instanceType };
    }
  }
  return { kind: 'other', quantity: exactDecimal(amount, where, notes), unit: pricingUnit ?? '', model: '' };
}

/** product_instance_type, else the product map's instance_type, else the instance type the usage type ends with. */
function curInstanceType(row: BillRow, usageType: string | undefined): string | undefined {
  const column = cellText(row, 'product_instance_type');
  if (column !== undefined) return column;
  const product = PRODUCT_INSTANCE_TYPE.exec(cellText(row, 'product') ?? '')?.[1];
  if (product !== undefined && product !== '') return product;
  if (usageType === undefined || !usageType.includes(':')) return undefined;
  return findInstanceType(usageType.slice(usageType.lastIndexOf(':') + 1))?.name;
}
