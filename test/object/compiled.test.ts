// runCached: a hot statement built once per database and run with later values bound to the kept SQL gives each
// run's own answer (in and out of transactions), and parameters given out of order are refused on the first run.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Kysely } from "kysely";
import { openDatabase, type Database } from "../../src/shared/db/index.js";
import { runCached } from "../../src/object/store/compiled.js";

let d: Database;
let db: Kysely<{ t: { a: string; b: number } }>;

before(async () => {
  d = await openDatabase("sqlite::memory:");
  db = d.kysely as typeof db;
  await db.schema.createTable("t").addColumn("a", "text").addColumn("b", "integer").execute();
  await db
    .insertInto("t")
    .values([
      { a: "x", b: 1 },
      { a: "y", b: 2 },
    ])
    .execute();
});
after(() => d.close());

const find = (h: typeof db, a: string, b: number) =>
  runCached(h, "find", [a, b], () => h.selectFrom("t").selectAll().where("a", "=", a).where("b", "=", b));

test("later runs bind their own values to the kept SQL", async () => {
  assert.deepEqual((await find(db, "x", 1)).rows, [{ a: "x", b: 1 }]);
  assert.deepEqual((await find(db, "y", 2)).rows, [{ a: "y", b: 2 }]);
  assert.deepEqual((await find(db, "x", 2)).rows, []);
  await db.transaction().execute(async (tx) => {
    const r = await runCached(tx, "bump", [5, "y"], () =>
      tx.updateTable("t").set({ b: 5 }).where("a", "=", "y"),
    );
    assert.equal(Number(r.numAffectedRows), 1);
    assert.deepEqual((await find(tx, "y", 5)).rows, [{ a: "y", b: 5 }]);
  });
  // The update's kept SQL runs with new values too (not the first run's).
  const r = await runCached(db, "bump", [7, "x"], () =>
    db.updateTable("t").set({ b: 7 }).where("a", "=", "x"),
  );
  assert.equal(Number(r.numAffectedRows), 1);
  assert.deepEqual((await find(db, "x", 7)).rows, [{ a: "x", b: 7 }]);
});

test("values given out of order are refused on the first run", async () => {
  await assert.rejects(
    runCached(db, "swapped", [1, "x"], () =>
      db.selectFrom("t").selectAll().where("a", "=", "x").where("b", "=", 1),
    ),
    /not the values given, in order/,
  );
});
