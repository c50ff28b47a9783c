// Nova's network proxy APIs over the network service (issue 10), in process: os-networks and os-tenant-networks
// list and show the networks the caller sees in Nova's Neutron-mode shape, floating IP pools are the external
// networks, floating IPs are allocated, shown, listed and released through Neutron, addFloatingIp and
// removeFloatingIp point them at a server's fixed IP, the nova-network-only calls are 410, everything is 404 from
// 2.36 (the actions from 2.44), a server without ports answers the security group actions as Nova does, and
// /servers/{id}/ips shows version and addr only.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

let c: ComputeCloud;
let portless = "";
let wired = "";
let privateNet = "";
let publicNet = "";

/** A request to the network API as the admin. */
async function net(path: string): Promise<any> {
  const r = await c.t.cloud.app.inject({
    method: "GET",
    url: `/networking/v2.0${path}`,
    headers: { "x-auth-token": c.admin },
  });
  return JSON.parse(r.payload);
}

before(async () => {
  c = await bootCompute();
  portless = await c.createServer(c.demo, { name: "portless" });
  wired = await c.createServer(c.demo, { name: "wired", networks: "auto" });
  await c.waitStatus(c.demo, portless, "ACTIVE");
  await c.waitStatus(c.demo, wired, "ACTIVE");
  const nets = (await net("/networks")).networks as Array<{ id: string; name: string }>;
  privateNet = nets.find((n) => n.name === "private")!.id;
  publicNet = nets.find((n) => n.name === "public")!.id;
});
after(() => c?.close());

const ID = "9b8a5c2e-0d3f-4b7a-9d51-5a8e4c3f2b10";
const act = (server: string, body: unknown, mv = "2.1") =>
  c.req("POST", `/v2.1/servers/${server}/action`, { token: c.demo, mv, body });

test("os-networks lists and shows the caller's networks with id and label only, admins get the nova-network fields", async () => {
  const list = await c.req("GET", "/v2.1/os-networks", { token: c.demo });
  assert.equal(list.status, 200);
  const byLabel = new Map(list.body.networks.map((n: any) => [n.label, n]));
  assert.deepEqual([...byLabel.keys()].sort(), ["private", "public"]);
  const priv: any = byLabel.get("private");
  assert.equal(priv.id, privateNet);
  assert.equal(Object.keys(priv).length, 11);
  assert.equal(priv.cidr, null);
  assert.equal(priv.project_id, undefined);
  const show = await c.req("GET", `/v2.1/os-networks/${publicNet}`, { token: c.admin });
  assert.equal(show.status, 200);
  assert.equal(show.body.network.label, "public");
  assert.equal(Object.keys(show.body.network).length, 32);
  assert.equal(show.body.network.mtu, null);
  const missing = await c.req("GET", `/v2.1/os-networks/${ID}`, { token: c.demo });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.itemNotFound.message, "Network not found");
  assert.equal(
    (await c.req("GET", `/v2.1/os-networks/${publicNet}`, { token: c.demo, mv: "2.36" })).status,
    404,
  );
  assert.equal((await c.req("GET", "/v2.1/os-networks")).status, 401);
});

test('os-tenant-networks shows id, label and cidr "None" as Nova over Neutron, 404 from 2.36', async () => {
  const list = await c.req("GET", "/v2.1/os-tenant-networks", { token: c.demo, mv: "2.35" });
  assert.equal(list.status, 200);
  const priv = list.body.networks.find((n: any) => n.label === "private");
  assert.deepEqual(priv, { id: privateNet, cidr: "None", label: "private" });
  const show = await c.req("GET", `/v2.1/os-tenant-networks/${privateNet}`, { token: c.demo });
  assert.deepEqual(show.body, { network: { id: privateNet, cidr: "None", label: "private" } });
  const missing = await c.req("GET", `/v2.1/os-tenant-networks/${ID}`, { token: c.demo });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.itemNotFound.message, "Network not found");
  const gone = await c.req("GET", "/v2.1/os-tenant-networks", { token: c.demo, mv: "2.36" });
  assert.equal(gone.status, 404);
});

test("nova-network-only calls are 410 up to 2.35 and 404 after", async () => {
  for (const [method, path] of [
    ["POST", "/v2.1/os-networks"],
    ["DELETE", `/v2.1/os-networks/${ID}`],
    ["POST", "/v2.1/os-networks/add"],
    ["POST", `/v2.1/os-networks/${ID}/action`],
    ["POST", "/v2.1/os-tenant-networks"],
    ["DELETE", `/v2.1/os-tenant-networks/${ID}`],
    ["GET", "/v2.1/os-security-group-default-rules"],
    ["POST", "/v2.1/os-floating-ips-bulk"],
    ["GET", "/v2.1/os-fping"],
  ]) {
    const r = await c.req(method, path, { token: c.admin, body: method === "POST" ? {} : undefined });
    assert.equal(r.status, 410, `${method} ${path}`);
    assert.equal(r.body.computeFault.code, 410);
  }
  const late = await c.req("POST", "/v2.1/os-networks", { token: c.admin, mv: "2.36", body: {} });
  assert.equal(late.status, 404);
});

