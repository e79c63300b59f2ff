import type { BillingErrorLocation } from './billing-error.js';
import { JsonArray, parseJson, parseJsonPrefix, trailingContent } from './lossless-json.js';
import type { JsonValue } from './lossless-json.js';

/** One API page read from a file, with where it is in the file: the page parsers' `location`. */
export interface JsonPage {
  readonly page: JsonValue;
  /**
   * The file; for JSON Lines the line of the page's record; for an array of pages the page's
   * index as the path prefix (`field: '[3]'`), so errors read `[3].data[0].results[1].…`.
   */
  readonly location: BillingErrorLocation;
}

/**
 * The pages a saved API response file holds, in order. A file holds one page (a JSON object), a
 * JSON array of pages, or JSON Lines (one page per line, blank lines ignored), which is what
 * `curl` in a pagination loop appends. JSON Lines is recognized by a first value that ends on its
 * line with more content on later lines; anything else after a complete value is INVALID_FORMAT.
 * Pure: the caller reads the file (TOO_LARGE past JSON_MAX_LENGTH, as parseJson).
 */
export function readJsonPages(text: string, file?: string): JsonPage[] {
  const { value, start, end, rest } = parseJsonPrefix(text, { file });
  if (rest >= text.length) {
    if (!(value instanceof JsonArray)) return [{ page: value, location: { file } }];
    const pages: JsonPage[] = [];
    for (let index = 0; index < value.length; index++) {
      pages.push({ page: value.at(index) ?? null, location: { file, field: `[${index}]` } });
    }
    return pages;
  }
  const oneLine = !text.slice(start, end).includes('\n');
  const newlineBefore = text.slice(end, rest).includes('\n');
  if (!oneLine || !newlineBefore) throw trailingContent(text, rest, { file });
  return jsonLines(text, file);
}

/** A line holding only JSON whitespace. */
const BLANK = /^[ \t\r]*$/;

/** JSON Lines: every non-blank line is one page, its errors at its line of the file. */
function jsonLines(text: string, file: string | undefined): JsonPage[] {
  const pages: JsonPage[] = [];
  let line = 0;
  let from = 0;
  while (from <= text.length) {
    line++;
    const newline = text.indexOf('\n', from);
    const to = newline === -1 ? text.length : newline;
    const record = text.slice(from, to);
    from = to + 1;
    if (BLANK.test(line === 1 ? record.replace(/^\ufeff/, '') : record)) continue;
    pages.push({ page: parseJson(record, { file, firstLine: line }), location: { file, line } });
  }
  return pages;
}
