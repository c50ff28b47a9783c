// Boot from volume with the fake driver and the fake block storage REST service: block_device_mapping_v2 with an
// image made into a volume (as `openstack server create --boot-from-volume SIZE` sends it) or an existing volume
// (`--volume`), the request's validation, the server shown with image "", the root volume listed as /dev/vda and
// not detachable, delete_on_termination honoured, and a volume that fails to be created putting the server in
// ERROR with Nova's fault.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, type ActionCloud } from "../actions/util.js";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import { VolumeClient } from "../../../src/compute/volume-client.js";
import { FakeVolumeService } from "./fake-volume-service.js";
import { until } from "../../helpers/wait.js";

let c: ActionCloud;
let cinder: FakeVolumeService;
let demoProject = "";

const driver = () => c.t.cloud.computeControl.agents[0].deps.driver as FakeDriver;
const create = (server: Record<string, unknown>, mv = "2.37") =>
  c.req("POST", "/v2.1/servers", {
    token: c.demo,
    mv,
    body: { server: { name: "bfv", flavorRef: "42", networks: "none", ...server } },
  });

before(async () => {
  c = await bootActions();
  cinder = new FakeVolumeService();
  c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  demoProject = await c.t.projectId("demo");
});

after(async () => {
  await c?.close();
});

test("--boot-from-volume: an image made into a volume is the root disk; image is ''; deleted with the server", async () => {
  // What OSC 6.0 sends: imageRef "" and the mapping's numbers as strings.
  const r = await create({
    imageRef: "",
    block_device_mapping_v2: [
      {
        uuid: c.imageId,
        boot_index: "0",
        source_type: "image",
        destination_type: "volume",
        volume_size: "1",
        delete_on_termination: true,
      },
    ],
  });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  const srv = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(srv.image, "");
  const vol = [...cinder.volumes.values()].find((v) => v.imageId === c.imageId)!;
  assert.ok(vol, "a volume was made from the image");
  assert.equal(vol.status, "in-use");
  assert.equal(vol.size, 1);
  assert.deepEqual(
    driver()
      .volumesOf(id)
      .map((v) => v.volumeId),
    [vol.id],
  );
  const list = await c.req("GET", `/v2.1/servers/${id}/os-volume_attachments`, { token: c.demo, mv: "2.79" });
  assert.deepEqual(list.body.volumeAttachments, [
    {
      device: "/dev/vda",
      id: vol.id,
      serverId: id,
      volumeId: vol.id,
      tag: null,
      delete_on_termination: true,
    },
  ]);
  const detach = await c.req("DELETE", `/v2.1/servers/${id}/os-volume_attachments/${vol.id}`, {
    token: c.demo,
  });
  assert.equal(detach.status, 400, detach.text);
  assert.match(detach.body.badRequest.message, /root device volume/);
  // Placement: no local root disk claimed for a volume-backed server.
  const allocs = await c.allocations(id);
  for (const a of Object.values(allocs)) assert.equal(a.resources.DISK_GB, undefined);
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
  await until("the root volume is deleted", () => (cinder.volumes.has(vol.id) ? undefined : true));
});

test("--volume: an existing bootable volume; kept (available) when the server goes", async () => {
  const vol = cinder.add(demoProject, { bootable: true, imageId: c.imageId });
  const r = await create({
    block_device_mapping_v2: [
      { uuid: vol.id, boot_index: 0, source_type: "volume", destination_type: "volume" },
    ],
  });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(vol.status, "in-use");
  // A second server cannot boot from the same (now in-use) volume.
  const again = await create({
    block_device_mapping_v2: [
      { uuid: vol.id, boot_index: 0, source_type: "volume", destination_type: "volume" },
    ],
  });
  assert.equal(again.status, 400, again.text);
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
  await until("the volume is released", () => (vol.status === "available" ? true : undefined));
  assert.ok(cinder.volumes.has(vol.id));
});

