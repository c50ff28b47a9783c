// Swift timestamps: httpDate (which keeps the last second it formatted) answers each second's own date when
// timestamps of different seconds alternate, rounding up as Swift does.
import assert from "node:assert/strict";
import { test } from "node:test";
import { httpDate } from "../../src/object/timestamp.js";

test("httpDate rounds up to the second and gives each second its own date", () => {
  assert.equal(httpDate("1765050291.00000"), "Sat, 06 Dec 2025 19:44:51 GMT");
  assert.equal(httpDate("1765050291.12345"), "Sat, 06 Dec 2025 19:44:52 GMT");
  assert.equal(httpDate("1765050291.00000"), "Sat, 06 Dec 2025 19:44:51 GMT");
  assert.equal(httpDate("1765050292.00000"), "Sat, 06 Dec 2025 19:44:52 GMT");
  assert.equal(httpDate("1700000000.50000"), "Tue, 14 Nov 2023 22:13:21 GMT");
});
