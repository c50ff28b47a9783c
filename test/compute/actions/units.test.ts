// Unit tests of the pieces the action workflows are made of: the rollback stack, console tails, Nova's body
// validators and state checks.
import assert from "node:assert/strict";
import { test } from "node:test";
import pino from "pino";
import { tailLines } from "../../../src/compute/agent/actions.js";
import { Rollback } from "../../../src/compute/conductor/moves.js";
import {
  checkState,
  closedObject,
  generatePassword,
  metadataField,
  parseBoolean,
} from "../../../src/compute/api/server-actions/common.js";
import type { Instance } from "../../../src/compute/instances/store.js";
import type { ApiError } from "../../../src/shared/http/errors.js";

const status = (fn: () => unknown): number => {
  try {
    fn();
    return 0;
  } catch (e) {
    return (e as ApiError).status;
  }
};

test("Rollback runs undo steps newest first, keeps going past a failing step, and can be cleared", async () => {
  const done: string[] = [];
  const rb = new Rollback(pino({ level: "silent" }));
  rb.push("a", async () => done.push("a"));
  rb.push("b", async () => {
    throw new Error("b failed");
  });
  rb.push("c", async () => done.push("c"));
  await rb.run();
  assert.deepEqual(done, ["c", "a"]);
  await rb.run();
  assert.deepEqual(done, ["c", "a"], "steps run once");
  rb.push("d", async () => done.push("d"));
  rb.clear();
  await rb.run();
  assert.deepEqual(done, ["c", "a"]);
});

test("tailLines keeps the last pieces of the log split on newlines, as Nova (all for -1 or none given)", () => {
  const log = "one\ntwo\nthree\n";
  assert.equal(tailLines(log), log);
  assert.equal(tailLines(log, -1), log);
  assert.equal(tailLines(log, 2), "three\n");
  assert.equal(tailLines(log, 3), "two\nthree\n");
  assert.equal(tailLines(log, 0), "");
  assert.equal(tailLines(log, 10), log);
  assert.equal(tailLines("", 3), "");
});

test("body validators: closed objects, Nova's boolean spellings, metadata keys", () => {
  assert.equal(
    status(() => closedObject("x", { a: 1 }, ["a"])),
    0,
  );
  assert.equal(
    status(() => closedObject("x", { b: 1 }, ["a"])),
    400,
  );
  assert.equal(
    status(() => closedObject("x", null, ["a"])),
    400,
  );
  assert.equal(closedObject("x", null, ["a"], { nullable: true }), null);
  assert.equal(
    status(() => closedObject("x", {}, ["a"], { required: ["a"] })),
    400,
  );
  assert.equal(parseBoolean("f", "Yes"), true);
  assert.equal(parseBoolean("f", "off"), false);
  assert.equal(parseBoolean("f", false), false);
  assert.equal(
    status(() => parseBoolean("f", "yES")),
    400,
  );
  assert.equal(
    status(() => parseBoolean("f", 1)),
    400,
  );
  assert.equal(
    status(() => metadataField("m", { "ok key:1": "v" })),
    0,
  );
  assert.equal(
    status(() => metadataField("m", { "bad/key": "v" })),
    400,
  );
  assert.equal(
    status(() => metadataField("m", { k: 5 })),
    400,
  );
  assert.match(generatePassword(), /^[2-9A-HJ-NP-Za-km-z]{12}$/);
});

test("checkState follows Nova's order and words: vm_state, then task_state, then launched_at", () => {
  const inst = {
    uuid: "u",
    vm_state: "active",
    task_state: null,
    launched_at: "2026-01-01T00:00:00Z",
  } as Instance;
  const msg = (fn: () => void) => {
    try {
      fn();
      return "";
    } catch (e) {
      return (e as ApiError).message;
    }
  };
  assert.equal(
    msg(() => checkState(inst, "pause", { vm: ["active"] })),
    "",
  );
  assert.equal(
    msg(() => checkState({ ...inst, vm_state: "stopped", task_state: "x" }, "pause", { vm: ["active"] })),
    "Cannot 'pause' instance u while it is in vm_state stopped",
  );
  assert.equal(
    msg(() => checkState({ ...inst, task_state: "rebooting" }, "pause", { vm: ["active"] })),
    "Cannot 'pause' instance u while it is in task_state rebooting",
  );
  assert.equal(
    msg(() => checkState({ ...inst, task_state: "rebooting" }, "evacuate", { task: null })),
    "",
  );
  assert.equal(
    msg(() => checkState({ ...inst, launched_at: null }, "stop", {})),
    "Cannot 'stop' instance u while it is in launched_at None",
  );
});
