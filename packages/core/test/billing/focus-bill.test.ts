import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyNotes } from '../../src/billing/billed-line.js';
import type { BilledLine, ParseNotes } from '../../src/billing/billed-line.js';
import { BillingImportError } from '../../src/billing/billing-error.js';
import {
  bindFocusColumns,
  findInstanceType,
  FocusBillParser,
  focusProvider,
  mapFocusRow,
  readBedrockUsageType,
  readBillUnit,
  tokenKindOf,
} from '../../src/billing/index.js';
import type { FocusBillParserOptions } from '../../src/billing/index.js';

/** Parses a whole file pushed in chunks of `size` characters. */
function parse(
  text: string,
  size = Number.POSITIVE_INFINITY,
  options: FocusBillParserOptions = {},
): { lines: BilledLine[]; notes: ParseNotes } {
  const parser = new FocusBillParser(options);
  const lines: BilledLine[] = [];
  for (let i = 0; i < text.length; i += size) lines.push(...parser.push(text.slice(i, i + size)));
  lines.push(...parser.end());
  return { lines, notes: parser.notes };
}

/** Unix seconds of the instants the fixtures use (2025-01-01T00:00:00Z is 1735689600). */
const JAN_01 = 1735689600;
const JAN_15 = 1736899200;
const JAN_15_10H = 1736935200;
const JAN_15_11H = 1736938800;
const JAN_16 = 1736985600;
const JAN_19 = 1737244800;
const JAN_20 = 1737331200;
const FEB_01 = 1738368000;

/** In the style of an AWS Data Exports FOCUS 1.0 export: LF line ends, no BOM. */
const AWS_FOCUS = [
  String.raw`BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,ConsumedQuantity,ConsumedUnit,EffectiveCost,ListCost,PricingQuantity,PricingUnit,ProviderName,RegionId,ResourceId,ResourceName,ResourceType,ServiceCategory,ServiceName,SkuId,SubAccountId,Tags,x_Operation,x_UsageType`,
  String.raw`32.7726,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,$32.7726 per On Demand Linux p4d.24xlarge Instance Hour,Usage-Based,2025-01-15T11:00:00Z,2025-01-15T10:00:00Z,1,Hrs,32.7726,32.7726,1,Hrs,AWS,us-east-1,arn:aws:ec2:us-east-1:210987654321:instance/i-0a1b2c3d4e5f60718,,,Compute,Amazon Elastic Compute Cloud,8QXE5NYZQ4DQ4V6X,210987654321,"{""user:team"":""ml, research"",""user:note"":""a \""quoted\"" tag""}",RunInstances,BoxUsage:p4d.24xlarge`,
  String.raw`0.192,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,$0.192 per On Demand Linux m5.xlarge Instance Hour,Usage-Based,2025-01-15T11:00:00Z,2025-01-15T10:00:00Z,1,Hrs,0.192,0.192,1,Hrs,AWS,us-east-1,arn:aws:ec2:us-east-1:210987654321:instance/i-0fedcba9876543210,,,Compute,Amazon Elastic Compute Cloud,6TMC6UD2UCCDAMNP,210987654321,{},RunInstances,BoxUsage:m5.xlarge`,
  String.raw`0.037035,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,$0.003 per 1K input tokens for Claude 3.5 Sonnet,Usage-Based,2025-01-15T11:00:00Z,2025-01-15T10:00:00Z,,,0.037035,0.037035,12.345,1K tokens,AWS,us-east-1,arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0,,,AI and Machine Learning,Amazon Bedrock,Y3CV8JQ2XZ9T5DKM,210987654321,,InvokeModelInference,USE1-Claude3.5Sonnet-input-tokens`,
  String.raw`0.00768,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,$0.015 per 1K output tokens for Claude 3.5 Sonnet,Usage-Based,2025-01-15T11:00:00Z,2025-01-15T10:00:00Z,512,Tokens,0.00768,0.00768,0.512,1K tokens,AWS,us-east-1,arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0,,,AI and Machine Learning,Amazon Bedrock,R7WQ2M5KDP8N3FJX,210987654321,,InvokeModelInference,USE1-Claude3.5Sonnet-output-tokens`,
  String.raw`3.45E-9,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,$0.023 per GB - first 50 TB / month of storage used,Usage-Based,2025-01-16T00:00:00Z,2025-01-15T00:00:00Z,1.5E-7,GB-Mo,3.45E-9,3.45E-9,1.5E-7,GB-Mo,AWS,us-east-1,arn:aws:s3:::example-training-data,example-training-data,,Storage,Amazon Simple Storage Service,WP9ANXAF4JYSKZ5Q,210987654321,"{""user:team"":""ml, research""}",StandardStorage,TimedStorage-ByteHrs`,
  String.raw`0.123456789013500,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,$0.09 per GB - first 10 TB / month data transfer out beyond the global free tier,Usage-Based,2025-01-16T00:00:00Z,2025-01-15T00:00:00Z,1.371742100150000,GB,0.123456789013500,,1.371742100150000,GB,AWS,us-east-1,,,,Networking,AWS Data Transfer,HQEH3ZPJ9DV2JH2N,210987654321,,RunInstances,DataTransfer-Out-Bytes`,
  String.raw`3.27,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Tax,,Tax for product code AmazonEC2,One-Time,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,,,3.27,,,,AWS,,,,,Compute,Amazon Elastic Compute Cloud,,210987654321,,,`,
  String.raw`-25.00,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Credit,,AWS Activate Credits,One-Time,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,,,-25.00,,,,AWS,,,,,Compute,Amazon Elastic Compute Cloud,,210987654321,,,`,
  String.raw`0,123456789012,Example Corp,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,AWS Lambda - Total Requests - US East (Northern Virginia),Usage-Based,2025-01-16T00:00:00Z,2025-01-15T00:00:00Z,0,Requests,0,0,0,Requests,AWS,us-east-1,arn:aws:lambda:us-east-1:210987654321:function:resize,resize,,Compute,AWS Lambda,GU2ZS9HVP6QTQ7KE,210987654321,,Invoke,Request`,
].join('\n');

