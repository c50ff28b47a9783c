// createBackup (snapshots typed as backups, rotated after the upload), forceDelete and restore.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, until, type ActionCloud } from "../actions/util.js";

let c: ActionCloud;
before(async () => {
  c = await bootActions({ compute: { hosts: 1 } });
});
after(() => c?.close());

const activeImage = (id: string) =>
  until(`image ${id} active`, async () => {
    const r = await c.image(`/v2/images/${id}`);
    return r.status === 200 && r.body.status === "active" ? r.body : null;
  });

/** Names of the server's backups of a type, oldest first. */
async function backups(server: string, type: string): Promise<string[]> {
  const q = `image_type=backup&backup_type=${type}&instance_uuid=${server}&sort_key=created_at&sort_dir=asc`;
  const r = await c.image(`/v2/images?${q}`);
  return r.body.images.map((i: any) => i.name);
}

const backup = (server: string, name: string, rotation: unknown, mv = "2.45", type = "daily") =>
  c.act(c.demo, server, { createBackup: { name, backup_type: type, rotation } }, mv);

test("createBackup: a backup image, rotated to the newest `rotation` once uploaded", async () => {
  const id = await c.createServer(c.demo, { name: "bk" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const first = await backup(id, "b1", 2);
  assert.equal(first.status, 202, first.text);
  const img = await activeImage(first.body.image_id);
  assert.equal(img.image_type, "backup");
  assert.equal(img.backup_type, "daily");
  assert.equal(img.instance_uuid, id);
  await c.settle(id, "active");
  const last = (await c.actions(id)).at(-1)!;
  assert.equal(last.action, "createBackup");
  assert.equal((await backup(id, "b2", "2")).status, 202);
  await c.settle(id, "active");
  const weekly = await backup(id, "w1", 2, "2.45", "weekly");
  await activeImage(weekly.body.image_id);
  await c.settle(id, "active");
  assert.equal((await backup(id, "b3", 2)).status, 202);
  await c.settle(id, "active");
  await until(
    "b1 rotated out",
    async () => (await c.image(`/v2/images/${first.body.image_id}`)).status === 404,
  );
  assert.deepEqual(await backups(id, "daily"), ["b2", "b3"]);
  assert.deepEqual(await backups(id, "weekly"), ["w1"], "other types are left alone");
  // Rotation 0 keeps nothing, not even the new backup.
  assert.equal((await backup(id, "w2", 0, "2.45", "weekly")).status, 202);
  await c.settle(id, "active");
  await until("weekly backups gone", async () => (await backups(id, "weekly")).length === 0);
});

test("createBackup before 2.45: Location header when rotation > 0, none for 0", async () => {
  const id = await c.createServer(c.demo, { name: "bk-old" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const r = await backup(id, "old-1", 1, "2.44");
  assert.equal(r.status, 202);
  assert.equal(r.text, "");
  const loc = String(r.headers.location);
  assert.match(loc, /\/compute\/v2\.1\/images\/[0-9a-f-]{36}$/);
  await activeImage(loc.split("/").pop()!);
  await c.settle(id, "active");
  const none = await backup(id, "old-2", 0, "2.1");
  assert.equal(none.status, 202);
  assert.equal(none.headers.location, undefined);
  await c.settle(id, "active");
});

test("createBackup validates its body, policy and state", async () => {
  const id = await c.createServer(c.demo, { name: "bk-bad" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  for (const body of [
    {},
    { name: "x", backup_type: "daily" },
    { name: "x", backup_type: "daily", rotation: -1 },
    { name: "x", backup_type: "daily", rotation: "a" },
    { name: "x", backup_type: "daily", rotation: 1.5 },
    { name: "x", backup_type: 1, rotation: 1 },
    { name: "", backup_type: "daily", rotation: 1 },
    { name: "x", backup_type: "daily", rotation: 1, extra: 1 },
    { name: "x", backup_type: "daily", rotation: 1, metadata: { k: 1 } },
  ])
    assert.equal((await c.act(c.demo, id, { createBackup: body })).status, 400, JSON.stringify(body));
  await c.act(c.demo, id, { rescue: null });
  await c.waitStatus(c.demo, id, "RESCUE");
  const r = await backup(id, "x", 1);
  assert.equal(r.status, 409);
  assert.equal(
    r.body.conflictingRequest.message,
    `Cannot 'createBackup' instance ${id} while it is in vm_state rescued`,
  );
  const missing = await backup("00000000-0000-0000-0000-000000000000", "x", 1);
  assert.equal(missing.status, 404);
});

test("forceDelete deletes like DELETE; restore is 409 for any server that is not soft-deleted", async () => {
  const id = await c.createServer(c.demo, { name: "fd" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const r = await c.act(c.demo, id, { restore: null });
  assert.equal(r.status, 409);
  assert.equal(
    r.body.conflictingRequest.message,
    `Cannot 'restore' instance ${id} while it is in vm_state active`,
  );
  assert.equal((await c.act(c.demo, id, { lock: null })).status, 202);
  const locked = await c.act(c.demo, id, { forceDelete: null });
  assert.equal(locked.status, 409);
  assert.equal(locked.body.conflictingRequest.message, `Instance ${id} is locked`);
  assert.equal((await c.act(c.demo, id, { unlock: null })).status, 202);
  assert.equal((await c.act(c.demo, id, { forceDelete: null })).status, 202);
  await c.waitGone(c.demo, id);
  assert.equal((await c.actions(id)).at(-1)!.action, "delete");
  const missing = "00000000-0000-0000-0000-000000000000";
  assert.equal((await c.act(c.demo, missing, { forceDelete: null })).status, 404);
  assert.equal((await c.act(c.demo, missing, { restore: {} })).status, 404);
});
