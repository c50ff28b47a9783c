// Default volume types per project (3.62) and per-type quotas (volumes_<type>, gigabytes_<type>,
// snapshots_<type>) in quota sets and classes, enforced at create, extend, snapshot and retype.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
let gold: string;
before(async () => {
  c = await bootVolume();
  const r = await c.req("POST", "/types", { body: { volume_type: { name: "gold" } } });
  assert.equal(r.status, 200, r.text);
  gold = r.body.volume_type.id;
});
after(() => c?.close());

describe("block storage: default volume types (3.62)", () => {
  it("sets, shows, lists and unsets a project's default type, used for volumes created without one", async () => {
    const url = `/volume/v3/default-types/${c.demoProject}`;
    const body = { default_type: { volume_type: "gold" } };
    assert.equal((await c.req("PUT", url, { body, mv: "3.61" })).status, 404);
    assert.equal((await c.req("PUT", url, { body, mv: "3.62", token: c.demo })).status, 403);
    const set = await c.req("PUT", url, { body, mv: "3.62" });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body, { default_type: { project_id: c.demoProject, volume_type_id: gold } });
    // Also below the project endpoint, as clients built from the catalog send it.
    const show = await c.req("GET", `/default-types/${c.demoProject}`, { mv: "3.62" });
    assert.equal(show.body.default_type.volume_type_id, gold);
    const list = await c.req("GET", "/volume/v3/default-types", { mv: "3.62" });
    assert.deepEqual(list.body.default_types, [{ project_id: c.demoProject, volume_type_id: gold }]);
    const vol = await c.create(c.demo);
    assert.equal((await c.req("GET", `/volumes/${vol}`, { token: c.demo })).body.volume.volume_type, "gold");
    // Admin's project keeps the configured default.
    const other = await c.create(c.admin);
    assert.equal((await c.req("GET", `/volumes/${other}`)).body.volume.volume_type, "__DEFAULT__");
    // A project's default type cannot be deleted.
    const delType = await c.req("DELETE", `/types/${gold}`);
    assert.equal(delType.status, 400);
    assert.match(delType.body.badRequest.message, /default volume type/);
    assert.equal((await c.req("DELETE", url, { mv: "3.62" })).status, 204);
    const gone = await c.req("GET", url, { mv: "3.62" });
    assert.equal(gone.status, 404);
    assert.ok(gone.body.itemNotFound);
    assert.equal((await c.req("DELETE", url, { mv: "3.62" })).status, 404);
    const bad = await c.req("PUT", url, { body: { default_type: { volume_type: "nope" } }, mv: "3.62" });
    assert.equal(bad.status, 404);
    assert.equal((await c.req("PUT", url, { body: {}, mv: "3.62" })).status, 400);
    const plain = await c.create(c.demo);
    assert.equal(
      (await c.req("GET", `/volumes/${plain}`, { token: c.demo })).body.volume.volume_type,
      "__DEFAULT__",
    );
  });
});

describe("block storage: per-type quotas", () => {
  it("shows per-type limits and usage in quota sets and classes (-1 by default)", async () => {
    const q = await c.req("GET", `/os-quota-sets/${c.adminProject}`);
    assert.equal(q.body.quota_set.volumes_gold, -1);
    assert.equal(q.body.quota_set.gigabytes___DEFAULT__, -1);
    assert.equal(q.body.quota_set.snapshots_gold, -1);
    const cls = await c.req("PUT", "/os-quota-class-sets/default", {
      body: { quota_class_set: { snapshots_gold: 7 } },
    });
    assert.equal(cls.status, 200, cls.text);
    assert.equal(cls.body.quota_class_set.snapshots_gold, 7);
    const defaults = await c.req("GET", `/os-quota-sets/${c.adminProject}/defaults`);
    assert.equal(defaults.body.quota_set.snapshots_gold, 7);
    assert.equal((await c.req("GET", "/os-quota-class-sets/default")).body.quota_class_set.snapshots_gold, 7);
    const bad = await c.req("PUT", `/os-quota-sets/${c.adminProject}`, {
      body: { quota_set: { volumes_nope: 1 } },
    });
    assert.equal(bad.status, 400);
  });

  it("enforces volumes_, gigabytes_ and snapshots_ of a type at create, extend, snapshot and retype", async () => {
    // The demo project has one 1 GiB gold volume already (made while gold was its default type).
    const p = c.demoProject;
    const set = await c.req("PUT", `/os-quota-sets/${p}`, {
      body: { quota_set: { volumes_gold: 2, gigabytes_gold: 4, snapshots_gold: 0 } },
    });
    assert.equal(set.status, 200, set.text);
    const g = await c.create(c.demo, { volume_type: "gold", size: 2 });
    await c.waitStatus(c.demo, g, "available");
    const used = await c.req("GET", `/os-quota-sets/${p}?usage=true`, { token: c.demo });
    assert.deepEqual(used.body.quota_set.volumes_gold, { limit: 2, in_use: 2, reserved: 0, allocated: 0 });
    assert.equal(used.body.quota_set.gigabytes_gold.in_use, 3);
    const second = await c.req("POST", "/volumes", {
      token: c.demo,
      body: { volume: { size: 1, volume_type: "gold" } },
    });
    assert.equal(second.status, 413);
    assert.match(second.body.overLimit.message, /quota 'volumes_gold'/);
    const act = (id: string, body: unknown) =>
      c.req("POST", `/volumes/${id}/action`, { token: c.demo, body });
    const ext = await act(g, { "os-extend": { new_size: 4 } });
    assert.equal(ext.status, 413);
    assert.match(ext.body.overLimit.message, /gigabytes_gold/);
    assert.equal((await act(g, { "os-extend": { new_size: 3 } })).status, 202);
    await c.waitStatus(c.demo, g, "available");
    const snap = await c.req("POST", "/snapshots", { token: c.demo, body: { snapshot: { volume_id: g } } });
    assert.equal(snap.status, 413);
    const plain = await c.create(c.demo);
    await c.waitStatus(c.demo, plain, "available");
    const retype = await act(plain, { "os-retype": { new_type: "gold" } });
    assert.equal(retype.status, 413);
    assert.equal(
      (
        await c.req("PUT", `/os-quota-sets/${p}`, {
          body: { quota_set: { volumes_gold: -1, gigabytes_gold: -1 } },
        })
      ).status,
      200,
    );
    assert.equal((await act(plain, { "os-retype": { new_type: "gold" } })).status, 202);
    const after = await c.req("GET", `/os-quota-sets/${p}?usage=true`, { token: c.demo });
    assert.equal(after.body.quota_set.volumes_gold.in_use, 3);
  });
});
