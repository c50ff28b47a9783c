// os-server-external-events: per-event codes (200, 400 missing tag, 404 unknown server, 422 no host), the overall
// 200/207, event names per microversion, power-update changing the server's state, and recorded actions.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addAction, addInstance, bootAdmin, dbOf } from "./fixtures.js";

let c: ComputeCloud;
let onHost: string;
let noHost: string;
const MISSING = "00000000-0000-4000-8000-000000000000";
before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  onHost = (await addInstance(db, { host: "h1", node: "h1" })).uuid;
  noHost = (await addInstance(db, { host: null, vm_state: "building" })).uuid;
  await addAction(db, { instance_uuid: onHost, request_id: "req-boot" });
});
after(() => c.close());

const post = (events: unknown, mv?: string, token = c.admin) =>
  c.req("POST", "/v2.1/os-server-external-events", { token, body: { events }, ...(mv ? { mv } : {}) });

test("codes per event and overall status", async () => {
  const ok = await post([{ name: "network-vif-plugged", server_uuid: onHost, tag: "port-1" }]);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.events, [
    { name: "network-vif-plugged", server_uuid: onHost, tag: "port-1", status: "completed", code: 200 },
  ]);
  const mixed = await post([
    { name: "network-changed", server_uuid: onHost, status: "failed" },
    { name: "network-changed", server_uuid: MISSING },
    { name: "network-vif-unplugged", server_uuid: noHost },
  ]);
  assert.equal(mixed.status, 207);
  assert.deepEqual(
    mixed.body.events.map((e: any) => [e.code, e.status]),
    [
      [200, "completed"],
      [404, "failed"],
      [422, "failed"],
    ],
  );
  const none = await post([{ name: "network-changed", server_uuid: MISSING }]);
  assert.equal(none.status, 207);
  const noTag = await post([{ name: "volume-extended", server_uuid: onHost }], "2.51");
  assert.deepEqual([noTag.status, noTag.body.events[0].code], [207, 400]);

  const events = (await dbOf(c)
    .selectFrom("compute_instance_action_event as e")
    .innerJoin("compute_instance_action as a", "a.id", "e.action_id")
    .select(["e.event as event", "e.result as result", "a.request_id as request_id"])
    .where("a.instance_uuid", "=", onHost)
    .execute()) as Array<{ event: string; result: string; request_id: string }>;
  assert.ok(
    events.some(
      (e) =>
        e.event === "network-vif-plugged-port-1" && e.result === "Success" && e.request_id === "req-boot",
    ),
  );
  assert.ok(events.some((e) => e.event === "network-changed" && e.result === "Error"));
});

