// Several backends on one volume host (Cinder's enabled_backends) and volume migration between them: scheduling by
// volume_backend_name, get_pools/services/os-hosts listing each backend, os-migrate_volume (the data moves: bytes
// written through one backend are read back from the other), a failed copy leaving the volume where it was, retype
// with migration_policy on-demand, and the refusals (in-use, snapshots, same or unknown host, policy never).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { qemuImgAvailable } from "../../src/shared/qemu-img.js";
import type { FakeBackend } from "../../src/volume/drivers/fake.js";
import type { VolumeBackend } from "../../src/volume/drivers/types.js";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

/** All of a volume's raw bytes. */
async function bytesOf(b: VolumeBackend, id: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await b.readRaw(id)) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

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

/** The backends of the cloud's agent, by name. */
const named = (c: VolumeCloud, name: string): VolumeBackend => {
  const b = c.t.cloud.volume.localAgent!.named(name);
  assert.ok(b, `backend ${name}`);
  return b.backend;
};

/** Poll until the volume's migration_status is `status` (admin view); returns the volume. */
const waitMigration = (c: VolumeCloud, id: string, status: string, timeoutMs?: number) =>
  until(
    `volume ${id} migration ${status}`,
    async () => {
      const v = (await c.req("GET", `/volumes/${id}`)).body.volume;
      return v.migration_status === status && !["maintenance", "retyping"].includes(v.status) ? v : null;
    },
    timeoutMs,
  );

/** A type with one extra spec; returns its name. */
async function typeWith(c: VolumeCloud, name: string, key: string, value: string): Promise<string> {
  const r = await c.req("POST", "/types", { body: { volume_type: { name, extra_specs: { [key]: value } } } });
  assert.equal(r.status, 200, r.text);
  return name;
}

const migrate = (c: VolumeCloud, id: string, body: Record<string, unknown>, token?: string) =>
  c.req("POST", `/volumes/${id}/action`, {
    body: { "os-migrate_volume": body },
    ...(token ? { token } : {}),
  });

