// casUpdate's system_metadata changes are key by key against the row as it is at write time: another writer's
// keys put in between the read and the write (a resize's new_flavor, the guest's password) survive, a failed
// expectation is not retried, and a column that keeps changing ends the retries (bounded). Every engine: the
// compare-and-set compares the JSON text, which must be exact on each.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, test } from "node:test";
import type { Kysely } from "kysely";
import { casUpdate } from "../../../src/compute/instances/store.js";
import { applySysMeta, mergeSysMeta } from "../../../src/compute/instances/system-metadata.js";
import { ENGINES, prepareEngines } from "../../helpers/engines.js";
import { computeHandles, insertServerRow } from "../../helpers/compute-db.js";
import { AfterInstanceRead } from "../../helpers/instance-read-hook.js";

before(prepareEngines);

const BIG = { flavorid: "b", vcpus: 2, memory_mb: 1024 };

async function sysMeta(db: Kysely<any>, uuid: string): Promise<Record<string, unknown>> {
  const row = (await db
    .selectFrom("compute_instance")
    .select("system_metadata")
    .where("uuid", "=", uuid)
    .executeTakeFirstOrThrow()) as { system_metadata: string };
  return JSON.parse(row.system_metadata) as Record<string, unknown>;
}

/** Write the whole column from another handle (what any other writer's commit looks like). */
async function writeMeta(db: Kysely<any>, uuid: string, change: (m: Record<string, unknown>) => void) {
  const meta = await sysMeta(db, uuid);
  change(meta);
  await db
    .updateTable("compute_instance")
    .set({ system_metadata: JSON.stringify(meta) })
    .where("uuid", "=", uuid)
    .execute();
}

test("applySysMeta and mergeSysMeta", () => {
  const meta = { a: 1, b: 2 };
  assert.deepEqual(applySysMeta(meta, { set: { c: 3, a: 9 }, remove: ["b"] }), { a: 9, c: 3 });
  assert.deepEqual(meta, { a: 1, b: 2 }, "the input is left alone");
  const m = mergeSysMeta({ set: { a: 1, b: 1 }, remove: ["c", "d"] }, { set: { c: 2 }, remove: ["a"] })!;
  assert.deepEqual(applySysMeta({ a: 0, b: 0, c: 0, d: 0, e: 0 }, m), { b: 1, c: 2, e: 0 });
  assert.equal(mergeSysMeta(undefined, undefined), undefined);
});

for (const engine of ENGINES) {
  describe(`system_metadata changes on ${engine}`, () => {
    const handles = computeHandles(engine, "stratus-sysmeta");

    test("keys another writer commits between the read and the write survive", async (t) => {
      if (handles.skip) return t.skip(handles.skip);
      const [api, other] = [handles.h[0]!.kysely, handles.h[1]!.kysely];
      const uuid = await insertServerRow(api, { meta: { disk_config: "MANUAL", password_0: "secret" } });
      const hook = new AfterInstanceRead(() =>
        writeMeta(other, uuid, (m) => {
          m.new_flavor = BIG;
        }),
      );
      const ok = await casUpdate(
        api.withPlugin(hook),
        uuid,
        { vmState: ["active"] },
        { progress: 5, sysmeta: { set: { disk_config: "AUTO", password_0: "" } } },
      );
      assert.equal(ok, true);
      assert.equal(hook.fired, 1, "the other writer came in between");
      assert.deepEqual(await sysMeta(api, uuid), { disk_config: "AUTO", password_0: "", new_flavor: BIG });
    });

    test("a row that no longer matches the expectation is not retried", async (t) => {
      if (handles.skip) return t.skip(handles.skip);
      const api = handles.h[0]!.kysely;
      const uuid = await insertServerRow(api, { meta: { a: 1 } });
      const hook = new AfterInstanceRead(async () => undefined, { times: 100 });
      const ok = await casUpdate(
        api.withPlugin(hook),
        uuid,
        { vmState: ["stopped"] },
        { sysmeta: { remove: ["a"] } },
      );
      assert.equal(ok, false);
      assert.equal(hook.fired, 2, "one read to write from, one to see the text had not moved");
      assert.deepEqual(await sysMeta(api, uuid), { a: 1 });
      assert.equal(await casUpdate(api, randomUUID(), {}, { sysmeta: { set: { a: 2 } } }), false, "no row");
    });

    test("a column that keeps changing ends the retries", async (t) => {
      if (handles.skip) return t.skip(handles.skip);
      const [api, other] = [handles.h[0]!.kysely, handles.h[1]!.kysely];
      const uuid = await insertServerRow(api, { meta: { n: 0 } });
      const hook = new AfterInstanceRead(
        () =>
          writeMeta(other, uuid, (m) => {
            m.n = Number(m.n) + 1;
          }),
        { times: 1000 },
      );
      const ok = await casUpdate(api.withPlugin(hook), uuid, {}, { sysmeta: { set: { mine: true } } });
      assert.equal(ok, false);
      assert.ok(hook.fired > 2 && hook.fired < 1000, `bounded: ${hook.fired} reads`);
      assert.equal((await sysMeta(api, uuid)).mine, undefined);
    });
  });
}
