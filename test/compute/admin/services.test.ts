// os-services: listing with zones and states per microversion, the pre-2.53 action updates, the 2.53 update by
// uuid, and deleting a compute service (refused while it hosts instances or migrations).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addInstance, addMigration, addNode, addService, bootAdmin, dbOf, placementReq } from "./fixtures.js";

let c: ComputeCloud;
before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  await addService(db, {
    host: "svc-a",
    updated_at: "2024-01-02T03:04:05.678Z",
    last_seen_up_ms: Date.now(),
  });
  await addService(db, {
    host: "svc-b",
    disabled: 1,
    disabled_reason: "maintenance",
    last_seen_up_ms: Date.now() - 3600_000,
  });
  await addService(db, { host: "ctl", binary: "nova-scheduler" });
  await addService(db, { host: "ctl", binary: "nova-osapi_compute" });
});
after(() => c.close());

const list = (q = "", mv?: string, token = c.admin) =>
  c.req("GET", `/v2.1/os-services${q}`, { token, ...(mv ? { mv } : {}) });
const byHost = (services: any[], host: string, binary = "nova-compute") =>
  services.find((s) => s.host === host && s.binary === binary);

test("list: fields, zones, states and microversion differences", async () => {
  const r = await list();
  assert.equal(r.status, 200);
  const a = byHost(r.body.services, "svc-a");
  assert.equal(typeof a.id, "number");
  assert.equal(a.zone, "nova");
  assert.equal(a.status, "enabled");
  assert.equal(a.state, "up");
  assert.equal(a.disabled_reason, null);
  assert.match(a.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal(a.forced_down, undefined);
  const b = byHost(r.body.services, "svc-b");
  assert.deepEqual([b.status, b.state, b.disabled_reason], ["disabled", "down", "maintenance"]);
  const sched = byHost(r.body.services, "ctl", "nova-scheduler");
  assert.equal(sched.zone, "internal");
  assert.equal(byHost(r.body.services, "ctl", "nova-osapi_compute"), undefined);

  const v211 = await list("", "2.11");
  assert.equal(byHost(v211.body.services, "svc-a").forced_down, false);
  const v253 = await list("", "2.53");
  assert.match(byHost(v253.body.services, "svc-a").id, /^[0-9a-f-]{36}$/);

  const filtered = await list("?host=ctl&binary=nova-scheduler");
  assert.deepEqual(
    filtered.body.services.map((s: any) => [s.host, s.binary]),
    [["ctl", "nova-scheduler"]],
  );
  assert.equal((await list("?bogus=1", "2.74")).status, 200);
  const strict = await list("?bogus=1", "2.75");
  assert.equal(strict.status, 400);
  assert.equal(
    strict.body.badRequest.message,
    "Additional properties are not allowed ('bogus' was unexpected)",
  );
});

test("zone of a compute host comes from its aggregates' availability_zone", async () => {
  const agg = await c.req("POST", "/v2.1/os-aggregates", {
    token: c.admin,
    body: { aggregate: { name: "svc-zone", availability_zone: "az-svc" } },
  });
  assert.equal(agg.status, 200);
  const id = agg.body.aggregate.id;
  const add = await c.req("POST", `/v2.1/os-aggregates/${id}/action`, {
    token: c.admin,
    body: { add_host: { host: "svc-b" } },
  });
  assert.equal(add.status, 200);
  assert.equal(byHost((await list("?host=svc-b")).body.services, "svc-b").zone, "az-svc");
  await c.req("POST", `/v2.1/os-aggregates/${id}/action`, {
    token: c.admin,
    body: { remove_host: { host: "svc-b" } },
  });
  assert.equal(byHost((await list("?host=svc-b")).body.services, "svc-b").zone, "nova");
  await c.req("DELETE", `/v2.1/os-aggregates/${id}`, { token: c.admin });
});

test("non-admins get 403 everywhere", async () => {
  assert.equal((await list("", undefined, c.demo)).status, 403);
  const put = await c.req("PUT", "/v2.1/os-services/disable", {
    token: c.demo,
    body: { host: "svc-a", binary: "nova-compute" },
  });
  assert.equal(put.status, 403);
  assert.equal((await c.req("DELETE", "/v2.1/os-services/1", { token: c.demo })).status, 403);
});

test("legacy actions before 2.53: enable, disable, disable-log-reason, force-down", async () => {
  const put = (action: string, body: unknown, mv?: string) =>
    c.req("PUT", `/v2.1/os-services/${action}`, { token: c.admin, body, ...(mv ? { mv } : {}) });
  const sv = { host: "svc-a", binary: "nova-compute" };
  const d = await put("disable", sv);
  assert.equal(d.status, 200);
  assert.deepEqual(d.body, { service: { ...sv, status: "disabled" } });
  const r = await put("disable-log-reason", { ...sv, disabled_reason: "why" });
  assert.deepEqual(r.body, { service: { ...sv, status: "disabled", disabled_reason: "why" } });
  assert.equal(byHost((await list("?host=svc-a")).body.services, "svc-a").disabled_reason, "why");
  const e = await put("enable", sv);
  assert.deepEqual(e.body, { service: { ...sv, status: "enabled" } });
  const a = byHost((await list("?host=svc-a")).body.services, "svc-a");
  assert.deepEqual([a.status, a.disabled_reason], ["enabled", null]);

  const f = await put("force-down", { ...sv, forced_down: true }, "2.11");
  assert.deepEqual(f.body, { service: { ...sv, forced_down: true } });
  const down = byHost((await list("?host=svc-a", "2.11")).body.services, "svc-a");
  assert.deepEqual([down.forced_down, down.state], [true, "down"]);
  assert.equal((await put("force-down", { ...sv, forced_down: "no" }, "2.11")).status, 200);

  const cases: Array<[string, unknown, string | undefined, number, string]> = [
    ["disable-log-reason", sv, undefined, 400, "Missing disabled reason field"],
    ["force-down", sv, "2.11", 400, "Missing forced_down field"],
    ["force-down", sv, "2.10", 404, "Unknown action"],
    [
      "force-down",
      { ...sv, forced_down: true },
      "2.10",
      400,
      "Additional properties are not allowed ('forced_down' was unexpected)",
    ],
    ["bogus", sv, undefined, 404, "Unknown action"],
    ["enable", { host: "svc-a" }, undefined, 400, "'binary' is a required property"],
    [
      "enable",
      { host: "ctl", binary: "nova-scheduler" },
      undefined,
      400,
      "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.",
    ],
    [
      "enable",
      { host: "nowhere", binary: "nova-compute" },
      undefined,
      404,
      "Host 'nowhere' is not mapped to any cell",
    ],
    [
      "enable",
      { host: "bad host", binary: "nova-compute" },
      undefined,
      400,
      "Invalid input for field/attribute host. Value: bad host. 'bad host' does not match '^[a-zA-Z0-9-._]*$'",
    ],
    ["force-down", { ...sv, forced_down: "maybe" }, "2.11", 400, ""],
  ];
  for (const [action, body, mv, status, message] of cases) {
    const res = await put(action, body, mv);
    assert.equal(res.status, status, `${action} ${JSON.stringify(body)} ${mv}`);
    if (message) assert.equal(Object.values(res.body as object)[0].message, message);
  }
  assert.equal((await c.req("PUT", "/v2.1/os-services/enable", { token: c.admin, body: "[1]" })).status, 400);
  await put("force-down", { ...sv, forced_down: false }, "2.11");
});

test("2.53: update by uuid", async () => {
  const services = (await list("", "2.53")).body.services;
  const a = byHost(services, "svc-a");
  const sched = byHost(services, "ctl", "nova-scheduler");
  const put = (id: string, body: unknown) =>
    c.req("PUT", `/v2.1/os-services/${id}`, { token: c.admin, body, mv: "2.53" });
  const d = await put(a.id, { status: "disabled", disabled_reason: "patching" });
  assert.equal(d.status, 200);
  assert.equal(d.body.service.id, a.id);
  assert.deepEqual([d.body.service.status, d.body.service.disabled_reason], ["disabled", "patching"]);
  assert.equal(d.body.service.forced_down, false);
  const e = await put(a.id, { status: "enabled" });
  assert.deepEqual([e.body.service.status, e.body.service.disabled_reason], ["enabled", null]);
  const f = await put(a.id, { forced_down: true });
  assert.deepEqual([f.body.service.forced_down, f.body.service.state], [true, "down"]);
  assert.equal((await put(a.id, { forced_down: false })).body.service.state, "up");

  const expect400 = async (id: string, body: unknown, message: string) => {
    const r = await put(id, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.badRequest.message, message);
  };
  await expect400(
    a.id,
    { status: "enabled", disabled_reason: "x" },
    "Specifying 'disabled_reason' with status 'enabled' is invalid.",
  );
  await expect400(
    a.id,
    {},
    "No updates were requested. Fields 'status' or 'forced_down' should be specified.",
  );
  await expect400(
    a.id,
    { disabled_reason: "x" },
    "No updates were requested. Fields 'status' or 'forced_down' should be specified.",
  );
  await expect400("enable", { status: "enabled" }, "Invalid uuid enable");
  await expect400(
    sched.id,
    { status: "disabled" },
    "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.",
  );
  await expect400(
    a.id,
    { status: "off" },
    "Invalid input for field/attribute status. Value: off. 'off' is not one of ['enabled', 'disabled']",
  );
  await expect400(a.id, { host: "x" }, "Additional properties are not allowed ('host' was unexpected)");
  const missing = await put("00000000-0000-4000-8000-000000000000", { status: "enabled" });
  assert.equal(missing.status, 404);
  assert.equal(
    missing.body.itemNotFound.message,
    "Service 00000000-0000-4000-8000-000000000000 could not be found.",
  );

  const inst = await addInstance(dbOf(c), { host: "svc-a" });
  await addMigration(dbOf(c), {
    instance_uuid: inst.uuid,
    source_compute: "svc-a",
    status: "done",
    migration_type: "evacuation",
  });
  const evac = await put(a.id, { forced_down: false });
  assert.equal(evac.status, 400);
  assert.match(
    evac.body.badRequest.message,
    /^Unable to force up host svc-a as `done` evacuation migration records/,
  );
  await dbOf(c).deleteFrom("compute_server_migration").execute();
  await dbOf(c).deleteFrom("compute_instance").execute();
});

test("delete: refused with instances or in-progress migrations; removes nodes, memberships and the provider", async () => {
  const db = dbOf(c);
  const svc = await addService(db, { host: "gone-1" });
  const node = await addNode(db, { host: "gone-1" });
  const rp = await placementReq(c, "POST", "/resource_providers", { uuid: node.uuid, name: "gone-1" });
  assert.ok([200, 201].includes(rp.status), JSON.stringify(rp.body));
  const agg = await c.req("POST", "/v2.1/os-aggregates", {
    token: c.admin,
    body: { aggregate: { name: "del-agg" } },
  });
  const aggId = agg.body.aggregate.id;
  await c.req("POST", `/v2.1/os-aggregates/${aggId}/action`, {
    token: c.admin,
    body: { add_host: { host: "gone-1" } },
  });

  const inst = await addInstance(db, { host: "gone-1", node: "gone-1" });
  const busy = await c.req("DELETE", `/v2.1/os-services/${svc.id}`, { token: c.admin });
  assert.equal(busy.status, 409);
  assert.equal(
    busy.body.conflictingRequest.message,
    "Unable to delete compute service that is hosting instances. Migrate or delete the instances first.",
  );
  await db.updateTable("compute_instance").set({ host: "elsewhere" }).where("uuid", "=", inst.uuid).execute();
  const mig = await addMigration(db, {
    instance_uuid: inst.uuid,
    dest_compute: "gone-1",
    dest_node: "gone-1",
    status: "migrating",
  });
  const moving = await c.req("DELETE", `/v2.1/os-services/${svc.id}`, { token: c.admin });
  assert.equal(moving.status, 409);
  assert.match(moving.body.conflictingRequest.message, /in-progress migrations/);
  await db
    .updateTable("compute_server_migration")
    .set({ status: "confirmed" })
    .where("id", "=", mig.id)
    .execute();

  assert.equal(
    (await c.req("DELETE", "/v2.1/os-services/abc", { token: c.admin })).body.badRequest.message,
    "Invalid input received: id must be an integer",
  );
  assert.equal(
    (await c.req("DELETE", "/v2.1/os-services/1", { token: c.admin, mv: "2.53" })).body.badRequest.message,
    "Invalid uuid 1",
  );
  const nf = await c.req("DELETE", "/v2.1/os-services/99999", { token: c.admin });
  assert.deepEqual([nf.status, nf.body.itemNotFound.message], [404, "Service 99999 not found."]);

  const ok = await c.req("DELETE", `/v2.1/os-services/${svc.uuid}`, { token: c.admin, mv: "2.53" });
  assert.equal(ok.status, 204);
  assert.equal((await list("?host=gone-1")).body.services.length, 0);
  assert.equal(
    (await db.selectFrom("compute_node").selectAll().where("host", "=", "gone-1").execute()).length,
    0,
  );
  assert.deepEqual(
    (await c.req("GET", `/v2.1/os-aggregates/${aggId}`, { token: c.admin })).body.aggregate.hosts,
    [],
  );
  assert.equal((await placementReq(c, "GET", `/resource_providers/${node.uuid}`)).status, 404);

  const sched = (await list("?binary=nova-scheduler")).body.services[0];
  assert.equal((await c.req("DELETE", `/v2.1/os-services/${sched.id}`, { token: c.admin })).status, 204);
});