describe("block storage: two fake backends on one host", () => {
  let c: VolumeCloud;
  before(async () => {
    c = await bootVolume({
      volume: {
        backend: "fake",
        backends: [
          { name: "fast", driver: "fake", capacityGb: 100 },
          { name: "slow", driver: "fake", volumeBackendName: "bulk", capacityGb: 50 },
        ],
      },
    });
    await typeWith(c, "fast-type", "volume_backend_name", "fast");
    await typeWith(c, "bulk-type", "capabilities:volume_backend_name", "bulk");
  });
  after(() => c?.close());

  it("lists each backend as a service, a pool and a host", async () => {
    const services = (await c.req("GET", "/os-services")).body.services
      .filter((s: any) => s.binary === "cinder-volume")
      .map((s: any) => `${s.host} ${s.state}`)
      .sort();
    assert.deepEqual(services, ["host1@fast up", "host1@slow up"]);
    const pools = (await c.req("GET", "/scheduler-stats/get_pools?detail=true")).body.pools;
    assert.deepEqual(
      pools
        .map((p: any) => [p.name, p.capabilities.volume_backend_name, p.capabilities.total_capacity_gb])
        .sort(),
      [
        ["host1@fast#fake", "fast", 100],
        ["host1@slow#fake", "bulk", 50],
      ],
    );
    const hosts = (await c.req("GET", "/os-hosts")).body.hosts.filter(
      (h: any) => h.service === "cinder-volume",
    );
    assert.deepEqual(hosts.map((h: any) => h.host_name).sort(), ["host1@fast", "host1@slow"]);
    const caps = await c.req("GET", "/capabilities/host1@slow");
    assert.equal(caps.body.volume_backend_name, "bulk");
    // Disabling one backend's service leaves the other's.
    const off = await c.req("PUT", "/os-services/disable", {
      body: { host: "host1@slow", binary: "cinder-volume" },
    });
    assert.equal(off.status, 200, off.text);
    const after = (await c.req("GET", "/os-services?binary=cinder-volume&host=host1")).body.services;
    assert.deepEqual(after.map((s: any) => `${s.host} ${s.status}`).sort(), [
      "host1@fast enabled",
      "host1@slow disabled",
    ]);
    await c.req("PUT", "/os-services/enable", { body: { host: "host1@slow", binary: "cinder-volume" } });
  });

  it("schedules by volume_backend_name (plain and capabilities: keys); the default type takes the freest pool", async () => {
    const a = await c.create(c.demo, { volume_type: "fast-type" });
    const b = await c.create(c.demo, { volume_type: "bulk-type" });
    const d = await c.create(c.demo);
    await Promise.all([a, b, d].map((id) => c.waitStatus(c.demo, id, "available")));
    const host = async (id: string) =>
      (await c.req("GET", `/volumes/${id}`)).body.volume["os-vol-host-attr:host"];
    assert.equal(await host(a), "host1@fast#fake");
    assert.equal(await host(b), "host1@slow#fake");
    assert.equal(await host(d), "host1@fast#fake", "100 GiB free beats 49");
    assert.ok((await named(c, "slow").list()).includes(b));
    assert.ok(!(await named(c, "fast").list()).includes(b));
    const none = await typeWith(c, "nowhere-type", "volume_backend_name", "nowhere");
    const e = await c.create(c.demo, { volume_type: none });
    await c.waitStatus(c.demo, e, "error");
  });

  it("migrates an available volume with its data; migration_status goes migrating -> success", async () => {
    const id = await c.create(c.demo, { size: 2 });
    await c.waitStatus(c.demo, id, "available");
    const data = randomBytes(64 * 1024);
    await named(c, "fast").writeImage(id, Readable.from([data]), "raw");
    const r = await migrate(c, id, { host: "host1@slow", force_host_copy: false, lock_volume: true });
    assert.equal(r.status, 202, r.text);
    const v = await waitMigration(c, id, "success");
    assert.equal(v.status, "available");
    assert.equal(v["os-vol-host-attr:host"], "host1@slow#fake");
    assert.equal(v["os-vol-mig-status-attr:migstat"], "success");
    assert.equal(v.size, 2);
    assert.deepEqual(await bytesOf(named(c, "slow"), id), data);
    assert.ok(!(await named(c, "fast").list()).includes(id), "the source's copy is deleted");
    // The moved volume still works: extend and delete go to its new backend.
    assert.equal(
      (
        await c.req("POST", `/volumes/${id}/action`, {
          token: c.demo,
          body: { "os-extend": { new_size: 3 } },
        })
      ).status,
      202,
    );
    await c.waitStatus(c.demo, id, "available");
    assert.equal((await c.req("DELETE", `/volumes/${id}`, { token: c.demo })).status, 202);
    await c.waitGone(c.demo, id);
    assert.ok(!(await named(c, "slow").list()).includes(id));
  });

  it("a failed copy leaves the volume and its data where they were (migration_status error)", async () => {
    const id = await c.create(c.demo, { volume_type: "fast-type" });
    await c.waitStatus(c.demo, id, "available");
    const data = randomBytes(4096);
    await named(c, "fast").writeImage(id, Readable.from([data]), "raw");
    // The type asks for "fast": only a forced host may ignore it, so give it a plain volume instead.
    const plain = await c.create(c.demo);
    await c.waitStatus(c.demo, plain, "available");
    await named(c, "fast").writeImage(plain, Readable.from([data]), "raw");
    (named(c, "slow") as FakeBackend).failures.add("writeImage");
    assert.equal((await migrate(c, plain, { host: "host1@slow#fake" })).status, 202);
    const v = await waitMigration(c, plain, "error");
    assert.equal(v.status, "available");
    assert.equal(v["os-vol-host-attr:host"], "host1@fast#fake");
    assert.deepEqual(await bytesOf(named(c, "fast"), plain), data);
    assert.ok(!(await named(c, "slow").list()).includes(plain), "the half-made copy is removed");
    const msgs = (await c.req("GET", "/messages", { token: c.demo, mv: "3.3" })).body.messages;
    assert.ok(msgs.some((m: any) => m.resource_uuid === plain && /migrate volume/.test(m.user_message)));
    // A type that names the source backend does not fit the other one.
    const r = await migrate(c, id, { host: "host1@slow" });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /capabilities/);
  });

  it("an agent restarted mid-migration fails it: the copy is removed, the volume stays with its data", async () => {
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    const data = randomBytes(2048);
    await named(c, "fast").writeImage(id, Readable.from([data]), "raw");
    // As a crash leaves it: the row migrating and locked, a half-made copy on the destination.
    await c.t.cloud.volume.core.db
      .updateTable("volume_volume")
      .set({ status: "maintenance", migration_status: "migrating" })
      .where("id", "=", id)
      .execute();
    await named(c, "slow").create({ id, sizeGb: 1 });
    await c.t.cloud.volume.localAgent!.reconcile();
    const v = (await c.req("GET", `/volumes/${id}`)).body.volume;
    assert.equal(v.status, "available");
    assert.equal(v.migration_status, "error");
    assert.equal(v["os-vol-host-attr:host"], "host1@fast#fake");
    assert.ok(!(await named(c, "slow").list()).includes(id), "the copy is removed");
    assert.deepEqual(await bytesOf(named(c, "fast"), id), data);
  });

  it("refuses what it cannot migrate", async () => {
    const id = await c.create(c.demo);
    await c.waitStatus(c.demo, id, "available");
    assert.equal((await migrate(c, id, { host: "host1@slow" }, c.demo)).status, 403, "admin only");
    assert.equal((await migrate(c, id, {})).status, 400, "host is required");
    assert.equal((await migrate(c, id, { host: "host1@slow", lock_volume: "maybe" })).status, 400);
    const same = await migrate(c, id, { host: "host1@fast" });
    assert.equal(same.status, 400);
    assert.match(same.body.badRequest.message, /different than the current host/);
    const unknown = await migrate(c, id, { host: "host9@slow" });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.badRequest.message, /No available service named host9@slow/);
    // In use: Stratus has no swap_volume.
    await c.req("POST", `/volumes/${id}/action`, { body: { "os-reset_status": { status: "in-use" } } });
    const inUse = await migrate(c, id, { host: "host1@slow" });
    assert.equal(inUse.status, 400);
    assert.match(inUse.body.badRequest.message, /attached volume/);
    await c.req("POST", `/volumes/${id}/action`, { body: { "os-reset_status": { status: "available" } } });
    // With a snapshot.
    const s = await c.req("POST", "/snapshots", { token: c.demo, body: { snapshot: { volume_id: id } } });
    assert.equal(s.status, 202, s.text);
    await until("snapshot available", async () => {
      const r = await c.req("GET", `/snapshots/${s.body.snapshot.id}`, { token: c.demo });
      return r.body.snapshot.status === "available";
    });
    const snap = await migrate(c, id, { host: "host1@slow" });
    assert.equal(snap.status, 400);
    assert.match(snap.body.badRequest.message, /must not have snapshots/);
    // Completion: Stratus's migrations have no second volume to swap in.
    const other = await c.create(c.demo);
    const done = await c.req("POST", `/volumes/${id}/action`, {
      body: { "os-migrate_volume_completion": { new_volume: other } },
    });
    assert.equal(done.status, 400);
    assert.match(done.body.badRequest.message, /Source volume not mid-migration/);
    const missing = await c.req("POST", `/volumes/${id}/action`, {
      body: { "os-migrate_volume_completion": {} },
    });
    assert.equal(missing.status, 400);
    // reset-status sets and clears migration_status.
    await c.req("POST", `/volumes/${other}/action`, {
      body: { "os-reset_status": { migration_status: "error" } },
    });
    assert.equal((await c.req("GET", `/volumes/${other}`)).body.volume.migration_status, "error");
    await c.req("POST", `/volumes/${other}/action`, {
      body: { "os-reset_status": { migration_status: "none" } },
    });
    assert.equal((await c.req("GET", `/volumes/${other}`)).body.volume.migration_status, null);
    const bad = await c.req("POST", `/volumes/${other}/action`, {
      body: { "os-reset_status": { migration_status: "target:x" } },
    });
    assert.equal(bad.status, 400);
  });

  it("retypes with migration_policy on-demand by moving the volume; never is refused; a fitting pool stays", async () => {
    const id = await c.create(c.demo, { volume_type: "fast-type", name: "mover" });
    await c.waitStatus(c.demo, id, "available");
    const data = randomBytes(8192);
    await named(c, "fast").writeImage(id, Readable.from([data]), "raw");
    const retype = (policy: string, type = "bulk-type") =>
      c.req("POST", `/volumes/${id}/action`, {
        token: c.demo,
        body: { "os-retype": { new_type: type, migration_policy: policy } },
      });
    const never = await retype("never");
    assert.equal(never.status, 400);
    assert.match(never.body.badRequest.message, /migration policy is 'never'/);
    assert.equal((await retype("on-demand")).status, 202);
    const v = await waitMigration(c, id, "success");
    assert.equal(v.volume_type, "bulk-type");
    assert.equal(v.status, "available");
    assert.equal(v.name, "mover");
    assert.equal(v["os-vol-host-attr:host"], "host1@slow#fake");
    assert.deepEqual(await bytesOf(named(c, "slow"), id), data);
    assert.ok(!(await named(c, "fast").list()).includes(id));
    // A type any pool fits: retyped in place, no migration.
    const anyType = await typeWith(c, "any-type", "vendor_name", "Stratus");
    assert.equal((await retype("on-demand", anyType)).status, 202);
    const w = (await c.req("GET", `/volumes/${id}`)).body.volume;
    assert.equal(w.volume_type, anyType);
    assert.equal(w["os-vol-host-attr:host"], "host1@slow#fake");
  });
});

