import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyNotes } from '../../src/billing/billed-line.js';
import type { BilledLine, ParseNotes } from '../../src/billing/billed-line.js';
import { BillingImportError } from '../../src/billing/billing-error.js';
import { AwsCurParser, bindCurColumns, curChargeCategory, mapCurRow } from '../../src/billing/index.js';
import type { AwsCurParserOptions } from '../../src/billing/index.js';

function parse(
  text: string,
  size = Number.POSITIVE_INFINITY,
  options: AwsCurParserOptions = {},
): { lines: BilledLine[]; notes: ParseNotes } {
  const parser = new AwsCurParser(options);
  const lines: BilledLine[] = [];
  for (let i = 0; i < text.length; i += size) lines.push(...parser.push(text.slice(i, i + size)));
  lines.push(...parser.end());
  return { lines, notes: parser.notes };
}

/** Unix seconds: 2025-01-01T00:00:00Z is 1735689600, a day is 86400. */
const JAN_01 = 1735689600;
const JAN_15 = 1736899200;
const JAN_16 = 1736985600;
const FEB_01 = 1738368000;

/** In the style of a CUR 2.0 Data Export (daily granularity, a subset of its columns, in its order). */
const CUR = [
  'bill_payer_account_id,identity_line_item_id,identity_time_interval,line_item_currency_code,line_item_line_item_description,line_item_line_item_type,line_item_operation,line_item_product_code,line_item_resource_id,line_item_unblended_cost,line_item_usage_account_id,line_item_usage_amount,line_item_usage_end_date,line_item_usage_start_date,line_item_usage_type,pricing_public_on_demand_cost,pricing_unit,product,product_instance_type,product_product_family,resource_tags',
  String.raw`111122223333,li-0001,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,$55.04 per On Demand Linux p5.48xlarge Instance Hour,Usage,RunInstances,AmazonEC2,i-0123456789abcdef0,1320.96,444455556666,24,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,USW2-BoxUsage:p5.48xlarge,1320.96,Hrs,"{""product_name"":""Amazon Elastic Compute Cloud"",""instance_type"":""p5.48xlarge"",""region"":""us-west-2"",""vcpu"":""192""}",p5.48xlarge,Compute Instance,"{""user:team"":""llm, pretraining""}"`,
  String.raw`111122223333,li-0002,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,USD 5.672 per On Demand Linux g5.12xlarge Instance Hour,SavingsPlanCoveredUsage,RunInstances,AmazonEC2,i-0aaaabbbbccccdddd,136.128,444455556666,24,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,BoxUsage:g5.12xlarge,136.128,Hrs,"{""instance_type"":""g5.12xlarge"",""region"":""us-east-1""}",,Compute Instance,`,
  String.raw`111122223333,li-0003,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,SavingsPlanNegation used by AccountId : 444455556666 and UsageSku : ABCDEFGH,SavingsPlanNegation,RunInstances,AmazonEC2,i-0aaaabbbbccccdddd,-136.128,444455556666,0,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,BoxUsage:g5.12xlarge,,Hrs,"{""instance_type"":""g5.12xlarge"",""region"":""us-east-1""}",g5.12xlarge,Compute Instance,`,
  String.raw`111122223333,li-0004,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,$0.063 per Linux m5.xlarge Spot Instance-hour,Usage,RunInstances:SV002,AmazonEC2,i-0spot000000000001,0.2205,444455556666,3.5,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,USE1-SpotUsage:m5.xlarge,0.672,Hrs,,,Compute Instance,`,
  String.raw`111122223333,li-0005,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,$0.003 per 1K input tokens for Claude 3.5 Sonnet,Usage,InvokeModelInference,AmazonBedrock,,3.703701,444455556666,1234.567,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,USE1-Claude3.5Sonnet-input-tokens,3.703701,1K tokens,,,Amazon Bedrock,`,
  String.raw`111122223333,li-0006,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,$0.015 per 1K output tokens for Claude 3.5 Sonnet,Usage,InvokeModelInference,AmazonBedrock,,1.481475,444455556666,98.765,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,USE1-Claude3.5Sonnet-output-tokens,1.481475,1K tokens,,,Amazon Bedrock,`,
  String.raw`111122223333,li-0007,2025-01-01T00:00:00Z/2025-02-01T00:00:00Z,USD,Tax for product code AmazonEC2,Tax,,AmazonEC2,,45.67,444455556666,,2025-02-01T00:00:00.000Z,2025-01-01T00:00:00.000Z,,,,,,,`,
  String.raw`111122223333,li-0008,2025-01-01T00:00:00Z/2025-02-01T00:00:00Z,USD,AWS Credits - Activate,Credit,,AmazonEC2,,-100.00,444455556666,,2025-02-01T00:00:00.000Z,2025-01-01T00:00:00.000Z,,,,,,,`,
  String.raw`111122223333,li-0009,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,$0.023 per GB - first 50 TB / month of storage used,Usage,StandardStorage,AmazonS3,example-training-data,3.45E-9,444455556666,1.5E-7,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,USE1-TimedStorage-ByteHrs,3.45E-9,GB-Mo,,,Storage,`,
  String.raw`111122223333,li-0010,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,AWS Lambda - Total Requests - US East (Northern Virginia),Usage,Invoke,AWSLambda,arn:aws:lambda:us-east-1:444455556666:function:resize,0,444455556666,0,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,USE1-Request,0,Requests,,,Serverless,`,
  String.raw`111122223333,li-0011,2025-01-15T00:00:00Z/2025-01-16T00:00:00Z,USD,$0.00 per hour for EBS-optimized c4.xlarge,Usage,RunInstances,AmazonEC2,i-0c4c4c4c4c4c4c4c4,0,444455556666,24,2025-01-16T00:00:00.000Z,2025-01-15T00:00:00.000Z,USE1-EBSOptimized:c4.xlarge,0,Hrs,,c4.xlarge,EBS Optimized,`,
  '',
].join('\n');

