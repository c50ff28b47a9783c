// Group commit of SQLite's WAL (WalSync): one fdatasync per event-loop turn for every caller of that turn, errors to
// every caller of the batch, and Database.durable() on each kind of database.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { sql } from "kysely";
import { openDatabase } from "../../../src/shared/db/index.js";
import { WalSync } from "../../../src/shared/db/wal-sync.js";

const dir = mkdtempSync(join(tmpdir(), "stratus-wal-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the callers of one turn share one fdatasync of the WAL; a later caller gets another", async () => {
  const file = join(dir, "a.db");
  const db = await openDatabase(`sqlite://${file}`);
  try {
    await sql`create table t (k integer primary key, v blob)`.execute(db.kysely);
    await sql`insert into t (v) values (${Buffer.alloc(4096, 1)})`.execute(db.kysely);
    const wal = new WalSync(`${file}-wal`);
    await Promise.all(Array.from({ length: 20 }, () => wal.sync()));
    assert.equal(wal.syncs, 1);
    await wal.sync();
    assert.equal(wal.syncs, 2);
    wal.close();
    await sql`insert into t (v) values (${Buffer.alloc(10, 2)})`.execute(db.kysely);
    await db.durable();
  } finally {
    await db.close();
  }
});

test("a sync that cannot run rejects every caller of its batch", async () => {
  const wal = new WalSync(join(dir, "missing.db-wal"));
  const all = await Promise.allSettled([wal.sync(), wal.sync()]);
  assert.deepEqual(
    all.map((r) => r.status === "rejected" && (r.reason as NodeJS.ErrnoException).code),
    ["ENOENT", "ENOENT"],
  );
  assert.equal(wal.syncs, 0);
});

test("durable() resolves at once for an in-memory database", async () => {
  const db = await openDatabase("sqlite::memory:");
  try {
    await db.durable();
  } finally {
    await db.close();
  }
});
