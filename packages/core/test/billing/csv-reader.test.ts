import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BillingImportError } from '../../src/billing/billing-error.js';
import { CSV_MAX_FIELDS, CSV_MAX_RECORD_BYTES, CsvReader } from '../../src/billing/index.js';
import type { CsvReaderOptions, CsvRecord } from '../../src/billing/index.js';

/** Reads text pushed in the given chunks; returns plain records for deepEqual. */
function read(chunks: readonly string[], options?: CsvReaderOptions): { fields: string[]; line: number }[] {
  const reader = new CsvReader(options);
  const records: CsvRecord[] = [];
  for (const chunk of chunks) records.push(...reader.push(chunk));
  records.push(...reader.end());
  return records.map((record) => ({ fields: [...record.fields], line: record.line }));
}

/** The text split at the given offsets. */
function split(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(text.slice(from, point));
    from = point;
  }
  chunks.push(text.slice(from));
  return chunks;
}

function csvError(code: string, line: number | undefined, file?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof BillingImportError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.line, line, err.message);
    assert.equal(err.file, file, err.message);
    return true;
  };
}

describe('CsvReader (RFC 4180)', () => {
  it('reads LF and CRLF records, the last one with or without a final line break', () => {
    const expected = [
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', '2', '3'], line: 2 },
    ];
    assert.deepEqual(read(['a,b,c\n1,2,3\n']), expected);
    assert.deepEqual(read(['a,b,c\r\n1,2,3\r\n']), expected);
    assert.deepEqual(read(['a,b,c\r\n1,2,3']), expected);
    assert.deepEqual(read(['a,b,c\n1,2,3']), expected);
  });

  it('reads a lone CR as a line break', () => {
    assert.deepEqual(read(['a,b\rc,d\r']), [
      { fields: ['a', 'b'], line: 1 },
      { fields: ['c', 'd'], line: 2 },
    ]);
  });

  it('keeps empty fields, spaces and a trailing empty field', () => {
    assert.deepEqual(read(['a,,c\n,\n x , y \na,b,\n""\n"",""']), [
      { fields: ['a', '', 'c'], line: 1 },
      { fields: ['', ''], line: 2 },
      { fields: [' x ', ' y '], line: 3 },
      { fields: ['a', 'b', ''], line: 4 },
      { fields: [''], line: 5 },
      { fields: ['', ''], line: 6 },
    ]);
    assert.deepEqual(read(['a,b,']), [{ fields: ['a', 'b', ''], line: 1 }]);
  });

  it('reads quoted fields: commas, doubled quotes, line breaks kept verbatim', () => {
    const text = 'id,note\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,"crlf\r\ninside"\n5,""""\n6,"x"\n';
    assert.deepEqual(read([text]), [
      { fields: ['id', 'note'], line: 1 },
      { fields: ['1', 'a, b'], line: 2 },
      { fields: ['2', 'say "hi"'], line: 3 },
      { fields: ['3', 'two\nlines'], line: 4 },
      { fields: ['4', 'crlf\r\ninside'], line: 6 },
      { fields: ['5', '"'], line: 8 },
      { fields: ['6', 'x'], line: 9 },
    ]);
  });

  it('counts lines across quoted line breaks of every kind', () => {
    // "a\r" then the closing quote then LF: the CR inside and the LF outside are two line breaks.
    assert.deepEqual(read(['"a\r",b\n"c\r\n\n\rd"\ne\n']), [
      { fields: ['a\r', 'b'], line: 1 },
      { fields: ['c\r\n\n\rd'], line: 3 },
      { fields: ['e'], line: 7 },
    ]);
  });

  it('drops a BOM at the start only, and blank lines', () => {
    assert.deepEqual(read(['\uFEFFa,b\r\n\r\n\r\nc,\uFEFF\r\n\n']), [
      { fields: ['a', 'b'], line: 1 },
      { fields: ['c', '\uFEFF'], line: 4 },
    ]);
    assert.deepEqual(read(['', '\uFEFF', 'a']), [{ fields: ['a'], line: 1 }]);
    assert.deepEqual(read(['']), []);
    assert.deepEqual(read(['\n\n']), []);
  });

  it('gives the same records whatever the chunk boundaries (every one- and two-cut split)', () => {
    const text = '\uFEFFh1,"h,2"\r\n"a""",b\r\n"x\r\ny","""q"""\r\n,\r\n"é😀",z';
    const expected = read([text]);
    assert.deepEqual(expected, [
      { fields: ['h1', 'h,2'], line: 1 },
      { fields: ['a"', 'b'], line: 2 },
      { fields: ['x\r\ny', '"q"'], line: 3 },
      { fields: ['', ''], line: 5 },
      { fields: ['é😀', 'z'], line: 6 },
    ]);
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        assert.deepEqual(read(split(text, [i, j])), expected, `cuts ${i}, ${j}`);
      }
    }
    assert.deepEqual(read([...text]), expected, 'one character per push');
  });

  it('returns records as soon as they are complete and buffers only the unfinished one', () => {
    const reader = new CsvReader();
    assert.deepEqual(reader.push('a,b\nc,"d'), [{ fields: ['a', 'b'], line: 1 }]);
    assert.deepEqual(reader.push('\n'), []);
    assert.deepEqual(reader.push('e",f\r'), [{ fields: ['c', 'd\ne', 'f'], line: 2 }]);
    assert.deepEqual(reader.push('\ng'), []);
    assert.deepEqual(reader.end(), [{ fields: ['g'], line: 4 }]);
  });

  it('rejects a quote inside an unquoted field, with its line', () => {
    assert.throws(() => read(['a,b\nc,d"e\n']), csvError('INVALID_FORMAT', 2));
    assert.throws(() => read(['a,"multi\nline",b"\n']), csvError('INVALID_FORMAT', 2));
    assert.throws(() => read(['a,b', 'c"', 'd']), csvError('INVALID_FORMAT', 1));
  });

  it('rejects text after a closing quote, with its line', () => {
    assert.throws(() => read(['h\n"a"b\n']), csvError('INVALID_FORMAT', 2));
    assert.throws(() => read(['h\n"a" ,b\n']), csvError('INVALID_FORMAT', 2));
    assert.throws(() => read(['h\n"a"', 'x']), csvError('INVALID_FORMAT', 2));
  });

  it('rejects a quote left open at the end, naming the line it opened on', () => {
    assert.throws(() => read(['h\nx,"never\nclosed\n']), csvError('INVALID_FORMAT', 2));
    assert.throws(() => read(['h\n"', '']), csvError('INVALID_FORMAT', 2));
  });

  it('names the file in errors when given', () => {
    assert.throws(
      () => read(['a"'], { file: 'bill.csv' }),
      (err: unknown) => {
        csvError('INVALID_FORMAT', 1, 'bill.csv')(err);
        assert.match((err as Error).message, /^bill\.csv, line 1: a quote inside an unquoted field/);
        return true;
      },
    );
  });

  it('limits a record to 2,000 fields (TOO_LARGE with the line the record starts on)', () => {
    assert.equal(CSV_MAX_FIELDS, 2000);
    const ok = Array.from({ length: 2000 }, (_, i) => String(i)).join(',');
    assert.equal(read([`h\n${ok}\n`])[1]?.fields.length, 2000);
    assert.throws(() => read([`h\n"x\ny",${ok}\n`]), csvError('TOO_LARGE', 2));
    assert.throws(() => read(['a,b,c\n'], { maxFields: 2 }), csvError('TOO_LARGE', 1));
  });

  it('limits a record to 1 MiB of UTF-8 (TOO_LARGE), failing while reading, not at the end', () => {
    assert.equal(CSV_MAX_RECORD_BYTES, 1024 * 1024);
    const exactly = 'x'.repeat(CSV_MAX_RECORD_BYTES);
    assert.equal(read([`h\n${exactly}\n`])[1]?.fields[0]?.length, CSV_MAX_RECORD_BYTES);
    assert.throws(() => read([`h\n${exactly}y\n`]), csvError('TOO_LARGE', 2));
    // An unterminated quote cannot grow the buffer past the limit: push fails before end().
    const reader = new CsvReader({ maxRecordBytes: 1000 });
    reader.push('h\n\n"');
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) reader.push('0123456789abcdefghij');
      },
      csvError('TOO_LARGE', 3),
    );
    // Bytes, not characters: é is 2 bytes, 😀 is 4.
    assert.deepEqual(read(['éé'], { maxRecordBytes: 4 }), [{ fields: ['éé'], line: 1 }]);
    assert.throws(() => read(['ééé'], { maxRecordBytes: 5 }), csvError('TOO_LARGE', 1));
    assert.deepEqual(read(['😀'], { maxRecordBytes: 4 }), [{ fields: ['😀'], line: 1 }]);
    assert.throws(() => read(['😀a'], { maxRecordBytes: 4 }), csvError('TOO_LARGE', 1));
  });

  it('fails for good: after an error every call throws it again', () => {
    const reader = new CsvReader();
    assert.throws(() => reader.push('a"b\n'), csvError('INVALID_FORMAT', 1));
    assert.throws(() => reader.push('c,d\n'), csvError('INVALID_FORMAT', 1));
    assert.throws(() => reader.end(), csvError('INVALID_FORMAT', 1));
  });

  it('rejects bad limits and use after end()', () => {
    assert.throws(() => new CsvReader({ maxFields: 0 }), RangeError);
    assert.throws(() => new CsvReader({ maxRecordBytes: 1.5 }), RangeError);
    const reader = new CsvReader();
    reader.end();
    assert.throws(() => reader.push('a'), /after end/);
  });

  it('reads back any records written as CSV, pushed in any chunks, with their start lines (property)', () => {
    const char = fc.constantFrom('a', 'Z', '0', ' ', ',', '"', '\r', '\n', 'é', '😀', '\t');
    const field = fc.record({ text: fc.string({ unit: char, maxLength: 8 }), quote: fc.boolean() });
    const record = fc.record({
      fields: fc.array(field, { minLength: 1, maxLength: 6 }),
      crlf: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        (records, bom, finalBreak, cuts) => {
          let text = '';
          const expected: { fields: string[]; line: number }[] = [];
          records.forEach((rec, index) => {
            // Reference line: 1 + line breaks before the record (CRLF, CR, LF each one).
            const line = 1 + (text.match(/\r\n|\r|\n/g) ?? []).length;
            const single = rec.fields.length === 1 && rec.fields[0]?.text === '';
            text += rec.fields
              .map(({ text: value, quote }) =>
                quote || single || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value,
              )
              .join(',');
            if (index < records.length - 1 || finalBreak) text += rec.crlf ? '\r\n' : '\n';
            expected.push({ fields: rec.fields.map((f) => f.text), line });
          });
          const input = bom ? `\uFEFF${text}` : text;
          assert.deepEqual(read(split(input, cuts)), expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
