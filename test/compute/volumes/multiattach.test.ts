// Multiattach through os-volume_attachments with the fake driver and the fake block storage REST service: Nova's
// 2.60 rule (attach and boot), one volume attached to two servers, plugged shareable (the connection info carries
// `multiattach`, the driver's source `shared`), a non-multiattach volume refused for a second server, and the
// volume kept in-use while one attachment remains.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, type ActionCloud } from "../actions/util.js";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import { VolumeClient } from "../../../src/compute/volume-client.js";
import { MULTIATTACH_OLD_MICROVERSION } from "../../../src/compute/api/servers/volume-checks.js";
import { FakeVolumeService } from "./fake-volume-service.js";

let c: ActionCloud;
let cinder: FakeVolumeService;
let demoProject = "";
const servers: string[] = [];

const driver = () => c.t.cloud.computeControl.agents[0].deps.driver as FakeDriver;
const base = (id: string) => `/v2.1/servers/${id}/os-volume_attachments`;
const attach = (id: string, volumeId: string, mv = "2.60") =>
  c.req("POST", base(id), { token: c.demo, mv, body: { volumeAttachment: { volumeId } } });
const detach = (id: string, volumeId: string) =>
  c.req("DELETE", `${base(id)}/${volumeId}`, { token: c.demo, mv: "2.60" });

before(async () => {
  c = await bootActions();
  cinder = new FakeVolumeService();
  c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  demoProject = await c.t.projectId("demo");
  for (let i = 0; i < 2; i++) servers.push(await c.createServer(c.demo));
  for (const s of servers) await c.waitStatus(c.demo, s, "ACTIVE");
});

after(async () => {
  await c?.close();
});

test("a multiattach volume needs 2.60, then attaches to two servers, shareable on both", async () => {
  const v = cinder.add(demoProject, { multiattach: true });
  const old = await attach(servers[0], v.id, "2.59");
  assert.equal(old.status, 400, old.text);
  assert.equal(old.body.badRequest.message, MULTIATTACH_OLD_MICROVERSION);
  assert.equal(v.status, "available", "nothing was reserved");
  for (const s of servers) {
    const r = await attach(s, v.id);
    assert.equal(r.status, 200, r.text);
    assert.equal(v.status, "in-use");
    const plugged = driver().volumesOf(s);
    assert.equal(plugged.length, 1);
    assert.equal(plugged[0].source.shared, true, "the guest's disk lets other writers share it");
    const row = await c.t.cloud.db.kysely
      .selectFrom("compute_block_device_mapping")
      .selectAll()
      .where("instance_uuid", "=", s)
      .executeTakeFirstOrThrow();
    assert.equal(JSON.parse(row.connection_info).multiattach, true);
  }
  assert.equal(v.attachments.size, 2);
  // Each server lists its own attachment of the one volume (Tempest's multiattach list check).
  for (const s of servers) {
    const list = await c.req("GET", base(s), { token: c.demo, mv: "2.60" });
    assert.deepEqual(
      list.body.volumeAttachments.map((a: { volumeId: string; serverId: string }) => [
        a.volumeId,
        a.serverId,
      ]),
      [[v.id, s]],
    );
  }
  // A swap away from it (admin) is Nova's 400 for two read/write attachments, not the 409 of an unsupported swap
  // (tempest's test_multiattach_rw_volume_update_failure); both attachments stay.
  const other = cinder.add(demoProject, { multiattach: true });
  const swap = await c.req("PUT", `${base(servers[0])}/${v.id}`, {
    token: c.admin,
    mv: "2.60",
    body: { volumeAttachment: { volumeId: other.id } },
  });
  assert.equal(swap.status, 400, swap.text);
  assert.match(swap.body.badRequest.message, /more than one read\/write attachment/);
  assert.equal(v.attachments.size, 2);
  assert.equal(other.status, "available");
  assert.equal((await detach(servers[0], v.id)).status, 202);
  assert.equal(v.status, "in-use", "still attached to the other server");
  assert.deepEqual(driver().volumesOf(servers[0]), []);
  assert.equal(driver().volumesOf(servers[1]).length, 1);
  assert.equal((await detach(servers[1], v.id)).status, 202);
  assert.equal(v.status, "available");
});

test("a volume without multiattach is refused for a second server and plugged unshared", async () => {
  const v = cinder.add(demoProject);
  assert.equal((await attach(servers[0], v.id, "2.1")).status, 200);
  assert.equal(driver().volumesOf(servers[0])[0].source.shared, undefined);
  const second = await attach(servers[1], v.id);
  assert.equal(second.status, 400, second.text);
  assert.match(second.body.badRequest.message, /status must be 'available'. Currently in 'in-use'/);
  assert.equal((await detach(servers[0], v.id)).status, 202);
});

test("booting from a multiattach volume needs 2.60", async () => {
  const v = cinder.add(demoProject, { multiattach: true, bootable: true, imageId: c.imageId });
  const bdm = [{ uuid: v.id, source_type: "volume", destination_type: "volume", boot_index: 0 }];
  const create = (mv: string) =>
    c.req("POST", "/v2.1/servers", {
      token: c.demo,
      mv,
      body: {
        server: { name: "bfv-multi", flavorRef: "42", networks: "none", block_device_mapping_v2: bdm },
      },
    });
  const old = await create("2.59");
  assert.equal(old.status, 400, old.text);
  assert.equal(old.body.badRequest.message, MULTIATTACH_OLD_MICROVERSION);
  const r = await create("2.60");
  assert.equal(r.status, 202, r.text);
  await c.waitStatus(c.demo, r.body.server.id, "ACTIVE");
  const root = driver().volumesOf(r.body.server.id);
  assert.equal(root[0].source.shared, true);
  assert.equal(v.status, "in-use");
  await c.req("DELETE", `/v2.1/servers/${r.body.server.id}`, { token: c.demo });
  await c.waitGone(c.demo, r.body.server.id);
});