test("floating IP pools are the external networks", async () => {
  const r = await c.req("GET", "/v2.1/os-floating-ip-pools", { token: c.demo });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { floating_ip_pools: [{ name: "public" }] });
  assert.equal((await c.req("GET", "/v2.1/os-floating-ip-pools", { token: c.demo, mv: "2.36" })).status, 404);
});

test("a floating IP is allocated from a pool, listed, shown and released through the network service", async () => {
  const made = await c.req("POST", "/v2.1/os-floating-ips", { token: c.demo, body: { pool: "public" } });
  assert.equal(made.status, 200, made.text);
  const fip = made.body.floating_ip;
  assert.deepEqual(Object.keys(fip).sort(), ["fixed_ip", "id", "instance_id", "ip", "pool"]);
  assert.equal(fip.pool, "public");
  assert.equal(fip.fixed_ip, null);
  assert.equal(fip.instance_id, null);
  const inNeutron = (await net(`/floatingips/${fip.id}`)).floatingip;
  assert.equal(inNeutron.floating_ip_address, fip.ip);
  const list = await c.req("GET", "/v2.1/os-floating-ips", { token: c.demo });
  assert.deepEqual(
    list.body.floating_ips.filter((f: any) => f.id === fip.id),
    [fip],
  );
  assert.deepEqual((await c.req("GET", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo })).body, {
    floating_ip: fip,
  });
  // Another project does not see it.
  assert.equal((await c.req("GET", "/v2.1/os-floating-ips", { token: c.admin })).body.floating_ips.length, 0);
  const del = await c.req("DELETE", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo });
  assert.equal(del.status, 202);
  const after = await c.req("GET", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo });
  assert.equal(after.status, 404);
  assert.equal(after.body.itemNotFound.message, `Floating IP not found for ID ${fip.id}`);
  assert.equal((await c.req("DELETE", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo })).status, 404);
});

test("allocation refusals: an unknown pool is 404, a malformed one 400, the default pool is public, 404 from 2.36", async () => {
  const unknown = await c.req("POST", "/v2.1/os-floating-ips", { token: c.demo, body: { pool: "nope" } });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.itemNotFound.message, "Floating IP pool not found.");
  const bad = await c.req("POST", "/v2.1/os-floating-ips", { token: c.demo, body: { pool: 7 } });
  assert.equal(bad.status, 400);
  const dflt = await c.req("POST", "/v2.1/os-floating-ips", { token: c.demo });
  assert.equal(dflt.status, 200, dflt.text);
  assert.equal(dflt.body.floating_ip.pool, "public");
  await c.req("DELETE", `/v2.1/os-floating-ips/${dflt.body.floating_ip.id}`, { token: c.demo });
  const late = await c.req("POST", "/v2.1/os-floating-ips", {
    token: c.demo,
    mv: "2.36",
    body: { pool: "public" },
  });
  assert.equal(late.status, 404);
});

test("addFloatingIp and removeFloatingIp point a floating IP at the server's fixed IP and back", async () => {
  const fip = (await c.req("POST", "/v2.1/os-floating-ips", { token: c.demo, body: { pool: publicNet } }))
    .body.floating_ip;
  const add = await act(wired, { addFloatingIp: { address: fip.ip } });
  assert.equal(add.status, 202, add.text);
  const shown = (await c.req("GET", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo })).body.floating_ip;
  assert.equal(shown.instance_id, wired);
  const server = (await c.req("GET", `/v2.1/servers/${wired}`, { token: c.demo })).body.server;
  const addrs = server.addresses.private;
  assert.equal(shown.fixed_ip, addrs[0].addr);
  assert.deepEqual(
    addrs.filter((a: any) => a["OS-EXT-IPS:type"] === "floating").map((a: any) => a.addr),
    [fip.ip],
  );
  assert.equal((await act(wired, { removeFloatingIp: { address: fip.ip } })).status, 202);
  assert.equal(
    (await c.req("GET", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo })).body.floating_ip.instance_id,
    null,
  );
  const again = await act(wired, { removeFloatingIp: { address: fip.ip } });
  assert.equal(again.status, 409);
  assert.equal(
    again.body.conflictingRequest.message,
    `Floating IP ${fip.ip} is not associated with instance ${wired}.`,
  );
  const wrongFixed = await act(wired, { addFloatingIp: { address: fip.ip, fixed_address: "192.0.2.9" } });
  assert.equal(wrongFixed.status, 400);
  assert.equal(wrongFixed.body.badRequest.message, "Specified fixed address not assigned to instance");
  await c.req("DELETE", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo });
});

