// os-volume_attachments against the fake driver and a fake block storage REST service: the views per microversion
// (as Tempest's compute schemas), Nova's refusals, the attach flow (reserve, connect, plug, complete) and its
// rollback, detach, delete_on_termination on server delete, stop/start keeping the volumes, volume-extended.
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
let server = "";

const driver = () => c.t.cloud.computeControl.agents[0].deps.driver as FakeDriver;
const base = (id: string) => `/v2.1/servers/${id}/os-volume_attachments`;
const attach = (id: string, body: Record<string, unknown>, mv = "2.1") =>
  c.req("POST", base(id), { token: c.demo, mv, body: { volumeAttachment: body } });
const bdmRows = async (id: string) =>
  c.t.cloud.db.kysely
    .selectFrom("compute_block_device_mapping")
    .selectAll()
    .where("instance_uuid", "=", id)
    .execute();

before(async () => {
  c = await bootActions();
  cinder = new FakeVolumeService();
  c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  demoProject = await c.t.projectId("demo");
  server = await c.createServer(c.demo);
  await c.waitStatus(c.demo, server, "ACTIVE");
});

after(async () => {
  await c?.close();
});

test("attach: reserve, connect with the host's connector, plug into the guest, complete (2.1 view)", async () => {
  const v = cinder.add(demoProject);
  const r = await attach(server, { volumeId: v.id });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, {
    volumeAttachment: { device: "/dev/vdb", id: v.id, serverId: server, volumeId: v.id },
  });
  assert.equal(v.status, "in-use");
  const att = [...cinder.attachments.values()].find((a) => a.volumeId === v.id)!;
  assert.equal(att.status, "attached");
  assert.equal(att.instance, server);
  assert.equal(att.connector?.host, "compute1");
  assert.equal(att.connector?.platform, "x86_64");
  assert.ok(
    cinder.calls.filter((x) => x.path.startsWith("/attachments")).every((x) => x.version === "volume 3.44"),
  );
  const plugged = driver().volumesOf(server);
  assert.deepEqual(
    plugged.map((p) => p.volumeId),
    [v.id],
  );
  assert.deepEqual(plugged[0].source, {
    type: "nbd",
    socketPath: `/nonexistent/${v.id}.sock`,
    export: v.id,
    readOnly: false,
  });
  const rows = await bdmRows(server);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].attachment_id, att.id);
  assert.ok(JSON.parse(rows[0].connection_info).driver_volume_type === "nbd");
  // Attaching it again: Nova's 400.
  const again = await attach(server, { volumeId: v.id });
  assert.equal(again.status, 400, again.text);
  assert.match(again.body.badRequest.message, /already attached/);
  const acts = await c.actions(server);
  assert.ok(acts.some((a) => a.action === "attach_volume"));
});

