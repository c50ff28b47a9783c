// Resize and cold migration on a one-host cloud (issue 8 item 12): with compute.allowResizeToSameHost ("auto":
// on when there is one compute host) the source host may be the destination. The source claim is held by the
// migration record and the new flavor by the server, both on the one host, until confirm or revert.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import { bootActions, type ActionCloud } from "./util.js";

let c: ActionCloud;
before(async () => {
  c = await bootActions({ compute: { hosts: 1 } });
  const project = await c.t.projectId("demo");
  const quota_set = { instances: 20, cores: 40, ram: 64000 };
  await c.req("PUT", `/v2.1/os-quota-sets/${project}`, { token: c.admin, body: { quota_set } });
});
after(() => c?.close());

const driver = () => c.t.cloud.computeControl.agents[0].deps.driver as FakeDriver;
const migrations = (id: string) =>
  c.t.cloud.db.kysely
    .selectFrom("compute_server_migration")
    .selectAll()
    .where("instance_uuid", "=", id)
    .orderBy("id")
    .execute() as Promise<Array<Record<string, any>>>;
const NANO = { VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 };
const MICRO = { VCPU: 1, MEMORY_MB: 192, DISK_GB: 1 };

async function active(name: string): Promise<{ id: string; host: string; node: string }> {
  const id = await c.createServer(c.demo, { name });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const host = (await c.row(id)).host;
  return { id, host, node: await c.nodeOf(host) };
}

test("resize on a one-host cloud: VERIFY_RESIZE on the same host, then confirm keeps the new flavor", async () => {
  const { id, host, node } = await active("same-confirm");
  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
  const s = await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  assert.equal(s.flavor.original_name, "m1.micro");
  assert.equal((await c.row(id)).host, host);
  const [mig] = await migrations(id);
  assert.equal(mig.status, "finished");
  assert.equal(mig.source_compute, host);
  assert.equal(mig.dest_compute, host);
  assert.deepEqual(await c.allocations(id), { [node]: { resources: MICRO } });
  assert.deepEqual(await c.allocations(mig.uuid), { [node]: { resources: NANO } });
  assert.equal((await driver().getInfo(id)).state, 1);

  assert.equal((await c.act(c.demo, id, { confirmResize: null })).status, 204);
  const done = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(done.flavor.original_name, "m1.micro");
  assert.equal((await c.row(id)).memory_mb, 192);
  assert.equal((await migrations(id))[0].status, "confirmed");
  assert.deepEqual(await c.allocations(id), { [node]: { resources: MICRO } });
  assert.deepEqual(await c.allocations(mig.uuid), {});
  assert.ok((await driver().listInstances()).includes(id));
  assert.equal((await driver().getInfo(id)).state, 1);
});

test("resize on a one-host cloud, then revert: the old flavor and guest come back, one claim", async () => {
  const { id, host, node } = await active("same-revert");
  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
  await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  assert.equal((await c.act(c.demo, id, { revertResize: null })).status, 202);
  const back = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(back.flavor.original_name, "m1.nano");
  const row = await c.row(id);
  assert.equal(row.host, host);
  assert.equal(row.memory_mb, 128);
  assert.equal((await migrations(id))[0].status, "reverted");
  assert.deepEqual(await c.allocations(id), { [node]: { resources: NANO } });
  assert.deepEqual(await c.allocations((await migrations(id))[0].uuid), {});
  assert.equal((await driver().getInfo(id)).state, 1);
  // Deleting it afterwards leaves no guest and no claim behind.
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
  assert.ok(!(await driver().listInstances()).includes(id));
});

test("cold migration on a one-host cloud goes to VERIFY_RESIZE on the same host, then confirm", async () => {
  const { id, host, node } = await active("same-migrate");
  assert.equal((await c.act(c.admin, id, { migrate: null })).status, 202);
  await c.waitStatus(c.admin, id, "VERIFY_RESIZE");
  const [mig] = await migrations(id);
  assert.equal(mig.migration_type, "migration");
  assert.equal(mig.dest_compute, host);
  assert.equal((await c.act(c.admin, id, { confirmResize: null })).status, 204);
  await c.waitStatus(c.admin, id, "ACTIVE");
  assert.deepEqual(await c.allocations(id), { [node]: { resources: NANO } });
  assert.deepEqual(await c.allocations(mig.uuid), {});
  assert.ok((await driver().listInstances()).includes(id));
});

test("a resized server on one host can be deleted while in VERIFY_RESIZE: no guest, no claims left", async () => {
  const { id } = await active("same-delete");
  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
  await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  const [mig] = await migrations(id);
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
  assert.deepEqual(await c.allocations(id), {});
  assert.deepEqual(await c.allocations(mig.uuid), {});
  assert.ok(!(await driver().listInstances()).includes(id));
});
