import { Money, parseScaled } from '../money.js';
import { divideRoundHalfEven } from '../rounding.js';
import { PricingError } from './pricing-error.js';

/** Hours in an average month (8760 / 12), the convention cloud price lists use. */
export const HOURS_PER_MONTH = 730n;

/** The inputs of an owned GPU's total cost of ownership, per GPU. Decimal strings. */
export interface OwnedGpuCosts {
  /** Purchase price of one GPU including its share of the server and network. */
  readonly purchasePrice: string;
  /** Resale value at the end of life; default 0. */
  readonly residualValue?: string | undefined;
  /** Depreciation period in months (36 is common). */
  readonly lifetimeMonths: number;
  /** Colocation space, support contracts and staff, per GPU per month; default 0. */
  readonly hostingPerMonth?: string | undefined;
  /** Average power draw per GPU including its share of the host, in kW; default 0. */
  readonly powerKw?: string | undefined;
  /** Data centre power usage effectiveness; default 1. */
  readonly pue?: string | undefined;
  /** Electricity price per kWh; default 0. */
  readonly electricityPerKwh?: string | undefined;
  /** Share of hours billed to workloads; idle time is spread over busy hours. Default 100. */
  readonly utilizationPercent?: string | undefined;
  readonly currency?: string | undefined;
}

/** Fixed-point scale for the inputs; enough for any realistic figure. */
const SCALE = 12;
const ONE = 10n ** BigInt(SCALE);

function decimal(text: string | undefined, field: string, fallback: string): bigint {
  try {
    const value = parseScaled(text ?? fallback, SCALE);
    if (value < 0n) throw new Error('must not be negative');
    return value;
  } catch (err) {
    throw new PricingError('INVALID_ARGUMENT', `ownedGpu.${field}: ${(err as Error).message}`, {
      field: `ownedGpu.${field}`,
      cause: err,
    });
  }
}

/**
 * The amortised cost of one busy GPU-hour of an owned GPU, rounded once, half to even:
 *
 *   ((purchase − residual) / (lifetimeMonths × 730) + hostingPerMonth / 730
 *     + powerKw × pue × electricityPerKwh) / (utilization / 100)
 */
export function ownedGpuHourlyRate(costs: OwnedGpuCosts): Money {
  const currency = costs.currency ?? 'USD';
  if (!Number.isInteger(costs.lifetimeMonths) || costs.lifetimeMonths <= 0) {
    throw new PricingError('INVALID_ARGUMENT', 'ownedGpu.lifetimeMonths: must be a positive integer', {
      field: 'ownedGpu.lifetimeMonths',
    });
  }
  const purchase = decimal(costs.purchasePrice, 'purchasePrice', '0');
  const residual = decimal(costs.residualValue, 'residualValue', '0');
  if (residual > purchase) {
    throw new PricingError('INVALID_ARGUMENT', 'ownedGpu.residualValue: must not exceed purchasePrice', {
      field: 'ownedGpu.residualValue',
    });
  }
  const hosting = decimal(costs.hostingPerMonth, 'hostingPerMonth', '0');
  const power = decimal(costs.powerKw, 'powerKw', '0');
  const pue = decimal(costs.pue, 'pue', '1');
  const electricity = decimal(costs.electricityPerKwh, 'electricityPerKwh', '0');
  const utilization = decimal(costs.utilizationPercent, 'utilizationPercent', '100');
  if (utilization === 0n || utilization > 100n * ONE) {
    throw new PricingError('INVALID_ARGUMENT', 'ownedGpu.utilizationPercent: must be above 0 and at most 100', {
      field: 'ownedGpu.utilizationPercent',
    });
  }
  const months = BigInt(costs.lifetimeMonths);
  // Everything over the common denominator months × 730 × ONE³ (amounts in ONE units).
  const depreciation = (purchase - residual) * ONE * ONE;
  const hostingPart = hosting * months * ONE * ONE;
  const powerPart = power * pue * electricity * months * HOURS_PER_MONTH;
  const perHourTimesDenominator = depreciation + hostingPart + powerPart;
  const denominator = months * HOURS_PER_MONTH * ONE * ONE * ONE;
  // Divide by utilization/100, express in 10^-12 money subunits (ONE), round once.
  const subunits = divideRoundHalfEven(perHourTimesDenominator * 100n * ONE * ONE, denominator * utilization);
  return Money.fromSubunits(subunits, currency);
}