const SKIP: string | false =
  qemuImgAvailable() || process.env.CI === "true"
    ? false
    : "qemu-img is not installed (apt-get install qemu-utils)";

describe("block storage: migration between two file backends", { skip: SKIP }, () => {
  let c: VolumeCloud;
  before(async () => {
    c = await bootVolume({
      volume: {
        backend: "file",
        backends: [
          { name: "gold", driver: "file" },
          { name: "silver", driver: "file" },
        ],
      },
    });
    await typeWith(c, "gold-qcow2", "volume_backend_name", "gold");
    const r = await c.req("POST", "/types", {
      body: {
        volume_type: {
          name: "silver-raw",
          extra_specs: { volume_backend_name: "silver", "file:format": "raw" },
        },
      },
    });
    assert.equal(r.status, 200, r.text);
  });
  after(() => c?.close());

  it("a qcow2 volume retyped to a raw type on the other backend keeps its bytes", async () => {
    const id = await c.create(c.demo, { volume_type: "gold-qcow2" });
    await c.waitStatus(c.demo, id, "available");
    const data = randomBytes(1024 * 1024);
    await named(c, "gold").writeImage(id, Readable.from([data]), "raw");
    const r = await c.req("POST", `/volumes/${id}/action`, {
      token: c.demo,
      body: { "os-retype": { new_type: "silver-raw", migration_policy: "on-demand" } },
    });
    assert.equal(r.status, 202, r.text);
    const v = await waitMigration(c, id, "success", 120_000);
    assert.equal(v["os-vol-host-attr:host"].split("#")[0], "host1@silver");
    const loc = await named(c, "silver").locate(id);
    assert.equal(loc?.format, "raw");
    assert.deepEqual(await headOf(named(c, "silver"), id, data.length), data);
    assert.equal(v.size, 1);
    assert.equal(await named(c, "gold").locate(id), null);
    assert.equal((await c.req("DELETE", `/volumes/${id}`, { token: c.demo })).status, 202);
    await c.waitGone(c.demo, id);
  });
});
