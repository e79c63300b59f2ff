import type { AnyValue, KeyValue } from '@costtrace/proto';

export type PlainValue = string | number | bigint | boolean | PlainValue[] | undefined;

/** An OTLP AnyValue as a plain JS value (int64 stays bigint; bytes become hex). */
export function plainValue(value: AnyValue | undefined): PlainValue {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return value.intValue;
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return value.arrayValue.values.map(plainValue);
  if (value.bytesValue !== undefined) return Buffer.from(value.bytesValue).toString('hex');
  if (value.kvlistValue !== undefined)
    return JSON.stringify(
      Object.fromEntries(value.kvlistValue.values.map((kv) => [kv.key, String(plainValue(kv.value))])),
    );
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
