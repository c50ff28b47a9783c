// Writers of a server's system_metadata that read the server first must not put back a stale copy: a resize
// that starts between an os-server-password DELETE's (or a diskConfig PUT's) read and its write keeps its
// new_flavor (counted by the quota, read by the agent), and a password the guest posts while the conductor
// confirms a resize survives the conductor's clean-up of the resize keys. The other writer is put in between by
// a Kysely plugin on the handle the API (or conductor) uses, and writes through a second database handle.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Kysely } from "kysely";
import { projectUsage } from "../../../src/compute/api/quotas.js";
import type { ComputeCore } from "../../../src/compute/core.js";
import { casMigration, findMigration } from "../../../src/compute/conductor/migration-records.js";
import type { ConductorOwner } from "../../../src/compute/conductor/ownership.js";
import { confirmResize } from "../../../src/compute/conductor/resize.js";
import { loadFlavor } from "../../../src/compute/conductor/migration-records.js";
import { setPasswordOnce } from "../../../src/compute/metadata/password.js";
import { openDatabase, type Database } from "../../../src/shared/db/index.js";
import { bootActions, type ActionCloud } from "../actions/util.js";
import { AfterInstanceRead } from "../../helpers/instance-read-hook.js";

let c: ActionCloud;
let other: Database;
let core: ComputeCore;
before(async () => {
  c = await bootActions({ compute: { hosts: 1 } });
  other = await openDatabase(c.t.cloud.db.url);
  core = c.t.cloud.compute.core;
});
after(async () => {
  await other?.close();
  await c?.close();
});

const sysMeta = async (id: string) => JSON.parse((await c.row(id)).system_metadata) as Record<string, any>;

/** What the resize API commits as it starts a resize: RESIZE_PREP and the pending flavor. */
async function startResize(db: Kysely<any>, id: string, flavorid: string) {
  const row = (await db
    .selectFrom("compute_instance")
    .select("system_metadata")
    .where("uuid", "=", id)
    .executeTakeFirstOrThrow()) as { system_metadata: string };
  const meta = { ...JSON.parse(row.system_metadata), new_flavor: await loadFlavor(db, flavorid) };
  await db
    .updateTable("compute_instance")
    .set({ task_state: "resize_prep", system_metadata: JSON.stringify(meta) })
    .where("uuid", "=", id)
    .execute();
}

/** Run `fn` with the compute API's database handle carrying `hook`. */
async function withHook<T>(hook: AfterInstanceRead, fn: () => Promise<T>): Promise<T> {
  const plain = core.db;
  const mutable = core as unknown as { db: Kysely<any> };
  mutable.db = plain.withPlugin(hook);
  try {
    return await fn();
  } finally {
    mutable.db = plain;
  }
}

/** Put the server back to no task and no resize keys (nothing else drives it: no cast was sent). */
async function undoResize(id: string) {
  const meta = await sysMeta(id);
  delete meta.new_flavor;
  await other.kysely
    .updateTable("compute_instance")
    .set({ task_state: null, system_metadata: JSON.stringify(meta) })
    .where("uuid", "=", id)
    .execute();
}

async function activeServer(name: string): Promise<string> {
  const id = await c.createServer(c.demo, { name });
  await c.waitStatus(c.demo, id, "ACTIVE");
  return id;
}

test("DELETE os-server-password keeps the new_flavor of a resize that started after its read", async () => {
  const id = await activeServer("pw-race");
  assert.equal(await setPasswordOnce(other.kysely, id, "encrypted"), "set");
  const project = (await c.row(id)).project_id as string;
  const before = await projectUsage(other.kysely, project, "");
  const hook = new AfterInstanceRead(() => startResize(other.kysely, id, "84"), { uuid: id });
  const r = await withHook(hook, () =>
    c.req("DELETE", `/v2.1/servers/${id}/os-server-password`, { token: c.demo }),
  );
  assert.equal(r.status, 204, r.text);
  assert.equal(hook.fired, 1, "the resize started between the read and the write");
  const meta = await sysMeta(id);
  assert.equal(meta.new_flavor?.flavorid, "84", JSON.stringify(meta));
  assert.equal(meta.password_0, "");
  const get = await c.req("GET", `/v2.1/servers/${id}/os-server-password`, { token: c.demo });
  assert.equal(get.body.password, "");
  // The resize's growth (m1.nano → m1.micro: +64 MB) is still counted.
  assert.equal((await projectUsage(other.kysely, project, "")).ram, before.ram + 64);
  await undoResize(id);
});

test("PUT OS-DCF:diskConfig keeps the new_flavor of a resize that started after its read", async () => {
  const id = await activeServer("dc-race");
  const hook = new AfterInstanceRead(() => startResize(other.kysely, id, "84"), { uuid: id });
  const r = await withHook(hook, () =>
    c.req("PUT", `/v2.1/servers/${id}`, { token: c.demo, body: { server: { "OS-DCF:diskConfig": "AUTO" } } }),
  );
  assert.equal(r.status, 200, r.text);
  assert.equal(hook.fired, 1, "the resize started between the read and the write");
  assert.equal(r.body.server["OS-DCF:diskConfig"], "AUTO");
  const meta = await sysMeta(id);
  assert.equal(meta.new_flavor?.flavorid, "84", JSON.stringify(meta));
  assert.equal(meta.disk_config, "AUTO");
  await undoResize(id);
});

test("a password the guest posts while the conductor confirms a resize survives the clean-up", async () => {
  const id = await activeServer("confirm-race");
  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
  await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  assert.equal((await sysMeta(id)).new_flavor?.flavorid, "84");
  // What the confirmResize API does before it casts to the conductor; the conductor step is run here instead.
  const mig = await findMigration(core.db, id, ["finished"], ["resize"]);
  assert.ok(mig && (await casMigration(core.db, mig.uuid, ["finished"], "confirming")));
  const hook = new AfterInstanceRead(
    async () => {
      assert.equal(await setPasswordOnce(other.kysely, id, "posted"), "set");
    },
    { uuid: id },
  );
  const owner = { owns: async () => true } as unknown as ConductorOwner;
  const hooked = Object.create(core, { db: { value: core.db.withPlugin(hook) } }) as ComputeCore;
  await confirmResize(
    hooked,
    { ctx: { requestId: "req-confirm-race", userId: "u", projectId: "p" }, uuid: id },
    owner,
  );
  assert.equal(hook.fired, 1, "the password was posted after the conductor read the server");
  const row = await c.row(id);
  assert.equal(row.vm_state, "active");
  const meta = JSON.parse(row.system_metadata) as Record<string, unknown>;
  for (const k of ["old_flavor", "new_flavor", "old_vm_state", "migration_uuid"])
    assert.equal(meta[k], undefined, k);
  assert.equal(meta.password_0, "posted");
});