test("event names per microversion and body validation", async () => {
  const early = await post([{ name: "volume-extended", server_uuid: onHost, tag: "vol" }], "2.50");
  assert.equal(early.status, 400);
  assert.match(
    early.body.badRequest.message,
    /^Invalid input for field\/attribute name\. Value: volume-extended\. 'volume-extended' is not one of \['network-changed'/,
  );
  assert.equal(
    (await post([{ name: "power-update", server_uuid: onHost, tag: "POWER_ON" }], "2.75")).status,
    400,
  );
  assert.equal(
    (await post([{ name: "accelerator-request-bound", server_uuid: onHost, tag: "x" }], "2.81")).status,
    400,
  );
  assert.equal(
    (await post([{ name: "accelerator-request-bound", server_uuid: onHost, tag: "x" }], "2.82")).status,
    200,
  );
  assert.equal(
    (await post([{ name: "volume-reimaged", server_uuid: onHost, tag: "v" }], "2.92")).status,
    400,
  );
  assert.equal((await post([{ name: "volume-reimaged", server_uuid: onHost }], "2.93")).status, 200);

  const cases: Array<[unknown, string]> = [
    [[], "Invalid input for field/attribute events. Value: []. [] is too short"],
    ["x", "Invalid input for field/attribute events. Value: x. 'x' is not of type 'array'"],
    [
      [{ name: "network-changed" }],
      `Invalid input for field/attribute 0. Value: {'name': 'network-changed'}. 'server_uuid' is a required property`,
    ],
    [
      [{ name: "network-changed", server_uuid: "nope" }],
      "Invalid input for field/attribute server_uuid. Value: nope. 'nope' is not a 'uuid'",
    ],
    [
      [{ name: "network-changed", server_uuid: onHost, status: "done" }],
      "Invalid input for field/attribute status. Value: done. 'done' is not one of ['failed', 'completed', 'in-progress']",
    ],
    [
      [{ name: "network-changed", server_uuid: onHost, extra: 1 }],
      `Invalid input for field/attribute 0. Value: {'name': 'network-changed', 'server_uuid': '${onHost}', 'extra': 1}. Additional properties are not allowed ('extra' was unexpected)`,
    ],
    [
      [{ name: "network-changed", server_uuid: onHost, tag: "t".repeat(256) }],
      `Invalid input for field/attribute tag. Value: ${"t".repeat(256)}. '${"t".repeat(256)}' is too long`,
    ],
    [[7], "Invalid input for field/attribute 0. Value: 7. 7 is not of type 'object'"],
  ];
  for (const [events, message] of cases) {
    const r = await post(events);
    assert.equal(r.status, 400, JSON.stringify(events));
    assert.equal(r.body.badRequest.message, message);
  }
  const extra = await c.req("POST", "/v2.1/os-server-external-events", {
    token: c.admin,
    body: { events: [], x: 1 },
  });
  assert.equal(extra.status, 400);
  assert.equal(
    (await c.req("POST", "/v2.1/os-server-external-events", { token: c.admin, body: {} })).body.badRequest
      .message,
    "'events' is a required property",
  );
});

test("power-update stops and starts the server and records stop/start actions", async () => {
  const state = async () =>
    (await dbOf(c)
      .selectFrom("compute_instance")
      .select(["vm_state", "power_state"])
      .where("uuid", "=", onHost)
      .executeTakeFirst()) as {
      vm_state: string;
      power_state: number;
    };
  const off = await post([{ name: "power-update", server_uuid: onHost, tag: "POWER_OFF" }], "2.76");
  assert.equal(off.status, 200);
  assert.deepEqual(
    { ...(await state()), power_state: Number((await state()).power_state) },
    { vm_state: "stopped", power_state: 4 },
  );
  const actions = await c.req("GET", `/v2.1/servers/${onHost}/os-instance-actions`, { token: c.admin });
  const stop = actions.body.instanceActions.find((a: any) => a.action === "stop");
  assert.ok(stop);
  const shown = await c.req("GET", `/v2.1/servers/${onHost}/os-instance-actions/${stop.request_id}`, {
    token: c.admin,
  });
  assert.deepEqual(
    shown.body.instanceAction.events.map((e: any) => [e.event, e.result]),
    [["compute_power_update", "Success"]],
  );
  // Already off: a no-op, still accepted.
  assert.equal(
    (await post([{ name: "power-update", server_uuid: onHost, tag: "POWER_OFF" }], "2.76")).status,
    200,
  );
  assert.equal((await state()).vm_state, "stopped");
  await post([{ name: "power-update", server_uuid: onHost, tag: "POWER_ON" }], "2.76");
  assert.deepEqual(
    { ...(await state()), power_state: Number((await state()).power_state) },
    { vm_state: "active", power_state: 1 },
  );
  assert.equal(
    (await post([{ name: "power-update", server_uuid: onHost, tag: "SIDEWAYS" }], "2.76")).status,
    200,
  );
  assert.equal((await state()).vm_state, "active");

  const ext = await post([{ name: "volume-extended", server_uuid: onHost, tag: "vol-1" }], "2.51");
  assert.equal(ext.status, 200);
  const list = await c.req("GET", `/v2.1/servers/${onHost}/os-instance-actions`, { token: c.admin });
  assert.ok(list.body.instanceActions.some((a: any) => a.action === "extend_volume"));
});

test("non-admins get 403", async () => {
  assert.equal(
    (await post([{ name: "network-changed", server_uuid: onHost }], undefined, c.demo)).status,
    403,
  );
});
