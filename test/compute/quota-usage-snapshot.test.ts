// projectUsage reads a project's instances, cores, RAM and pending resize growth in one consistent read: a
// conductor committing a resize's flavor switch (columns to the new flavor, task state cleared) in the middle of
// the count must not make the server count at its old flavor with no pending growth (CI once saw a 4th resize
// accepted for 3 free cores on MariaDB). A plugin commits that switch through a second database handle right after
// projectUsage's first read of compute_instance. Every engine; PostgreSQL and MariaDB count under the quota lock.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { projectUsage } from "../../src/compute/api/quotas.js";
import { withQuotaLock } from "../../src/shared/db/index.js";
import { ENGINES, prepareEngines } from "../helpers/engines.js";
import { computeHandles, insertServerRow } from "../helpers/compute-db.js";
import { AfterInstanceRead } from "../helpers/instance-read-hook.js";

before(prepareEngines);

const PROJECT = "p-snap";
const SMALL = { flavorid: "s", vcpus: 1, memory_mb: 512 };
const BIG = { flavorid: "b", vcpus: 2, memory_mb: 1024 };

for (const engine of ENGINES) {
  describe(`compute quota usage on ${engine}`, () => {
    const handles = computeHandles(engine, "stratus-qsnap");

    test("a resize's flavor switch committed during the count neither drops nor doubles its growth", async (t) => {
      if (handles.skip) return t.skip(handles.skip);
      const [api, conductor] = [handles.h[0]!.kysely, handles.h[1]!.kysely];
      await insertServerRow(api, { project: PROJECT, flavor: SMALL });
      const resizing = await insertServerRow(api, {
        project: PROJECT,
        flavor: SMALL,
        task: "resize_migrated",
        meta: { old_flavor: SMALL, new_flavor: BIG },
      });
      await insertServerRow(api, { project: PROJECT, flavor: BIG, deleted: true });
      await insertServerRow(api, { project: "p-other", flavor: BIG });
      const expected = { instances: 2, cores: SMALL.vcpus + BIG.vcpus, ram: SMALL.memory_mb + BIG.memory_mb };
      const counted = (u: Record<string, number>) => ({ instances: u.instances, cores: u.cores, ram: u.ram });
      assert.deepEqual(counted(await projectUsage(api, PROJECT, "u")), expected, "before the switch");

      // What the conductor's last resize step commits: the new flavor's columns, the task state cleared.
      const plugin = new AfterInstanceRead(async () => {
        await conductor
          .updateTable("compute_instance")
          .set({
            vm_state: "resized",
            task_state: null,
            flavor: JSON.stringify(BIG),
            vcpus: BIG.vcpus,
            memory_mb: BIG.memory_mb,
          })
          .where("uuid", "=", resizing)
          .execute();
      });
      const racing = api.withPlugin(plugin);
      // On SQLite the quota lock makes its holder the one writer (the conductor would wait for it to commit).
      const usage =
        engine === "sqlite"
          ? await projectUsage(racing, PROJECT, "u")
          : await withQuotaLock(racing, "compute_quota_lock", "instances", PROJECT, (trx) =>
              projectUsage(trx, PROJECT, "u"),
            );
      assert.equal(plugin.fired, 1, "the switch was committed during the count");
      assert.deepEqual(counted(usage), expected, "during the switch");
      assert.deepEqual(counted(await projectUsage(api, PROJECT, "u")), expected, "after the switch");
    });
  });
}
