// Server actions on one host: power (stop, start, reboot), pause/suspend, rescue, crash dump, lock, reset state,
// the dispatcher's errors, policies and instance action records.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, eventually, until, type ActionCloud } from "./util.js";

let c: ActionCloud;
let id: string;
before(async () => {
  c = await bootActions();
  id = await c.createServer(c.demo, { name: "power" });
  await c.waitStatus(c.demo, id, "ACTIVE");
});
after(() => c?.close());

test("the dispatcher: one member, known actions, microversion bounds, 404 for others' servers", async () => {
  const two = await c.act(c.demo, id, { pause: null, unpause: null });
  assert.equal(two.status, 400);
  assert.equal(two.body.badRequest.message, "Malformed request body");
  const none = await c.act(c.demo, id, {});
  assert.equal(none.status, 400);
  const unknown = await c.act(c.demo, id, { explode: null });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.badRequest.message, "There is no such action: explode");
  const missing = await c.act(c.demo, "00000000-0000-0000-0000-000000000000", { pause: null });
  assert.equal(missing.status, 404);
  assert.equal(
    missing.body.itemNotFound.message,
    "Instance 00000000-0000-0000-0000-000000000000 could not be found.",
  );
  const adminServer = await c.createServer(c.admin, { name: "admins" });
  const other = await c.act(c.demo, adminServer, { pause: null });
  assert.equal(other.status, 404, "another project's server is not found");
  assert.equal((await c.act(c.demo, id, { trigger_crash_dump: null }, "2.16")).status, 404);
  assert.equal((await c.act(c.demo, id, { trigger_crash_dump: {} }, "2.17")).status, 400);
});

test("stop and start, with Nova's 409 in the wrong state", async () => {
  const stop = await c.act(c.demo, id, { "os-stop": null });
  assert.equal(stop.status, 202);
  assert.equal(stop.text, "");
  const s = await c.waitStatus(c.demo, id, "SHUTOFF");
  assert.equal(s["OS-EXT-STS:power_state"], 4);
  const again = await c.act(c.demo, id, { "os-stop": null });
  assert.equal(again.status, 409);
  assert.equal(
    again.body.conflictingRequest.message,
    `Cannot 'stop' instance ${id} while it is in vm_state stopped`,
  );
  const soft = await c.act(c.demo, id, { reboot: { type: "SOFT" } });
  assert.equal(soft.status, 409, "soft reboot needs an active server");
  assert.equal((await c.act(c.demo, id, { "os-start": null })).status, 202);
  const on = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(on["OS-EXT-STS:power_state"], 1);
  assert.equal((await c.act(c.demo, id, { "os-start": null })).status, 409);
  const names = (await c.actions(id)).map((a) => a.action);
  assert.deepEqual(names.slice(-2), ["stop", "start"]);
  const events = (await c.actions(id)).at(-1)!.events;
  assert.deepEqual(events, [{ event: "compute_start_instance", result: "Success" }]);
});

test("reboot: schema, soft and hard (hard also from SHUTOFF)", async () => {
  for (const body of [
    { reboot: {} },
    { reboot: { type: "warm" } },
    { reboot: { type: "SOFT", x: 1 } },
    { reboot: null },
  ])
    assert.equal((await c.act(c.demo, id, body)).status, 400, JSON.stringify(body));
  assert.equal((await c.act(c.demo, id, { reboot: { type: "soft" } })).status, 202);
  await c.settle(id, "active");
  await c.act(c.demo, id, { "os-stop": null });
  await c.waitStatus(c.demo, id, "SHUTOFF");
  assert.equal((await c.act(c.demo, id, { reboot: { type: "HARD" } })).status, 202);
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(s["OS-EXT-STS:power_state"], 1);
});