const COMMON = {
  source: 'aws-cur',
  provider: 'aws',
  account: '111122223333',
  project: '444455556666',
  apiKey: '',
  serviceTier: '',
  currency: 'USD',
} as const;

const EXPECTED: BilledLine[] = [
  {
    ...COMMON,
    model: 'p5.48xlarge',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'gpu_hours',
    quantity: '24',
    unit: 'hours',
    billedCost: '1320.96',
    listCost: '1320.96',
    description: '$55.04 per On Demand Linux p5.48xlarge Instance Hour',
    chargeCategory: 'Usage',
    service: 'AmazonEC2',
    resourceId: 'i-0123456789abcdef0',
  },
  {
    // Covered by a Savings Plan: still usage. The instance type comes from the product map.
    ...COMMON,
    model: 'g5.12xlarge',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'gpu_hours',
    quantity: '24',
    unit: 'hours',
    billedCost: '136.128',
    listCost: '136.128',
    description: 'USD 5.672 per On Demand Linux g5.12xlarge Instance Hour',
    chargeCategory: 'Usage',
    service: 'AmazonEC2',
    resourceId: 'i-0aaaabbbbccccdddd',
  },
  {
    // The negation is an adjustment, never GPU hours again.
    ...COMMON,
    model: '',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'other',
    quantity: '0',
    unit: 'Hrs',
    billedCost: '-136.128',
    listCost: undefined,
    description: 'SavingsPlanNegation used by AccountId : 444455556666 and UsageSku : ABCDEFGH',
    chargeCategory: 'Adjustment',
    service: 'AmazonEC2',
    resourceId: 'i-0aaaabbbbccccdddd',
  },
  {
    // No instance type column or product map: read from the usage type after "SpotUsage:".
    ...COMMON,
    model: 'm5.xlarge',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'instance_hours',
    quantity: '3.5',
    unit: 'hours',
    billedCost: '0.2205',
    listCost: '0.672',
    description: '$0.063 per Linux m5.xlarge Spot Instance-hour',
    chargeCategory: 'Usage',
    service: 'AmazonEC2',
    resourceId: 'i-0spot000000000001',
  },
  {
    // 1234.567 thousand tokens = 1234567 tokens.
    ...COMMON,
    model: 'Claude3.5Sonnet',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'input',
    quantity: '1234567',
    unit: 'tokens',
    billedCost: '3.703701',
    listCost: '3.703701',
    description: '$0.003 per 1K input tokens for Claude 3.5 Sonnet',
    chargeCategory: 'Usage',
    service: 'AmazonBedrock',
    resourceId: '',
  },
  {
    ...COMMON,
    model: 'Claude3.5Sonnet',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'output',
    quantity: '98765',
    unit: 'tokens',
    billedCost: '1.481475',
    listCost: '1.481475',
    description: '$0.015 per 1K output tokens for Claude 3.5 Sonnet',
    chargeCategory: 'Usage',
    service: 'AmazonBedrock',
    resourceId: '',
  },
  {
    ...COMMON,
    model: '',
    periodStart: JAN_01,
    periodEnd: FEB_01,
    kind: 'other',
    quantity: '0',
    unit: '',
    billedCost: '45.67',
    listCost: undefined,
    description: 'Tax for product code AmazonEC2',
    chargeCategory: 'Tax',
    service: 'AmazonEC2',
    resourceId: '',
  },
  {
    ...COMMON,
    model: '',
    periodStart: JAN_01,
    periodEnd: FEB_01,
    kind: 'other',
    quantity: '0',
    unit: '',
    billedCost: '-100',
    listCost: undefined,
    description: 'AWS Credits - Activate',
    chargeCategory: 'Credit',
    service: 'AmazonEC2',
    resourceId: '',
  },
  {
    ...COMMON,
    model: '',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'other',
    quantity: '0.00000015',
    unit: 'GB-Mo',
    billedCost: '0.00000000345',
    listCost: '0.00000000345',
    description: '$0.023 per GB - first 50 TB / month of storage used',
    chargeCategory: 'Usage',
    service: 'AmazonS3',
    resourceId: 'example-training-data',
  },
  // The Lambda row (zero requests, zero cost) yields no line.
  {
    // EBS-optimized hours bill the instance again: not instance hours.
    ...COMMON,
    model: '',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'other',
    quantity: '24',
    unit: 'Hrs',
    billedCost: '0',
    listCost: '0',
    description: '$0.00 per hour for EBS-optimized c4.xlarge',
    chargeCategory: 'Usage',
    service: 'AmazonEC2',
    resourceId: 'i-0c4c4c4c4c4c4c4c4',
  },
];