const AWS_COMMON = {
  source: 'focus',
  provider: 'aws',
  account: '123456789012',
  project: '210987654321',
  apiKey: '',
  serviceTier: '',
  currency: 'USD',
} as const;

const AWS_EXPECTED: BilledLine[] = [
  {
    ...AWS_COMMON,
    model: 'p4d.24xlarge',
    periodStart: JAN_15_10H,
    periodEnd: JAN_15_11H,
    kind: 'gpu_hours',
    quantity: '1',
    unit: 'hours',
    billedCost: '32.7726',
    listCost: '32.7726',
    description: '$32.7726 per On Demand Linux p4d.24xlarge Instance Hour',
    chargeCategory: 'Usage',
    service: 'Amazon Elastic Compute Cloud',
    resourceId: 'arn:aws:ec2:us-east-1:210987654321:instance/i-0a1b2c3d4e5f60718',
  },
  {
    ...AWS_COMMON,
    model: 'm5.xlarge',
    periodStart: JAN_15_10H,
    periodEnd: JAN_15_11H,
    kind: 'instance_hours',
    quantity: '1',
    unit: 'hours',
    billedCost: '0.192',
    listCost: '0.192',
    description: '$0.192 per On Demand Linux m5.xlarge Instance Hour',
    chargeCategory: 'Usage',
    service: 'Amazon Elastic Compute Cloud',
    resourceId: 'arn:aws:ec2:us-east-1:210987654321:instance/i-0fedcba9876543210',
  },
  {
    // No consumed quantity: the pricing quantity, 12.345 thousand tokens.
    ...AWS_COMMON,
    model: 'Claude3.5Sonnet',
    periodStart: JAN_15_10H,
    periodEnd: JAN_15_11H,
    kind: 'input',
    quantity: '12345',
    unit: 'tokens',
    billedCost: '0.037035',
    listCost: '0.037035',
    description: '$0.003 per 1K input tokens for Claude 3.5 Sonnet',
    chargeCategory: 'Usage',
    service: 'Amazon Bedrock',
    resourceId: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0',
  },
  {
    ...AWS_COMMON,
    model: 'Claude3.5Sonnet',
    periodStart: JAN_15_10H,
    periodEnd: JAN_15_11H,
    kind: 'output',
    quantity: '512',
    unit: 'tokens',
    billedCost: '0.00768',
    listCost: '0.00768',
    description: '$0.015 per 1K output tokens for Claude 3.5 Sonnet',
    chargeCategory: 'Usage',
    service: 'Amazon Bedrock',
    resourceId: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0',
  },
  {
    // Exponent notation read exactly: 3.45E-9 USD for 1.5E-7 GB-month.
    ...AWS_COMMON,
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
    service: 'Amazon Simple Storage Service',
    resourceId: 'arn:aws:s3:::example-training-data',
  },
  {
    // 0.123456789013|500: exactly half, rounded to the even neighbour ...014 (counted once);
    // the quantity's 15 decimals end in zeros, so it is exact and not counted.
    ...AWS_COMMON,
    model: '',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'other',
    quantity: '1.37174210015',
    unit: 'GB',
    billedCost: '0.123456789014',
    listCost: undefined,
    description: '$0.09 per GB - first 10 TB / month data transfer out beyond the global free tier',
    chargeCategory: 'Usage',
    service: 'AWS Data Transfer',
    resourceId: '',
  },
  {
    ...AWS_COMMON,
    model: '',
    periodStart: JAN_01,
    periodEnd: FEB_01,
    kind: 'other',
    quantity: '0',
    unit: '',
    billedCost: '3.27',
    listCost: undefined,
    description: 'Tax for product code AmazonEC2',
    chargeCategory: 'Tax',
    service: 'Amazon Elastic Compute Cloud',
    resourceId: '',
  },
  {
    ...AWS_COMMON,
    model: '',
    periodStart: JAN_01,
    periodEnd: FEB_01,
    kind: 'other',
    quantity: '0',
    unit: '',
    billedCost: '-25',
    listCost: undefined,
    description: 'AWS Activate Credits',
    chargeCategory: 'Credit',
    service: 'Amazon Elastic Compute Cloud',
    resourceId: '',
  },
  // The Lambda free-tier row (zero requests, zero cost) yields no line: notes.empty.
];

