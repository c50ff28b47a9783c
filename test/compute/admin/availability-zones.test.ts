// os-availability-zone: zones from services (compute hosts by aggregate, control services internal), the
// summary for everyone and the detail with hosts and services for admins.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { addService, bootAdmin, dbOf } from "./fixtures.js";

let c: ComputeCloud;
before(async () => {
  c = await bootAdmin();
  const db = dbOf(c);
  await addService(db, { host: "z1" });
  await addService(db, { host: "z2", last_seen_up_ms: 0 });
  await addService(db, { host: "z3", disabled: 1 });
  await addService(db, { host: "ctl", binary: "nova-conductor", updated_at: "2024-05-06T07:08:09Z" });
  await addService(db, { host: "ctl", binary: "nova-scheduler" });
  await addService(db, { host: "ctl", binary: "nova-osapi_compute" });
  const mk = async (name: string, az: string, host: string) => {
    const a = await c.req("POST", "/v2.1/os-aggregates", {
      token: c.admin,
      body: { aggregate: { name, availability_zone: az } },
    });
    await c.req("POST", `/v2.1/os-aggregates/${a.body.aggregate.id}/action`, {
      token: c.admin,
      body: { add_host: { host } },
    });
  };
  await mk("a-east", "east", "z2");
  await mk("a-off", "offline", "z3");
  // A zone without hosts is no zone at all.
  await c.req("POST", "/v2.1/os-aggregates", {
    token: c.admin,
    body: { aggregate: { name: "empty", availability_zone: "ghost" } },
  });
});
after(() => c.close());

test("summary: available and unavailable zones, internal hidden, for any user", async () => {
  for (const token of [c.admin, c.demo]) {
    const r = await c.req("GET", "/v2.1/os-availability-zone", { token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.availabilityZoneInfo, [
      { zoneName: "east", zoneState: { available: true }, hosts: null },
      { zoneName: "nova", zoneState: { available: true }, hosts: null },
      { zoneName: "offline", zoneState: { available: false }, hosts: null },
    ]);
  }
});

test("detail: hosts and services per zone, for admins only", async () => {
  const r = await c.req("GET", "/v2.1/os-availability-zone/detail", { token: c.admin });
  assert.equal(r.status, 200);
  const zones = r.body.availabilityZoneInfo;
  assert.deepEqual(
    zones.map((z: any) => [z.zoneName, z.zoneState.available]),
    [
      ["east", true],
      ["internal", true],
      ["nova", true],
      ["offline", false],
    ],
  );
  const [east, internal, nova, offline] = zones;
  assert.deepEqual(Object.keys(east.hosts), ["z2"]);
  assert.equal(east.hosts.z2["nova-compute"].available, false);
  assert.equal(east.hosts.z2["nova-compute"].active, true);
  assert.deepEqual(Object.keys(internal.hosts.ctl).sort(), ["nova-conductor", "nova-scheduler"]);
  assert.match(internal.hosts.ctl["nova-conductor"].updated_at, /^2024-05-06T07:08:09\.000000$|^\d{4}-/);
  assert.deepEqual(nova.hosts, { z1: { "nova-compute": nova.hosts.z1["nova-compute"] } });
  assert.equal(nova.hosts.z1["nova-compute"].available, true);
  assert.equal(offline.hosts, null);
  assert.equal((await c.req("GET", "/v2.1/os-availability-zone/detail", { token: c.demo })).status, 403);
});
