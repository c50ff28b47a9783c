// Nova's network proxy APIs with no network service (issue 8 item 15): to 2.35 empty lists in Nova's shape (so the
// CLI's nova-network fallback prints empty tables), 404 for any one item, a clear error for creates, 410 for the
// nova-network-only calls, and 404 from 2.36 as in Nova. A server's security groups and its actions stay. Security
// groups come from the network service now (security-groups-proxy.test.ts); unknown ones are still 404 here.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

let c: ComputeCloud;
let server = "";
before(async () => {
  c = await bootCompute();
  server = await c.createServer(c.demo, { name: "sg" });
  await c.waitStatus(c.demo, server, "ACTIVE");
});
after(() => c?.close());

const ID = "9b8a5c2e-0d3f-4b7a-9d51-5a8e4c3f2b10";

test("lists are empty in Nova's shape up to 2.35 and 404 from 2.36", async () => {
  const lists: Array<[string, string]> = [
    ["/v2.1/os-networks", "networks"],
    ["/v2.1/os-tenant-networks", "networks"],
    ["/v2.1/os-floating-ips", "floating_ips"],
    ["/v2.1/os-floating-ip-pools", "floating_ip_pools"],
  ];
  for (const [path, key] of lists) {
    const r = await c.req("GET", path, { token: c.demo });
    assert.equal(r.status, 200, path);
    assert.deepEqual(r.body, { [key]: [] }, path);
    assert.equal((await c.req("GET", path, { token: c.demo, mv: "2.35" })).status, 200, path);
    const gone = await c.req("GET", path, { token: c.demo, mv: "2.36" });
    assert.equal(gone.status, 404, path);
    assert.equal(gone.body.itemNotFound.message, "The resource could not be found.");
  }
  assert.equal((await c.req("GET", "/v2.1/os-networks")).status, 401);
});

test("one item is 404 as Nova says it; creates in unknown groups or pools are 404; nova-network-only calls are 410", async () => {
  const show = async (path: string, message: string) => {
    const r = await c.req("GET", path, { token: c.demo });
    assert.equal(r.status, 404, path);
    assert.equal(r.body.itemNotFound.message, message);
  };
  await show(`/v2.1/os-networks/${ID}`, "Network not found");
  await show(`/v2.1/os-tenant-networks/${ID}`, "Network not found");
  await show(`/v2.1/os-security-groups/${ID}`, `Security group ${ID} not found.`);
  await show("/v2.1/os-floating-ips/7", "Floating IP not found for ID 7");
  const badSg = await c.req("POST", "/v2.1/os-security-groups", { token: c.demo, body: { nope: 1 } });
  assert.equal(badSg.status, 400);
  const rule = await c.req("POST", "/v2.1/os-security-group-rules", {
    token: c.demo,
    body: { security_group_rule: { parent_group_id: ID, ip_protocol: "tcp", from_port: 22, to_port: 22 } },
  });
  assert.equal(rule.status, 404);
  assert.equal(rule.body.itemNotFound.message, `Security group ${ID} not found.`);
  const fip = await c.req("POST", "/v2.1/os-floating-ips", { token: c.demo, body: { pool: "public" } });
  assert.equal(fip.status, 404);
  assert.equal(fip.body.itemNotFound.message, "Floating IP pool not found.");
  assert.equal((await c.req("DELETE", "/v2.1/os-floating-ips/7", { token: c.demo })).status, 404);
  for (const [method, path] of [
    ["POST", "/v2.1/os-networks"],
    ["DELETE", `/v2.1/os-networks/${ID}`],
    ["POST", "/v2.1/os-networks/add"],
    ["POST", "/v2.1/os-tenant-networks"],
    ["GET", "/v2.1/os-security-group-default-rules"],
    ["POST", "/v2.1/os-floating-ips-bulk"],
  ]) {
    const r = await c.req(method, path, { token: c.admin, body: method === "POST" ? {} : undefined });
    assert.equal(r.status, 410, `${method} ${path}`);
    assert.equal(r.body.computeFault.code, 410);
  }
  assert.equal(
    (await c.req("POST", "/v2.1/os-networks", { token: c.admin, mv: "2.36", body: {} })).status,
    404,
  );
});

test("a server's security groups list empty; add/remove a group and floating IP actions find nothing", async () => {
  const list = await c.req("GET", `/v2.1/servers/${server}/os-security-groups`, {
    token: c.demo,
    mv: "2.90",
  });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body, { security_groups: [] });
  const act = (body: unknown, mv = "2.1") =>
    c.req("POST", `/v2.1/servers/${server}/action`, { token: c.demo, mv, body });
  const add = await act({ addSecurityGroup: { name: "web" } }, "2.90");
  assert.equal(add.status, 404);
  assert.equal(add.body.itemNotFound.message, "Security group web not found.");
  assert.equal((await act({ removeSecurityGroup: { name: "default" } })).status, 404);
  assert.equal((await act({ addSecurityGroup: {} })).status, 400);
  const fip = await act({ addFloatingIp: { address: "203.0.113.5" } });
  assert.equal(fip.status, 400);
  assert.equal(fip.body.badRequest.message, "Instance network is not ready yet");
  assert.equal((await act({ removeFloatingIp: { address: "203.0.113.5" } })).status, 404);
  assert.equal((await act({ addFloatingIp: { address: "203.0.113.5" } }, "2.44")).status, 404);
});