/** In the style of an Azure cost export in FOCUS format: UTF-8 BOM, CRLF line ends. */
const AZURE_FOCUS = `\uFEFF${[
  String.raw`BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,ConsumedQuantity,ConsumedUnit,EffectiveCost,ListCost,PricingQuantity,PricingUnit,ProviderName,PublisherName,RegionName,ResourceId,ResourceName,ResourceType,ServiceCategory,ServiceName,SkuId,SkuPriceId,SubAccountId,SubAccountName,Tags,x_SkuDetails,x_SkuMeterCategory,x_SkuMeterName`,
  String.raw`654.912,/providers/Microsoft.Billing/billingAccounts/12345678,Contoso,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,ND96asr A100 v4,Usage-Based,2025-01-16T00:00:00Z,2025-01-15T00:00:00Z,24,Hours,654.912,654.912,24,1 Hour,Microsoft,Microsoft,East US,/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-rg/providers/Microsoft.Compute/virtualMachines/gpu-train-01,gpu-train-01,Virtual machine,Compute,Virtual Machines,DZH318Z0BQ4L,DZH318Z0BQ4L/00J4,/subscriptions/00000000-0000-0000-0000-000000000001,ML Research,"{""project"":""llm, fine-tune"",""owner"":""ana \""ops\"" team""}","{""ServiceType"":""Standard_ND96asr_v4"",""VCPUs"":96,""UsageType"":""ComputeHR""}",Virtual Machines,ND96asr A100 v4`,
  String.raw`0.025,/providers/Microsoft.Billing/billingAccounts/12345678,Contoso,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,,Usage-Based,2025-01-16T00:00:00Z,2025-01-15T00:00:00Z,2.5,1K Tokens,0.025,0.025,2.5,1K Tokens,Microsoft,Microsoft,East US 2,/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-rg/providers/Microsoft.CognitiveServices/accounts/contoso-openai,contoso-openai,Cognitive Services,AI and Machine Learning,Azure OpenAI,DZH318Z08M22,DZH318Z08M22/0067,/subscriptions/00000000-0000-0000-0000-000000000001,ML Research,{},,Cognitive Services,gpt-4o-0806-Outp-glbl Tokens`,
  String.raw`0.000580645161290322,/providers/Microsoft.Billing/billingAccounts/12345678,Contoso,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Usage,,LRS Data Stored,Usage-Based,2025-01-16T00:00:00Z,2025-01-15T00:00:00Z,0.032258064516129,GB/Month,0.000580645161290322,,0.032258064516129,1 GB/Month,Microsoft,Microsoft,East US,/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-rg/providers/Microsoft.Storage/storageAccounts/contosodata,contosodata,Storage account,Storage,Storage,DZH318Z0BPVW,DZH318Z0BPVW/000F,/subscriptions/00000000-0000-0000-0000-000000000001,ML Research,,"{""ServiceType"":""Standard_LRS""}",Storage,LRS Data Stored`,
  String.raw`-100,/providers/Microsoft.Billing/billingAccounts/12345678,Contoso,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Credit,,Azure Credit Offer,One-Time,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,,,-100,,,,Microsoft,Microsoft,,,,,,,,,/subscriptions/00000000-0000-0000-0000-000000000001,ML Research,,,,`,
  String.raw`65.49,/providers/Microsoft.Billing/billingAccounts/12345678,Contoso,usd,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Tax,,Sales tax,Recurring,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,,,65.49,,,,Microsoft,Microsoft,,,,,,,,,/subscriptions/00000000-0000-0000-0000-000000000001,ML Research,,,,`,
  String.raw`15000,/providers/Microsoft.Billing/billingAccounts/12345678,Contoso,USD,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,Purchase,,"Reserved VM Instance, Standard_ND96asr_v4, US East, 1 Year",One-Time,2025-01-20T00:00:00Z,2025-01-19T00:00:00Z,,,0,,8760,Hours,Microsoft,Microsoft,East US,,,,Compute,Virtual Machines,DZH318Z0BQ4L,,/subscriptions/00000000-0000-0000-0000-000000000001,ML Research,,,Virtual Machines,ND96asr A100 v4`,
  '',
].join('\r\n')}`;

const AZURE_COMMON = {
  source: 'focus',
  provider: 'azure',
  account: '/providers/Microsoft.Billing/billingAccounts/12345678',
  project: '/subscriptions/00000000-0000-0000-0000-000000000001',
  apiKey: '',
  serviceTier: '',
  currency: 'USD',
} as const;

const AZURE_EXPECTED: BilledLine[] = [
  {
    // The VM size is found in x_SkuDetails; 24 hours of an N-series GPU VM.
    ...AZURE_COMMON,
    model: 'Standard_ND96asr_v4',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'gpu_hours',
    quantity: '24',
    unit: 'hours',
    billedCost: '654.912',
    listCost: '654.912',
    description: 'ND96asr A100 v4',
    chargeCategory: 'Usage',
    service: 'Virtual Machines',
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-rg/providers/Microsoft.Compute/virtualMachines/gpu-train-01',
  },
  {
    // No ChargeDescription: the SkuId describes it; the meter name says output; 2.5 × 1000 tokens.
    ...AZURE_COMMON,
    model: '',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'output',
    quantity: '2500',
    unit: 'tokens',
    billedCost: '0.025',
    listCost: '0.025',
    description: 'DZH318Z08M22',
    chargeCategory: 'Usage',
    service: 'Azure OpenAI',
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-rg/providers/Microsoft.CognitiveServices/accounts/contoso-openai',
  },
  {
    // 0.000580645161|290322 and 0.032258064516|129: both rounded down, both counted.
    ...AZURE_COMMON,
    model: '',
    periodStart: JAN_15,
    periodEnd: JAN_16,
    kind: 'other',
    quantity: '0.032258064516',
    unit: 'GB/Month',
    billedCost: '0.000580645161',
    listCost: undefined,
    description: 'LRS Data Stored',
    chargeCategory: 'Usage',
    service: 'Storage',
    resourceId:
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ml-rg/providers/Microsoft.Storage/storageAccounts/contosodata',
  },
  {
    ...AZURE_COMMON,
    model: '',
    periodStart: JAN_01,
    periodEnd: FEB_01,
    kind: 'other',
    quantity: '0',
    unit: '',
    billedCost: '-100',
    listCost: undefined,
    description: 'Azure Credit Offer',
    chargeCategory: 'Credit',
    service: '',
    resourceId: '',
  },
  {
    // BillingCurrency "usd" is upper-cased.
    ...AZURE_COMMON,
    model: '',
    periodStart: JAN_01,
    periodEnd: FEB_01,
    kind: 'other',
    quantity: '0',
    unit: '',
    billedCost: '65.49',
    listCost: undefined,
    description: 'Sales tax',
    chargeCategory: 'Tax',
    service: '',
    resourceId: '',
  },
  {
    // A reservation purchase states hours but is not usage: 'other', quantity and unit as given.
    ...AZURE_COMMON,
    model: '',
    periodStart: JAN_19,
    periodEnd: JAN_20,
    kind: 'other',
    quantity: '8760',
    unit: 'Hours',
    billedCost: '15000',
    listCost: undefined,
    description: 'Reserved VM Instance, Standard_ND96asr_v4, US East, 1 Year',
    chargeCategory: 'Purchase',
    service: 'Virtual Machines',
    resourceId: '',
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

describe('FocusBillParser', () => {
  it('maps an AWS FOCUS 1.0 export, line by line', () => {
    const { lines, notes } = parse(AWS_FOCUS);
    assert.deepEqual(lines, AWS_EXPECTED);
    assert.deepEqual(notes, { rounded: 1, empty: 1 });
  });

  it('maps an Azure FOCUS export (BOM, CRLF, JSON cells with commas and quotes)', () => {
    const { lines, notes } = parse(AZURE_FOCUS);
    assert.deepEqual(lines, AZURE_EXPECTED);
    assert.deepEqual(notes, { rounded: 2, empty: 0 });
  });

  it('gives the same lines whatever the chunk size', () => {
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      assert.deepEqual(parse(AWS_FOCUS, size).lines, AWS_EXPECTED, `AWS, chunks of ${size}`);
      assert.deepEqual(parse(AZURE_FOCUS, size).lines, AZURE_EXPECTED, `Azure, chunks of ${size}`);
    }
  });

  it('returns lines as their rows complete', () => {
    const parser = new FocusBillParser();
    const [header = '', first = '', second = ''] = AWS_FOCUS.split('\n');
    assert.deepEqual(parser.push(`${header}\n`), []);
    assert.deepEqual(parser.columns?.length, 30);
    assert.deepEqual(parser.push(`${first}\n${second.slice(0, 10)}`), [AWS_EXPECTED[0]]);
    assert.deepEqual(parser.push(second.slice(10)), []);
    assert.deepEqual(parser.end(), [AWS_EXPECTED[1]]);
  });

  it('reads GCP: hours from the pricing unit when usage is consumed in seconds, the machine type from Tags', () => {
    const text = [
      'BilledCost,BillingAccountId,BillingCurrency,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ConsumedQuantity,ConsumedUnit,PricingQuantity,PricingUnit,ProviderName,ServiceCategory,ServiceName,SkuId,SubAccountId,ChargeDescription,Tags',
      String.raw`88.2468,01ABCD-234EFG-56789H,USD,Usage,2025-01-15 10:00:00,2025-01-15 11:00:00,3600,seconds,1,hour,Google Cloud,Compute,Compute Engine,A3-CPU-1234,my-project,A3 Instance Core running in Americas,"{""compute.googleapis.com/machine_spec"":""a3-highgpu-8g"",""env"":""prod""}"`,
    ].join('\n');
    assert.deepEqual(parse(text).lines, [
      {
        source: 'focus',
        provider: 'gcp',
        account: '01ABCD-234EFG-56789H',
        project: 'my-project',
        apiKey: '',
        model: 'a3-highgpu-8g',
        serviceTier: '',
        periodStart: JAN_15_10H,
        periodEnd: JAN_15_11H,
        kind: 'gpu_hours',
        quantity: '1',
        unit: 'hours',
        billedCost: '88.2468',
        listCost: undefined,
        currency: 'USD',
        description: 'A3 Instance Core running in Americas',
        chargeCategory: 'Usage',
        service: 'Compute Engine',
        resourceId: '',
      },
    ]);
  });

  it('accepts FOCUS 1.3 ServiceProviderName and column names in any case; the account option fills a missing BillingAccountId', () => {
    const text = [
      'billedcost,BILLINGCURRENCY,chargeperiodstart,chargeperiodend,chargecategory,ServiceProviderName,consumedquantity,consumedunit,chargedescription',
      '2.5,eur,2025-01-15T00:00:00+01:00,2025-01-16T00:00:00+01:00,Usage,OpenAI,1,1M tokens,gpt-4o cached input',
    ].join('\n');
    assert.deepEqual(parse(text, Number.POSITIVE_INFINITY, { account: 'org-123' }).lines, [
      {
        source: 'focus',
        provider: 'openai',
        account: 'org-123',
        project: '',
        apiKey: '',
        model: '',
        serviceTier: '',
        periodStart: JAN_15 - 3600,
        periodEnd: JAN_16 - 3600,
        kind: 'cache_read',
        quantity: '1000000',
        unit: 'tokens',
        billedCost: '2.5',
        listCost: undefined,
        currency: 'EUR',
        description: 'gpt-4o cached input',
        chargeCategory: 'Usage',
        service: '',
        resourceId: '',
      },
    ]);
  });

  it('maps Parquet rows (values by schema column, SQL NULL as null) with the same mapper', () => {
    const binding = bindFocusColumns(
      [
        'BilledCost',
        'BillingCurrency',
        'ChargePeriodStart',
        'ChargePeriodEnd',
        'ChargeCategory',
        'ProviderName',
        'ResourceType',
        'ConsumedQuantity',
        'ConsumedUnit',
        'ServiceCategory',
      ],
      'focus.parquet',
    );
    const notes = emptyNotes();
    const row = binding.row(
      [
        '6.88',
        'USD',
        '2025-01-15T10:00:00Z',
        '2025-01-15T11:00:00Z',
        'Usage',
        'Amazon Web Services',
        'p5.48xlarge',
        '0.125',
        'Hours',
        null,
      ],
      7,
    );
    const line = mapFocusRow(row, notes);
    assert.equal(line?.kind, 'gpu_hours');
    assert.equal(line?.model, 'p5.48xlarge');
    assert.equal(line?.quantity, '0.125');
    assert.equal(line?.provider, 'aws');
    assert.equal(row.get('ServiceCategory'), undefined);
    assert.equal(row.get('NoSuchColumn'), undefined);
    assert.throws(
      () => bindFocusColumns(['BilledCost'], 'focus.parquet'),
      importError('MISSING_FIELD', undefined, 'BillingCurrency', 'focus.parquet'),
    );
  });

  it('normalises provider names', () => {
    const cases: [string, string][] = [
      ['Amazon Web Services', 'aws'],
      ['AWS', 'aws'],
      ['Microsoft', 'azure'],
      ['Microsoft Azure', 'azure'],
      ['Azure', 'azure'],
      ['Google Cloud', 'gcp'],
      ['Google Cloud Platform', 'gcp'],
      ['GCP', 'gcp'],
      ['Google', 'gcp'],
      ['OpenAI', 'openai'],
      ['Anthropic', 'anthropic'],
      ['  Oracle Cloud Infrastructure ', 'oracle cloud infrastructure'],
    ];
    for (const [name, provider] of cases) assert.equal(focusProvider(name), provider, name);
  });

  it('counts tokens by kind from the description, SKU or usage type; hours outside compute are other', () => {
    const header =
      'BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ConsumedQuantity,ConsumedUnit,ChargeDescription,SkuId,ServiceCategory';
    const rows = [
      '1,USD,2025-01-15,2025-01-16,Usage,Anthropic,3,1K tokens,Claude Sonnet 4 cache write,,AI and Machine Learning',
      '1,USD,2025-01-15,2025-01-16,Usage,Anthropic,3,"1,000 tokens",,claude-sonnet-4-InputTokens,AI and Machine Learning',
      '1,USD,2025-01-15,2025-01-16,Usage,Anthropic,3,Tokens,Claude Sonnet 4 web search,,AI and Machine Learning',
      '1,USD,2025-01-15,2025-01-16,Usage,AWS,24,Hrs,NAT gateway hours,,Networking',
    ];
    const lines = parse([header, ...rows].join('\n')).lines;
    assert.deepEqual(
      lines.map((l) => [l.kind, l.quantity, l.unit, l.description]),
      [
        ['cache_write', '3000', 'tokens', 'Claude Sonnet 4 cache write'],
        ['input', '3000', 'tokens', 'claude-sonnet-4-InputTokens'],
        ['other', '3', 'tokens', 'Claude Sonnet 4 web search'],
        ['other', '24', 'hours', 'NAT gateway hours'],
      ],
    );
  });

  describe('errors name the file, the line and the column', () => {
    const header =
      'BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ConsumedQuantity,ChargeDescription';
    // The first row's description spans two lines, so the row under test starts on line 4.
    const good = '1,USD,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,Usage,AWS,1,"two\nlines"';
    const withRow = (row: string) => `${header}\n${good}\n${row}\n${good}\n`;
    const cases: [string, string, string, string][] = [
      [
        'a cost that is not a number',
        'abc,USD,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,Usage,AWS,1,x',
        'INVALID_VALUE',
        'BilledCost',
      ],
      [
        'a cost with a thousands separator',
        '"1,000.00",USD,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,Usage,AWS,1,x',
        'INVALID_VALUE',
        'BilledCost',
      ],
      ['an empty cost', ',USD,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,Usage,AWS,1,x', 'INVALID_VALUE', 'BilledCost'],
      [
        'a currency symbol',
        '1,$,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,Usage,AWS,1,x',
        'INVALID_VALUE',
        'BillingCurrency',
      ],
      [
        'a four-letter currency',
        '1,USDT,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,Usage,AWS,1,x',
        'INVALID_VALUE',
        'BillingCurrency',
      ],
      [
        'an end equal to the start',
        '1,USD,2025-01-15T00:00:00Z,2025-01-15T00:00:00Z,Usage,AWS,1,x',
        'INVALID_VALUE',
        'ChargePeriodEnd',
      ],
      [
        'an end before the start',
        '1,USD,2025-01-16T00:00:00Z,2025-01-15T00:00:00Z,Usage,AWS,1,x',
        'INVALID_VALUE',
        'ChargePeriodEnd',
      ],
      [
        'an impossible date',
        '1,USD,2025-02-30T00:00:00Z,2025-03-01T00:00:00Z,Usage,AWS,1,x',
        'INVALID_VALUE',
        'ChargePeriodStart',
      ],
      [
        'a time that is not ISO 8601',
        '1,USD,2025-01-15T00:00:00Z,16/01/2025,Usage,AWS,1,x',
        'INVALID_VALUE',
        'ChargePeriodEnd',
      ],
      [
        'an empty charge category',
        '1,USD,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,,AWS,1,x',
        'INVALID_VALUE',
        'ChargeCategory',
      ],
      [
        'an empty provider',
        '1,USD,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,Usage,,1,x',
        'INVALID_VALUE',
        'ProviderName',
      ],
      [
        'a bad quantity',
        '1,USD,2025-01-15T00:00:00Z,2025-01-16T00:00:00Z,Usage,AWS,n/a,x',
        'INVALID_VALUE',
        'ConsumedQuantity',
      ],
    ];
    for (const [what, row, code, field] of cases) {
      it(what, () => {
        assert.throws(
          () => parse(withRow(row), 16, { file: 'export.csv' }),
          (err: unknown) => {
            importError(code, 4, field, 'export.csv')(err);
            assert.match((err as Error).message, new RegExp(`^export\\.csv, line 4, field ${field}: `));
            return true;
          },
        );
      });
    }

    it('a missing required column, naming it and the header', () => {
      const text = 'BilledCost,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName\n1,a,b,c,d\n';
      assert.throws(
        () => parse(text, Number.POSITIVE_INFINITY, { file: 'export.csv' }),
        (err: unknown) => {
          importError('MISSING_FIELD', 1, 'BillingCurrency', 'export.csv')(err);
          assert.match(
            (err as Error).message,
            /missing column BillingCurrency; the header has: BilledCost, ChargePeriodStart, ChargePeriodEnd, ChargeCategory, ProviderName$/,
          );
          return true;
        },
      );
      assert.throws(
        () => parse('BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory\n'),
        (err: unknown) => {
          importError('MISSING_FIELD', 1, 'ProviderName')(err);
          assert.match((err as Error).message, /missing column ProviderName \(or ServiceProviderName\)/);
          return true;
        },
      );
    });

    it('a row with more or fewer fields than the header', () => {
      assert.throws(
        () => parse(withRow('1,USD'), 5, { file: 'export.csv' }),
        importError('INVALID_FORMAT', 4, undefined, 'export.csv'),
      );
    });

    it('malformed CSV, with its line', () => {
      assert.throws(
        () => parse(withRow('1,USD"x'), 5, { file: 'export.csv' }),
        importError('INVALID_FORMAT', 4, undefined, 'export.csv'),
      );
    });

    it('an empty file', () => {
      assert.throws(
        () => parse('\uFEFF\r\n', 5, { file: 'export.csv' }),
        importError('INVALID_FORMAT', undefined, undefined, 'export.csv'),
      );
    });

    it('stops at the first bad row for good', () => {
      const parser = new FocusBillParser({ file: 'export.csv' });
      assert.throws(
        () => parser.push(withRow('abc,USD,2025-01-15,2025-01-16,Usage,AWS,1,x')),
        importError('INVALID_VALUE', 4, 'BilledCost', 'export.csv'),
      );
      assert.throws(() => parser.push(`${good}\n`), importError('INVALID_VALUE', 4, 'BilledCost', 'export.csv'));
      assert.throws(() => parser.end(), importError('INVALID_VALUE', 4, 'BilledCost', 'export.csv'));
    });
  });
});

describe('bill mapping helpers', () => {
  it('reads hour and token units with their block size', () => {
    const cases: [string, 'hours' | 'tokens' | undefined, bigint][] = [
      ['Hours', 'hours', 1n],
      ['Hour', 'hours', 1n],
      ['Hrs', 'hours', 1n],
      ['hr', 'hours', 1n],
      ['h', 'hours', 1n],
      ['1 Hour', 'hours', 1n],
      ['10 Hours', 'hours', 10n],
      ['Tokens', 'tokens', 1n],
      ['1K tokens', 'tokens', 1000n],
      ['1k Tokens', 'tokens', 1000n],
      ['1M tokens', 'tokens', 1_000_000n],
      ['1,000 tokens', 'tokens', 1000n],
      ['1000 Tokens', 'tokens', 1000n],
      ['1 Million Tokens', 'tokens', 1_000_000n],
      ['token-count', 'tokens', 1n],
      ['GB-Mo', undefined, 1n],
      ['GB-Hours', undefined, 1n],
      ['Requests', undefined, 1n],
      ['seconds', undefined, 1n],
    ];
    for (const [unit, base, multiplier] of cases) assert.deepEqual(readBillUnit(unit), { base, multiplier }, unit);
  });

  it('finds instance types and knows the GPU families', () => {
    const cases: [string, string | undefined, boolean | undefined][] = [
      ['$32.7726 per On Demand Linux p4d.24xlarge Instance Hour', 'p4d.24xlarge', true],
      ['USE1-BoxUsage:p5en.48xlarge', 'p5en.48xlarge', true],
      ['p6-b200.48xlarge', 'p6-b200.48xlarge', true],
      ['g4dn.xlarge g4ad.4xlarge', 'g4dn.xlarge', true],
      ['gr6.4xlarge', 'gr6.4xlarge', true],
      ['trn2.48xlarge', 'trn2.48xlarge', true],
      ['inf2.xlarge', 'inf2.xlarge', true],
      ['USE1-Train:ml.p4de.24xlarge', 'ml.p4de.24xlarge', true],
      ['m5.large then g6e.2xlarge', 'g6e.2xlarge', true],
      ['m7i-flex.large', 'm7i-flex.large', false],
      ['c7g.metal', 'c7g.metal', false],
      ['{"ServiceType":"Standard_ND96asr_v4","VCPUs":96}', 'Standard_ND96asr_v4', true],
      ['Standard_NC24ads_A100_v4', 'Standard_NC24ads_A100_v4', true],
      ['standard_nv36ads_a10_v5', 'standard_nv36ads_a10_v5', true],
      ['Standard_D4s_v3', 'Standard_D4s_v3', false],
      ['gke-train-a3-highgpu-8g-pool', 'a3-highgpu-8g', true],
      ['a2-ultragpu-1g', 'a2-ultragpu-1g', true],
      ['a4-highgpu-8g', 'a4-highgpu-8g', true],
      ['g2-standard-4', 'g2-standard-4', true],
      ['n2-standard-8', 'n2-standard-8', false],
      ['g1-small', 'g1-small', false],
      ['Standard_LRS', undefined, undefined],
      ['Amazon.com Services LLC', undefined, undefined],
      ['BoxUsage', undefined, undefined],
    ];
    for (const [text, name, gpu] of cases) {
      const found = findInstanceType(text);
      assert.deepEqual([found?.name, found?.gpu], [name, gpu], text);
    }
  });

  it('tells token kinds from descriptions, SKUs and usage types', () => {
    const cases: [string, string | undefined][] = [
      ['Claude 3.5 Sonnet input tokens', 'input'],
      ['gpt-4o prompt tokens', 'input'],
      ['uncached input tokens', 'input'],
      ['gpt4oInputTokens', 'input'],
      ['GPT-4o-0806-Inp-glbl Tokens', 'input'],
      ['$0.015 per 1K output tokens', 'output'],
      ['GPT-4o-0806-Outp-glbl Tokens', 'output'],
      ['completion tokens', 'output'],
      ['gpt-4o cached input', 'cache_read'],
      ['Cache Read Input Tokens', 'cache_read'],
      ['USE1_CacheReadInputTokenCount-Units', 'cache_read'],
      ['Claude Sonnet 4 5m cache write', 'cache_write'],
      ['…-cache-write-input-token-count', 'cache_write'],
      ['prompt caching: cache creation input tokens', 'cache_write'],
      ['Provisioned throughput', undefined],
      ['web search', undefined],
    ];
    for (const [text, kind] of cases) assert.equal(tokenKindOf(text), kind, text);
  });

  it('reads Bedrock token usage types', () => {
    assert.deepEqual(readBedrockUsageType('USE1-Claude3.5Sonnet-input-tokens'), {
      model: 'Claude3.5Sonnet',
      kind: 'input',
    });
    assert.deepEqual(readBedrockUsageType('USW2-Llama3-1-70B-output-tokens'), {
      model: 'Llama3-1-70B',
      kind: 'output',
    });
    assert.deepEqual(readBedrockUsageType('APN1-Claude3.7Sonnet-cache-read-input-token-count'), {
      model: 'Claude3.7Sonnet',
      kind: 'cache_read',
    });
    assert.deepEqual(readBedrockUsageType('USE1-Claude3.7Sonnet-cache-write-input-token-count'), {
      model: 'Claude3.7Sonnet',
      kind: 'cache_write',
    });
    assert.deepEqual(readBedrockUsageType('AI21-Jamba-input-tokens'), { model: 'AI21-Jamba', kind: 'input' });
    assert.equal(readBedrockUsageType('USE1-ProvisionedThroughput-ModelUnits'), undefined);
    assert.equal(readBedrockUsageType('USE1-input-tokens'), undefined);
    assert.equal(readBedrockUsageType(undefined), undefined);
  });
});