function importError(code: string, line: number | undefined, field: string | undefined, file?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof BillingImportError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.line, line, err.message);
    assert.equal(err.field, field, err.message);
    assert.equal(err.file, file, err.message);
    return true;
  };
}

describe('AwsCurParser (CUR 2.0)', () => {
  it('maps a CUR 2.0 export, line by line', () => {
    const { lines, notes } = parse(CUR);
    assert.deepEqual(lines, EXPECTED);
    assert.deepEqual(notes, { rounded: 0, empty: 1 });
  });

  it('gives the same lines whatever the chunk size', () => {
    for (const size of [1, 5, 33, 4096]) assert.deepEqual(parse(CUR, size).lines, EXPECTED, `chunks of ${size}`);
  });

  it('maps line item types to FOCUS charge categories', () => {
    const cases: [string, string][] = [
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
      ['SomeFutureDiscount', 'Adjustment'],
      ['SomethingNew', 'SomethingNew'],
    ];
    for (const [type, category] of cases) assert.equal(curChargeCategory(type), category, type);
  });

  it('reads Bedrock cache tokens and a plain token unit', () => {
    const header =
      'line_item_usage_start_date,line_item_usage_end_date,line_item_unblended_cost,line_item_currency_code,line_item_line_item_type,line_item_product_code,line_item_usage_type,line_item_usage_amount,pricing_unit';
    const rows = [
      '2025-01-15,2025-01-16,0.3,USD,Usage,AmazonBedrock,USE1-Claude3.7Sonnet-cache-read-input-token-count,1000,1K tokens',
      '2025-01-15,2025-01-16,0.375,USD,Usage,AmazonBedrock,USW2-Claude3.7Sonnet-cache-write-input-token-count,0.1,1M tokens',
      '2025-01-15,2025-01-16,0.0002,USD,Usage,AmazonBedrock,EUC1-NovaLite-input-tokens,3333,Tokens',
      '2025-01-15,2025-01-16,20,USD,Usage,AmazonBedrock,USE1-ProvisionedThroughput-ModelUnits,1,Hrs',
    ];
    const lines = parse([header, ...rows].join('\n')).lines;
    assert.deepEqual(
      lines.map((l) => [l.kind, l.model, l.quantity, l.unit, l.account, l.project, l.description, l.resourceId]),
      [
        ['cache_read', 'Claude3.7Sonnet', '1000000', 'tokens', '', '', '', ''],
        ['cache_write', 'Claude3.7Sonnet', '100000', 'tokens', '', '', '', ''],
        ['input', 'NovaLite', '3333', 'tokens', '', '', '', ''],
        ['other', '', '1', 'Hrs', '', '', '', ''],
      ],
    );
  });

  it('maps Parquet rows: the product map as DuckDB prints it, the account option for a missing payer', () => {
    const binding = bindCurColumns(
      [
        'line_item_usage_start_date',
        'line_item_usage_end_date',
        'line_item_unblended_cost',
        'line_item_currency_code',
        'line_item_line_item_type',
        'line_item_product_code',
        'line_item_usage_type',
        'line_item_usage_amount',
        'pricing_unit',
        'product',
        'bill_payer_account_id',
      ],
      'cur.parquet',
    );
    const notes = emptyNotes();
    const row = binding.row(
      [
        '2025-01-15 00:00:00',
        '2025-01-16 00:00:00',
        '786.5424',
        'USD',
        'DiscountedUsage',
        'AmazonEC2',
        'USE1-BoxUsage:p4d.24xlarge',
        '24',
        'Hrs',
        '{instance_type=p4d.24xlarge, region=us-east-1}',
        null,
      ],
      3,
    );
    const line = mapCurRow(row, notes, { account: '999988887777' });
    assert.deepEqual(
      [line?.kind, line?.model, line?.quantity, line?.account, line?.chargeCategory],
      ['gpu_hours', 'p4d.24xlarge', '24', '999988887777', 'Usage'],
    );
  });

  describe('errors name the file, the line and the column', () => {
    const header = CUR.split('\n')[0] ?? '';
    const good = CUR.split('\n')[1] ?? '';
    const replace = (index: number, value: string): string => {
      // Cells of the first data row, by column index (the JSON cells are quoted, so split on the header's shape).
      const cells = [...good.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].map((m) => m[1] ?? '').slice(0, 21);
      cells[index] = value;
      return cells.join(',');
    };

    it('a cost that is not a number', () => {
      const text = `${header}\n${good}\n${replace(9, '12.3.4')}\n`;
      assert.throws(
        () => parse(text, 7, { file: 'cur.csv' }),
        importError('INVALID_VALUE', 3, 'line_item_unblended_cost', 'cur.csv'),
      );
    });

    it('a bad currency', () => {
      const text = `${header}\n${good}\n${good}\n${replace(3, 'US')}\n`;
      assert.throws(
        () => parse(text, 7, { file: 'cur.csv' }),
        importError('INVALID_VALUE', 4, 'line_item_currency_code', 'cur.csv'),
      );
    });

    it('an end that is not after the start', () => {
      const text = `${header}\n${replace(12, '2025-01-15T00:00:00.000Z')}\n`;
      assert.throws(() => parse(text), importError('INVALID_VALUE', 2, 'line_item_usage_end_date'));
    });

    it('a bad time', () => {
      const text = `${header}\n${replace(13, 'yesterday')}\n`;
      assert.throws(() => parse(text), importError('INVALID_VALUE', 2, 'line_item_usage_start_date'));
    });

    it('a bad usage amount', () => {
      const text = `${header}\n${replace(11, '24 hours')}\n`;
      assert.throws(() => parse(text), importError('INVALID_VALUE', 2, 'line_item_usage_amount'));
    });

    it('a missing required column; CUR names are case-sensitive', () => {
      assert.throws(
        () => parse(`${header.replace('line_item_product_code', 'Line_Item_Product_Code')}\n`, 7, { file: 'cur.csv' }),
        (err: unknown) => {
          importError('MISSING_FIELD', 1, 'line_item_product_code', 'cur.csv')(err);
          assert.match(
            (err as Error).message,
            /^cur\.csv, line 1, field line_item_product_code: missing column line_item_product_code; the header has: bill_payer_account_id, /,
          );
          return true;
        },
      );
    });
  });
});
