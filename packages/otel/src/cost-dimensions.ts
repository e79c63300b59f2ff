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
  /**
   * The span's own value for this dimension: TARGET_SET when the span already carries `target`,
   * else the value of the first of `ownKeys` it has.
   */
  readonly ownValue: OwnValueLookup;
}

/** Returned by a dimension's ownValue when the span already carries the target attribute. */
export const TARGET_SET: unique symbol = Symbol('costtrace.dimension.target-set');

type OwnValueLookup = (
  own: Attributes,
  target: string,
  ownKeys: readonly string[],
) => AttributeValue | typeof TARGET_SET | undefined;

/*
 * One lookup function per dimension, deliberately written out three times: V8 keeps an inline
 * cache per property-access site, and a site that only ever sees one dimension's key names stays
 * fast, while one site shared by every dimension's keys goes megamorphic on the key name and
 * costs ~50-90 ns more per span (bench/sdk). Calling a shared helper would share its sites again.
 */
const OWN_VALUE: Readonly<Record<DimensionName, OwnValueLookup>> = {
  team: (own, target, ownKeys) => {
    if (own[target] !== undefined) return TARGET_SET;
    for (let k = 0; k < ownKeys.length; k++) {
      const value = own[ownKeys[k] as string];
      if (value !== undefined) return value;
    }
    return undefined;
  },
  tenant: (own, target, ownKeys) => {
    if (own[target] !== undefined) return TARGET_SET;
    for (let k = 0; k < ownKeys.length; k++) {
      const value = own[ownKeys[k] as string];
      if (value !== undefined) return value;
    }
    return undefined;
  },
  feature: (own, target, ownKeys) => {
    if (own[target] !== undefined) return TARGET_SET;
    for (let k = 0; k < ownKeys.length; k++) {
      const value = own[ownKeys[k] as string];
      if (value !== undefined) return value;
    }
    return undefined;
  },
};

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
    return { name, target, keys, ownKeys: keys.filter((k) => k !== target), ownValue: OWN_VALUE[name] };
  });
}

/** What the processor remembers about a span from its start: its parent and the baggage then. */
export interface StartContext {
  readonly parent: { readonly attributes: Attributes } | undefined;
  readonly baggage: Baggage | undefined;
  readonly parentContext: StartContext | undefined;
}

/**
 * Finds a dimension's value for one span whose own attributes do not have it (`ownValue`
 * returned undefined): its in-process ancestors, then the resource (`resourceValue`), then the
 * baggage as it was when the span started.
 */
export function inheritedDimension(
  keys: readonly string[],
  start: StartContext | undefined,
  resourceValue: AttributeValue | undefined,
): AttributeValue | undefined {
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
