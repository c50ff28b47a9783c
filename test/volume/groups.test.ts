// Generic volume groups (Cinder 3.11-3.38): group types with group specs, groups with their volumes (create with
// group_id, update add/remove), group snapshots, groups made from a group snapshot or a source group, reset
// status, delete with delete-volumes, the `groups` quota, and Cinder's bodies and errors.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
const MV = "3.70";
let vtype: string;
let otherType: string;

before(async () => {
  c = await bootVolume();
  for (const name of ["grp-vt", "grp-other"]) {
    const r = await c.req("POST", "/types", { body: { volume_type: { name } } });
    assert.equal(r.status, 200, r.text);
    if (name === "grp-vt") vtype = r.body.volume_type.id;
    else otherType = r.body.volume_type.id;
  }
});
after(() => c?.close());

/** An admin request at the latest microversion. */
const admin = (method: string, path: string, body?: unknown) => c.req(method, path, { body, mv: MV });
/** A demo member's request at the latest microversion. */
const demo = (method: string, path: string, body?: unknown) =>
  c.req(method, path, { token: c.demo, body, mv: MV });

async function groupType(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await admin("POST", "/group_types", { group_type: { name, ...extra } });
  assert.equal(r.status, 202, r.text);
  return r.body.group_type.id as string;
}

async function group(type: string, name = "g"): Promise<string> {
  const r = await demo("POST", "/groups", { group: { group_type: type, volume_types: [vtype], name } });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(Object.keys(r.body.group).sort(), ["id", "name"]);
  return r.body.group.id as string;
}

const waitGroup = (id: string, status: string, path = "groups", key = "group") =>
  until(`${path} ${id} ${status}`, async () => {
    const r = await demo("GET", `/${path}/${id}`);
    assert.equal(r.status, 200, r.text);
    if (r.body[key].status === "error" && status !== "error") throw new Error(`${path} ${id} went to error`);
    return r.body[key].status === status ? r.body[key] : null;
  });

const gone = (path: string) => until(`${path} gone`, async () => (await demo("GET", path)).status === 404);

describe("block storage: group types", () => {
  it("creates, lists, shows, updates and deletes group types with specs, as Cinder", async () => {
    assert.equal((await c.req("GET", "/group_types", { mv: "3.10" })).status, 404, "from 3.11");
    const id = await groupType("gt-a", {
      description: "d",
      group_specs: { consistent_group_snapshot_enabled: "<is> False" },
    });
    const priv = await groupType("gt-b", { is_public: false });
    const shown = await admin("GET", `/group_types/${id}`);
    assert.deepEqual(shown.body.group_type, {
      id,
      name: "gt-a",
      description: "d",
      is_public: true,
      group_specs: { consistent_group_snapshot_enabled: "<is> False" },
    });
    // Members see public types without their specs; a private type is 404 for them.
    const theirs = await demo("GET", `/group_types/${id}`);
    assert.equal(theirs.body.group_type.group_specs, undefined);
    assert.equal((await demo("GET", `/group_types/${priv}`)).status, 404);
    assert.ok(!(await demo("GET", "/group_types")).body.group_types.some((t: any) => t.id === priv));
    assert.equal((await demo("POST", "/group_types", { group_type: { name: "x" } })).status, 403);
    // Sort and the is_public filter (None: every type).
    const names = async (q: string) =>
      ((await admin("GET", `/group_types?${q}`)).body.group_types as any[]).map((t) => t.name);
    const asc = await names("sort=name:asc&is_public=None");
    assert.ok(asc.indexOf("gt-a") < asc.indexOf("gt-b"));
    const desc = await names("sort=name:desc&is_public=None");
    assert.ok(desc.indexOf("gt-b") < desc.indexOf("gt-a"));
    assert.deepEqual(await names("is_public=false"), ["gt-b"]);
    assert.ok(!(await names("is_public=true")).includes("gt-b"));
    assert.equal((await admin("POST", "/group_types", { group_type: { name: "gt-a" } })).status, 409);
    const up = await admin("PUT", `/group_types/${id}`, { group_type: { name: "gt-a2", description: "e" } });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.group_type.name, "gt-a2");
    assert.equal((await admin("PUT", `/group_types/${id}`, { group_type: {} })).status, 400);
    assert.equal((await admin("GET", "/group_types/default")).status, 404);
    // Group specs.
    const spec = await admin("POST", `/group_types/${id}/group_specs`, {
      group_specs: { k1: "v1", k2: "v2" },
    });
    assert.equal(spec.status, 202, spec.text);
    assert.deepEqual(spec.body.group_specs, { k1: "v1", k2: "v2" });
    assert.deepEqual((await admin("GET", `/group_types/${id}/group_specs/k1`)).body, { k1: "v1" });
    const item = await admin("PUT", `/group_types/${id}/group_specs/k2`, { k2: "v2b" });
    assert.deepEqual(item.body, { k2: "v2b" });
    assert.equal((await admin("PUT", `/group_types/${id}/group_specs/k2`, { k3: "x" })).status, 400);
    const all = await admin("GET", `/group_types/${id}/group_specs`);
    assert.deepEqual(all.body.group_specs, {
      consistent_group_snapshot_enabled: "<is> False",
      k1: "v1",
      k2: "v2b",
    });
    assert.equal((await admin("DELETE", `/group_types/${id}/group_specs/k1`)).status, 202);
    assert.equal((await admin("GET", `/group_types/${id}/group_specs/k1`)).status, 404);
    assert.equal((await demo("GET", `/group_types/${id}/group_specs`)).status, 403);
    for (const t of [id, priv]) assert.equal((await admin("DELETE", `/group_types/${t}`)).status, 202);
    assert.equal((await admin("GET", `/group_types/${id}`)).status, 404);
  });
});

