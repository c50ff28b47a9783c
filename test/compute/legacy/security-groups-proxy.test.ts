// Nova's os-security-groups proxy over the network service, in process: groups and ingress rules in Nova's format,
// creates, updates and deletes that the network API then shows, Nova's errors for Neutron's refusals, 404 from
// 2.36, and a server's groups and add/removeSecurityGroup acting on the server's ports.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

let c: ComputeCloud;
before(async () => {
  c = await bootCompute();
});
after(() => c?.close());

/** A request to the network API as the demo user. */
async function net(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await c.t.cloud.app.inject({
    method: method as "GET",
    url: `/networking/v2.0${path}`,
    headers: { "x-auth-token": c.demo, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined };
}

test("groups and rules through Nova's proxy are the network service's", async () => {
  const list = await c.req("GET", "/v2.1/os-security-groups", { token: c.demo });
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.security_groups.map((g: any) => g.name),
    ["default"],
  );
  const def = list.body.security_groups[0];
  // Only ingress rules, from the group itself, in Nova's shape.
  assert.equal(def.rules.length, 2);
  assert.deepEqual(def.rules[0].group, { name: "default", tenant_id: def.tenant_id });
  assert.deepEqual(def.rules[0].ip_range, {});
  const created = await c.req("POST", "/v2.1/os-security-groups", {
    token: c.demo,
    body: { security_group: { name: "web", description: "w" } },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const g = created.body.security_group;
  assert.equal(g.name, "web");
  assert.deepEqual(g.rules, []);
  const rule = await c.req("POST", "/v2.1/os-security-group-rules", {
    token: c.demo,
    body: {
      security_group_rule: {
        parent_group_id: g.id,
        ip_protocol: "tcp",
        from_port: 22,
        to_port: 22,
        cidr: "10.0.0.0/8",
      },
    },
  });
  assert.equal(rule.status, 200, JSON.stringify(rule.body));
  assert.equal(rule.body.security_group_rule.from_port, 22);
  assert.deepEqual(rule.body.security_group_rule.ip_range, { cidr: "10.0.0.0/8" });
  const icmp = await c.req("POST", "/v2.1/os-security-group-rules", {
    token: c.demo,
    body: {
      security_group_rule: {
        parent_group_id: g.id,
        ip_protocol: "icmp",
        from_port: -1,
        to_port: -1,
        group_id: def.id,
      },
    },
  });
  assert.equal(icmp.status, 200, JSON.stringify(icmp.body));
  assert.equal(icmp.body.security_group_rule.from_port, -1);
  assert.deepEqual(icmp.body.security_group_rule.group, { name: "default", tenant_id: def.tenant_id });
  const dup = await c.req("POST", "/v2.1/os-security-group-rules", {
    token: c.demo,
    body: {
      security_group_rule: {
        parent_group_id: g.id,
        ip_protocol: "tcp",
        from_port: 22,
        to_port: 22,
        cidr: "10.0.0.0/8",
      },
    },
  });
  assert.equal(dup.status, 400);
  assert.match(dup.body.badRequest.message, /already exists/);
  const badPorts = await c.req("POST", "/v2.1/os-security-group-rules", {
    token: c.demo,
    body: { security_group_rule: { parent_group_id: g.id, ip_protocol: "tcp", from_port: 30, to_port: 20 } },
  });
  assert.equal(badPorts.status, 400);
  // The network API sees what the proxy made, and the proxy sees Neutron's changes.
  const seen = await net("GET", `/security-groups/${g.id}`);
  assert.equal(seen.status, 200);
  assert.ok(
    seen.body.security_group.security_group_rules.some((r: any) => r.id === rule.body.security_group_rule.id),
  );
  const upd = await c.req("PUT", `/v2.1/os-security-groups/${g.id}`, {
    token: c.demo,
    body: { security_group: { name: "web2", description: "x" } },
  });
  assert.equal(upd.status, 200, JSON.stringify(upd.body));
  assert.equal((await net("GET", `/security-groups/${g.id}`)).body.security_group.name, "web2");
  const shown = await c.req("GET", `/v2.1/os-security-groups/${g.id}`, { token: c.demo });
  assert.equal(shown.body.security_group.rules.length, 2);
  assert.equal(
    (await c.req("GET", `/v2.1/os-security-groups/${g.id}`, { token: c.demo, mv: "2.36" })).status,
    404,
  );
  assert.equal(
    (
      await c.req("DELETE", `/v2.1/os-security-group-rules/${rule.body.security_group_rule.id}`, {
        token: c.demo,
      })
    ).status,
    202,
  );
  assert.equal((await net("GET", `/security-group-rules/${rule.body.security_group_rule.id}`)).status, 404);
  const delDefault = await c.req("DELETE", `/v2.1/os-security-groups/${def.id}`, { token: c.demo });
  assert.equal(delDefault.status, 400);
  assert.equal((await c.req("DELETE", `/v2.1/os-security-groups/${g.id}`, { token: c.demo })).status, 202);
  assert.equal((await c.req("GET", `/v2.1/os-security-groups/${g.id}`, { token: c.demo })).status, 404);
  // A blank id is 404 as in Nova (tempest's test_delete_security_group_without_passing_id), not the 405 of the
  // collection without the slash.
  assert.equal((await c.req("DELETE", "/v2.1/os-security-groups/", { token: c.demo })).status, 404);
});

test("a server's groups are its ports'; add and remove change its ports", async () => {
  const server = await c.createServer(c.demo, { name: "sgp" });
  await c.waitStatus(c.demo, server, "ACTIVE");
  const n = (await net("POST", "/networks", { network: { name: "sgp" } })).body.network;
  await net("POST", "/subnets", { subnet: { network_id: n.id, ip_version: 4, cidr: "10.77.0.0/24" } });
  const port = await net("POST", "/ports", {
    port: { network_id: n.id, device_id: server, device_owner: "compute:nova" },
  });
  assert.equal(port.status, 201);
  const g = (await net("POST", "/security-groups", { security_group: { name: "app" } })).body.security_group;
  const act = (body: unknown) => c.req("POST", `/v2.1/servers/${server}/action`, { token: c.demo, body });
  const groups = async () =>
    (await c.req("GET", `/v2.1/servers/${server}/os-security-groups`, { token: c.demo })).body.security_groups
      .map((x: any) => x.name)
      .sort();
  // Server show lists them too (tempest's test_minimum_basic waits for an added group to appear there).
  const shown = async () =>
    (await c.req("GET", `/v2.1/servers/${server}`, { token: c.demo })).body.server.security_groups
      .map((x: any) => x.name)
      .sort();
  assert.deepEqual(await groups(), ["default"]);
  assert.equal((await act({ addSecurityGroup: { name: "app" } })).status, 202);
  assert.deepEqual(await groups(), ["app", "default"]);
  assert.deepEqual(await shown(), ["app", "default"]);
  assert.deepEqual(
    (await net("GET", `/ports/${port.body.port.id}`)).body.port.security_groups.includes(g.id),
    true,
  );
  assert.equal((await act({ removeSecurityGroup: { name: "default" } })).status, 202);
  assert.deepEqual(await groups(), ["app"]);
  assert.deepEqual(await shown(), ["app"]);
  assert.equal((await act({ removeSecurityGroup: { name: "default" } })).status, 400);
  assert.equal((await act({ addSecurityGroup: { name: "nope" } })).status, 404);
});
