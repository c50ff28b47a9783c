// A live migration with volumes whose conductor died part way, recovered by another conductor, with the cloud's own
// block storage service (fake backend) rather than the fake REST service: no destination attachment is left, and
// each volume stays attached to the source (one attachment, attached there, named by the server's mapping).
// Crashes: while the destination's attachments were being made (one volume's made and connected, the next one's
// only reserved: the volume's body does not list those), while the guest was moving (it stayed), and while it was
// moving with neither host able to say where the guest runs (server ERROR on its source). A dead conductor is a
// compute_conductor row with an old heartbeat owning the server; its hung step is released after the assertions.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import type { VolumeClient } from "../../../src/compute/volume-client.js";
import { listBdms } from "../../../src/compute/volumes/bdm-store.js";
import { nowIso } from "../../../src/shared/db/index.js";
import { bootActions, until, type ActionCloud } from "../actions/util.js";

let c: ActionCloud;
let demoProject = "";
const HOSTS = ["compute1", "compute1-2"];
const other = (host: string) => HOSTS.find((h) => h !== host)!;
const db = () => c.t.cloud.db.kysely;
const compute = () => c.t.cloud.compute.core;
const driverOf = (host: string) =>
  c.t.cloud.computeControl.agents.find((a) => a.host === host)!.deps.driver as FakeDriver;

before(async () => {
  c = await bootActions({ compute: { hosts: 2, orphanTimeout: 2 } });
  demoProject = await c.t.projectId("demo");
  await c.req("PUT", `/v2.1/os-quota-sets/${demoProject}`, {
    token: c.admin,
    body: { quota_set: { instances: 20, cores: 40, ram: 102400 } },
  });
});
after(() => c?.close());