describe("block storage: groups and group snapshots", () => {
  let gt: string;
  before(async () => {
    gt = await groupType("gt-groups");
  });

  it("creates a group, puts volumes in it, shows and lists it, and counts the groups quota", async () => {
    assert.equal(
      (await c.req("POST", "/groups", { token: c.demo, mv: "3.12", body: { group: {} } })).status,
      404,
    );
    const unknownType = await demo("POST", "/groups", {
      group: { group_type: "nope", volume_types: [vtype] },
    });
    assert.equal(unknownType.status, 404);
    assert.equal((await demo("POST", "/groups", { group: { group_type: gt } })).status, 400);
    const g = await group(gt, "g1");
    const vol = await c.create(c.demo, { volume_type: vtype, group_id: g }, MV);
    await c.waitStatus(c.demo, vol, "available");
    assert.equal((await demo("GET", `/volumes/${vol}`)).body.volume.group_id, g);
    assert.equal(
      (await c.req("GET", `/volumes/${vol}`, { token: c.demo, mv: "3.12" })).body.volume.group_id,
      undefined,
    );
    const wrongType = await demo("POST", "/volumes", {
      volume: { size: 1, volume_type: otherType, group_id: g },
    });
    assert.equal(wrongType.status, 400);
    const show = await demo("GET", `/groups/${g}?list_volume=true`);
    assert.equal(show.status, 200, show.text);
    const body = show.body.group;
    assert.equal(body.name, "g1");
    assert.equal(body.status, "available");
    assert.equal(body.group_type, gt);
    assert.deepEqual(body.volume_types, [vtype]);
    assert.deepEqual(body.volumes, [vol]);
    assert.equal(body.group_snapshot_id, null);
    assert.equal(body.replication_status, "disabled");
    assert.equal(body.project_id, undefined, "project_id is for admins");
    const detail = await demo("GET", "/groups/detail");
    assert.ok(detail.body.groups.some((x: any) => x.id === g && x.volume_types[0] === vtype));
    assert.deepEqual(Object.keys((await demo("GET", "/groups")).body.groups[0]).sort(), ["id", "name"]);
    const filtered = await demo("GET", `/volumes/detail?group_id=${g}`);
    assert.deepEqual(
      filtered.body.volumes.map((x: any) => x.id),
      [vol],
    );
    const q = await c.req("GET", `/os-quota-sets/${c.demoProject}?usage=true`, { token: c.demo });
    assert.ok(q.body.quota_set.groups.in_use >= 1);
    // Other projects cannot see it.
    assert.equal((await admin("GET", `/groups/${g}`)).body.group.project_id, c.demoProject);
    assert.equal((await c.req("GET", `/groups/${g}`, { mv: MV, project: c.adminProject })).status, 200);
  });

  it("updates a group: name, description, and removing and adding volumes", async () => {
    const g = await group(gt, "g2");
    const a = await c.create(c.demo, { volume_type: vtype, group_id: g }, MV);
    const b = await c.create(c.demo, { volume_type: vtype, group_id: g }, MV);
    await c.waitStatus(c.demo, a, "available");
    await c.waitStatus(c.demo, b, "available");
    assert.equal((await demo("PUT", `/groups/${g}`, { group: {} })).status, 400);
    const rm = await demo("PUT", `/groups/${g}`, {
      group: { name: "new", description: "d", remove_volumes: b },
    });
    assert.equal(rm.status, 202, rm.text);
    const shown = (await demo("GET", `/groups/${g}?list_volume=true`)).body.group;
    assert.equal(shown.name, "new");
    assert.equal(shown.description, "d");
    assert.deepEqual(shown.volumes, [a]);
    assert.equal((await demo("GET", `/volumes/${b}`)).body.volume.group_id, null);
    const other = await c.create(c.demo, { volume_type: otherType }, MV);
    await c.waitStatus(c.demo, other, "available");
    const bad = await demo("PUT", `/groups/${g}`, { group: { add_volumes: other } });
    assert.equal(bad.status, 400, "a volume type the group does not have");
    assert.match(bad.body.badRequest.message, /Invalid volume/);
    assert.equal((await demo("PUT", `/groups/${g}`, { group: { remove_volumes: other } })).status, 400);
    assert.equal((await demo("PUT", `/groups/${g}`, { group: { add_volumes: `${b}` } })).status, 202);
    const again = await demo("GET", `/volumes/detail?group_id=${g}`);
    assert.equal(again.body.volumes.length, 2);
  });

  it("snapshots a group, makes groups from the snapshot and from the group, and deletes them", async () => {
    const g = await group(gt, "g3");
    const vols = [];
    for (let i = 0; i < 2; i++) vols.push(await c.create(c.demo, { volume_type: vtype, group_id: g }, MV));
    for (const v of vols) await c.waitStatus(c.demo, v, "available");
    const cr = await demo("POST", "/group_snapshots", { group_snapshot: { group_id: g, name: "gs" } });
    assert.equal(cr.status, 202, cr.text);
    assert.deepEqual(Object.keys(cr.body.group_snapshot).sort(), ["group_type_id", "id", "name"]);
    const gs = cr.body.group_snapshot.id as string;
    const shown = await waitGroup(gs, "available", "group_snapshots", "group_snapshot");
    assert.equal(shown.group_id, g);
    assert.equal(shown.group_type_id, gt);
    const snaps = (await demo("GET", "/snapshots/detail")).body.snapshots.filter(
      (s: any) => s.group_snapshot_id === gs,
    );
    assert.deepEqual(snaps.map((s: any) => s.volume_id).sort(), [...vols].sort());
    assert.ok(snaps.every((s: any) => s.status === "available"));
    assert.equal((await demo("DELETE", `/snapshots/${snaps[0].id}`)).status, 400, "part of a group snapshot");
    const list = await demo("GET", "/group_snapshots/detail");
    assert.ok(list.body.group_snapshots.some((x: any) => x.id === gs && x.created_at));
    // A group from the group snapshot, and one from the group.
    const fromSnap = await demo("POST", "/groups/action", {
      "create-from-src": { group_snapshot_id: gs, name: "from-snap" },
    });
    assert.equal(fromSnap.status, 202, fromSnap.text);
    const g2 = fromSnap.body.group.id as string;
    const fromGroup = await demo("POST", "/groups/action", {
      "create-from-src": { source_group_id: g, name: "copy" },
    });
    assert.equal(fromGroup.status, 202, fromGroup.text);
    const g3 = fromGroup.body.group.id as string;
    for (const id of [g2, g3]) {
      const made = await waitGroup(id, "available");
      assert.equal(made.group_type, gt);
      const members = (await demo("GET", `/volumes/detail?group_id=${id}`)).body.volumes;
      assert.equal(members.length, 2);
      assert.ok(members.every((m: any) => m.status === "available"));
    }
    assert.equal((await demo("GET", `/groups/${g2}`)).body.group.group_snapshot_id, gs);
    assert.equal((await demo("GET", `/groups/${g3}`)).body.group.source_group_id, g);
    const both = await demo("POST", "/groups/action", {
      "create-from-src": { group_snapshot_id: gs, source_group_id: g },
    });
    assert.equal(both.status, 400);
    assert.equal((await demo("POST", "/groups/action", { "create-from-src": {} })).status, 400);
    // The group cannot go while it has a group snapshot, nor with volumes without delete-volumes.
    const blocked = await demo("POST", `/groups/${g}/action`, { delete: { "delete-volumes": true } });
    assert.equal(blocked.status, 400);
    assert.match(blocked.body.badRequest.message, /group snapshots/);
    assert.equal((await demo("DELETE", `/group_snapshots/${gs}`)).status, 202);
    await gone(`/group_snapshots/${gs}`);
    for (const s of snaps) assert.equal((await demo("GET", `/snapshots/${s.id}`)).status, 404);
    const noFlag = await demo("POST", `/groups/${g}/action`, { delete: { "delete-volumes": false } });
    assert.equal(noFlag.status, 400);
    assert.match(noFlag.body.badRequest.message, /delete-volumes flag is required/);
    for (const id of [g, g2, g3]) {
      const members = (await demo("GET", `/volumes/detail?group_id=${id}`)).body.volumes;
      assert.equal(
        (await demo("POST", `/groups/${id}/action`, { delete: { "delete-volumes": true } })).status,
        202,
      );
      await gone(`/groups/${id}`);
      for (const m of members) assert.equal((await demo("GET", `/volumes/${m.id}`)).status, 404);
    }
  });

  it("resets a group's and a group snapshot's status (admins, 3.20 and 3.19)", async () => {
    const g = await group(gt, "g4");
    const reset = (path: string, status: string, token = c.admin, mv = MV) =>
      c.req("POST", `${path}/action`, {
        token,
        mv,
        body: { reset_status: { status } },
      });
    assert.equal((await reset(`/groups/${g}`, "error", c.demo)).status, 403);
    assert.equal((await reset(`/groups/${g}`, "error", c.admin, "3.19")).status, 404);
    assert.equal((await reset(`/groups/${g}`, "bogus")).status, 400);
    for (const s of ["creating", "available", "error"]) {
      assert.equal((await reset(`/groups/${g}`, s)).status, 202);
      await waitGroup(g, s);
    }
    await reset(`/groups/${g}`, "available");
    const gs = (await demo("POST", "/group_snapshots", { group_snapshot: { group_id: g } })).body
      .group_snapshot.id;
    await waitGroup(gs, "available", "group_snapshots", "group_snapshot");
    for (const s of ["creating", "error", "available"]) {
      assert.equal((await reset(`/group_snapshots/${gs}`, s)).status, 202);
      await waitGroup(gs, s, "group_snapshots", "group_snapshot");
    }
    assert.equal((await demo("DELETE", `/group_snapshots/${gs}`)).status, 202);
    await gone(`/group_snapshots/${gs}`);
    assert.equal(
      (await demo("POST", `/groups/${g}/action`, { delete: { "delete-volumes": false } })).status,
      202,
    );
    await gone(`/groups/${g}`);
  });

  it("refuses a group past the groups quota (413)", async () => {
    const used = (await c.req("GET", `/os-quota-sets/${c.demoProject}?usage=true`, { token: c.demo })).body
      .quota_set.groups.in_use as number;
    const set = await c.req("PUT", `/os-quota-sets/${c.demoProject}`, {
      body: { quota_set: { groups: used } },
    });
    assert.equal(set.status, 200, set.text);
    const over = await demo("POST", "/groups", { group: { group_type: gt, volume_types: [vtype] } });
    assert.equal(over.status, 413, over.text);
    assert.match(over.body.overLimit.message, /GroupLimitExceeded/);
    await c.req("PUT", `/os-quota-sets/${c.demoProject}`, { body: { quota_set: { groups: 10 } } });
  });
});
