// os-aggregates: create/list/show/update/delete, add/remove host with Nova's availability zone rules,
// set_metadata, the 2.41 uuid, body validation, and the mirroring of membership into placement.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addInstance, addNode, addService, bootAdmin, dbOf, placementReq } from "./fixtures.js";

let c: ComputeCloud;
let node1: { uuid: string };
before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  await addService(db, { host: "ag1" });
  await addService(db, { host: "ag2" });
  await addService(db, { host: "ctl", binary: "nova-conductor" });
  node1 = await addNode(db, { host: "ag1" });
  await addNode(db, { host: "ag2" });
  const rp = await placementReq(c, "POST", "/resource_providers", { uuid: node1.uuid, name: "ag1" });
  assert.ok([200, 201].includes(rp.status));
});
after(() => c.close());

const create = (aggregate: unknown, mv?: string, token = c.admin) =>
  c.req("POST", "/v2.1/os-aggregates", { token, body: { aggregate }, ...(mv ? { mv } : {}) });
const act = (id: number | string, body: unknown, mv?: string) =>
  c.req("POST", `/v2.1/os-aggregates/${id}/action`, { token: c.admin, body, ...(mv ? { mv } : {}) });
const msg = (r: { body: any }) => (Object.values(r.body)[0] as any).message;

