// Conductor crash recovery (issue 8 item 3), in process: a build cast twice is built once; builds whose cast was
// lost or whose conductor died are scheduled again; an interrupted resize is rolled back to its source and an
// interrupted evacuation resumed; an interrupted live migration leaves each volume the attachment of the host its
// guest runs on. A dead conductor is simulated by a compute_conductor row with an old heartbeat owning the server;
// a lost cast by dropping it on its way to the bus.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { conductorHandlers } from "../../../src/compute/conductor/conductor.js";
import { ConductorOwner } from "../../../src/compute/conductor/ownership.js";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import { nowIso } from "../../../src/shared/db/index.js";
import { VolumeClient } from "../../../src/compute/volume-client.js";
import { listBdms } from "../../../src/compute/volumes/bdm-store.js";
import { FakeVolumeService } from "../volumes/fake-volume-service.js";
import { bootActions, until, type ActionCloud } from "./util.js";

let c: ActionCloud;
let cinder: FakeVolumeService;
let demoProject = "";
const ROOMY = { instances: 50, cores: 100, ram: 512000 };
const ORPHAN_TIMEOUT_S = 2;
before(async () => {
  c = await bootActions({ compute: { hosts: 2, orphanTimeout: ORPHAN_TIMEOUT_S } });
  cinder = new FakeVolumeService();
  c.t.cloud.compute.core.connectVolume(new VolumeClient(cinder));
  const project = await c.t.projectId("demo");
  demoProject = project;
  await c.req("PUT", `/v2.1/os-quota-sets/${project}`, { token: c.admin, body: { quota_set: ROOMY } });
});
after(() => c?.close());

const HOSTS = ["compute1", "compute1-2"];
const other = (host: string) => HOSTS.find((h) => h !== host)!;
const db = () => c.t.cloud.db.kysely;
const core = () => c.t.cloud.compute.core;
const agentOf = (host: string) => c.t.cloud.computeControl.agents.find((a) => a.host === host)!;
const driverOf = (host: string) => agentOf(host).deps.driver as FakeDriver;
const migrations = (id: string) =>
  db()
    .selectFrom("compute_server_migration")
    .selectAll()
    .where("instance_uuid", "=", id)
    .orderBy("id")
    .execute() as Promise<Array<Record<string, any>>>;
const faults = (id: string) =>
  db().selectFrom("compute_instance_fault").selectAll().where("instance_uuid", "=", id).execute() as Promise<
    Array<Record<string, any>>
  >;

/** Casts of `method` to the conductor are dropped while `fn` runs (a control plane that died before casting). */
async function dropping<T>(method: string, fn: () => Promise<T>): Promise<T> {
  const bus = c.t.cloud.bus;
  const orig = bus.cast;
  bus.cast = ((t: unknown, m: string, args: unknown) =>
    m === method ? Promise.resolve() : (orig as any).call(bus, t, m, args)) as typeof bus.cast;
  try {
    return await fn();
  } finally {
    bus.cast = orig;
  }
}

/** A conductor that died a minute ago; returns its id. */
async function deadConductor(): Promise<string> {
  const id = randomUUID();
  await db()
    .insertInto("compute_conductor")
    .values({ id, host: "gone", heartbeat_ms: Date.now() - 60_000, created_at: nowIso() })
    .execute();
  return id;
}

const own = (id: string, owner: string) =>
  db().updateTable("compute_instance").set({ task_owner: owner }).where("uuid", "=", id).execute();

/** The server is ACTIVE with exactly one allocation, on the compute node of its own host. */
async function oneClaimOnItsHost(id: string): Promise<string> {
  const row = await c.settle(id, "active", 30_000);
  assert.equal(row.task_owner, null);
  assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(row.host)]);
  return row.host;
}

test("a build cast twice (redelivered, or to two conductors) is scheduled once: one host, one claim", async () => {
  const id = await dropping("build_instances", () => c.createServer(c.demo, { name: "twice" }));
  const ctl = c.t.cloud.computeControl;
  const second = await ConductorOwner.register(db(), "other-conductor", ORPHAN_TIMEOUT_S * 1000);
  const action = await db()
    .selectFrom("compute_instance_action")
    .selectAll()
    .where("instance_uuid", "=", id)
    .executeTakeFirstOrThrow();
  const ctx = { requestId: action.request_id, userId: action.user_id, projectId: action.project_id };
  const meta = (redelivered: boolean) => ({
    topic: "conductor",
    server: "test",
    method: "build_instances",
    version: "1.1",
    messageId: "m1",
    redelivered,
    log: core().log,
  });
  try {
    await Promise.all([
      conductorHandlers(core(), ctl.scheduler, ctl.conductor.owner).build_instances(
        { ctx, uuids: [id] },
        meta(false),
      ),
      conductorHandlers(core(), ctl.scheduler, second).build_instances({ ctx, uuids: [id] }, meta(true)),
    ]);
    // Once more after it was handed to its host: still nothing.
    await conductorHandlers(core(), ctl.scheduler, second).build_instances({ ctx, uuids: [id] }, meta(true));
  } finally {
    await second.unregister();
  }
  await c.waitStatus(c.demo, id, "ACTIVE");
  await oneClaimOnItsHost(id);
  const events = (await c.actions(id)).flatMap((a) => a.events.map((e) => e.event));
  assert.equal(events.filter((e) => e === "conductor_schedule_and_build_instances").length, 1);
});

