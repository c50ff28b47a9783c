// withQuotaLock on every SQL engine: two separate database handles (as two processes would have) run many
// concurrent count-then-insert requests against one limit; exactly the limit is inserted, per project, and a
// request that throws inside the lock inserts nothing. SQLite always runs; PostgreSQL and MariaDB are skipped with
// the reason when not usable (unless CI is set: then it fails).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Kysely } from "kysely";
import {
  migrate,
  openDatabase,
  quotaLockMigration,
  withQuotaLock,
  type Database,
} from "../../../src/shared/db/index.js";
import { createTable } from "../../../src/shared/db/schema.js";
import { createTempDatabase, ENGINES, prepareEngines, type TempDatabase } from "../../helpers/engines.js";

before(prepareEngines);

const LOCK = "qtest_quota_lock";

for (const engine of ENGINES) {
  describe(`quota lock on ${engine}`, () => {
    let skip: string | null = null;
    let dataDir = "";
    let tmp: TempDatabase | null = null;
    const handles: Database[] = [];

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `stratus-qlock-${engine}-`));
      tmp = await createTempDatabase(engine, { dataDir, prefix: "stratus_qlock" });
      skip = tmp.skipReason;
      if (skip) return;
      for (let i = 0; i < 2; i++) handles.push(await openDatabase(tmp.url));
      await migrate(handles[0], "qtest", {
        "0001_lock": quotaLockMigration(LOCK),
        "0002_items": {
          async up(db: Kysely<any>) {
            await createTable(db, "qtest_item")
              .addColumn("id", "varchar(36)", (c) => c.primaryKey())
              .addColumn("project_id", "varchar(64)", (c) => c.notNull())
              .execute();
          },
        },
      });
    });

    after(async () => {
      for (const h of handles) await h.close();
      await tmp?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    /** Count the project's items and insert one if under `limit`, under the lock; whether it was inserted. */
    const take = (db: Kysely<any>, project: string, limit: number, id: string) =>
      withQuotaLock(db, LOCK, "items", project, async (trx) => {
        const r = (await trx
          .selectFrom("qtest_item")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("project_id", "=", project)
          .executeTakeFirst()) as { n: unknown };
        if (Number(r.n) >= limit) return false;
        await trx.insertInto("qtest_item").values({ id, project_id: project }).execute();
        return true;
      });

    const count = async (project: string) =>
      Number(
        (
          (await handles[1].kysely
            .selectFrom("qtest_item")
            .select((eb) => eb.fn.countAll().as("n"))
            .where("project_id", "=", project)
            .executeTakeFirst()) as { n: unknown }
        ).n,
      );

    test("40 concurrent requests over two handles and two projects: exactly the limit each", async (t) => {
      if (skip) return t.skip(skip);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          take(handles[i % 2].kysely, i % 4 < 2 ? "p-a" : "p-b", i % 4 < 2 ? 5 : 7, `item-${i}`),
        ),
      );
      assert.equal(results.filter(Boolean).length, 12);
      assert.equal(await count("p-a"), 5);
      assert.equal(await count("p-b"), 7);
    });

    test("an error inside the lock rolls back what it wrote and releases the lock", async (t) => {
      if (skip) return t.skip(skip);
      await assert.rejects(
        withQuotaLock(handles[0].kysely, LOCK, "items", "p-c", async (trx) => {
          await trx.insertInto("qtest_item").values({ id: "doomed", project_id: "p-c" }).execute();
          throw new Error("over quota");
        }),
        /over quota/,
      );
      assert.equal(await count("p-c"), 0);
      assert.equal(await take(handles[1].kysely, "p-c", 1, "after"), true);
      assert.equal(await count("p-c"), 1);
    });
  });
}
