// createImage (snapshots uploaded by the agent into the image service) and shelve/unshelve.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, until, type ActionCloud } from "./util.js";

let c: ActionCloud;
before(async () => {
  c = await bootActions({ compute: { hosts: 2 } });
});
after(() => c?.close());

const activeImage = (id: string) =>
  until(`image ${id} active`, async () => {
    const r = await c.image(`/v2/images/${id}`);
    return r.status === 200 && r.body.status === "active" ? r.body : null;
  });

test("createImage makes an active snapshot image with Nova's properties (image_id from 2.45)", async () => {
  const id = await c.createServer(c.demo, { name: "snap" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const r = await c.act(
    c.demo,
    id,
    { createImage: { name: "snap-1", metadata: { purpose: "test" } } },
    "2.45",
  );
  assert.equal(r.status, 202);
  const imageId = r.body.image_id;
  assert.match(imageId, /^[0-9a-f-]{36}$/);
  const img = await activeImage(imageId);
  assert.equal(img.name, "snap-1");
  assert.equal(img.instance_uuid, id);
  assert.equal(img.image_type, "snapshot");
  assert.equal(img.base_image_ref, c.imageId);
  assert.equal(img.purpose, "test");
  assert.equal(img.visibility, "private");
  assert.equal(img.disk_format, "raw");
  assert.equal(img.size, 64 * 1024);
  await c.settle(id, "active");
  const last = (await c.actions(id)).at(-1)!;
  assert.equal(last.action, "createImage");
  assert.deepEqual(last.events, [{ event: "compute_snapshot_instance", result: "Success" }]);
  // Before 2.45: a Location header and no body.
  const old = await c.act(c.demo, id, { createImage: { name: "snap-2" } }, "2.44");
  assert.equal(old.status, 202);
  assert.equal(old.text, "");
  const loc = String(old.headers.location);
  assert.match(loc, /\/image\/images\/[0-9a-f-]{36}$/);
  await activeImage(loc.split("/").pop()!);
});

test("createImage validates its body and the server's state", async () => {
  const id = await c.createServer(c.demo, { name: "snap-bad" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  for (const body of [
    {},
    { name: "" },
    { name: " x" },
    { name: "x", other: 1 },
    { name: "x", metadata: { k: 1 } },
  ])
    assert.equal((await c.act(c.demo, id, { createImage: body })).status, 400, JSON.stringify(body));
  await c.act(c.demo, id, { rescue: null });
  await c.waitStatus(c.demo, id, "RESCUE");
  const r = await c.act(c.demo, id, { createImage: { name: "x" } });
  assert.equal(r.status, 409);
  assert.equal(
    r.body.conflictingRequest.message,
    `Cannot 'createImage' instance ${id} while it is in vm_state rescued`,
  );
});

test("shelve offloads the server (its image kept), unshelve brings it back elsewhere or here", async () => {
  const id = await c.createServer(c.demo, { name: "shelf" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.act(c.demo, id, { unshelve: null })).status, 409);
  assert.equal((await c.act(c.demo, id, { shelve: null })).status, 202);
  const s = await c.waitStatus(c.demo, id, "SHELVED_OFFLOADED");
  assert.equal(s["OS-EXT-STS:power_state"], 0);
  const row = await c.row(id);
  assert.equal(row.host, null);
  const meta = JSON.parse(row.system_metadata);
  const img = await activeImage(meta.shelved_image_id);
  assert.equal(img.name, "shelf-shelved");
  assert.equal((await c.act(c.demo, id, { shelveOffload: null })).status, 403, "offloading is admin-only");
  assert.equal((await c.act(c.admin, id, { shelveOffload: null })).status, 409, "already offloaded");
  assert.equal((await c.act(c.demo, id, { unshelve: { availability_zone: "nowhere" } }, "2.77")).status, 400);
  assert.equal((await c.act(c.demo, id, { unshelve: { host: "compute1" } }, "2.91")).status, 403);
  assert.equal(
    (await c.act(c.demo, id, { unshelve: {} }, "2.77")).status,
    400,
    "2.77 needs availability_zone",
  );
  assert.equal((await c.act(c.demo, id, { unshelve: null })).status, 202);
  const back = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(back["OS-EXT-STS:power_state"], 1);
  const after = await c.row(id);
  assert.ok(after.host);
  assert.equal(JSON.parse(after.system_metadata).shelved_image_id, undefined);
  const allocs = await c.allocations(id);
  assert.deepEqual(Object.keys(allocs), [await c.nodeOf(after.host)]);
  await until(
    "the shelved image deleted",
    async () => (await c.image(`/v2/images/${meta.shelved_image_id}`)).status === 404,
  );
  const names = (await c.actions(id)).map((a) => a.action);
  assert.deepEqual(names.slice(-2), ["shelve", "unshelve"]);
  // An admin can unshelve onto a chosen host (2.91).
  await c.act(c.demo, id, { shelve: null });
  await c.waitStatus(c.demo, id, "SHELVED_OFFLOADED");
  const unknown = await c.act(c.admin, id, { unshelve: { host: "nohost" } }, "2.91");
  assert.equal(unknown.status, 400);
  assert.equal((await c.act(c.admin, id, { unshelve: { host: "compute1-2" } }, "2.91")).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.row(id)).host, "compute1-2");
});

test("a shelved (not offloaded) server unshelves in place or is offloaded by an admin", async () => {
  const id = await c.createServer(c.demo, { name: "shelf-2" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const row = await c.row(id);
  const agent = c.t.cloud.computeControl.agents.find((a) => a.host === row.host)!;
  // A shelved server that was not offloaded yet (Stratus offloads at once, as Nova's default).
  const shelveHere = async () => {
    await agent.deps.driver.powerOff(id);
    await c.t.cloud.db.kysely
      .updateTable("compute_instance")
      .set({ vm_state: "shelved", power_state: 4 })
      .where("uuid", "=", id)
      .execute();
  };
  await shelveHere();
  assert.equal((await c.act(c.demo, id, { unshelve: { availability_zone: "nova" } }, "2.77")).status, 409);
  assert.equal((await c.act(c.demo, id, { unshelve: null })).status, 202, "unshelve powers it on in place");
  const on = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(on["OS-EXT-STS:power_state"], 1);
  assert.equal((await c.row(id)).host, row.host);
  await shelveHere();
  assert.equal((await c.act(c.admin, id, { shelveOffload: null })).status, 202);
  await c.waitStatus(c.demo, id, "SHELVED_OFFLOADED");
  assert.deepEqual(await agent.deps.driver.listInstances().then((l) => l.includes(id)), false);
  assert.equal((await c.row(id)).host, null);
});