test("views per microversion: 2.70 tag, 2.79 delete_on_termination, 2.89 attachment_id/bdm_uuid without id", async () => {
  const v = cinder.add(demoProject);
  const tagOld = await attach(server, { volumeId: v.id, tag: "x" }, "2.48");
  assert.equal(tagOld.status, 400, tagOld.text);
  const dotOld = await attach(server, { volumeId: v.id, delete_on_termination: true }, "2.78");
  assert.equal(dotOld.status, 400, dotOld.text);
  const r = await attach(server, { volumeId: v.id, tag: "data", delete_on_termination: true }, "2.79");
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.volumeAttachment, {
    device: "/dev/vdc",
    id: v.id,
    serverId: server,
    volumeId: v.id,
    tag: "data",
    delete_on_termination: true,
  });
  const show = async (mv: string) =>
    (await c.req("GET", `${base(server)}/${v.id}`, { token: c.demo, mv })).body.volumeAttachment;
  assert.deepEqual(Object.keys(await show("2.1")).sort(), ["device", "id", "serverId", "volumeId"]);
  assert.equal((await show("2.70")).tag, "data");
  assert.equal((await show("2.79")).delete_on_termination, true);
  const new89 = await show("2.89");
  assert.equal(new89.id, undefined);
  const row = (await bdmRows(server)).find((b) => b.volume_id === v.id)!;
  assert.equal(new89.attachment_id, row.attachment_id);
  assert.equal(new89.bdm_uuid, row.uuid);
  const list = await c.req("GET", base(server), { token: c.demo, mv: "2.89" });
  assert.equal(list.status, 200);
  assert.equal(list.body.volumeAttachments.length, 2);
  const limited = await c.req("GET", `${base(server)}?limit=1&offset=1`, { token: c.demo });
  assert.equal(limited.body.volumeAttachments.length, 1);
  assert.equal(limited.body.volumeAttachments[0].volumeId, v.id);
  // 2.85: PUT updates delete_on_termination; before it the same volume id is no swap.
  const put = (mv: string, body: Record<string, unknown>) =>
    c.req("PUT", `${base(server)}/${v.id}`, { token: c.demo, mv, body: { volumeAttachment: body } });
  assert.equal((await put("2.84", { volumeId: v.id, delete_on_termination: false })).status, 400);
  const upd = await put("2.85", { volumeId: v.id, delete_on_termination: false });
  assert.equal(upd.status, 202, upd.text);
  assert.equal((await show("2.79")).delete_on_termination, false);
  assert.equal((await put("2.85", { volumeId: v.id, device: "/dev/vdz" })).status, 400);
  // A swap (another volume id) is the admin's, and not supported.
  const other = cinder.add(demoProject);
  assert.equal((await put("2.85", { volumeId: other.id })).status, 403);
  const swap = await c.req("PUT", `${base(server)}/${v.id}`, {
    token: c.admin,
    mv: "2.1",
    body: { volumeAttachment: { volumeId: other.id } },
  });
  assert.equal(swap.status, 409, swap.text);
  // An unknown new volume is 400, as in Nova (tempest's test_update_attached_volume_with_nonexistent_volume_in_body).
  const unknown = await c.req("PUT", `${base(server)}/${v.id}`, {
    token: c.admin,
    mv: "2.1",
    body: { volumeAttachment: { volumeId: "6f1ac4e2-3f1b-4b9c-9a55-2c8d1d2f2b11" } },
  });
  assert.equal(unknown.status, 400, unknown.text);
  assert.match(unknown.body.badRequest.message, /Volume .* could not be found/);
});

test("refusals: unknown volume 404, volume not available 400, not attached 404, bad body 400", async () => {
  const missing = await attach(server, { volumeId: "6f1ac4e2-3f1b-4b9c-9a55-2c8d1d2f2b10" });
  assert.equal(missing.status, 404, missing.text);
  assert.match(missing.body.itemNotFound.message, /Volume .* could not be found/);
  const busy = cinder.add(demoProject, { status: "in-use" });
  const r = await attach(server, { volumeId: busy.id });
  assert.equal(r.status, 400, r.text);
  assert.match(r.body.badRequest.message, /Invalid volume/);
  assert.equal((await attach(server, { volumeId: "not-a-uuid" })).status, 400);
  assert.equal((await attach(server, {})).status, 400);
  assert.equal((await attach(server, { volumeId: busy.id, bogus: 1 })).status, 400);
  assert.equal((await attach(server, { volumeId: busy.id, device: "sdb" })).status, 400);
  const notAtt = await c.req("GET", `${base(server)}/${busy.id}`, { token: c.demo });
  assert.equal(notAtt.status, 404);
  const del = await c.req("DELETE", `${base(server)}/${busy.id}`, { token: c.demo });
  assert.equal(del.status, 404);
  assert.equal(
    (await bdmRows(server)).some((b) => b.volume_id === busy.id),
    false,
  );
});

test("a failed plug is rolled back: no mapping, the attachment deleted, the volume available", async () => {
  const v = cinder.add(demoProject);
  cinder.failNext("POST", /\/attachments\/[^/]+\/action$/, 500);
  const r = await attach(server, { volumeId: v.id });
  assert.equal(r.status, 500, r.text);
  assert.equal(
    (await bdmRows(server)).some((b) => b.volume_id === v.id),
    false,
  );
  assert.equal(
    [...cinder.attachments.values()].some((a) => a.volumeId === v.id),
    false,
  );
  assert.equal(v.status, "available");
  assert.equal(
    driver()
      .volumesOf(server)
      .some((p) => p.volumeId === v.id),
    false,
    "unplugged again",
  );
  // A failure of the connection update (before anything was plugged) leaves nothing either.
  cinder.failNext("PUT", /\/attachments\/[^/]+$/, 500);
  assert.equal((await attach(server, { volumeId: v.id })).status, 500);
  assert.equal(
    (await bdmRows(server)).some((b) => b.volume_id === v.id),
    false,
  );
  assert.equal(v.status, "available");
});

