// os-volume_upload_image: a volume becomes an image of its project (raw, or converted with qemu-img), with the
// volume's image metadata, and a volume made from that image has the same bytes; the image reader streams.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
before(async () => {
  c = await bootVolume();
});
after(() => c?.close());

const image = async (token: string, id: string) => {
  const r = await c.t.cloud.app.inject({
    method: "GET",
    url: `/image/v2/images/${id}`,
    headers: { "x-auth-token": token },
  });
  return { status: r.statusCode, body: r.statusCode === 200 ? JSON.parse(r.payload) : null };
};
const download = async (token: string, id: string) =>
  (
    await c.t.cloud.app.inject({
      method: "GET",
      url: `/image/v2/images/${id}/file`,
      headers: { "x-auth-token": token },
    })
  ).rawPayload;
const upload = (id: string, body: unknown, mv = "3.1", token = c.demo) =>
  c.req("POST", `/volumes/${id}/action`, { token, mv, body: { "os-volume_upload_image": body } });

describe("block storage: upload a volume to an image", () => {
  it("uploads a volume as a raw image with its image metadata, and a volume made from it has the same bytes", async () => {
    const data = Buffer.from("stratus-volume-to-image-bytes-".repeat(100));
    const src = await c.image(c.demo, data);
    const vol = await c.create(c.demo, { imageRef: src });
    await c.waitStatus(c.demo, vol, "available");
    await c.req("POST", `/volumes/${vol}/action`, {
      token: c.demo,
      body: { "os-set_image_metadata": { metadata: { os_distro: "stratus" } } },
    });
    const r = await upload(vol, { image_name: "from-volume", disk_format: "raw", container_format: "bare" });
    assert.equal(r.status, 202, r.text);
    const u = r.body["os-volume_upload_image"];
    assert.equal(u.id, vol);
    assert.equal(u.status, "uploading");
    assert.equal(u.image_name, "from-volume");
    assert.equal(u.disk_format, "raw");
    assert.equal(u.container_format, "bare");
    assert.equal(u.visibility, "private");
    assert.equal(u.protected, false);
    assert.equal(u.volume_type.name, "__DEFAULT__");
    await c.waitStatus(c.demo, vol, "available");
    const img = await until("image active", async () => {
      const i = await image(c.demo, u.image_id);
      return i.body?.status === "active" ? i.body : null;
    });
    assert.equal(img.owner, c.demoProject);
    assert.equal(img.name, "from-volume");
    assert.equal(img.os_distro, "stratus");
    assert.equal(img.min_disk, 1);
    assert.ok(Buffer.from(await download(c.demo, u.image_id)).equals(data));
    const copy = await c.create(c.demo, { imageRef: u.image_id });
    const v = await c.waitStatus(c.demo, copy, "available");
    assert.equal(v.bootable, "true");
    assert.equal(v.volume_image_metadata.os_distro, "stratus");
    const stored = (c.backend() as any).volumes.get(copy).data as Buffer;
    assert.ok(Buffer.from(stored).equals(data));
  });

  it("converts with qemu-img (qcow2), and needs force for an in-use volume", async () => {
    const data = Buffer.alloc(64 * 1024, 7);
    const vol = await c.create(c.demo, { imageRef: await c.image(c.demo, data) });
    await c.waitStatus(c.demo, vol, "available");
    const r = await upload(vol, { image_name: "q", disk_format: "qcow2" });
    assert.equal(r.status, 202, r.text);
    await c.waitStatus(c.demo, vol, "available");
    const id = r.body["os-volume_upload_image"].image_id;
    await until("qcow2 image active", async () => (await image(c.demo, id)).body?.status === "active");
    assert.equal((await download(c.demo, id)).subarray(0, 4).toString("latin1"), "QFI\xfb");
    // Attached: refused without force, uploaded with it, and in-use again afterwards.
    const att = await c.req("POST", "/attachments", {
      token: c.demo,
      mv: "3.44",
      body: {
        attachment: {
          volume_uuid: vol,
          instance_uuid: "11111111-1111-1111-1111-111111111111",
          connector: { host: "h", initiator: "iqn.x" },
        },
      },
    });
    assert.equal(att.status, 200, att.text);
    await c.req("POST", `/attachments/${att.body.attachment.id}/action`, {
      token: c.demo,
      mv: "3.44",
      body: { "os-complete": null },
    });
    await c.waitStatus(c.demo, vol, "in-use");
    const refused = await upload(vol, { image_name: "busy" });
    assert.equal(refused.status, 400);
    assert.ok(refused.body.badRequest);
    const forced = await upload(vol, { image_name: "busy", force: true });
    assert.equal(forced.status, 202, forced.text);
    await c.waitStatus(c.demo, vol, "in-use");
  });

  it("answers bad input in Cinder's format", async () => {
    const vol = await c.create(c.demo);
    await c.waitStatus(c.demo, vol, "available");
    assert.equal((await upload(vol, {})).status, 400);
    assert.equal((await upload(vol, { image_name: "x", disk_format: "iso9660" })).status, 400);
    assert.equal((await upload(vol, { image_name: "x", container_format: "nope" })).status, 400);
    assert.equal((await upload(vol, { image_name: "x", visibility: "nope" })).status, 400);
    assert.equal((await upload(vol, { image_name: "x", force: "maybe" })).status, 400);
    assert.equal((await upload(vol, { image_name: "x", visibility: "public" })).status, 403);
    assert.equal((await upload(vol, null)).status, 400);
    // The member of another project cannot upload the demo project's volume.
    assert.equal(
      (
        await c.req("POST", `/volumes/${vol}/action`, {
          token: c.admin,
          project: c.demoProject,
          body: { "os-volume_upload_image": { image_name: "x" } },
        })
      ).status,
      400,
    );
    assert.equal((await c.req("GET", `/volumes/${vol}`, { token: c.demo })).body.volume.status, "available");
  });

  it("reads an image for a volume as a stream, not one buffer", async () => {
    const size = 4 * 1024 * 1024;
    const id = await c.image(c.demo, Buffer.alloc(size, 1));
    const stream = await c.t.cloud.volume.core.images!.open(id);
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of stream) {
      chunks++;
      bytes += (chunk as Buffer).length;
      assert.ok((chunk as Buffer).length < size);
    }
    assert.equal(bytes, size);
    assert.ok(chunks > 1);
  });
});
