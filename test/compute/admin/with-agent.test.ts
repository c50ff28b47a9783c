// The operator APIs over what a real in-process compute agent and the control plane register: services,
// the hypervisor, placement mirroring of aggregates, and a server's actions, usage and host.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";
import { placementReq } from "./fixtures.js";

let c: ComputeCloud;
before(async () => {
  c = await bootCompute();
});
after(() => c.close());

test("services and hypervisor of the agent; aggregates mirrored into its placement provider", async () => {
  const services = (await c.req("GET", "/v2.1/os-services", { token: c.admin, mv: "2.53" })).body.services;
  const compute = services.find((s: any) => s.binary === "nova-compute" && s.host === "compute1");
  assert.deepEqual([compute.state, compute.status, compute.zone], ["up", "enabled", "nova"]);
  for (const s of services.filter((x: any) => x.binary !== "nova-compute")) assert.equal(s.zone, "internal");

  const hv = (await c.req("GET", "/v2.1/os-hypervisors/detail", { token: c.admin, mv: "2.53" })).body
    .hypervisors;
  const node = hv.find((h: any) => h.service.host === "compute1");
  assert.equal(node.state, "up");

  const agg = (
    await c.req("POST", "/v2.1/os-aggregates", {
      token: c.admin,
      mv: "2.41",
      body: { aggregate: { name: "rack", availability_zone: "az-rack" } },
    })
  ).body.aggregate;
  const add = await c.req("POST", `/v2.1/os-aggregates/${agg.id}/action`, {
    token: c.admin,
    body: { add_host: { host: "compute1" } },
  });
  assert.equal(add.status, 200);
  const aggs = await placementReq(c, "GET", `/resource_providers/${node.id}/aggregates`);
  assert.deepEqual(aggs.body.aggregates, [agg.uuid]);
  const zones = (await c.req("GET", "/v2.1/os-availability-zone", { token: c.demo })).body
    .availabilityZoneInfo;
  assert.ok(zones.some((z: any) => z.zoneName === "az-rack" && z.zoneState.available));
  await c.req("POST", `/v2.1/os-aggregates/${agg.id}/action`, {
    token: c.admin,
    body: { remove_host: { host: "compute1" } },
  });
  assert.deepEqual(
    (await placementReq(c, "GET", `/resource_providers/${node.id}/aggregates`)).body.aggregates,
    [],
  );
  await c.req("DELETE", `/v2.1/os-aggregates/${agg.id}`, { token: c.admin });
});

test("a server: its actions, its hypervisor, its usage; its host cannot be deleted", async () => {
  const id = await c.createServer(c.demo);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const actions = await c.req("GET", `/v2.1/servers/${id}/os-instance-actions`, { token: c.demo });
  const create = actions.body.instanceActions.find((a: any) => a.action === "create");
  assert.ok(create);
  const shown = await c.req("GET", `/v2.1/servers/${id}/os-instance-actions/${create.request_id}`, {
    token: c.admin,
    mv: "2.62",
  });
  assert.ok(shown.body.instanceAction.events.length > 0);
  const hv = await c.req("GET", "/v2.1/os-hypervisors?with_servers=true", { token: c.admin, mv: "2.53" });
  assert.ok(hv.body.hypervisors.some((h: any) => (h.servers ?? []).some((s: any) => s.uuid === id)));
  const project = await c.t.projectId("demo");
  const usage = await c.req("GET", `/v2.1/os-simple-tenant-usage/${project}`, { token: c.demo });
  assert.ok(usage.body.tenant_usage.server_usages.some((u: any) => u.instance_id === id));
  const svc = (await c.req("GET", "/v2.1/os-services?binary=nova-compute", { token: c.admin, mv: "2.53" }))
    .body.services[0];
  const del = await c.req("DELETE", `/v2.1/os-services/${svc.id}`, { token: c.admin, mv: "2.53" });
  assert.equal(del.status, 409);
});
