/**
 * DuckDB SQL literals. Standard SQL strings: a quote is doubled and nothing else is special, so
 * no input can end the literal. NUL cannot be stored in a DuckDB VARCHAR and is refused.
 */
export function duckString(value: string): string {
  if (value.includes('\0')) throw new RangeError('DuckDB strings cannot contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

export function duckStringList(values: readonly string[]): string {
  return `[${values.map(duckString).join(', ')}]::VARCHAR[]`;
}

/** An exact decimal literal (already a checked decimal string) as DECIMAL(38,12). */
export function duckDecimal(text: string): string {
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  return `${text}::DECIMAL(38,12)`;
}

export function duckInt(value: bigint | number): string {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  return big.toString();
}
