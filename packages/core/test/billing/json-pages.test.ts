import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyNotes, JsonObject, parseOpenAiUsagePage, readJsonPages } from '../../src/billing/index.js';
import type { JsonValue } from '../../src/billing/index.js';
import { throwsBilling } from './api-report-assertions.js';

function tag(page: JsonValue): unknown {
  assert.ok(page instanceof JsonObject);
  return page.get('n');
}

describe('readJsonPages', () => {
  it('reads a file holding one page', () => {
    const pages = readJsonPages('{\n  "n": "one"\n}\n', 'page.json');
    assert.equal(pages.length, 1);
    assert.equal(tag(pages[0]!.page), 'one');
    assert.deepEqual(pages[0]!.location, { file: 'page.json' });
  });

  it('reads a JSON array of pages, naming each by its index', () => {
    const pages = readJsonPages('[\n {"n": "a"},\n {"n": "b"}\n]', 'pages.json');
    assert.deepEqual(
      pages.map((p) => [tag(p.page), p.location]),
      [
        ['a', { file: 'pages.json', field: '[0]' }],
        ['b', { file: 'pages.json', field: '[1]' }],
      ],
    );
    assert.deepEqual(readJsonPages('[]'), []);
  });

  it('reads JSON Lines, one page per line, blank lines and CRLF allowed', () => {
    const pages = readJsonPages('\ufeff{"n": "a"}\r\n\r\n  {"n": "b"}  \n{"n": "c"}\n', 'usage.jsonl');
    assert.deepEqual(
      pages.map((p) => [tag(p.page), p.location]),
      [
        ['a', { file: 'usage.jsonl', line: 1 }],
        ['b', { file: 'usage.jsonl', line: 3 }],
        ['c', { file: 'usage.jsonl', line: 4 }],
      ],
    );
    const first = pages[1]!.page;
    assert.ok(first instanceof JsonObject);
    assert.equal(first.lineOf('n'), 3);
  });

  it('reports a broken JSON Lines record at its line of the file', () => {
    throwsBilling(() => readJsonPages('{"n": 1}\n{"n": 2}\n{"n": 3,}\n', 'usage.jsonl'), 'INVALID_FORMAT', {
      file: 'usage.jsonl',
      line: 3,
      says: 'trailing comma',
    });
  });

  it('refuses content after a multi-line value, or a second value on the same line', () => {
    throwsBilling(() => readJsonPages('{\n "n": 1\n}\n{"n": 2}', 'x.json'), 'INVALID_FORMAT', {
      file: 'x.json',
      line: 4,
      says: 'after the end of the JSON value',
    });
    throwsBilling(() => readJsonPages('{"n": 1} {"n": 2}\n'), 'INVALID_FORMAT', { line: 1 });
    throwsBilling(() => readJsonPages('\n\n'), 'INVALID_FORMAT', { line: 3, says: 'no JSON value' });
  });

  it('gives the page parsers a location that names the page in errors', () => {
    const text = [
      '[',
      '  {"object": "page", "data": [], "has_more": true, "next_page": "p2"},',
      '  {"object": "page", "data": [',
      '    {"object": "bucket", "start_time": 1730419200, "end_time": 1730505600, "results": [',
      '      {"object": "organization.usage.completions.result", "input_tokens": -3,',
      '       "output_tokens": 1, "num_model_requests": 1}',
      '    ]}',
      '  ], "has_more": false, "next_page": null}',
      ']',
    ].join('\n');
    const pages = readJsonPages(text, 'usage.json');
    const notes = emptyNotes();
    const first = parseOpenAiUsagePage(pages[0]!.page, { location: pages[0]!.location }, notes);
    assert.deepEqual(first, { lines: [], periods: [], hasMore: true, nextPage: 'p2' });
    throwsBilling(
      () => parseOpenAiUsagePage(pages[1]!.page, { location: pages[1]!.location }, notes),
      'INVALID_VALUE',
      { file: 'usage.json', line: 5, field: '[1].data[0].results[0].input_tokens', says: 'non-negative integer' },
    );

    const lines = readJsonPages('{"object": "page", "data": [], "has_more": "no"}\n{}\n', 'u.jsonl');
    throwsBilling(
      () => parseOpenAiUsagePage(lines[0]!.page, { location: lines[0]!.location }, notes),
      'INVALID_VALUE',
      { file: 'u.jsonl', line: 1, field: 'has_more' },
    );
    throwsBilling(
      () => parseOpenAiUsagePage(lines[1]!.page, { location: lines[1]!.location }, notes),
      'MISSING_FIELD',
      { file: 'u.jsonl', line: 2, field: 'has_more' },
    );
  });
});