test("pause, suspend and their inverses", async () => {
  assert.equal((await c.act(c.demo, id, { pause: null })).status, 202);
  await c.waitStatus(c.demo, id, "PAUSED");
  const sus = await c.act(c.demo, id, { suspend: null });
  assert.equal(sus.status, 409);
  assert.match(
    sus.body.conflictingRequest.message,
    /Cannot 'suspend' instance .* while it is in vm_state paused/,
  );
  assert.equal((await c.act(c.demo, id, { unpause: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.act(c.demo, id, { suspend: null })).status, 202);
  const s = await c.waitStatus(c.demo, id, "SUSPENDED");
  assert.equal(s["OS-EXT-STS:power_state"], 7);
  assert.equal((await c.act(c.demo, id, { resume: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
});

test("a busy server refuses other actions (task_state set)", async () => {
  await c.t.cloud.db.kysely
    .updateTable("compute_instance")
    .set({ task_state: "rebooting" })
    .where("uuid", "=", id)
    .execute();
  const r = await c.act(c.demo, id, { pause: null });
  assert.equal(r.status, 409);
  assert.equal(
    r.body.conflictingRequest.message,
    `Cannot 'pause' instance ${id} while it is in task_state rebooting`,
  );
  await c.t.cloud.db.kysely
    .updateTable("compute_instance")
    .set({ task_state: null })
    .where("uuid", "=", id)
    .execute();
});

test("rescue and unrescue; a rescue image must exist", async () => {
  const bad = await c.act(c.demo, id, {
    rescue: { rescue_image_ref: "7b1c0b3e-0c8f-4c55-9e1a-000000000000" },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.badRequest.message, /rescue image .* is not supported/);
  assert.equal((await c.act(c.demo, id, { rescue: { bogus: 1 } })).status, 400);
  const r = await c.act(c.demo, id, { rescue: { adminPass: "s3cret", rescue_image_ref: c.imageId } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { adminPass: "s3cret" });
  await c.waitStatus(c.demo, id, "RESCUE");
  assert.equal((await c.act(c.demo, id, { pause: null })).status, 409);
  assert.equal((await c.act(c.demo, id, { unrescue: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const gen = await c.act(c.demo, id, { rescue: null });
  assert.equal(gen.status, 200);
  assert.match(gen.body.adminPass, /^[A-Za-z0-9]{12}$/);
  await c.waitStatus(c.demo, id, "RESCUE");
  await c.act(c.demo, id, { unrescue: null });
  await c.waitStatus(c.demo, id, "ACTIVE");
});

test("trigger_crash_dump (2.17) crashes the guest", async () => {
  const other = await c.createServer(c.demo, { name: "crash" });
  await c.waitStatus(c.demo, other, "ACTIVE");
  assert.equal((await c.act(c.demo, other, { trigger_crash_dump: null }, "2.17")).status, 202);
  await until("the crash dump event", async () =>
    (await c.actions(other))
      .at(-1)
      ?.events.some((e) => e.event === "compute_trigger_crash_dump" && e.result === "Success"),
  );
  assert.equal((await c.row(other)).power_state, 6);
});

test("lock: locked servers refuse non-admins (409), admins pass; unlock override is admin-only", async () => {
  const r = await c.act(c.demo, id, { lock: { locked_reason: "maintenance" } }, "2.73");
  assert.equal(r.status, 202);
  const shown = await c.req("GET", `/v2.1/servers/${id}`, { token: c.demo, mv: "2.73" });
  assert.equal(shown.body.server.locked, true);
  assert.equal(shown.body.server.locked_reason, "maintenance");
  const refused = await c.act(c.demo, id, { pause: null });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.conflictingRequest.message, `Instance ${id} is locked`);
  assert.equal((await c.act(c.demo, id, { lock: { locked_reason: "" } }, "2.73")).status, 400);
  assert.equal((await c.act(c.demo, id, { lock: { reason: "x" } }, "2.73")).status, 400);
  assert.equal((await c.act(c.admin, id, { pause: null })).status, 202, "admins act on locked servers");
  await c.waitStatus(c.demo, id, "PAUSED");
  await c.act(c.admin, id, { unpause: null });
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await c.act(c.demo, id, { unlock: null })).status, 202);
  assert.equal((await c.row(id)).locked, 0);
  // Locked by an admin of another project: the owner may not unlock.
  assert.equal((await c.act(c.admin, id, { lock: null })).status, 202);
  assert.equal((await c.row(id)).locked_by, "admin");
  assert.equal((await c.act(c.demo, id, { unlock: null })).status, 403);
  assert.equal((await c.act(c.admin, id, { unlock: null })).status, 202);
  const acts = (await c.actions(id)).map((a) => a.action);
  assert.ok(acts.includes("lock") && acts.includes("unlock"));
});

test("admin actions: os-resetState, injectNetworkInfo (admin only), os-resetNetwork is gone", async () => {
  assert.equal((await c.act(c.demo, id, { "os-resetState": { state: "error" } })).status, 403);
  assert.equal((await c.act(c.admin, id, { "os-resetState": { state: "bogus" } })).status, 400);
  assert.equal((await c.act(c.admin, id, { "os-resetState": { state: "error" } })).status, 202);
  await c.waitStatus(c.demo, id, "ERROR");
  assert.equal((await c.act(c.admin, id, { "os-resetState": { state: "active" } })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.ok((await c.actions(id)).some((a) => a.action === "resetState"));
  assert.equal((await c.act(c.demo, id, { injectNetworkInfo: null })).status, 403);
  assert.equal((await c.act(c.admin, id, { injectNetworkInfo: null })).status, 202);
  assert.equal((await c.act(c.admin, id, { "os-resetNetwork": null })).status, 410);
});

test("changePassword: validated, then refused as unsupported by the driver", async () => {
  assert.equal((await c.act(c.demo, id, { changePassword: {} })).status, 400);
  const r = await c.act(c.demo, id, { changePassword: { adminPass: "x" } });
  assert.equal(r.status, 409);
  assert.equal(r.body.conflictingRequest.message, "Set admin password is not supported");
});

test("a failed driver operation reverts the task and records a fault", async () => {
  const inst = await c.row(id);
  const deps = c.t.cloud.computeControl.agents.find((a) => a.host === inst.host)!.deps;
  const driver = deps.driver as { unpause?: unknown };
  const saved = driver.unpause;
  driver.unpause = undefined; // a driver without the capability
  try {
    await c.act(c.demo, id, { pause: null });
    await c.waitStatus(c.demo, id, "PAUSED");
    assert.equal((await c.act(c.demo, id, { unpause: null })).status, 202);
    const row = await c.settle(id, "paused");
    assert.equal(row.power_state, 3);
    // The fault is recorded just after the task is reverted.
    await eventually(async () => {
      const fault = (await c.t.cloud.db.kysely
        .selectFrom("compute_instance_fault")
        .selectAll()
        .where("instance_uuid", "=", id)
        .orderBy("id", "desc")
        .executeTakeFirstOrThrow()) as { message: string; code: number };
      assert.match(fault.message, /does not support unpause/);
    });
    const last = (await c.actions(id)).at(-1)!;
    assert.equal(last.action, "unpause");
    assert.equal(last.events[0].result, "Error");
  } finally {
    driver.unpause = saved;
  }
  await c.act(c.demo, id, { unpause: null });
  await c.waitStatus(c.demo, id, "ACTIVE");
});
