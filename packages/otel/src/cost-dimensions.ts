import type { Attributes, AttributeValue, Baggage } from '@opentelemetry/api';
import { DimensionAttr } from '@costtrace/core';
import { invalidOption } from './sdk-error.js';

/** The configurable attribution dimensions and the `costtrace.*` attribute each is stamped as. */
export type DimensionName = 'team' | 'tenant' | 'feature';

export const DIMENSION_NAMES: readonly DimensionName[] = ['team', 'tenant', 'feature'];

/**
 * Keys a dimension is read from, first match wins, looked up in this order: the span's own
 * attributes, the attributes of its in-process ancestors, the resource, then W3C baggage (as it
 * was when the span started). Default for each dimension: `costtrace.<name>` and then
 * `<name>.id` (e.g. `tenant.id`).
 */
export type DimensionKeys = Readonly<Partial<Record<DimensionName, readonly string[]>>>;

export interface ResolvedDimension {
  readonly name: DimensionName;
  /** Attribute stamped on cost-bearing spans: costtrace.team / costtrace.tenant / costtrace.feature. */
  readonly target: string;
  readonly keys: readonly string[];
  /** `keys` without `target`: the span's own `target` is checked before the lookup. */
  readonly ownKeys: readonly string[];
}

export function resolveDimensionKeys(option: DimensionKeys | undefined): readonly ResolvedDimension[] {
  return DIMENSION_NAMES.map((name) => {
    const keys = option?.[name] ?? [DimensionAttr[name], `${name}.id`];
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k.length === 0)) {
      throw invalidOption(
        `dimensions.${name}`,
        'must be an array of non-empty attribute or baggage keys',
        `e.g. { ${name}: ['${name}.id'] }`,
      );
    }
    const target = DimensionAttr[name];
    return { name, target, keys, ownKeys: keys.filter((k) => k !== target) };
  });
}

/** What the processor remembers about a span from its start: its parent and the baggage then. */
export interface StartContext {
  readonly parent: { readonly attributes: Attributes } | undefined;
  readonly baggage: Baggage | undefined;
  readonly parentContext: StartContext | undefined;
}

/** Finds a dimension's value for one span (`resourceValue`: what the resource has for it). */
export function findDimension(
  keys: readonly string[],
  ownKeys: readonly string[],
  own: Attributes,
  start: StartContext | undefined,
  resourceValue: AttributeValue | undefined,
): AttributeValue | undefined {
  for (const key of ownKeys) {
    const value = own[key];
    if (value !== undefined) return value;
  }
  for (let ctx = start; ctx !== undefined; ctx = ctx.parentContext) {
    const parent = ctx.parent;
    if (parent === undefined) break;
    for (const key of keys) {
      const value = parent.attributes[key];
      if (value !== undefined) return value;
    }
  }
  if (resourceValue !== undefined) return resourceValue;
  const baggage = start?.baggage;
  if (baggage !== undefined) {
    for (const key of keys) {
      const entry = baggage.getEntry(key);
      if (entry !== undefined && entry.value.length > 0) return entry.value;
    }
  }
  return undefined;
}