test("a root volume Cinder marks not bootable is 400, as in Nova; as a second disk it is fine", async () => {
  const vol = cinder.add(demoProject, { bootable: false, imageId: c.imageId });
  const root = { uuid: vol.id, boot_index: 0, source_type: "volume", destination_type: "volume" };
  const r = await create({ block_device_mapping_v2: [root] });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.badRequest.message, `Block Device ${vol.id} is not bootable.`);
  assert.equal(vol.status, "available");
  const second = await create({
    imageRef: c.imageId,
    block_device_mapping_v2: [{ ...root, boot_index: 1 }],
  });
  assert.equal(second.status, 202, second.text);
  const id = second.body.server.id;
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
});

test("an image-backed server with an extra blank volume from the request", async () => {
  const r = await create({
    imageRef: c.imageId,
    block_device_mapping_v2: [
      { source_type: "blank", destination_type: "volume", volume_size: 2, delete_on_termination: true },
    ],
  });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  const srv = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(srv.image.id, c.imageId);
  const list = await c.req("GET", `/v2.1/servers/${id}/os-volume_attachments`, { token: c.demo });
  assert.equal(list.body.volumeAttachments.length, 1);
  assert.equal(list.body.volumeAttachments[0].device, "/dev/vdb");
  const volId = list.body.volumeAttachments[0].volumeId;
  assert.equal(cinder.volumes.get(volId)?.size, 2);
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
  await until("the blank volume is deleted", () => (cinder.volumes.has(volId) ? undefined : true));
});

test("request validation", async () => {
  const bdm = (m: Record<string, unknown>) => ({ block_device_mapping_v2: [m] });
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [
      bdm({ uuid: c.imageId, boot_index: 0, source_type: "image", destination_type: "volume" }),
      /non-zero size/,
    ],
    [
      bdm({ uuid: c.imageId, boot_index: 0, source_type: "snapshot", destination_type: "volume" }),
      /failed to get snapshot/,
    ],
    [bdm({ uuid: "nope", boot_index: 0, source_type: "volume", destination_type: "volume" }), /uuid/],
    [
      bdm({
        uuid: "6f1ac4e2-3f1b-4b9c-9a55-2c8d1d2f2b10",
        boot_index: 0,
        source_type: "volume",
        destination_type: "volume",
      }),
      /could not be found/,
    ],
    [
      bdm({
        uuid: c.imageId,
        boot_index: 0,
        source_type: "image",
        destination_type: "volume",
        volume_size: 1,
        bogus: 1,
      }),
      /Additional properties/,
    ],
    [{}, /Missing imageRef/],
    [
      {
        block_device_mapping_v2: [
          {
            uuid: c.imageId,
            boot_index: 0,
            source_type: "image",
            destination_type: "volume",
            volume_size: 1,
          },
          {
            uuid: c.imageId,
            boot_index: 0,
            source_type: "image",
            destination_type: "volume",
            volume_size: 1,
          },
        ],
      },
      /Boot sequence/,
    ],
  ];
  for (const [server, re] of cases) {
    const r = await create(server);
    assert.equal(r.status, 400, `${JSON.stringify(server)}: ${r.text}`);
    assert.match(r.body.badRequest.message, re);
  }
  // Without a block storage service, volume mappings are refused.
  c.t.cloud.compute.core.connectVolume(undefined);
  try {
    const r = await create(
      bdm({
        uuid: c.imageId,
        boot_index: 0,
        source_type: "image",
        destination_type: "volume",
        volume_size: 1,
      }),
    );
    assert.equal(r.status, 400, r.text);
  } finally {
    c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  }
});

test("a volume that fails to be created: ERROR with Nova's fault, nothing attached", async () => {
  cinder.createStatus = "error";
  try {
    const r = await create({
      block_device_mapping_v2: [
        { uuid: c.imageId, boot_index: 0, source_type: "image", destination_type: "volume", volume_size: 1 },
      ],
    });
    assert.equal(r.status, 202, r.text);
    const srv = await c.waitStatus(c.demo, r.body.server.id, "ERROR");
    assert.match(srv.fault.message, /did not finish being created.*status is error/);
  } finally {
    cinder.createStatus = "available";
  }
});