test("a floating IP moves to another server, and releasing an associated one clears the server's addresses", async () => {
  const other = await c.createServer(c.demo, { name: "other", networks: "auto" });
  await c.waitStatus(c.demo, other, "ACTIVE");
  const floatingOf = async (server: string) =>
    Object.values((await c.req("GET", `/v2.1/servers/${server}`, { token: c.demo })).body.server.addresses)
      .flat()
      .filter((a: any) => a["OS-EXT-IPS:type"] === "floating")
      .map((a: any) => a.addr);
  const fip = (await c.req("POST", "/v2.1/os-floating-ips", { token: c.demo, body: { pool: "public" } })).body
    .floating_ip;
  assert.equal((await act(wired, { addFloatingIp: { address: fip.ip } })).status, 202);
  assert.equal((await act(other, { addFloatingIp: { address: fip.ip } })).status, 202);
  assert.deepEqual(await floatingOf(wired), []);
  assert.deepEqual(await floatingOf(other), [fip.ip]);
  const shown = await c.req("GET", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo });
  assert.equal(shown.body.floating_ip.instance_id, other);
  assert.equal((await act(wired, { removeFloatingIp: { address: fip.ip } })).status, 409);
  assert.equal((await c.req("DELETE", `/v2.1/os-floating-ips/${fip.id}`, { token: c.demo })).status, 202);
  assert.deepEqual(await floatingOf(other), []);
  assert.equal((await c.req("DELETE", `/v2.1/servers/${other}`, { token: c.demo })).status, 204);
});

test("floating IP actions: Nova's refusals for a server without ports, an unknown address, and from 2.44", async () => {
  const noNet = await act(portless, { addFloatingIp: { address: "203.0.113.5" } });
  assert.equal(noNet.status, 400);
  assert.equal(noNet.body.badRequest.message, "Instance network is not ready yet");
  const unknown = await act(wired, { addFloatingIp: { address: "203.0.113.5" } });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.itemNotFound.message, "floating IP not found");
  assert.equal((await act(wired, { removeFloatingIp: { address: "203.0.113.5" } })).status, 404);
  assert.equal((await act(wired, { addFloatingIp: {} })).status, 400);
  assert.equal((await act(wired, { addFloatingIp: { address: "" } })).status, 400);
  assert.equal((await act(wired, { removeFloatingIp: { address: "not-an-ip" } })).status, 400);
  assert.equal((await act(wired, { addFloatingIp: { address: "203.0.113.5", extra: 1 } })).status, 400);
  assert.equal((await act(wired, { addFloatingIp: { address: "203.0.113.5" } }, "2.44")).status, 404);
});

test("a server without ports: no security groups, add and remove answer Nova's 404s", async () => {
  const list = await c.req("GET", `/v2.1/servers/${portless}/os-security-groups`, {
    token: c.demo,
    mv: "2.90",
  });
  assert.equal(list.status, 200);
  assert.deepEqual(list.body, { security_groups: [] });
  const add = await act(portless, { addSecurityGroup: { name: "default" } }, "2.90");
  assert.equal(add.status, 404);
  assert.equal(
    add.body.itemNotFound.message,
    `instance_id ${portless} could not be found as device id on any ports`,
  );
  assert.equal((await act(portless, { removeSecurityGroup: { name: "default" } })).status, 404);
  const unknown = await act(portless, { addSecurityGroup: { name: "web-none" } });
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.itemNotFound.message, /^Security group web-none is not found for project /);
  assert.equal((await act(portless, { addSecurityGroup: {} })).status, 400);
});

test("/servers/{id}/ips shows version and addr only, by network too", async () => {
  const all = await c.req("GET", `/v2.1/servers/${wired}/ips`, { token: c.demo });
  assert.equal(all.status, 200);
  assert.deepEqual(Object.keys(all.body.addresses), ["private"]);
  for (const a of all.body.addresses.private) assert.deepEqual(Object.keys(a).sort(), ["addr", "version"]);
  const one = await c.req("GET", `/v2.1/servers/${wired}/ips/private`, { token: c.demo });
  assert.deepEqual(one.body, { private: all.body.addresses.private });
  const none = await c.req("GET", `/v2.1/servers/${wired}/ips/public`, { token: c.demo });
  assert.equal(none.status, 404);
  assert.deepEqual((await c.req("GET", `/v2.1/servers/${portless}/ips`, { token: c.demo })).body, {
    addresses: {},
  });
});