test("detach unplugs, deletes the attachment and the mapping", async () => {
  const v = cinder.add(demoProject);
  assert.equal((await attach(server, { volumeId: v.id })).status, 200);
  const d = await c.req("DELETE", `${base(server)}/${v.id}`, { token: c.demo });
  assert.equal(d.status, 202, d.text);
  assert.equal(v.status, "available");
  assert.equal(v.attachments.size, 0);
  assert.equal(
    driver()
      .volumesOf(server)
      .some((p) => p.volumeId === v.id),
    false,
  );
  assert.equal(
    (await bdmRows(server)).some((b) => b.volume_id === v.id),
    false,
  );
});

test("a guest that keeps the device: 409 with what to do, nothing changed, the event records the error; a retry detaches", async () => {
  const v = cinder.add(demoProject);
  assert.equal((await attach(server, { volumeId: v.id })).status, 200);
  const opts = (driver() as unknown as { opts: { failOperation?: (op: string) => string | false } }).opts;
  opts.failOperation = (op) => op === "detachVolume" && "the guest did not release the device";
  try {
    const d = await c.req("DELETE", `${base(server)}/${v.id}`, { token: c.demo });
    assert.equal(d.status, 409, d.text);
    assert.match(d.body.conflictingRequest.message, /did not release the device/);
    assert.match(d.body.conflictingRequest.message, /stays attached.*stop the server/);
  } finally {
    delete opts.failOperation;
  }
  assert.equal(v.status, "in-use");
  assert.equal([...v.attachments.values()].length, 1);
  assert.ok(
    driver()
      .volumesOf(server)
      .some((p) => p.volumeId === v.id),
  );
  assert.ok((await bdmRows(server)).some((b) => b.volume_id === v.id));
  const detach = (await c.actions(server)).filter((a) => a.action === "detach_volume").at(-1);
  assert.deepEqual(detach?.events, [{ event: "compute_detach_volume", result: "Error" }]);
  const again = await c.req("DELETE", `${base(server)}/${v.id}`, { token: c.demo });
  assert.equal(again.status, 202, again.text);
  assert.equal(v.status, "available");
  assert.ok(!(await bdmRows(server)).some((b) => b.volume_id === v.id));
});

test("stop/start, reboots and rebuild keep the volumes; a stopped server takes and gives up volumes too", async () => {
  const s = await c.createServer(c.demo);
  await c.waitStatus(c.demo, s, "ACTIVE");
  const v = cinder.add(demoProject);
  assert.equal((await attach(s, { volumeId: v.id })).status, 200);
  assert.equal((await c.act(c.demo, s, { "os-stop": null })).status, 202);
  await c.settle(s, "stopped");
  const w = cinder.add(demoProject);
  assert.equal((await attach(s, { volumeId: w.id })).status, 200, "attach to a stopped server");
  assert.equal(w.status, "in-use");
  assert.equal((await c.act(c.demo, s, { "os-start": null })).status, 202);
  await c.settle(s, "active");
  assert.equal((await c.act(c.demo, s, { reboot: { type: "HARD" } })).status, 202);
  await c.settle(s, "active");
  // A rebuild re-creates the guest with its volumes.
  assert.equal((await c.act(c.demo, s, { rebuild: { imageRef: c.imageId } })).status, 202);
  await c.settle(s, "active");
  assert.deepEqual(
    driver()
      .volumesOf(s)
      .map((x) => x.volumeId),
    [v.id, w.id],
  );
  const list = await c.req("GET", base(s), { token: c.demo });
  assert.deepEqual(
    list.body.volumeAttachments.map((a: any) => [a.volumeId, a.device]),
    [
      [v.id, "/dev/vdb"],
      [w.id, "/dev/vdc"],
    ],
  );
});

