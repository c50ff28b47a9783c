// Moves between two fake hosts: resize with revert and confirm (placement allocations checked at each step),
// cold migration, live migration, evacuation of a server whose host is down, and rollback of failed moves.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { reconcile } from "../../../src/compute/agent/reconcile.js";
import { bootActions, eventually, until, type ActionCloud } from "./util.js";

let c: ActionCloud;
const ROOMY = { instances: 50, cores: 100, ram: 512000 };
before(async () => {
  c = await bootActions({ compute: { hosts: 2 } });
  const project = await c.t.projectId("demo");
  await c.req("PUT", `/v2.1/os-quota-sets/${project}`, { token: c.admin, body: { quota_set: ROOMY } });
});
after(() => c?.close());

const HOSTS = ["compute1", "compute1-2"];
const other = (host: string) => HOSTS.find((h) => h !== host)!;
const agentOf = (host: string) => c.t.cloud.computeControl.agents.find((a) => a.host === host)!;
const migrations = (id: string) =>
  c.t.cloud.db.kysely
    .selectFrom("compute_server_migration")
    .selectAll()
    .where("instance_uuid", "=", id)
    .orderBy("id")
    .execute() as Promise<Array<Record<string, any>>>;
const guests = (host: string) => agentOf(host).deps.driver.listInstances();
// A server's status changes before the workflow behind it has finished (the conductor drops claims and updates
// the migration after the agent answers), so what follows a wait for a status is asserted with eventually().

async function active(name: string, token = c.demo): Promise<{ id: string; host: string }> {
  const id = await c.createServer(token, { name });
  await c.waitStatus(token, id, "ACTIVE");
  return { id, host: (await c.row(id)).host };
}

test("resize: validation, VERIFY_RESIZE with the source claim on the migration, then revert", async () => {
  const { id, host } = await active("resize-revert");
  const same = await c.act(c.demo, id, { resize: { flavorRef: "42" } });
  assert.equal(same.status, 400);
  assert.equal(same.body.badRequest.message, "When resizing, instances must change flavor!");
  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "nope" } })).status, 400);
  assert.equal((await c.act(c.demo, id, { resize: {} })).status, 400);
  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84", x: 1 } })).status, 400);
  const notResized = await c.act(c.demo, id, { confirmResize: null });
  assert.equal(notResized.status, 409);
  assert.equal((await c.act(c.demo, id, { revertResize: null })).status, 409);

  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
  const s = await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  assert.equal(s.flavor.original_name, "m1.micro");
  const src = await c.nodeOf(host);
  const dst = await c.nodeOf(other(host));
  const mig = await eventually(async () => {
    const row = await c.row(id);
    assert.equal(row.host, other(host));
    assert.equal(row.memory_mb, 192);
    const [m] = await migrations(id);
    assert.equal(m.status, "finished");
    assert.equal(m.migration_type, "resize");
    assert.equal(m.source_compute, host);
    assert.equal(m.dest_compute, other(host));
    assert.deepEqual(await c.allocations(id), {
      [dst]: { resources: { VCPU: 1, MEMORY_MB: 192, DISK_GB: 1 } },
    });
    assert.deepEqual(await c.allocations(m.uuid), {
      [src]: { resources: { VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 } },
    });
    assert.ok((await guests(host)).includes(id) && (await guests(other(host))).includes(id));
    return m;
  });

  assert.equal((await c.act(c.demo, id, { revertResize: null })).status, 202);
  const back = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(back.flavor.original_name, "m1.nano");
  await eventually(async () => {
    assert.equal((await c.row(id)).host, host);
    assert.equal((await c.row(id)).memory_mb, 128);
    assert.deepEqual(await c.allocations(id), {
      [src]: { resources: { VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 } },
    });
    assert.deepEqual(await c.allocations(mig.uuid), {});
    assert.equal((await migrations(id))[0].status, "reverted");
    assert.ok(!(await guests(other(host))).includes(id));
    assert.equal((await c.row(id)).power_state, 1);
  });
  const acts = (await c.actions(id)).map((a) => a.action);
  assert.deepEqual(acts.slice(-2), ["resize", "revertResize"]);
});

test("resize then confirm: the source guest and claim go; a stopped server stays stopped", async () => {
  const { id, host } = await active("resize-confirm");
  await c.act(c.demo, id, { "os-stop": null });
  await c.waitStatus(c.demo, id, "SHUTOFF");
  assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
  await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  assert.equal((await c.row(id)).power_state, 4);
  const r = await c.act(c.demo, id, { confirmResize: null });
  assert.equal(r.status, 204);
  const s = await c.waitStatus(c.demo, id, "SHUTOFF");
  assert.equal(s.flavor.original_name, "m1.micro");
  await eventually(async () => {
    const [mig] = await migrations(id);
    assert.equal(mig.status, "confirmed");
    assert.deepEqual(await c.allocations(mig.uuid), {});
    assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(other(host))]);
    assert.ok(!(await guests(host)).includes(id));
    const meta = JSON.parse((await c.row(id)).system_metadata);
    assert.equal(meta.old_flavor, undefined);
  });
});

