// ApiError: a client error (4xx) is an answer and carries no stack trace (capturing one cost more than the rest of
// a 404); a server error keeps its trace for the log; the global stack trace limit is left as it was either way.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, notFound } from "../../../src/shared/http/errors.js";
import { swiftError } from "../../../src/object/errors.js";
import { s3Error } from "../../../src/object/s3/errors.js";

const frames = (e: Error) =>
  (e.stack ?? "").split("\n").filter((l) => l.trimStart().startsWith("at ")).length;

test("client errors carry no stack frames, in every service's error class", () => {
  const limit = Error.stackTraceLimit;
  for (const e of [
    new ApiError(409, "conflict"),
    notFound("no such thing"),
    swiftError(404),
    s3Error("NoSuchKey"),
  ]) {
    assert.equal(frames(e), 0, `${e.name} ${e.message}`);
    assert.ok(e.stack?.includes(e.message), "the stack line still names the error");
  }
  assert.equal(Error.stackTraceLimit, limit);
});

test("server errors keep their stack trace", () => {
  const limit = Error.stackTraceLimit;
  assert.ok(frames(new ApiError(500, "broken")) > 0);
  assert.ok(frames(swiftError(503)) > 0);
  assert.equal(Error.stackTraceLimit, limit);
});