test("a build whose cast was lost is scheduled by the conductor's recovery", async () => {
  const id = await dropping("build_instances", () => c.createServer(c.demo, { name: "lost-cast" }));
  assert.equal((await c.row(id)).task_state, "scheduling");
  await c.waitStatus(c.demo, id, "ACTIVE", 30_000);
  await oneClaimOnItsHost(id);
});

test("a build whose conductor died mid-schedule is scheduled again; its half-made claim goes", async () => {
  const id = await dropping("build_instances", () => c.createServer(c.demo, { name: "dead-owner" }));
  const dead = await deadConductor();
  await own(id, dead);
  // The dead conductor had claimed both hosts (the double claim seen in the field) before dying.
  const allocs: Record<string, { resources: Record<string, number> }> = {};
  for (const h of HOSTS) allocs[await c.nodeOf(h)] = { resources: { VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 } };
  const row = await c.row(id);
  assert.ok(
    await core().placement.claim(id, allocs, { projectId: row.project_id, userId: row.user_id }, null),
  );
  await c.waitStatus(c.demo, id, "ACTIVE", 30_000);
  await oneClaimOnItsHost(id);
});

test("a build with no host left after its conductor died goes to ERROR with a fault", async () => {
  const id = await dropping("build_instances", () => c.createServer(c.demo, { name: "dead-nvh" }));
  await db()
    .updateTable("compute_service")
    .set({ disabled: 1 })
    .where("binary", "=", "nova-compute")
    .execute();
  try {
    await own(id, await deadConductor());
    await c.waitStatus(c.demo, id, "ERROR", 30_000);
  } finally {
    await db()
      .updateTable("compute_service")
      .set({ disabled: 0 })
      .where("binary", "=", "nova-compute")
      .execute();
  }
  assert.match((await faults(id)).at(-1)!.message, /No valid host/);
  assert.deepEqual(await c.allocations(id), {});
  assert.equal((await c.row(id)).task_owner, null);
});

