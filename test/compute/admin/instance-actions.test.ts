// os-instance-actions: list (paging and changes-since from 2.58, changes-before from 2.66), show with events
// for admins or (from 2.51) owners, host/hostId from 2.62, details from 2.84, deleted servers from 2.21.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addAction, addInstance, bootAdmin, dbOf } from "./fixtures.js";

let c: ComputeCloud;
let demoProject: string;
let server: string;
let deleted: string;
before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  demoProject = await c.t.projectId("demo");
  server = (await addInstance(db, { project_id: demoProject, host: "h1" })).uuid;
  deleted = (await addInstance(db, { project_id: demoProject, deleted: 1 })).uuid;
  await addAction(
    db,
    {
      instance_uuid: server,
      request_id: "req-1",
      action: "create",
      project_id: demoProject,
      start_time: "2024-01-01T00:00:00.000Z",
      updated_at: "2024-01-01T00:01:00.000Z",
    },
    [
      {
        event: "compute_build_and_run_instance",
        start_time: "2024-01-01T00:00:10.000Z",
        traceback: "tb",
        details: "d1",
      },
      { event: "conductor_schedule_and_build_instances", start_time: "2024-01-01T00:00:01.000Z", host: null },
    ],
  );
  await addAction(db, {
    instance_uuid: server,
    request_id: "req-2",
    action: "stop",
    project_id: demoProject,
    start_time: "2024-01-02T00:00:00.000Z",
    updated_at: "2024-01-02T00:01:00.000Z",
  });
  await addAction(db, {
    instance_uuid: server,
    request_id: "req-3",
    action: "start",
    project_id: demoProject,
    start_time: "2024-01-03T00:00:00.000Z",
    updated_at: "2024-01-03T00:01:00.000Z",
  });
  await addAction(db, {
    instance_uuid: deleted,
    request_id: "req-d",
    action: "delete",
    project_id: demoProject,
  });
});
after(() => c.close());

const base = () => `/v2.1/servers/${server}/os-instance-actions`;
const get = (path: string, mv?: string, token = c.admin) =>
  c.req("GET", path, { token, ...(mv ? { mv } : {}) });

test("list: newest first, fields per microversion, paging and changes-since/before", async () => {
  const r = await get(base(), undefined, c.demo);
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.body.instanceActions.map((a: any) => a.request_id),
    ["req-3", "req-2", "req-1"],
  );
  assert.deepEqual(r.body.instanceActions[2], {
    action: "create",
    instance_uuid: server,
    request_id: "req-1",
    user_id: "u1",
    project_id: demoProject,
    start_time: "2024-01-01T00:00:00.000000",
    message: null,
  });
  const p = await get(`${base()}?limit=2`, "2.58");
  assert.deepEqual(
    p.body.instanceActions.map((a: any) => [a.request_id, a.updated_at]),
    [
      ["req-3", "2024-01-03T00:01:00.000000"],
      ["req-2", "2024-01-02T00:01:00.000000"],
    ],
  );
  assert.match(
    p.body.links[0].href,
    new RegExp(`/servers/${server}/os-instance-actions\\?limit=2&marker=req-2$`),
  );
  const p2 = await get(`${base()}?limit=2&marker=req-2`, "2.58");
  assert.deepEqual(
    p2.body.instanceActions.map((a: any) => a.request_id),
    ["req-1"],
  );
  const since = await get(`${base()}?changes-since=2024-01-02T00:00:00Z`, "2.58");
  assert.deepEqual(
    since.body.instanceActions.map((a: any) => a.request_id),
    ["req-3", "req-2"],
  );
  const before = await get(`${base()}?changes-before=2024-01-02T00:01:00Z`, "2.66");
  assert.deepEqual(
    before.body.instanceActions.map((a: any) => a.request_id),
    ["req-2", "req-1"],
  );
  for (const [q, mv, message] of [
    ["?marker=nope", "2.58", "Marker nope could not be found."],
    [
      "?changes-before=2024-01-01",
      "2.65",
      "Additional properties are not allowed ('changes-before' was unexpected)",
    ],
    [
      "?limit=-2",
      "2.58",
      "Invalid input for query parameters limit. Value: -2. '-2' does not match '^[0-9]*$'",
    ],
    [
      "?changes-since=2024-01-03&changes-before=2024-01-01",
      "2.66",
      "The value of changes-since must be less than or equal to changes-before.",
    ],
  ]) {
    const res = await get(`${base()}${q}`, mv);
    assert.deepEqual([res.status, res.body.badRequest.message], [400, message], q);
  }
  assert.equal((await get(`${base()}?whatever=1`, "2.57")).status, 200);
});