test("resize is refused over the cores quota (403)", async () => {
  const { id } = await active("resize-quota");
  const project = await c.t.projectId("demo");
  const usage =
    (await c.row(id)) && (await c.req("GET", `/v2.1/os-quota-sets/${project}/detail`, { token: c.admin }));
  const used = usage.body.quota_set.cores.in_use;
  await c.req("PUT", `/v2.1/os-quota-sets/${project}`, {
    token: c.admin,
    body: { quota_set: { cores: used } },
  });
  try {
    const r = await c.act(c.demo, id, { resize: { flavorRef: "3" } });
    assert.equal(r.status, 403);
    assert.match(r.body.forbidden.message, /^Quota exceeded for cores(, ram)?: Requested 1/);
  } finally {
    await c.req("PUT", `/v2.1/os-quota-sets/${project}`, { token: c.admin, body: { quota_set: ROOMY } });
  }
});

test("migrate (admin): to another host, host from 2.56, VERIFY_RESIZE then confirm", async () => {
  const { id, host } = await active("migrate");
  assert.equal((await c.act(c.demo, id, { migrate: null })).status, 403);
  assert.equal((await c.act(c.admin, id, { migrate: { host } }, "2.56")).status, 400);
  assert.equal((await c.act(c.admin, id, { migrate: { host: "nowhere" } }, "2.56")).status, 400);
  assert.equal((await c.act(c.admin, id, { migrate: { host: other(host), x: 1 } }, "2.56")).status, 400);
  assert.equal((await c.act(c.admin, id, { migrate: { host: other(host) } }, "2.56")).status, 202);
  await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  assert.equal((await c.row(id)).host, other(host));
  assert.equal((await migrations(id))[0].migration_type, "migration");
  assert.equal((await c.act(c.demo, id, { confirmResize: null })).status, 204);
  await c.waitStatus(c.demo, id, "ACTIVE");
  await eventually(async () =>
    assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(other(host))]),
  );
});

test("a failed resize is rolled back: server where it was, claims restored, fault, migration error", async () => {
  const { id, host } = await active("resize-fail");
  const dest = agentOf(other(host)).deps.driver as { finishMigration?: (...a: unknown[]) => Promise<void> };
  const saved = dest.finishMigration!;
  dest.finishMigration = async () => {
    throw new Error("disk copy failed");
  };
  try {
    assert.equal((await c.act(c.demo, id, { resize: { flavorRef: "84" } })).status, 202);
    await until("the migration to fail", async () => (await migrations(id))[0]?.status === "error");
    await c.settle(id, "active");
    await eventually(async () => {
      const row = await c.row(id);
      assert.equal(row.host, host);
      assert.equal(JSON.parse(row.flavor).flavorid, "42");
      assert.equal(row.power_state, 1);
      assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(host)]);
      assert.deepEqual(await c.allocations((await migrations(id))[0].uuid), {});
      assert.equal((await agentOf(host).deps.driver.getInfo(id)).state, 1, "the source guest runs again");
    });
    await eventually(async () => {
      const fault = (await c.t.cloud.db.kysely
        .selectFrom("compute_instance_fault")
        .select("message")
        .where("instance_uuid", "=", id)
        .executeTakeFirstOrThrow()) as { message: string };
      assert.match(fault.message, /disk copy failed/);
    });
  } finally {
    dest.finishMigration = saved;
  }
});

test("no valid host: the migration errors and the server stays put", async () => {
  const { id, host } = await active("nvh");
  const db = c.t.cloud.db.kysely;
  await db.updateTable("compute_service").set({ disabled: 1 }).where("host", "=", other(host)).execute();
  try {
    assert.equal((await c.act(c.admin, id, { migrate: null })).status, 202);
    await until("the migration to fail", async () => (await migrations(id))[0]?.status === "error");
    const row = await c.settle(id, "active");
    assert.equal(row.host, host);
    await eventually(async () =>
      assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(host)]),
    );
  } finally {
    await db.updateTable("compute_service").set({ disabled: 0 }).where("host", "=", other(host)).execute();
  }
});