test("create, show, list, update and delete; uuid from 2.41", async () => {
  const r = await create({ name: "rack1", availability_zone: "az1" });
  assert.equal(r.status, 200);
  const a = r.body.aggregate;
  assert.equal(typeof a.id, "number");
  assert.equal(a.name, "rack1");
  assert.equal(a.availability_zone, "az1");
  assert.equal(a.hosts, undefined);
  assert.equal(a.metadata, undefined);
  assert.equal(a.uuid, undefined);
  assert.deepEqual([a.deleted, a.deleted_at, a.updated_at], [false, null, null]);
  assert.match(a.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  const shown = await c.req("GET", `/v2.1/os-aggregates/${a.id}`, { token: c.admin, mv: "2.41" });
  assert.match(shown.body.aggregate.uuid, /^[0-9a-f-]{36}$/);
  assert.deepEqual(shown.body.aggregate.metadata, { availability_zone: "az1" });
  assert.deepEqual(shown.body.aggregate.hosts, []);
  const list = await c.req("GET", "/v2.1/os-aggregates", { token: c.admin });
  assert.ok(list.body.aggregates.some((x: any) => x.id === a.id && x.availability_zone === "az1"));

  const dup = await create({ name: "rack1" });
  assert.deepEqual([dup.status, msg(dup)], [409, "Aggregate rack1 already exists."]);
  const up = await c.req("PUT", `/v2.1/os-aggregates/${a.id}`, {
    token: c.admin,
    body: { aggregate: { name: "  rack-one ", availability_zone: "az9" } },
  });
  assert.equal(up.status, 200);
  assert.deepEqual([up.body.aggregate.name, up.body.aggregate.availability_zone], ["rack-one", "az9"]);
  assert.notEqual(up.body.aggregate.updated_at, null);
  const other = await create({ name: "other" });
  const clash = await c.req("PUT", `/v2.1/os-aggregates/${other.body.aggregate.id}`, {
    token: c.admin,
    body: { aggregate: { name: "rack-one" } },
  });
  assert.deepEqual([clash.status, msg(clash)], [409, "Aggregate rack-one already exists."]);
  assert.equal((await c.req("DELETE", `/v2.1/os-aggregates/${a.id}`, { token: c.admin })).status, 200);
  assert.equal(
    (await c.req("DELETE", `/v2.1/os-aggregates/${other.body.aggregate.id}`, { token: c.admin })).status,
    200,
  );
  const gone = await c.req("GET", `/v2.1/os-aggregates/${a.id}`, { token: c.admin });
  assert.deepEqual([gone.status, msg(gone)], [404, `Aggregate ${a.id} could not be found.`]);
  const bad = await c.req("GET", "/v2.1/os-aggregates/x", { token: c.admin });
  assert.deepEqual([bad.status, msg(bad)], [400, "Invalid input received: id must be an integer"]);
});

test("bad bodies are 400 with Nova's messages", async () => {
  const cases: Array<[unknown, string]> = [
    [{}, "Invalid input for field/attribute aggregate. Value: {}. 'name' is a required property"],
    [
      { name: " lead" },
      "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.",
    ],
    [{ name: "" }, "Invalid input for field/attribute name. Value: . '' is too short"],
    [{ name: 5 }, "Invalid input for field/attribute name. Value: 5. 5 is not of type 'string'"],
    [
      { name: "x".repeat(256) },
      `Invalid input for field/attribute name. Value: ${"x".repeat(256)}. '${"x".repeat(256)}' is too long`,
    ],
    [
      { name: "ok", availability_zone: "a:b" },
      "Invalid input for field/attribute availability_zone. Value: a:b. 'a:b' is not valid under any of the given schemas",
    ],
    [
      { name: "ok", extra: 1 },
      "Invalid input for field/attribute aggregate. Value: {'name': 'ok', 'extra': 1}. Additional properties are not allowed ('extra' was unexpected)",
    ],
    ["str", "Invalid input for field/attribute aggregate. Value: str. 'str' is not of type 'object'"],
  ];
  for (const [body, message] of cases) {
    const r = await create(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.badRequest.message, message);
  }
  assert.equal(
    (await c.req("POST", "/v2.1/os-aggregates", { token: c.admin, body: { other: 1 } })).status,
    400,
  );
  assert.equal((await c.req("POST", "/v2.1/os-aggregates", { token: c.admin, body: [] })).status, 400);
  const a = (await create({ name: "val" })).body.aggregate;
  const put = (aggregate: unknown) =>
    c.req("PUT", `/v2.1/os-aggregates/${a.id}`, { token: c.admin, body: { aggregate } });
  assert.equal(
    msg(await put({})),
    "Invalid input for field/attribute aggregate. Value: {}. {} is not valid under any of the given schemas",
  );
  assert.equal(
    msg(await put({ name: "   " })),
    "An invalid 'name' value was provided. The name must be: printable characters with at least one non space character",
  );
  const emptyAz = await put({ availability_zone: null });
  assert.deepEqual(
    [emptyAz.status, msg(emptyAz)],
    [
      400,
      `Cannot update aggregate ${a.id}. Reason: Aggregate val does not support empty named availability zone.`,
    ],
  );
  for (const body of [{}, { add_host: {}, remove_host: {} }])
    assert.equal(msg(await act(a.id, body)), "Malformed request body");
  assert.equal(msg(await act(a.id, { reboot: {} })), "There is no such action: reboot");
  assert.equal(
    msg(await act(a.id, { add_host: {} })),
    "Invalid input for field/attribute add_host. Value: {}. 'host' is a required property",
  );
  assert.equal(
    msg(await act(a.id, { add_host: { host: "a b" } })),
    "Invalid input for field/attribute host. Value: a b. 'a b' does not match '^[a-zA-Z0-9-._]*$'",
  );
  assert.equal(
    msg(await act(a.id, { set_metadata: { metadata: { k: 1 } } })),
    "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string', 'null'",
  );
  assert.equal(
    msg(await act(a.id, { set_metadata: { metadata: { "k/x": "v" } } })),
    "Invalid input for field/attribute metadata. Value: {'k/x': 'v'}. Additional properties are not allowed ('k/x' was unexpected)",
  );
  assert.equal(
    msg(await act(a.id, { set_metadata: {} })),
    "Invalid input for field/attribute set_metadata. Value: {}. 'metadata' is a required property",
  );
  assert.equal((await act("x", { add_host: { host: "ag1" } })).status, 400);
  await c.req("DELETE", `/v2.1/os-aggregates/${a.id}`, { token: c.admin });
});

test("hosts: add/remove with zone rules, metadata, delete refused while not empty, placement mirror", async () => {
  const a = (await create({ name: "zone-a", availability_zone: "az-a" })).body.aggregate;
  const b = (await create({ name: "zone-b", availability_zone: "az-b" })).body.aggregate;
  const plain = (await create({ name: "plain" })).body.aggregate;
  const added = await act(a.id, { add_host: { host: "ag1" } }, "2.41");
  assert.equal(added.status, 200);
  assert.deepEqual(added.body.aggregate.hosts, ["ag1"]);
  const rpAggs = await placementReq(c, "GET", `/resource_providers/${node1.uuid}/aggregates`);
  assert.deepEqual(rpAggs.body.aggregates, [added.body.aggregate.uuid]);

  const again = await act(a.id, { add_host: { host: "ag1" } });
  assert.deepEqual([again.status, msg(again)], [409, `Aggregate ${a.id} already has host ag1.`]);
  const otherZone = await act(b.id, { add_host: { host: "ag1" } });
  assert.deepEqual(
    [otherZone.status, msg(otherZone)],
    [
      409,
      `Cannot add host to aggregate ${b.id}. Reason: One or more hosts already in availability zone(s) ['az-a'].`,
    ],
  );
  const unknown = await act(a.id, { add_host: { host: "nohost" } });
  assert.deepEqual([unknown.status, msg(unknown)], [404, "Compute host nohost could not be found."]);
  assert.equal((await act(a.id, { add_host: { host: "ctl" } })).status, 404);
  assert.equal(msg(await act(99999, { add_host: { host: "ag1" } })), "Aggregate 99999 could not be found.");
  assert.equal((await act(plain.id, { add_host: { host: "ag1" } })).status, 200);

  const conflictMeta = await act(plain.id, { set_metadata: { metadata: { availability_zone: "az-x" } } });
  assert.deepEqual(
    [conflictMeta.status, msg(conflictMeta)],
    [
      400,
      `Cannot update metadata of aggregate ${plain.id}. Reason: One or more hosts already in availability zone(s) ['az-a'].`,
    ],
  );
  const same = await act(plain.id, {
    set_metadata: { metadata: { availability_zone: "az-a", ssd: "true" } },
  });
  assert.equal(same.status, 200);
  assert.deepEqual(same.body.aggregate.metadata, { availability_zone: "az-a", ssd: "true" });
  const dropped = await act(plain.id, { set_metadata: { metadata: { ssd: null, gone: null } } });
  assert.deepEqual(dropped.body.aggregate.metadata, { availability_zone: "az-a" });
  const emptyAz = await act(plain.id, { set_metadata: { metadata: { availability_zone: null } } });
  assert.equal(emptyAz.status, 400);

  const inst = await addInstance(dbOf(c), { host: "ag1" });
  const busy = await c.req("PUT", `/v2.1/os-aggregates/${a.id}`, {
    token: c.admin,
    body: { aggregate: { availability_zone: "az-new" } },
  });
  assert.deepEqual(
    [busy.status, msg(busy)],
    [
      400,
      `Cannot update aggregate ${a.id}. Reason: One or more hosts already in availability zone(s) ['az-a'].`,
    ],
  );
  await dbOf(c).deleteFrom("compute_instance").where("uuid", "=", inst.uuid).execute();

  const notEmpty = await c.req("DELETE", `/v2.1/os-aggregates/${a.id}`, { token: c.admin });
  assert.deepEqual(
    [notEmpty.status, msg(notEmpty)],
    [400, `Cannot remove host from aggregate ${a.id}. Reason: Host aggregate is not empty.`],
  );

  const notMember = await act(b.id, { remove_host: { host: "ag1" } });
  assert.deepEqual([notMember.status, msg(notMember)], [404, `Cannot remove host ag1 in aggregate ${b.id}`]);
  assert.equal(
    msg(await act(a.id, { remove_host: { host: "nohost" } })),
    `Cannot remove host nohost in aggregate ${a.id}`,
  );
  const removed = await act(a.id, { remove_host: { host: "ag1" } }, "2.41");
  assert.deepEqual(removed.body.aggregate.hosts, []);
  const plainUuid = (await c.req("GET", `/v2.1/os-aggregates/${plain.id}`, { token: c.admin, mv: "2.41" }))
    .body.aggregate.uuid;
  assert.deepEqual(
    (await placementReq(c, "GET", `/resource_providers/${node1.uuid}/aggregates`)).body.aggregates,
    [plainUuid],
  );
  await act(plain.id, { remove_host: { host: "ag1" } });
  assert.deepEqual(
    (await placementReq(c, "GET", `/resource_providers/${node1.uuid}/aggregates`)).body.aggregates,
    [],
  );
  // A host without a provider in placement is fine.
  assert.equal((await act(b.id, { add_host: { host: "ag2" } })).status, 200);
  const vm = await addInstance(dbOf(c), { host: "ag2" });
  const moved = await act(b.id, { set_metadata: { metadata: { availability_zone: "az-c" } } });
  assert.deepEqual(
    [moved.status, msg(moved)],
    [
      400,
      `Cannot update metadata of aggregate ${b.id}. Reason: One or more hosts contain instances in this zone.`,
    ],
  );
  await dbOf(c).deleteFrom("compute_instance").where("uuid", "=", vm.uuid).execute();
  await act(b.id, { remove_host: { host: "ag2" } });
  for (const x of [a, b, plain])
    assert.equal((await c.req("DELETE", `/v2.1/os-aggregates/${x.id}`, { token: c.admin })).status, 200);
});

test("non-admins get 403", async () => {
  assert.equal((await c.req("GET", "/v2.1/os-aggregates", { token: c.demo })).status, 403);
  assert.equal((await create({ name: "nope" }, undefined, c.demo)).status, 403);
  assert.equal((await c.req("GET", "/v2.1/os-aggregates/1", { token: c.demo })).status, 403);
  assert.equal((await c.req("DELETE", "/v2.1/os-aggregates/1", { token: c.demo })).status, 403);
  const r = await c.req("POST", "/v2.1/os-aggregates/1/action", {
    token: c.demo,
    body: { add_host: { host: "ag1" } },
  });
  assert.equal(r.status, 403);
});
