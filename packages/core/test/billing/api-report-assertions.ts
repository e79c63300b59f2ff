import assert from 'node:assert/strict';
import { BillingImportError } from '../../src/billing/index.js';
import type { BillingErrorCode } from '../../src/billing/index.js';

/** What a thrown BillingImportError must say; every given part is checked, in the fields and the message. */
export interface ExpectedBillingError {
  readonly field?: string;
  readonly line?: number;
  readonly file?: string;
  /** A fragment the message must contain. */
  readonly says?: string;
}

/** Asserts `fn` throws a BillingImportError with `code` that names where it is. */
export function throwsBilling(fn: () => unknown, code: BillingErrorCode, expected: ExpectedBillingError = {}): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BillingImportError, `expected a BillingImportError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (expected.field !== undefined) {
      assert.equal(err.field, expected.field, err.message);
      assert.ok(err.message.includes(`field ${expected.field}`), err.message);
    }
    if (expected.line !== undefined) {
      assert.equal(err.line, expected.line, err.message);
      assert.ok(err.message.includes(`line ${expected.line}`), err.message);
    }
    if (expected.file !== undefined) {
      assert.equal(err.file, expected.file, err.message);
      assert.ok(err.message.startsWith(expected.file), err.message);
    }
    if (expected.says !== undefined) assert.ok(err.message.includes(expected.says), err.message);
    return true;
  });
}