test("live migration (admin): schema per microversion, then the server moves while running", async () => {
  const { id, host } = await active("live");
  const act = (body: unknown, mv = "2.25") => c.act(c.admin, id, { "os-migrateLive": body }, mv);
  assert.equal(
    (await c.act(c.demo, id, { "os-migrateLive": { host: null, block_migration: "auto" } }, "2.25")).status,
    403,
  );
  assert.equal((await act({ host: null, block_migration: "maybe" })).status, 400);
  assert.equal((await act({ block_migration: "auto" })).status, 400);
  assert.equal((await act({ host: null, block_migration: "auto" }, "2.24")).status, 400);
  assert.equal(
    (await act({ host: null, block_migration: false, disk_over_commit: false }, "2.24")).status,
    202,
  );
  await c.settle(id, "active");
  const moved = (await c.row(id)).host;
  assert.equal(moved, other(host));
  assert.equal((await act({ host: null, block_migration: "auto", force: true }, "2.30")).status, 400);
  assert.equal((await act({ host, block_migration: "auto", force: true }, "2.68")).status, 400);
  assert.equal((await act({ host, block_migration: "auto" }, "2.68")).status, 202);
  const row = await c.settle(id, "active");
  assert.equal(row.host, host);
  assert.equal(row.power_state, 1);
  await eventually(async () => {
    const migs = await migrations(id);
    assert.deepEqual(
      migs.map((m) => [m.migration_type, m.status]),
      [
        ["live-migration", "completed"],
        ["live-migration", "completed"],
      ],
    );
    assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(host)]);
    assert.deepEqual(await c.allocations(migs[1].uuid), {});
    assert.ok((await guests(host)).includes(id) && !(await guests(other(host))).includes(id));
  });
  await c.act(c.demo, id, { "os-stop": null });
  await c.waitStatus(c.demo, id, "SHUTOFF");
  assert.equal((await act({ host: null, block_migration: "auto" })).status, 409);
  await c.act(c.demo, id, { "os-start": null });
  await c.waitStatus(c.demo, id, "ACTIVE");
});

test("evacuate: refused while the source is up, then rebuilt elsewhere once it is forced down", async () => {
  const { id, host } = await active("evac");
  const db = c.t.cloud.db.kysely;
  const inUse = await c.act(c.admin, id, { evacuate: {} }, "2.14");
  assert.equal(inUse.status, 400);
  assert.equal(inUse.body.badRequest.message, `Compute service of ${host} is still in use.`);
  assert.equal((await c.act(c.demo, id, { evacuate: {} }, "2.14")).status, 403);
  assert.equal((await c.act(c.admin, id, { evacuate: { host } }, "2.14")).status, 400);
  assert.equal((await c.act(c.admin, id, { evacuate: { host: "ghost" } }, "2.14")).status, 404);
  assert.equal(
    (await c.act(c.admin, id, { evacuate: {} }, "2.13")).status,
    400,
    "onSharedStorage is required",
  );
  await db.updateTable("compute_service").set({ forced_down: 1 }).where("host", "=", host).execute();
  try {
    const r = await c.act(c.admin, id, { evacuate: { onSharedStorage: false } }, "2.13");
    assert.equal(r.status, 200);
    assert.match(r.body.adminPass, /^[A-Za-z0-9]{12}$/);
    const row = await c.settle(id, "active");
    assert.equal(row.host, other(host));
    // The conductor drops the dead host's claim after its cast to the new host, which may finish first.
    await eventually(async () => {
      const [mig] = await migrations(id);
      assert.equal(mig.migration_type, "evacuation");
      assert.equal(mig.status, "done");
      assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(other(host))]);
      assert.deepEqual(await c.allocations(mig.uuid), {});
      assert.ok((await guests(other(host))).includes(id));
      const events = (await c.actions(id)).at(-1)!.events.map((e) => e.event);
      assert.deepEqual(events, ["conductor_rebuild_server", "compute_rebuild_instance"]);
    });
  } finally {
    await db.updateTable("compute_service").set({ forced_down: 0 }).where("host", "=", host).execute();
  }
  // The old host comes back: its agent must not keep (or resurrect) the evacuated guest.
  assert.ok((await guests(host)).includes(id));
  await reconcile(agentOf(host).deps);
  assert.ok(!(await guests(host)).includes(id));
  assert.equal((await c.row(id)).host, other(host));
});

