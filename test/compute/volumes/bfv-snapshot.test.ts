// createImage of a volume-backed server with the fake driver and the fake block storage REST service (Nova's
// snapshot_volume_backed): every volume snapshotted with force, an active image of size 0 whose
// block_device_mapping (bdm_v2) names the snapshots; booting from that image makes new volumes from them (the root
// one boots the server). Snapshot-source mappings in a create request, and their validation.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, type ActionCloud } from "../actions/util.js";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import { VolumeClient } from "../../../src/compute/volume-client.js";
import { FakeVolumeService } from "./fake-volume-service.js";

let c: ActionCloud;
let cinder: FakeVolumeService;
let demoProject = "";

const driver = () => c.t.cloud.computeControl.agents[0].deps.driver as FakeDriver;
const create = (server: Record<string, unknown>, mv = "2.60") =>
  c.req("POST", "/v2.1/servers", {
    token: c.demo,
    mv,
    body: { server: { name: "bfv-snap", flavorRef: "42", networks: "none", ...server } },
  });
const image = async (id: string) => {
  const r = await c.image(`/v2/images/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
};

before(async () => {
  c = await bootActions();
  cinder = new FakeVolumeService();
  c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  demoProject = await c.t.projectId("demo");
});

after(async () => {
  await c?.close();
});

test("createImage of a volume-backed server snapshots its volumes; booting the image makes volumes from them", async () => {
  const root = cinder.add(demoProject, { bootable: true, imageId: c.imageId, size: 2 });
  const r = await create({
    block_device_mapping_v2: [
      {
        uuid: root.id,
        source_type: "volume",
        destination_type: "volume",
        boot_index: 0,
        delete_on_termination: true,
      },
    ],
  });
  assert.equal(r.status, 202, r.text);
  const server = r.body.server.id;
  await c.waitStatus(c.demo, server, "ACTIVE");
  const data = cinder.add(demoProject, { size: 3 });
  const att = await c.req("POST", `/v2.1/servers/${server}/os-volume_attachments`, {
    token: c.demo,
    body: { volumeAttachment: { volumeId: data.id } },
  });
  assert.equal(att.status, 200, att.text);

  const snap = await c.act(
    c.demo,
    server,
    { createImage: { name: "bfv-image", metadata: { k: "v" } } },
    "2.45",
  );
  assert.equal(snap.status, 202, snap.text);
  const imageId = snap.body.image_id;
  const img = await image(imageId);
  assert.equal(img.status, "active", "a data-less image is active at once");
  assert.equal(img.size, 0);
  assert.equal(img.bdm_v2, "True");
  assert.equal(img.root_device_name, "/dev/vda");
  assert.equal(img.k, "v", "the caller's metadata is kept");
  const maps = JSON.parse(img.block_device_mapping);
  assert.equal(maps.length, 2);
  assert.equal(cinder.snapshots.size, 2);
  for (const [m, vol] of [
    [maps[0], root],
    [maps[1], data],
  ] as const) {
    const s = cinder.snapshots.get(m.snapshot_id)!;
    assert.ok(s, "the mapping names a snapshot of the block storage service");
    assert.equal(s.volumeId, vol.id);
    assert.equal(s.force, true, "in-use volumes are snapshotted with force");
    assert.equal(s.name, "snapshot for bfv-image");
    assert.equal(m.source_type, "snapshot");
    assert.equal(m.destination_type, "volume");
    assert.equal(m.volume_id, null);
    assert.equal(m.volume_size, vol.size);
  }
  assert.equal(maps[0].boot_index, 0);
  assert.equal(maps[0].device_name, "/dev/vda");
  assert.equal(maps[0].delete_on_termination, true);
  assert.equal(maps[1].boot_index, null);
  assert.equal(maps[1].device_name, "/dev/vdb");
  const acts = await c.actions(server);
  assert.ok(acts.some((a) => a.action === "createImage"));
  const srv = await c.waitStatus(c.demo, server, "ACTIVE");
  assert.equal(srv["OS-EXT-STS:task_state"], null, "no task: the image is made at once");

  // Boot from the image: its mappings become volumes made from the snapshots.
  const b = await create({ imageRef: imageId });
  assert.equal(b.status, 202, b.text);
  const booted = b.body.server.id;
  await c.waitStatus(c.demo, booted, "ACTIVE");
  const plugged = driver().volumesOf(booted);
  assert.equal(plugged.length, 2);
  const made = plugged.map((p) => cinder.volumes.get(p.volumeId)!);
  assert.deepEqual(
    made.map((v) => v.snapshotId),
    maps.map((m: { snapshot_id: string }) => m.snapshot_id),
  );
  assert.deepEqual(
    made.map((v) => v.size),
    [2, 3],
  );
  assert.ok(made.every((v) => v.status === "in-use"));
  const list = await c.req("GET", `/v2.1/servers/${booted}/os-volume_attachments`, { token: c.demo });
  assert.deepEqual(
    list.body.volumeAttachments.map((a: { device: string }) => a.device),
    ["/dev/vda", "/dev/vdb"],
  );
  for (const id of [booted, server]) {
    await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
    await c.waitGone(c.demo, id);
  }
});

test("a snapshot-source mapping in a request: a volume made from it; a missing snapshot is Nova's 400", async () => {
  const vol = cinder.add(demoProject, { bootable: true, imageId: c.imageId, size: 2 });
  const snap = await c.t.cloud.compute.core.volume!.createSnapshot(demoProject, {
    volume_id: vol.id,
    name: "s",
    force: false,
  });
  const bdm = (uuid: string) => ({
    block_device_mapping_v2: [
      {
        uuid,
        source_type: "snapshot",
        destination_type: "volume",
        boot_index: 0,
        delete_on_termination: true,
      },
    ],
  });
  const missing = await create(bdm("6f1ac4e2-3f1b-4b9c-9a55-2c8d1d2f2b10"));
  assert.equal(missing.status, 400, missing.text);
  assert.match(missing.body.badRequest.message, /failed to get snapshot 6f1ac4e2/);
  const r = await create(bdm(snap.id));
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  const srv = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(srv.image, "", "a volume root: no image of its own");
  const made = cinder.volumes.get(driver().volumesOf(id)[0].volumeId)!;
  assert.equal(made.snapshotId, snap.id);
  assert.equal(made.size, 2, "the snapshot's size when the mapping gives none");
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
  assert.equal(cinder.volumes.has(made.id), false, "delete_on_termination");
});