/** A request to the block storage API in the demo project. */
async function volumeApi(method: string, path: string, body?: unknown) {
  const r = await c.t.cloud.app.inject({
    method: method as "GET",
    url: `/volume/v3/${demoProject}${path}`,
    headers: {
      "x-auth-token": c.demo,
      "openstack-api-version": "volume 3.44",
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined, text: r.payload };
}

/** A new available 1 GiB volume. */
async function newVolume(): Promise<string> {
  const r = await volumeApi("POST", "/volumes", { volume: { size: 1 } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.volume.id as string;
  await until(`volume ${id} available`, async () => {
    const s = (await volumeApi("GET", `/volumes/${id}`)).body.volume.status;
    if (s === "error") throw new Error(`volume ${id} went to error`);
    return s === "available";
  });
  return id;
}

/** An ACTIVE server with `n` volumes attached; returns its id, host and volumes. */
async function serverWithVolumes(name: string, n: number) {
  const id = await c.createServer(c.demo, { name });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const volumes: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = await newVolume();
    const r = await c.req("POST", `/v2.1/servers/${id}/os-volume_attachments`, {
      token: c.demo,
      body: { volumeAttachment: { volumeId: v } },
    });
    assert.equal(r.status, 200, r.text);
    volumes.push(v);
  }
  return { id, source: (await c.row(id)).host as string, volumes };
}

/** A conductor that died a minute ago now owns the server (its process is gone mid-way). */
async function conductorDies(server: string): Promise<void> {
  const dead = randomUUID();
  await db()
    .insertInto("compute_conductor")
    .values({ id: dead, host: "gone", heartbeat_ms: Date.now() - 60_000, created_at: nowIso() })
    .execute();
  await db().updateTable("compute_instance").set({ task_owner: dead }).where("uuid", "=", server).execute();
}

const migration = async (server: string) =>
  (await db()
    .selectFrom("compute_server_migration")
    .selectAll()
    .where("instance_uuid", "=", server)
    .orderBy("id", "desc")
    .executeTakeFirst()) as Record<string, any> | undefined;

const startLive = async (server: string) => {
  const r = await c.act(
    c.admin,
    server,
    { "os-migrateLive": { host: null, block_migration: "auto" } },
    "2.25",
  );
  assert.equal(r.status, 202, r.text);
};

/** Each volume has one attachment, of the server, attached on `host`, the one its mapping names; it is in-use. */
async function attachedOnlyTo(server: string, host: string, volumes: string[]): Promise<void> {
  const bdms = await listBdms(db(), server);
  for (const v of volumes) {
    const rows = await c.t.cloud.volume.core.db
      .selectFrom("volume_attachment")
      .selectAll()
      .where("volume_id", "=", v)
      .execute();
    assert.deepEqual(
      rows.map((a) => [a.instance_uuid, a.attached_host, a.attach_status]),
      [[server, host, "attached"]],
      `volume ${v}: one attachment, the source's`,
    );
    assert.equal(bdms.find((b) => b.volumeId === v)?.attachmentId, rows[0].id, "the mapping names it");
    const vol = (await volumeApi("GET", `/volumes/${v}`)).body.volume;
    assert.equal(vol.status, "in-use");
    assert.deepEqual(
      vol.attachments.map((a: any) => [a.server_id, a.attachment_id]),
      [[server, rows[0].id]],
    );
  }
}

test("a conductor dead while the destination's attachments were made: they are deleted, ACTIVE on the source", async () => {
  const { id, source, volumes } = await serverWithVolumes("live-vol-crash-prep", 2);
  const dest = other(source);
  const real = compute().volume!;
  // The second destination attachment hangs after its reservation: the first one is made and connected.
  let release!: (e: Error) => void;
  const gate = new Promise<never>((_, reject) => (release = reject));
  let toDest = 0;
  const hooked = Object.create(real) as VolumeClient;
  hooked.updateAttachment = (project, att, connector, mountpoint) =>
    connector.host === dest && ++toDest === 2
      ? gate
      : real.updateAttachment(project, att, connector, mountpoint);
  compute().connectVolume(hooked);
  try {
    await startLive(id);
    await until("the second destination attachment", () => toDest === 2);
    const made = await c.t.cloud.volume.core.db
      .selectFrom("volume_attachment")
      .select("attach_status")
      .where("volume_id", "in", volumes)
      .execute();
    assert.deepEqual(made.map((a) => a.attach_status).sort(), [
      "attached",
      "attached",
      "attaching",
      "reserved",
    ]);
    await conductorDies(id);
    const row = await c.settle(id, "active", 30_000);
    assert.equal(row.host, source);
    assert.equal((await migration(id))?.status, "error");
    await attachedOnlyTo(id, source, volumes);
    assert.deepEqual(
      driverOf(source)
        .volumesOf(id)
        .map((v) => v.volumeId)
        .sort(),
      [...volumes].sort(),
    );
    assert.ok(!(await driverOf(dest).listInstances()).includes(id));
  } finally {
    compute().connectVolume(real);
    release(new Error("the hung step ends after its conductor died"));
  }
  await c.waitStatus(c.demo, id, "ACTIVE");
  // The recovered server detaches as usual: the volumes are available again.
  for (const v of volumes) {
    const r = await c.req("DELETE", `/v2.1/servers/${id}/os-volume_attachments/${v}`, { token: c.demo });
    assert.equal(r.status, 202, r.text);
  }
  for (const v of volumes)
    await until(
      `volume ${v} available`,
      async () => (await volumeApi("GET", `/volumes/${v}`)).body.volume.status === "available",
    );
});

/** Start a live migration whose source step hangs, and let its conductor die while the guest is moving. */
async function crashWhileMoving(name: string) {
  const s = await serverWithVolumes(name, 1);
  const src = driverOf(s.source);
  const saved = src.liveMigration.bind(src);
  let release!: (e: Error) => void;
  const gate = new Promise<never>((_, reject) => (release = reject));
  src.liveMigration = () => gate;
  await startLive(s.id);
  await until("the guest to start moving", async () => (await migration(s.id))?.status === "running");
  return {
    ...s,
    dest: other(s.source),
    done: () => {
      src.liveMigration = saved;
      release(new Error("the source step ended after its conductor died"));
    },
  };
}

test("a conductor dead while the guest was moving (it stayed): the destination's attachment is deleted", async () => {
  const { id, source, dest, volumes, done } = await crashWhileMoving("live-vol-crash-running");
  try {
    const before = await c.t.cloud.volume.core.db
      .selectFrom("volume_attachment")
      .select(["attached_host", "attach_status"])
      .where("volume_id", "=", volumes[0])
      .execute();
    assert.deepEqual(
      before.map((a) => [a.attached_host, a.attach_status]).sort(),
      [
        [source, "attached"],
        [dest, "attaching"],
      ].sort(),
    );
    await conductorDies(id);
    const row = await c.settle(id, "active", 30_000);
    assert.equal(row.host, source);
    assert.equal((await migration(id))?.status, "error");
    await attachedOnlyTo(id, source, volumes);
  } finally {
    done();
  }
});

test("a conductor dead while the guest was moving, neither host answering: ERROR on the source, its attachments kept", async () => {
  const { id, source, volumes, done } = await crashWhileMoving("live-vol-crash-unknown");
  const mute = HOSTS.map((h) => {
    const d = driverOf(h);
    const saved = d.listInstances.bind(d);
    d.listInstances = () => Promise.reject(new Error("the hypervisor does not answer"));
    return () => (d.listInstances = saved);
  });
  try {
    await conductorDies(id);
    const row = await c.settle(id, "error", 30_000);
    assert.equal(row.host, source);
    assert.equal((await migration(id))?.status, "error");
    await attachedOnlyTo(id, source, volumes);
  } finally {
    for (const m of mute) m();
    done();
  }
});
