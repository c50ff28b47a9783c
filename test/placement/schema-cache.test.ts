// Regression: schemas built per request (allocations at a microversion) are compiled once, not per request
// (each compile cost ~2 ms and ajv kept every validator: memory grew with every allocation write).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Ajv } from "ajv";
import { consumerSchema } from "../../src/placement/api/allocations.js";
import { validate } from "../../src/placement/api/common.js";
import { Microversion } from "../../src/shared/http/microversion.js";

test("a per-request schema is compiled once per content", () => {
  const compile = Ajv.prototype.compile;
  let compiles = 0;
  Ajv.prototype.compile = function (this: Ajv, ...args: Parameters<Ajv["compile"]>) {
    compiles++;
    return compile.apply(this, args);
  } as Ajv["compile"];
  try {
    const v = new Microversion(1, 39);
    const body = {
      allocations: {},
      project_id: "p",
      user_id: "u",
      consumer_generation: null,
      consumer_type: "INSTANCE",
    };
    for (let i = 0; i < 50; i++) validate(body, consumerSchema(v, false));
    assert.ok(compiles <= 1, `compiled ${compiles} times`);
  } finally {
    Ajv.prototype.compile = compile;
  }
});