test("rebuild: a new image, name and metadata; the answer is the server with adminPass", async () => {
  const { id } = await active("rebuild");
  assert.equal((await c.act(c.demo, id, { rebuild: {} })).status, 400);
  assert.equal(
    (await c.act(c.demo, id, { rebuild: { imageRef: c.imageId, description: "x" } }, "2.1")).status,
    400,
  );
  const gone = await c.act(c.demo, id, { rebuild: { imageRef: "7b1c0b3e-0c8f-4c55-9e1a-000000000000" } });
  assert.equal(gone.status, 400);
  assert.equal(gone.body.badRequest.message, "Cannot find image for rebuild");
  const body = {
    imageRef: c.imageId,
    name: "rebuilt",
    metadata: { v: "2" },
    description: "d",
    adminPass: "pw",
  };
  const r = await c.act(c.demo, id, { rebuild: body }, "2.75");
  assert.equal(r.status, 202);
  assert.equal(r.body.server.name, "rebuilt");
  assert.equal(r.body.server.adminPass, "pw");
  assert.deepEqual(r.body.server.metadata, { v: "2" });
  assert.equal(r.body.server.status, "REBUILD");
  assert.match(String(r.headers.location), new RegExp(`/servers/${id}$`));
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(s.description, "d");
  await eventually(async () => {
    const last = (await c.actions(id)).at(-1)!;
    assert.equal(last.action, "rebuild");
    assert.deepEqual(last.events, [{ event: "compute_rebuild_instance", result: "Success" }]);
  });
  await c.act(c.demo, id, { "os-stop": null });
  await c.waitStatus(c.demo, id, "SHUTOFF");
  assert.equal((await c.act(c.demo, id, { rebuild: { imageRef: c.imageId } })).status, 202);
  await c.settle(id, "stopped");
  await eventually(async () => assert.equal((await c.row(id)).power_state, 4));
});

test("a failed live migration cleans up the destination and leaves the server running at home", async () => {
  const { id, host } = await active("live-fail");
  const src = agentOf(host).deps.driver as { liveMigration?: (...a: unknown[]) => Promise<void> };
  const saved = src.liveMigration!;
  src.liveMigration = async () => {
    throw new Error("memory copy did not converge");
  };
  try {
    const r = await c.act(c.admin, id, { "os-migrateLive": { host: null, block_migration: "auto" } }, "2.25");
    assert.equal(r.status, 202);
    await until("the live migration to fail", async () => (await migrations(id))[0]?.status === "error");
    const row = await c.settle(id, "active");
    assert.equal(row.host, host);
    await eventually(async () => {
      assert.ok(!(await guests(other(host))).includes(id), "the destination was rolled back");
      assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(host)]);
      const events = (await c.actions(id)).at(-1)!.events.map((e) => [e.event, e.result]);
      assert.deepEqual(events, [
        ["conductor_live_migrate_instance", "Success"],
        ["compute_pre_live_migration", "Success"],
        ["compute_live_migration", "Error"],
        ["compute_rollback_live_migration_at_destination", "Success"],
      ]);
    });
  } finally {
    src.liveMigration = saved;
  }
});

test("confirmResize needs the source host up (409); an evacuation with no host left puts the server in ERROR", async () => {
  const { id, host } = await active("evac-nvh");
  const db = c.t.cloud.db.kysely;
  await c.act(c.demo, id, { resize: { flavorRef: "84" } });
  await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  await db.updateTable("compute_service").set({ forced_down: 1 }).where("host", "=", host).execute();
  const down = await c.act(c.demo, id, { confirmResize: null });
  assert.equal(down.status, 409);
  assert.equal(down.body.conflictingRequest.message, "Service is unavailable at this time.");
  await db.updateTable("compute_service").set({ forced_down: 0 }).where("host", "=", host).execute();
  assert.equal((await c.act(c.demo, id, { confirmResize: null })).status, 204);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const home = (await c.row(id)).host;
  await db.updateTable("compute_service").set({ forced_down: 1 }).where("host", "=", home).execute();
  await db.updateTable("compute_service").set({ disabled: 1 }).where("host", "=", other(home)).execute();
  try {
    assert.equal((await c.act(c.admin, id, { evacuate: {} }, "2.29")).status, 200);
    // The fault is recorded just after the ERROR state: wait for both.
    await eventually(async () => {
      const s = await c.waitStatus(c.demo, id, "ERROR");
      assert.match(s.fault?.message ?? "", /^No valid host was found/);
    });
    const row = await c.row(id);
    assert.equal(row.host, home);
    assert.equal(row.task_state, null);
    await eventually(async () => {
      assert.equal((await migrations(id)).at(-1)!.status, "error");
      assert.deepEqual(Object.keys(await c.allocations(id)), [await c.nodeOf(home)]);
    });
  } finally {
    await db.updateTable("compute_service").set({ forced_down: 0 }).where("host", "=", home).execute();
    await db.updateTable("compute_service").set({ disabled: 0 }).where("host", "=", other(home)).execute();
  }
});