test("a resize whose conductor died while the destination was finishing is rolled back to the source", async () => {
  const id = await c.createServer(c.demo, { name: "resize-crash" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const source = (await c.row(id)).host;
  const dest = driverOf(other(source));
  const saved = dest.finishMigration.bind(dest);
  let release!: (e: Error) => void;
  const gate = new Promise<never>((_, reject) => (release = reject));
  dest.finishMigration = () => gate;
  try {
    assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
    await until(
      "the resize to reach the destination",
      async () => (await c.row(id)).task_state === "resize_migrated",
    );
    // Its conductor dies; the destination's step ends on its own (here: it fails) and nobody is there to hear.
    await own(id, await deadConductor());
  } finally {
    release(new Error("the destination step ended after its conductor died"));
    dest.finishMigration = saved;
  }
  const row = await c.settle(id, "active", 30_000);
  assert.equal(row.host, source);
  assert.equal(row.memory_mb, 128);
  const [mig] = await migrations(id);
  assert.equal(mig.status, "error");
  assert.deepEqual(await c.allocations(mig.uuid), {});
  assert.equal(await oneClaimOnItsHost(id), source);
  assert.deepEqual(await c.allocations(id), {
    [await c.nodeOf(source)]: { resources: { VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 } },
  });
  assert.equal((await driverOf(source).getInfo(id)).state, 1);
  assert.ok(!(await driverOf(other(source)).listInstances()).includes(id));
  // Rolled back by the recovery (its fault), not by the old workflow, which found the server taken over.
  assert.match((await faults(id)).at(-1)!.message, /interrupted/);
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(s.flavor.original_name, "m1.nano");
});

test("a cold migration whose cast was lost is rolled back: the server stays where it is, task cleared", async () => {
  const id = await c.createServer(c.demo, { name: "migrate-lost" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const source = (await c.row(id)).host;
  await dropping("migrate_server", async () =>
    assert.equal((await c.act(c.admin, id, { migrate: null })).status, 202),
  );
  assert.equal((await c.row(id)).task_state, "resize_prep");
  const row = await c.settle(id, "active", 30_000);
  assert.equal(row.host, source);
  assert.match((await faults(id)).at(-1)!.message, /interrupted/);
  assert.equal(await oneClaimOnItsHost(id), source);
});

test("an evacuation whose conductor died before handing the server over is resumed", async () => {
  const id = await c.createServer(c.demo, { name: "evacuate-crash" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const source = (await c.row(id)).host;
  await db().updateTable("compute_service").set({ forced_down: 1 }).where("host", "=", source).execute();
  try {
    await dropping("evacuate", async () =>
      assert.equal((await c.act(c.admin, id, { evacuate: {} }, "2.29")).status, 200),
    );
    assert.equal((await c.row(id)).task_state, "rebuilding");
    await own(id, await deadConductor());
    await until("the evacuation to finish", async () => (await migrations(id))[0]?.status === "done", 30_000);
    const host = await oneClaimOnItsHost(id);
    assert.equal(host, other(source));
  } finally {
    await db().updateTable("compute_service").set({ forced_down: 0 }).where("host", "=", source).execute();
  }
});

/**
 * Start a live migration whose source step hangs, then let its conductor die while the guest is moving
 * (migration "running"); `outcome` decides whether the guest had moved when the crash came. Returns the hosts.
 */
async function liveMigrationCrash(
  name: string,
  outcome: "stayed" | "moved",
): Promise<{ id: string; source: string; dest: string; volumeId: string }> {
  const id = await c.createServer(c.demo, { name });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const vol = cinder.add(demoProject);
  const a = await c.req("POST", `/v2.1/servers/${id}/os-volume_attachments`, {
    token: c.demo,
    body: { volumeAttachment: { volumeId: vol.id } },
  });
  assert.equal(a.status, 200, a.text);
  const source = (await c.row(id)).host;
  const dest = other(source);
  const src = driverOf(source);
  const saved = src.liveMigration.bind(src);
  let release!: (e: Error) => void;
  const gate = new Promise<never>((_, reject) => (release = reject));
  src.liveMigration = () => gate;
  try {
    const r = await c.act(c.admin, id, { "os-migrateLive": { host: null, block_migration: "auto" } }, "2.25");
    assert.equal(r.status, 202);
    await until("the guest to start moving", async () => (await migrations(id))[0]?.status === "running");
    await own(id, await deadConductor());
    // The hypervisor finished the move on its own (or not) while no conductor was there to hear.
    if (outcome === "moved") await saved(id, dest);
  } finally {
    release(new Error("the source step ended after its conductor died"));
    src.liveMigration = saved;
  }
  return { id, source, dest, volumeId: vol.id };
}

/** The server's attachments of a volume (host, status), and whether its mapping names the one left. */
async function attachmentsLeft(id: string, volumeId: string) {
  const left = [...cinder.attachments.values()].filter((a) => a.volumeId === volumeId);
  const bdm = (await listBdms(db(), id)).find((b) => b.volumeId === volumeId);
  return { hosts: left.map((a) => [a.connector?.host, a.status]), named: bdm?.attachmentId === left[0]?.id };
}

test("a live migration interrupted before the guest moved is rolled back: ACTIVE on the source", async () => {
  const { id, source, dest, volumeId } = await liveMigrationCrash("live-crash-stayed", "stayed");
  const row = await c.settle(id, "active", 30_000);
  assert.equal(row.host, source);
  assert.equal((await migrations(id))[0].status, "error");
  assert.equal(await oneClaimOnItsHost(id), source);
  assert.equal((await driverOf(source).getInfo(id)).state, 1);
  assert.ok(!(await driverOf(dest).listInstances()).includes(id));
  assert.match((await faults(id)).at(-1)!.message, /rolled back/);
  assert.deepEqual(await attachmentsLeft(id, volumeId), { hosts: [[source, "attached"]], named: true });
  await c.waitStatus(c.demo, id, "ACTIVE");
});

test("a live migration interrupted after the guest moved is finished: ACTIVE on the destination", async () => {
  const { id, source, dest, volumeId } = await liveMigrationCrash("live-crash-moved", "moved");
  const row = await c.settle(id, "active", 30_000);
  assert.equal(row.host, dest);
  assert.equal((await migrations(id))[0].status, "completed");
  assert.equal(await oneClaimOnItsHost(id), dest);
  assert.deepEqual(await c.allocations((await migrations(id))[0].uuid), {});
  assert.equal((await driverOf(dest).getInfo(id)).state, 1);
  assert.ok(!(await driverOf(source).listInstances()).includes(id));
  assert.deepEqual(await attachmentsLeft(id, volumeId), { hosts: [[dest, "attached"]], named: true });
  await c.waitStatus(c.demo, id, "ACTIVE");
});
