// Volumes through the Cinder v3 API with the fake backend: versions, create (empty, from a snapshot, a volume or an
// image), show, list with filters, sorting and pagination, update, metadata, delete with cascade, quotas (413),
// RBAC across projects, bad input in Cinder's error format.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
before(async () => {
  c = await bootVolume();
});
after(() => c?.close());

describe("block storage: volumes", () => {
  it("serves the version documents and negotiates microversions", async () => {
    const root = await c.req("GET", "/volume/");
    assert.equal(root.status, 300);
    assert.equal(root.body.versions[0].id, "v3.0");
    assert.equal(root.body.versions[0].min_version, "3.0");
    assert.equal(root.body.versions[0].version, "3.70");
    const v3 = await c.req("GET", "/volume/v3/");
    assert.equal(v3.status, 200);
    const r = await c.req("GET", "/volumes", { mv: "3.45" });
    assert.equal(r.headers["openstack-api-version"], "volume 3.45");
    const bad = await c.req("GET", "/volumes", { mv: "3.99" });
    assert.equal(bad.status, 406);
    assert.equal(bad.body.computeFault?.code ?? Object.values(bad.body as object)[0].code, 406);
  });

  it("creates, shows, updates and deletes a volume", async () => {
    const id = await c.create(c.demo, { name: "v-one", description: "d", metadata: { a: "1" } });
    const v = await c.waitStatus(c.demo, id, "available");
    assert.equal(v.size, 1);
    assert.equal(v.volume_type, "__DEFAULT__");
    assert.equal(v.bootable, "false");
    assert.deepEqual(v.metadata, { a: "1" });
    assert.equal(v["os-vol-tenant-attr:tenant_id"], c.demoProject);
    assert.equal(v["os-vol-host-attr:host"], undefined, "host is for admins");
    const asAdmin = await c.req("GET", `/volume/v3/${c.adminProject}/volumes/${id}`);
    assert.match(asAdmin.body.volume["os-vol-host-attr:host"], /^host1@fake#fake$/);
    const up = await c.req("PUT", `/volumes/${id}`, { token: c.demo, body: { volume: { name: "renamed" } } });
    assert.equal(up.status, 200);
    assert.equal(up.body.volume.name, "renamed");
    assert.equal((await c.req("DELETE", `/volumes/${id}`, { token: c.demo })).status, 202);
    await c.waitGone(c.demo, id);
    assert.ok(!(await c.backend().list()).includes(id), "the backend's volume is gone");
  });

  it("manages volume metadata", async () => {
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    const M = `/volumes/${id}/metadata`;
    assert.deepEqual(
      (await c.req("POST", M, { token: c.demo, body: { metadata: { a: "1", b: "2" } } })).body,
      {
        metadata: { a: "1", b: "2" },
      },
    );
    assert.deepEqual((await c.req("GET", `${M}/a`, { token: c.demo })).body, { meta: { a: "1" } });
    assert.equal((await c.req("PUT", `${M}/a`, { token: c.demo, body: { meta: { a: "9" } } })).status, 200);
    assert.equal((await c.req("PUT", `${M}/a`, { token: c.demo, body: { meta: { z: "9" } } })).status, 400);
    assert.equal((await c.req("DELETE", `${M}/b`, { token: c.demo })).status, 200);
    const missing = await c.req("GET", `${M}/b`, { token: c.demo });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.itemNotFound.code, 404);
    assert.deepEqual((await c.req("PUT", M, { token: c.demo, body: { metadata: { x: "y" } } })).body, {
      metadata: { x: "y" },
    });
    assert.deepEqual((await c.req("GET", M, { token: c.demo })).body, { metadata: { x: "y" } });
  });

  it("lists with filters, sorting, pagination links and with_count", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await c.create(c.admin, { name: `page-${i}`, size: i + 1 }));
    for (const id of ids) await c.waitStatus(c.admin, id, "available");
    const first = await c.req("GET", "/volumes/detail?name=page-1");
    assert.deepEqual(
      first.body.volumes.map((v: any) => v.id),
      [ids[1]],
    );
    const sorted = await c.req("GET", "/volumes?sort=size:asc&limit=2", { mv: "3.45" });
    assert.equal(sorted.status, 200);
    assert.equal(sorted.body.volumes.length, 2);
    assert.ok(sorted.body.volumes_links[0].href.includes("marker="));
    const next = new URL(sorted.body.volumes_links[0].href);
    const rest = await c.req("GET", `${next.pathname}${next.search}`, { mv: "3.45" });
    assert.equal(rest.status, 200);
    const seen = [...sorted.body.volumes, ...rest.body.volumes].map((v: any) => v.id);
    assert.equal(new Set(seen).size, seen.length, "no volume twice across pages");
    const counted = await c.req("GET", "/volumes?with_count=true&name=page-2", { mv: "3.45" });
    assert.equal(counted.body.count, 1);
    assert.equal((await c.req("GET", "/volumes?sort=bogus:asc")).status, 400);
    assert.equal((await c.req("GET", "/volumes?marker=nope")).status, 404);
    const meta = await c.req("GET", `/volumes/detail?metadata=${encodeURIComponent('{"nope":"x"}')}`);
    assert.equal(meta.body.volumes.length, 0);
    // Admins list every project's volumes with all_tenants; members only their own.
    const demoVol = await c.create(c.demo, { name: "demo-only" });
    const all = await c.req("GET", "/volumes?all_tenants=1&name=demo-only");
    assert.deepEqual(
      all.body.volumes.map((v: any) => v.id),
      [demoVol],
    );
    const demoAll = await c.req("GET", "/volumes?all_tenants=1&name=page-0", { token: c.demo });
    assert.equal(demoAll.body.volumes.length, 0);
  });

  it("creates volumes from a snapshot and from a volume, and deletes with cascade", async () => {
    const src = await c.create(c.demo, { size: 2 });
    await c.waitStatus(c.demo, src, "available");
    const snap = await c.req("POST", "/snapshots", {
      token: c.demo,
      body: { snapshot: { volume_id: src, name: "s" } },
    });
    assert.equal(snap.status, 202);
    const sid = snap.body.snapshot.id;
    await until("snapshot available", async () => {
      const r = await c.req("GET", `/snapshots/${sid}`, { token: c.demo });
      return r.body.snapshot.status === "available";
    });
    const fromSnap = await c.create(c.demo, { snapshot_id: sid, size: null });
    const v1 = await c.waitStatus(c.demo, fromSnap, "available");
    assert.equal(v1.size, 2);
    assert.equal(v1.snapshot_id, sid);
    const small = await c.req("POST", "/volumes", {
      token: c.demo,
      body: { volume: { snapshot_id: sid, size: 1 } },
    });
    assert.equal(small.status, 400);
    const clone = await c.create(c.demo, { source_volid: src, size: 3 });
    const v2 = await c.waitStatus(c.demo, clone, "available");
    assert.equal(v2.source_volid, src);
    const refused = await c.req("DELETE", `/volumes/${src}`, { token: c.demo });
    assert.equal(refused.status, 400);
    assert.match(refused.body.badRequest.message, /dependent snapshots/);
    assert.equal((await c.req("DELETE", `/volumes/${src}?cascade=true`, { token: c.demo })).status, 202);
    await c.waitGone(c.demo, src);
    assert.equal((await c.req("GET", `/snapshots/${sid}`, { token: c.demo })).status, 404);
  });

  it("creates a bootable volume from an image", async () => {
    const data = Buffer.from("stratus-image-bytes");
    const imageId = await c.image(c.admin, data, "public");
    const id = await c.create(c.demo, { imageRef: imageId });
    const v = await c.waitStatus(c.demo, id, "available");
    assert.equal(v.bootable, "true");
    assert.equal(v.volume_image_metadata.image_id, imageId);
    assert.equal(v.volume_image_metadata.image_name, "vol-img");
    const raw = await c.backend().readRaw(id);
    const chunks: Buffer[] = [];
    for await (const ch of raw) chunks.push(ch as Buffer);
    assert.deepEqual(Buffer.concat(chunks), data);
    const missing = await c.req("POST", "/volumes", {
      token: c.demo,
      body: { volume: { size: 1, imageRef: "00000000-0000-0000-0000-00000000dead" } },
    });
    assert.equal(missing.status, 404);
  });

  it("refuses over quota with 413 in Cinder's format", async () => {
    const project = (await c.t.createProject("quota-p")).id as string;
    const user = await c.t.createUser("quota-u", "Passw0rd-q");
    await c.t.req(
      "PUT",
      `/identity/v3/projects/${project}/users/${user.id}/roles/${await c.t.roleId("member")}`,
      {
        token: c.admin,
      },
    );
    const tok = await c.t.token("quota-u", "Passw0rd-q", { project: { id: project } });
    const q = await c.req("PUT", `/os-quota-sets/${project}`, {
      body: { quota_set: { volumes: 1, gigabytes: 3 } },
    });
    assert.equal(q.status, 200);
    assert.equal(q.body.quota_set.volumes, 1);
    const P = `/volume/v3/${project}`;
    const first = await c.req("POST", `${P}/volumes`, { token: tok, body: { volume: { size: 2 } } });
    assert.equal(first.status, 202);
    const second = await c.req("POST", `${P}/volumes`, { token: tok, body: { volume: { size: 1 } } });
    assert.equal(second.status, 413);
    assert.equal(second.body.overLimit.code, 413);
    assert.match(second.body.overLimit.message, /volumes/);
    await c.req("PUT", `/os-quota-sets/${project}`, { body: { quota_set: { volumes: 5 } } });
    const big = await c.req("POST", `${P}/volumes`, { token: tok, body: { volume: { size: 2 } } });
    assert.equal(big.status, 413);
    assert.match(big.body.overLimit.message, /gigabytes/);
    const usage = await c.req("GET", `${P}/os-quota-sets/${project}?usage=true`, { token: tok });
    assert.equal(usage.status, 200);
    assert.deepEqual(usage.body.quota_set.volumes, { limit: 5, in_use: 1, reserved: 0, allocated: 0 });
    assert.equal(usage.body.quota_set.gigabytes.in_use, 2);
    const limits = await c.req("GET", `${P}/limits`, { token: tok });
    assert.equal(limits.body.limits.absolute.totalVolumesUsed, 1);
    assert.equal(
      (
        await c.req("PUT", `${P}/os-quota-sets/${project}`, {
          token: tok,
          body: { quota_set: { volumes: 50 } },
        })
      ).status,
      403,
    );
    const defaults = await c.req("GET", `/os-quota-sets/${project}/defaults`);
    assert.equal(defaults.body.quota_set.volumes, 10);
  });

  it("keeps projects apart and admin actions for admins", async () => {
    const mine = await c.create(c.admin, { name: "admin-vol" });
    await c.waitStatus(c.admin, mine, "available");
    const other = await c.req("GET", `/volumes/${mine}`, { token: c.demo });
    assert.equal(other.status, 404);
    assert.equal(other.body.itemNotFound.code, 404);
    const demoVol = await c.create(c.demo);
    await c.waitStatus(c.demo, demoVol, "available");
    const reset = await c.req("POST", `/volumes/${demoVol}/action`, {
      token: c.demo,
      body: { "os-reset_status": { status: "error" } },
    });
    assert.equal(reset.status, 403);
    assert.equal(reset.body.forbidden.code, 403);
    const wrongUrl = await c.req("GET", `/volume/v3/${c.adminProject}/volumes`, { token: c.demo });
    assert.equal(wrongUrl.status, 400);
    const byAdmin = await c.req("POST", `/volume/v3/${c.adminProject}/volumes/${demoVol}/action`, {
      body: { "os-reset_status": { status: "error" } },
    });
    assert.equal(byAdmin.status, 202);
    assert.equal((await c.req("GET", `/volumes/${demoVol}`, { token: c.demo })).body.volume.status, "error");
    const force = await c.req("POST", `/volume/v3/${c.adminProject}/volumes/${demoVol}/action`, {
      body: { "os-force_delete": {} },
    });
    assert.equal(force.status, 202);
    await c.waitGone(c.demo, demoVol);
  });

  it("answers bad input with 400/404 in Cinder's format, never 500", async () => {
    for (const body of [
      { volume: { size: "abc" } },
      { volume: { size: 0 } },
      { volume: { size: 1, availability_zone: "elsewhere" } },
      { volume: { size: 1, metadata: "x" } },
      { volume: "x" },
      [],
    ]) {
      const r = await c.req("POST", "/volumes", { token: c.demo, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.badRequest.code, 400);
    }
    const t = await c.req("POST", "/volumes", {
      token: c.demo,
      body: { volume: { size: 1, volume_type: "nope" } },
    });
    assert.equal(t.status, 404);
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    for (const body of [
      { "os-nothing": {} },
      { "os-extend": { new_size: 1 } },
      { "os-extend": { new_size: "x" } },
      {},
    ]) {
      const r = await c.req("POST", `/volumes/${id}/action`, { token: c.demo, body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
  });

  it("extends a volume, grows the quota usage and sets bootable, image metadata and read-only", async () => {
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    const act = (body: unknown, mv?: string) =>
      c.req("POST", `/volumes/${id}/action`, { token: c.demo, body, mv });
    assert.equal((await act({ "os-extend": { new_size: 3 } })).status, 202);
    const v = await c.waitStatus(c.demo, id, "available");
    assert.equal(v.size, 3);
    assert.equal((await act({ "os-set_bootable": { bootable: true } })).status, 200);
    assert.equal(
      (await act({ "os-set_image_metadata": { metadata: { os: "linux" } } })).body.metadata.os,
      "linux",
    );
    assert.deepEqual((await act({ "os-show_image_metadata": null })).body, { metadata: { os: "linux" } });
    assert.equal((await act({ "os-unset_image_metadata": { key: "os" } })).status, 200);
    assert.equal((await act({ "os-unset_image_metadata": { key: "os" } })).status, 404);
    assert.equal((await act({ "os-update_readonly_flag": { readonly: true } })).status, 202);
    const t = await c.req("POST", "/types", { body: { volume_type: { name: "retype-to" } } });
    assert.equal((await act({ "os-retype": { new_type: "retype-to" } })).status, 202);
    const after = await c.req("GET", `/volumes/${id}`, { token: c.demo, mv: "3.63" });
    assert.equal(after.body.volume.bootable, "true");
    assert.equal(after.body.volume.volume_type, "retype-to");
    assert.equal(after.body.volume.volume_type_id, t.body.volume_type.id);
  });
});
