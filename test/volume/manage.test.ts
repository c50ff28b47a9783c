// Manage and unmanage (os-volume-manage, manageable_volumes 3.8, os-unmanage): a volume unmanaged keeps its data on
// the backend and is adopted again as a new volume with the same bytes and size; with the file backend, a file an
// admin put in the backend's directory becomes a volume; and the refusals.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { qemuImgAvailable } from "../../src/shared/qemu-img.js";
import type { VolumeBackend } from "../../src/volume/drivers/types.js";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

/** The first `n` bytes of a volume. */
async function headOf(b: VolumeBackend, id: string, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  const stream = await b.readRaw(id);
  for await (const c of stream) {
    parts.push(Buffer.from(c as Buffer));
    have += (c as Buffer).length;
    if (have >= n) break;
  }
  stream.destroy();
  return Buffer.concat(parts).subarray(0, n);
}

const manage = (c: VolumeCloud, volume: Record<string, unknown>, token?: string) =>
  c.req("POST", "/os-volume-manage", { body: { volume }, ...(token ? { token } : {}) });

const unmanage = (c: VolumeCloud, id: string, token?: string) =>
  c.req("POST", `/volumes/${id}/action`, { body: { "os-unmanage": {} }, ...(token ? { token } : {}) });

describe("block storage: manage and unmanage (fake backend)", () => {
  let c: VolumeCloud;
  before(async () => {
    c = await bootVolume({ volume: { backend: "fake" } });
  });
  after(() => c?.close());

  it("unmanages a volume (its data stays) and manages it back as a new volume", async () => {
    const id = await c.create(c.demo, { size: 2, name: "orig" });
    const orig = await c.waitStatus(c.demo, id, "available");
    const data = randomBytes(4096);
    await c.backend().writeImage(id, Readable.from([data]), "raw");
    assert.equal((await unmanage(c, id, c.demo)).status, 403, "admin only");
    assert.equal((await unmanage(c, id)).status, 202);
    await c.waitGone(c.demo, id);
    const list = await c.req("GET", "/manageable_volumes?host=host1@fake", { mv: "3.8" });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body["manageable-volumes"], [
      { reference: { "source-name": `volume-${id}` }, size: 2, safe_to_manage: true },
    ]);
    assert.equal((await c.req("GET", "/manageable_volumes?host=host1@fake", { mv: "3.7" })).status, 400);
    const host = (await c.req("GET", "/scheduler-stats/get_pools")).body.pools[0].name;
    const r = await manage(c, {
      host,
      ref: { "source-name": `volume-${id}` },
      name: "adopted",
      volume_type: orig.volume_type,
    });
    assert.equal(r.status, 202, r.text);
    const nid = r.body.volume.id;
    assert.notEqual(nid, id);
    await c.waitStatus(c.admin, nid, "available");
    const v = (await c.req("GET", `/volumes/${nid}`)).body.volume;
    assert.equal(v.name, "adopted");
    assert.equal(v.size, 2);
    assert.equal(v["os-vol-host-attr:host"], host);
    assert.equal(v.volume_type, orig.volume_type);
    assert.deepEqual(await headOf(c.backend(), nid, data.length), data);
    assert.deepEqual(
      (await c.req("GET", "/os-volume-manage/detail?host=host1@fake")).body["manageable-volumes"],
      [],
    );
  });

  it("refuses bad requests; a reference the backend lacks ends in error_managing", async () => {
    const host = (await c.req("GET", "/scheduler-stats/get_pools")).body.pools[0].name;
    assert.equal((await manage(c, { host, ref: { "source-name": "x" } }, c.demo)).status, 403);
    assert.equal((await manage(c, { ref: { "source-name": "x" } })).status, 400, "host");
    assert.equal((await manage(c, { host })).status, 400, "ref");
    assert.equal((await manage(c, { host, ref: { "source-name": "../etc" } })).status, 400);
    assert.equal((await manage(c, { host: "nohost@x", ref: { "source-name": "x" } })).status, 400);
    assert.equal((await manage(c, { host, ref: { "source-name": "x" }, volume_type: "nope" })).status, 404);
    assert.equal((await c.req("GET", "/manageable_volumes", { mv: "3.8" })).status, 400, "host is required");
    const r = await manage(c, { host, ref: { "source-name": "volume-missing" } });
    assert.equal(r.status, 202);
    await c.waitStatus(c.admin, r.body.volume.id, "error_managing");
    assert.equal((await c.req("DELETE", `/volumes/${r.body.volume.id}`)).status, 202);
    // A volume with a snapshot is not unmanaged.
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    const s = await c.req("POST", "/snapshots", { token: c.demo, body: { snapshot: { volume_id: id } } });
    await until("snapshot", async () => {
      const g = await c.req("GET", `/snapshots/${s.body.snapshot.id}`, { token: c.demo });
      return g.body.snapshot.status === "available";
    });
    const u = await unmanage(c, id);
    assert.equal(u.status, 400);
    assert.match(u.body.badRequest.message, /snapshots/);
  });
});

const SKIP: string | false =
  qemuImgAvailable() || process.env.CI === "true"
    ? false
    : "qemu-img is not installed (apt-get install qemu-utils)";

describe("block storage: manage a file put in the file backend's directory", { skip: SKIP }, () => {
  let c: VolumeCloud;
  before(async () => {
    c = await bootVolume({ volume: { backend: "file" } });
  });
  after(() => c?.close());

  it("adopts legacy.raw (size rounded up to GiB), and the agent's reconcile leaves such files alone", async () => {
    const dir = join(c.t.cloud.cfg.dataDir, "volumes");
    const data = randomBytes(65536);
    const file = join(dir, "legacy.raw");
    await writeFile(file, data);
    await truncate(file, 1024 ** 3 + 4096);
    // A restarted agent's reconcile removes only ids Stratus made.
    await (c.t.cloud.volume.localAgent as any).reconcile();
    assert.ok((await readdir(dir)).includes("legacy.raw"));
    const list = await c.req("GET", "/manageable_volumes?host=host1@file", { mv: "3.8" });
    assert.deepEqual(list.body["manageable-volumes"], [
      { reference: { "source-name": "legacy" }, size: 2, safe_to_manage: true },
    ]);
    const r = await manage(c, { host: "host1@file", ref: { "source-name": "legacy" } });
    assert.equal(r.status, 202, r.text);
    const v = await c.waitStatus(c.admin, r.body.volume.id, "available");
    assert.equal(v.size, 2);
    assert.match(v["os-vol-host-attr:host"], /^host1@file#/);
    assert.ok(!(await readdir(dir)).includes("legacy.raw"));
    assert.deepEqual(await headOf(c.t.cloud.volume.localAgent!.backend, v.id, data.length), data);
    // Unmanaged: the file stays as volume-<id>.raw.
    assert.equal((await unmanage(c, v.id)).status, 202);
    await c.waitGone(c.admin, v.id);
    assert.ok((await readdir(dir)).includes(`volume-${v.id}.raw`));
  });
});