test("show: events for admins; for owners from 2.51 without traceback; host/hostId 2.62; details 2.84", async () => {
  const hid = createHash("sha224").update(`${demoProject}h1`).digest("hex");
  const owner = await get(`${base()}/req-1`, undefined, c.demo);
  assert.equal(owner.status, 200);
  assert.equal(owner.body.instanceAction.events, undefined);
  const owner251 = await get(`${base()}/req-1`, "2.51", c.demo);
  assert.deepEqual(owner251.body.instanceAction.events[0], {
    event: "compute_build_and_run_instance",
    start_time: "2024-01-01T00:00:10.000000",
    finish_time: owner251.body.instanceAction.events[0].finish_time,
    result: "Success",
  });
  assert.equal(owner251.body.instanceAction.events[1].event, "conductor_schedule_and_build_instances");
  const owner262 = await get(`${base()}/req-1`, "2.62", c.demo);
  assert.equal(owner262.body.instanceAction.events[0].hostId, hid);
  assert.equal(owner262.body.instanceAction.events[0].host, undefined);
  assert.equal(owner262.body.instanceAction.events[1].hostId, "");
  const owner284 = await get(`${base()}/req-1`, "2.84", c.demo);
  assert.equal(owner284.body.instanceAction.events[0].details, undefined);

  const admin = await get(`${base()}/req-1`);
  assert.equal(admin.body.instanceAction.events[0].traceback, "tb");
  assert.equal(admin.body.instanceAction.events[0].host, undefined);
  const admin262 = await get(`${base()}/req-1`, "2.62");
  assert.equal(admin262.body.instanceAction.events[0].host, "h1");
  assert.equal(admin262.body.instanceAction.events[0].hostId, hid);
  assert.equal(admin262.body.instanceAction.updated_at, "2024-01-01T00:01:00.000000");
  const admin284 = await get(`${base()}/req-1`, "2.84");
  assert.equal(admin284.body.instanceAction.events[0].details, "d1");
  const nf = await get(`${base()}/req-x`);
  assert.deepEqual([nf.status, nf.body.itemNotFound.message], [404, "Action req-x not found"]);
});

test("deleted servers from 2.21, missing servers and other projects", async () => {
  const d = `/v2.1/servers/${deleted}/os-instance-actions`;
  const old = await get(d);
  assert.deepEqual(
    [old.status, old.body.itemNotFound.message],
    [404, `Instance ${deleted} could not be found.`],
  );
  const v221 = await get(d, "2.21");
  assert.deepEqual(
    v221.body.instanceActions.map((a: any) => a.action),
    ["delete"],
  );
  assert.equal((await get(`${d}/req-d`, "2.21")).status, 200);
  const missing = await get("/v2.1/servers/00000000-0000-4000-8000-000000000000/os-instance-actions");
  assert.equal(missing.status, 404);
  const foreign = (await addInstance(dbOf(c), { project_id: "someone-else" })).uuid;
  assert.equal((await get(`/v2.1/servers/${foreign}/os-instance-actions`, undefined, c.demo)).status, 403);
  assert.equal((await get(`/v2.1/servers/${foreign}/os-instance-actions/x`, undefined, c.demo)).status, 403);
});
