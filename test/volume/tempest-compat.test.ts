// What tempest's volume suite found (docs/tempest-volume.md), one check each: the bodies of create and update as
// Cinder's (without the show-only extension attributes), snapshots likewise, type bodies, the readonly flag in
// metadata, next links on full pages, service updates, os-hosts, capabilities, extensions, the volume summary, the
// scheduler's capabilities filter with its user message, and os-force_detach.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

let c: VolumeCloud;
before(async () => {
  c = await bootVolume();
});
after(() => c?.close());

describe("block storage: tempest compatibility", () => {
  it("answers create and update without the show-only attributes; show and detail have them", async () => {
    const created = await c.req("POST", "/volumes", { body: { volume: { size: 1, name: "x" } } });
    assert.equal(created.status, 202);
    const v = created.body.volume;
    for (const k of [
      "os-vol-tenant-attr:tenant_id",
      "os-vol-host-attr:host",
      "os-vol-mig-status-attr:migstat",
    ])
      assert.equal(v[k], undefined, `create has no ${k}`);
    assert.equal(v.migration_status, null, "admins see migration_status");
    await c.waitStatus(c.admin, v.id, "available");
    const up = await c.req("PUT", `/volumes/${v.id}`, { body: { volume: { name: "y" } } });
    assert.equal(up.body.volume["os-vol-tenant-attr:tenant_id"], undefined);
    const shown = (await c.req("GET", `/volumes/${v.id}`)).body.volume;
    assert.equal(shown["os-vol-tenant-attr:tenant_id"], c.adminProject);
    assert.match(shown["os-vol-host-attr:host"], /@.+#/);
    const asMember = (await c.req("GET", `/volumes/${v.id}`, { token: c.demo })).status;
    assert.equal(asMember, 404);
  });

  it("answers snapshot create, update and list without the extended attributes", async () => {
    const vol = await c.create(c.demo);
    await c.waitStatus(c.demo, vol, "available");
    const s = await c.req("POST", "/snapshots", { token: c.demo, body: { snapshot: { volume_id: vol } } });
    assert.equal(s.status, 202);
    assert.equal(s.body.snapshot["os-extended-snapshot-attributes:project_id"], undefined);
    const id = s.body.snapshot.id;
    const up = await c.req("PUT", `/snapshots/${id}`, { token: c.demo, body: { snapshot: { name: "n" } } });
    assert.equal(up.body.snapshot["os-extended-snapshot-attributes:progress"], undefined);
    const list = (await c.req("GET", "/snapshots", { token: c.demo })).body.snapshots;
    assert.equal(list[0]["os-extended-snapshot-attributes:project_id"], undefined);
    const detail = (await c.req("GET", "/snapshots/detail", { token: c.demo })).body.snapshots;
    assert.equal(detail[0]["os-extended-snapshot-attributes:project_id"], c.demoProject);
    const show = (await c.req("GET", `/snapshots/${id}`, { token: c.demo })).body.snapshot;
    assert.equal(typeof show["os-extended-snapshot-attributes:progress"], "string");
    const nullVolume = await c.req("POST", "/snapshots", {
      token: c.demo,
      body: { snapshot: { volume_id: null } },
    });
    assert.equal(nullVolume.status, 404);
    const missing = await c.req("POST", "/snapshots", { token: c.demo, body: { snapshot: { name: "x" } } });
    assert.equal(missing.status, 400);
  });

  it("answers type create with the access attribute, update with neither it nor qos_specs_id", async () => {
    const created = await c.req("POST", "/types", { body: { volume_type: { name: "compat-t" } } });
    assert.equal(created.status, 200);
    const t = created.body.volume_type;
    assert.equal(t["os-volume-type-access:is_public"], true);
    assert.ok(!("qos_specs_id" in t));
    const up = await c.req("PUT", `/types/${t.id}`, { body: { volume_type: { description: "d" } } });
    assert.equal(up.status, 200);
    assert.ok(!("os-volume-type-access:is_public" in up.body.volume_type));
    assert.ok(!("qos_specs_id" in up.body.volume_type));
    const shown = (await c.req("GET", `/types/${t.id}`)).body.volume_type;
    assert.ok("qos_specs_id" in shown && shown["os-volume-type-access:is_public"] === true);
  });

  it("shows the readonly flag in the volume's metadata once set, not in its own metadata", async () => {
    const id = await c.create(c.demo, { metadata: { a: "1" } });
    await c.waitStatus(c.demo, id, "available");
    assert.deepEqual((await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.metadata, {
      a: "1",
    });
    for (const readonly of [true, false]) {
      const r = await c.req("POST", `/volumes/${id}/action`, {
        token: c.demo,
        body: { "os-update_readonly_flag": { readonly } },
      });
      assert.equal(r.status, 202);
      const v = (await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume;
      assert.equal(v.metadata.readonly, readonly ? "True" : "False");
    }
    const own = await c.req("GET", `/volumes/${id}/metadata`, { token: c.demo });
    assert.deepEqual(own.body.metadata, { a: "1" });
  });

  it("gives a full page a next link, also the last one", async () => {
    const ids = [await c.create(c.demo, { name: "pg" }), await c.create(c.demo, { name: "pg" })];
    for (const id of ids) await c.waitStatus(c.demo, id, "available");
    const first = await c.req("GET", "/volumes?name=pg&limit=2", { token: c.demo });
    assert.equal(first.body.volumes.length, 2);
    assert.equal(first.body.volumes_links?.[0]?.rel, "next");
    const next = new URL(first.body.volumes_links[0].href);
    const rest = await c.req("GET", `/volumes${next.search}`, { token: c.demo });
    assert.deepEqual(rest.body.volumes, []);
    assert.equal(rest.body.volumes_links, undefined);
    const partial = await c.req("GET", "/volumes?name=pg&limit=3", { token: c.demo });
    assert.equal(partial.body.volumes_links, undefined);
  });

  it("updates services as Cinder answers, and refuses a disable without reason and freezing unknown hosts", async () => {
    const services = (await c.req("GET", "/os-services")).body.services;
    const vol = services.find((s: any) => s.binary === "cinder-volume");
    const dis = await c.req("PUT", "/os-services/disable", { body: { host: vol.host, binary: vol.binary } });
    assert.equal(dis.status, 200);
    assert.deepEqual(Object.keys(dis.body).sort(), ["binary", "disabled", "host", "service", "status"]);
    const en = await c.req("PUT", "/os-services/enable", { body: { host: vol.host, binary: vol.binary } });
    assert.equal(en.body.disabled_reason, null);
    assert.equal(en.body.service, "cinder-volume");
    const noReason = await c.req("PUT", "/os-services/disable-log-reason", {
      body: { host: vol.host, binary: vol.binary, disabled_reason: null },
    });
    assert.equal(noReason.status, 400);
    for (const a of ["freeze", "thaw"]) {
      const r = await c.req("PUT", `/os-services/${a}`, { body: { host: "invalid_host" } });
      assert.equal(r.status, 400);
      assert.equal(r.body.badRequest.code, 400);
    }
  });

  it("lists hosts, shows a volume host's usage and a backend's capabilities", async () => {
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    const hosts = (await c.req("GET", "/os-hosts")).body.hosts;
    assert.ok(hosts.length >= 2);
    const vh = hosts.find((h: any) => h.service === "cinder-volume");
    assert.equal(vh["service-state"], "enabled");
    assert.equal(vh["service-status"], "available");
    const shown = await c.req("GET", `/os-hosts/${encodeURIComponent(vh.host_name)}`);
    assert.equal(shown.status, 200);
    const total = shown.body.host[0].resource;
    assert.equal(total.project, "(total)");
    assert.ok(Number(total.volume_count) >= 1);
    assert.ok(shown.body.host.some((h: any) => h.resource.project === c.demoProject));
    assert.equal((await c.req("GET", "/os-hosts/nohost@x")).status, 404);
    assert.equal((await c.req("GET", "/os-hosts", { token: c.demo })).status, 403);
    const pools = (await c.req("GET", "/scheduler-stats/get_pools?detail=true")).body.pools;
    const caps = await c.req("GET", `/capabilities/${encodeURIComponent(pools[0].name)}`);
    assert.equal(caps.status, 200);
    for (const k of ["vendor_name", "volume_backend_name", "storage_protocol"])
      assert.equal(caps.body[k], pools[0].capabilities[k]);
    assert.match(caps.body.namespace, /^OS::Storage::Capabilities::/);
  });

  it("lists the extensions, Hosts among them", async () => {
    const r = await c.req("GET", "/extensions", { token: c.demo });
    assert.equal(r.status, 200);
    assert.ok(r.body.extensions.some((e: any) => e.name === "Hosts" && e.alias === "os-hosts"));
  });

  it("summarises the project's volumes from 3.12, with their metadata from 3.36", async () => {
    assert.equal((await c.req("GET", "/volumes/summary", { token: c.demo, mv: "3.11" })).status, 404);
    const id = await c.create(c.demo, { size: 2, metadata: { k: "v" } });
    await c.waitStatus(c.demo, id, "available");
    const r = await c.req("GET", "/volumes/summary", { token: c.demo, mv: "3.36" });
    assert.equal(r.status, 200);
    const s = r.body["volume-summary"];
    assert.ok(s.total_count >= 1 && s.total_size >= 2);
    assert.deepEqual(s.metadata.k, ["v"]);
    const old = (await c.req("GET", "/volumes/summary", { token: c.demo, mv: "3.12" })).body[
      "volume-summary"
    ];
    assert.equal(old.metadata, undefined);
  });

  it("schedules by the type's capabilities: a mismatch is an error with a user message", async () => {
    const bad = await c.req("POST", "/types", {
      body: {
        volume_type: { name: "bogus", extra_specs: { vendor_name: "nobody", storage_protocol: "FC" } },
      },
    });
    const good = await c.req("POST", "/types", {
      body: {
        volume_type: { name: "iscsi", extra_specs: { storage_protocol: "iSCSI", vendor_name: "Stratus" } },
      },
    });
    const ok = await c.create(c.admin, { volume_type: good.body.volume_type.id });
    await c.waitStatus(c.admin, ok, "available");
    const id = await c.create(c.admin, { volume_type: bad.body.volume_type.id });
    await c.waitStatus(c.admin, id, "error");
    const messages = await until("the user message", async () => {
      const m = (await c.req("GET", "/messages", { mv: "3.3" })).body.messages;
      return m.some((x: any) => x.resource_uuid === id) ? m : null;
    });
    assert.ok(messages.find((x: any) => x.resource_uuid === id).user_message.length > 0);
  });

  it("force-detaches a volume in error back to available", async () => {
    const id = await c.create(c.admin);
    await c.waitStatus(c.admin, id, "available");
    const server = "0b5d4e55-7a53-4a7e-a1a7-7d2c3a4b5c6d";
    const att = await c.req("POST", `/volumes/${id}/action`, {
      body: { "os-attach": { instance_uuid: server, mountpoint: "/dev/vdb" } },
    });
    assert.equal(att.status, 202);
    const v = await c.waitStatus(c.admin, id, "in-use");
    const reset = await c.req("POST", `/volumes/${id}/action`, {
      body: { "os-reset_status": { status: "error" } },
    });
    assert.equal(reset.status, 202);
    const member = await c.req("POST", `/volumes/${id}/action`, {
      token: c.demo,
      body: { "os-force_detach": {} },
    });
    assert.equal(member.status, 404, "another project's volume is not found");
    const fd = await c.req("POST", `/volumes/${id}/action`, {
      body: { "os-force_detach": { attachment_id: v.attachments[0].attachment_id, connector: null } },
    });
    assert.equal(fd.status, 202);
    const after = await c.waitStatus(c.admin, id, "available");
    assert.deepEqual(after.attachments, []);
  });
  it("lists snapshots sorted by display_name and from an offset; a member reports a snapshot's status", async () => {
    const vol = await c.create(c.demo);
    await c.waitStatus(c.demo, vol, "available");
    const ids: string[] = [];
    for (const name of ["s-b", "s-a", "s-c"]) {
      const r = await c.req("POST", "/snapshots", {
        token: c.demo,
        body: { snapshot: { volume_id: vol, name } },
      });
      ids.push(r.body.snapshot.id);
    }
    const asc = await c.req("GET", "/snapshots?sort=display_name:asc", { token: c.demo });
    assert.equal(asc.status, 200);
    const names = asc.body.snapshots.map((x: any) => x.name).filter((n: string) => n.startsWith("s-"));
    assert.deepEqual(names, ["s-a", "s-b", "s-c"]);
    const all = (await c.req("GET", "/snapshots", { token: c.demo })).body.snapshots;
    const off = await c.req("GET", "/snapshots?offset=2&limit=3", { token: c.demo });
    assert.equal(off.body.snapshots.length, Math.min(3, all.length - 2));
    assert.equal(off.body.snapshots[0].id, all[2].id);
    assert.equal((await c.req("GET", "/snapshots?offset=x", { token: c.demo })).status, 400);
    const id = ids[0];
    await until("snapshot available", async () => {
      const r = await c.req("GET", `/snapshots/${id}`, { token: c.demo });
      return r.body.snapshot.status === "available" ? true : null;
    });
    const update = (body: unknown) =>
      c.req("POST", `/snapshots/${id}/action`, {
        token: c.demo,
        body: { "os-update_snapshot_status": body },
      });
    assert.equal((await update({ status: "error" })).status, 400, "not from available");
    const reset = await c.req("POST", `/snapshots/${id}/action`, {
      body: { "os-reset_status": { status: "creating" } },
    });
    assert.equal(reset.status, 202);
    assert.equal((await update({ status: "error", progress: "eighty" })).status, 400);
    assert.equal((await update({ status: "error", progress: "80%" })).status, 202);
    const shown = (await c.req("GET", `/snapshots/${id}`, { token: c.demo })).body.snapshot;
    assert.equal(shown.status, "error");
    assert.equal(shown["os-extended-snapshot-attributes:progress"], "80%");
  });
  it("answers 404 for a project URL with a trailing slash (an empty id), as Cinder", async () => {
    assert.equal((await c.req("GET", "/volumes", { token: c.demo })).status, 200);
    const r = await c.req("GET", "/volumes/", { token: c.demo });
    assert.equal(r.status, 404);
    assert.equal(r.body.itemNotFound.code, 404);
    assert.equal((await c.req("GET", "/types/", { token: c.demo })).status, 404);
    // DELETE and PUT volumes/ (an empty id) too: 404, where the URL without its slash is 405 (no such method).
    for (const m of ["DELETE", "PUT"]) {
      const slash = await c.req(m, "/volumes/", {
        token: c.demo,
        body: m === "PUT" ? { volume: {} } : undefined,
      });
      assert.equal(slash.status, 404, `${m} volumes/`);
      assert.equal(slash.body.itemNotFound.code, 404);
      assert.equal((await c.req(m, "/volumes", { token: c.demo })).status, 405, `${m} volumes`);
    }
    assert.equal((await c.req("GET", "/volume/v3/")).status, 200, "the version document keeps its slash");
  });
});
