import type { AnyValue, KeyValue } from '@costtrace/proto';

export type PlainValue = string | number | bigint | boolean | PlainValue[] | undefined;

/**
 * Longest text a kvlist attribute value may render to (4 Mi characters). Nested kvlists render
 * as JSON inside JSON, so the text doubles with each level: without a bound a few hundred bytes
 * of nesting would take seconds and then exhaust memory. The wire reader refuses such values too.
 */
export const MAX_KVLIST_RENDERING = 4 * 1024 * 1024;

/** A kvlist attribute value whose rendering would exceed MAX_KVLIST_RENDERING. */
export class AttributeTooLarge extends RangeError {
  override readonly name = 'AttributeTooLarge';
}

/** An OTLP AnyValue as a plain JS value (int64 stays bigint; bytes become hex). */
export function plainValue(value: AnyValue | undefined): PlainValue {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return value.intValue;
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return value.arrayValue.values.map(plainValue);
  if (value.bytesValue !== undefined) return Buffer.from(value.bytesValue).toString('hex');
  if (value.kvlistValue !== undefined) {
    let length = 0;
    const entries = value.kvlistValue.values.map((kv): [string, string] => {
      const text = String(plainValue(kv.value));
      length += kv.key.length + text.length;
      if (length > MAX_KVLIST_RENDERING) {
        throw new AttributeTooLarge(`a kvlist attribute value renders to more than ${MAX_KVLIST_RENDERING} characters`);
      }
      return [kv.key, text];
    });
    return JSON.stringify(Object.fromEntries(entries));
  }
  return undefined;
}

/** Attribute list → map, first occurrence of a key wins (as the OTel SDKs do). */
export function attributeMap(attributes: readonly KeyValue[]): Map<string, PlainValue> {
  const map = new Map<string, PlainValue>();
  for (const kv of attributes) if (!map.has(kv.key)) map.set(kv.key, plainValue(kv.value));
  return map;
}

/** A display string for any plain value, for dimensions and the extra-attribute columns. */
export function displayString(value: PlainValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return JSON.stringify(value.map((v) => (typeof v === 'bigint' ? v.toString() : v)));
  return String(value);
}