test("volume-extended: the server's host resizes the disk the guest sees", async () => {
  const s = await c.createServer(c.demo);
  await c.waitStatus(c.demo, s, "ACTIVE");
  const v = cinder.add(demoProject);
  assert.equal((await attach(s, { volumeId: v.id })).status, 200);
  v.size = 3;
  const r = await c.req("POST", "/v2.1/os-server-external-events", {
    token: c.admin,
    mv: "2.51",
    body: { events: [{ name: "volume-extended", server_uuid: s, tag: v.id }] },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(driver().volumesOf(s)[0].sizeBytes, 3 * 1024 ** 3);
});

test("server delete: attachments deleted, delete_on_termination volumes deleted, the others available", async () => {
  const s = await c.createServer(c.demo);
  await c.waitStatus(c.demo, s, "ACTIVE");
  const keep = cinder.add(demoProject);
  const drop = cinder.add(demoProject);
  assert.equal((await attach(s, { volumeId: keep.id })).status, 200);
  assert.equal((await attach(s, { volumeId: drop.id, delete_on_termination: true }, "2.79")).status, 200);
  assert.equal((await c.req("DELETE", `/v2.1/servers/${s}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, s);
  await until("the delete_on_termination volume is deleted", () => !cinder.volumes.has(drop.id) || undefined);
  assert.equal(keep.status, "available");
  assert.equal(keep.attachments.size, 0);
  assert.equal((await bdmRows(s)).length, 0);
});

test("a shelved-offloaded server (2.20): attach reserves and completes, unshelve connects, detach drops", async () => {
  const id = await c.createServer(c.demo, { name: "shelf-vol" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.act(c.demo, id, { shelve: null })).status, 202);
  await c.waitStatus(c.demo, id, "SHELVED_OFFLOADED");
  const v = cinder.add(demoProject);
  const old = await attach(id, { volumeId: v.id }, "2.19");
  assert.equal(old.status, 409, old.text);
  assert.match(old.body.conflictingRequest.message, /while it is in vm_state shelved_offloaded/);
  const r = await attach(id, { volumeId: v.id }, "2.20");
  assert.equal(r.status, 200, r.text);
  assert.equal(v.status, "in-use");
  const [row] = (await bdmRows(id)).filter((b) => b.volume_id === v.id);
  assert.ok(row.attachment_id, "the volume is reserved for the server");
  assert.equal(row.connection_info, null, "no host to connect to yet");
  // Unshelve lands the server on a host, which connects the volume there.
  assert.equal((await c.act(c.demo, id, { unshelve: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const [after] = (await bdmRows(id)).filter((b) => b.volume_id === v.id);
  assert.equal(JSON.parse(after.connection_info!).driver_volume_type, "nbd");
  const shown = await c.req("GET", `${base(id)}/${v.id}`, { token: c.demo });
  assert.equal(shown.body.volumeAttachment.device, after.device_name);
  // Shelved again: detach drops the attachment and the mapping, with no host to unplug from.
  assert.equal((await c.act(c.demo, id, { shelve: null })).status, 202);
  await c.waitStatus(c.demo, id, "SHELVED_OFFLOADED");
  const det = await c.req("DELETE", `${base(id)}/${v.id}`, { token: c.demo, mv: "2.20" });
  assert.equal(det.status, 202, det.text);
  assert.equal(v.status, "available");
  assert.deepEqual(
    (await bdmRows(id)).filter((b) => b.volume_id === v.id),
    [],
  );
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
});

test("without a block storage service attach answers 503 and lists stay empty", async () => {
  c.t.cloud.compute.core.connectVolume(undefined);
  try {
    const r = await attach(server, { volumeId: "6f1ac4e2-3f1b-4b9c-9a55-2c8d1d2f2b10" });
    assert.equal(r.status, 503, r.text);
  } finally {
    c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  }
});

test("os-volumes (the proxy, up to 2.35): list, show, create, delete in Nova's view; 404 from 2.36", async () => {
  const r = await c.req("POST", "/v2.1/os-volumes", {
    token: c.demo,
    body: { volume: { size: 2, display_name: "proxied" } },
  });
  assert.equal(r.status, 200, r.text);
  const v = r.body.volume;
  assert.equal(v.size, 2);
  assert.equal(v.displayName, "proxied");
  assert.deepEqual(v.attachments, [{}]);
  for (const k of [
    "id",
    "status",
    "availabilityZone",
    "createdAt",
    "displayDescription",
    "volumeType",
    "snapshotId",
    "metadata",
  ])
    assert.ok(k in v, k);
  // A blank id is 404, not the list (tempest's test_get_volume_without_passing_volume_id).
  assert.equal((await c.req("GET", "/v2.1/os-volumes/", { token: c.demo })).status, 404);
  assert.equal((await c.req("GET", "/v2.1/os-volumes", { token: c.demo })).status, 200);
  const list = await c.req("GET", "/v2.1/os-volumes/detail", { token: c.demo });
  assert.ok(list.body.volumes.some((x: any) => x.id === v.id));
  const show = await c.req("GET", `/v2.1/os-volumes/${v.id}`, { token: c.demo });
  assert.equal(show.body.volume.id, v.id);
  assert.equal((await c.req("GET", `/v2.1/os-volumes/${v.id}`, { token: c.demo, mv: "2.36" })).status, 404);
  assert.equal((await c.req("DELETE", `/v2.1/os-volumes/${v.id}`, { token: c.demo })).status, 202);
  const gone = await c.req("GET", `/v2.1/os-volumes/${v.id}`, { token: c.demo });
  assert.equal(gone.status, 404);
  assert.equal(
    (await c.req("POST", "/v2.1/os-volumes", { token: c.demo, body: { volume: {} } })).status,
    400,
  );
});

test("os-snapshots (the proxy, up to 2.35): create (force for in-use), show, list, delete; 404 from 2.36", async () => {
  const v = cinder.add(demoProject, { size: 3, status: "in-use" });
  const create = (snapshot: Record<string, unknown>, mv?: string) =>
    c.req("POST", "/v2.1/os-snapshots", { token: c.demo, ...(mv ? { mv } : {}), body: { snapshot } });
  const unforced = await create({ volume_id: v.id, display_name: "s" });
  assert.equal(unforced.status, 400, "an in-use volume needs force");
  assert.equal((await create({ volume_id: v.id, force: "maybe" })).status, 400);
  assert.equal((await create({ volume_id: v.id, extra: 1 })).status, 400);
  const r = await create({ volume_id: v.id, force: "True", display_name: "s", display_description: "d" });
  assert.equal(r.status, 200, r.text);
  const s = r.body.snapshot;
  assert.deepEqual(Object.keys(s).sort(), [
    "createdAt",
    "displayDescription",
    "displayName",
    "id",
    "size",
    "status",
    "volumeId",
  ]);
  assert.equal(s.volumeId, v.id);
  assert.equal(s.size, 3);
  assert.equal(s.displayName, "s");
  assert.equal(cinder.snapshots.get(s.id)?.force, true);
  const show = await c.req("GET", `/v2.1/os-snapshots/${s.id}`, { token: c.demo });
  assert.equal(show.body.snapshot.displayDescription, "d");
  for (const path of ["/v2.1/os-snapshots", "/v2.1/os-snapshots/detail"]) {
    const list = await c.req("GET", path, { token: c.demo });
    assert.ok(
      list.body.snapshots.some((x: { id: string }) => x.id === s.id),
      path,
    );
  }
  assert.equal(
    (await c.req("GET", "/v2.1/os-snapshots?limit=0", { token: c.demo })).body.snapshots.length,
    0,
  );
  assert.equal((await c.req("GET", `/v2.1/os-snapshots/${s.id}`, { token: c.demo, mv: "2.36" })).status, 404);
  assert.equal((await create({ volume_id: v.id, force: true }, "2.36")).status, 404);
  assert.equal((await c.req("DELETE", `/v2.1/os-snapshots/${s.id}`, { token: c.demo })).status, 202);
  const gone = await c.req("GET", `/v2.1/os-snapshots/${s.id}`, { token: c.demo });
  assert.equal(gone.status, 404);
  assert.match(gone.body.itemNotFound.message, /Snapshot .* could not be found/);
  v.status = "available";
});

test("os-volumes_boot: the servers API under its old name, at every microversion", async () => {
  const r = await c.req("POST", "/v2.1/os-volumes_boot", {
    token: c.demo,
    mv: "2.60",
    body: { server: { name: "vb", flavorRef: "42", imageRef: c.imageId, networks: "none" } },
  });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  const show = await c.req("GET", `/v2.1/os-volumes_boot/${id}`, { token: c.demo, mv: "2.60" });
  assert.equal(show.status, 200, show.text);
  assert.equal(show.body.server.name, "vb");
  const list = await c.req("GET", "/v2.1/os-volumes_boot/detail", { token: c.demo });
  assert.ok(list.body.servers.some((x: { id: string }) => x.id === id));
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.req("DELETE", `/v2.1/os-volumes_boot/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
});
