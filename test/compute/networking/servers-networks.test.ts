// Server create's networks through the network service (noop driver, fake compute): auto, none, a network, a
// port, a fixed IP and the pre-2.37 default; addresses from the network info cache; ports freed on delete and on
// a failed build, the user's own port only unbound.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";
import { netRequest } from "./net-request.js";
import type { Res } from "../../helpers/cloud.js";
import type { FakeDriver, FakeDriverOptions } from "../../../src/compute/drivers/fake.js";

let c: ComputeCloud;
let privateNet = "";
let publicNet = "";

const net = (method: string, path: string, token: string, body?: unknown): Promise<Res> =>
  netRequest(c, method, path, token, body);

/** Ports whose device_id is the server. */
const portsOf = async (server: string) =>
  (await net("GET", `/ports?device_id=${server}`, c.admin)).body.ports;

/** The host a server runs on (an admin-only attribute). */
const hostOf = async (server: string) =>
  (await c.req("GET", `/v2.1/servers/${server}`, { token: c.admin })).body.server["OS-EXT-SRV-ATTR:host"];

/** An address of the private subnet (10.0.0.0/26) no port holds now (the pools hand out addresses at random). */
const freeIp = async () => {
  const ports = (await net("GET", `/ports?network_id=${privateNet}`, c.admin)).body.ports;
  const used = new Set(
    ports.flatMap((p: { fixed_ips: Array<{ ip_address: string }> }) => p.fixed_ips.map((f) => f.ip_address)),
  );
  for (let i = 60; i > 2; i--) if (!used.has(`10.0.0.${i}`)) return `10.0.0.${i}`;
  throw new Error("no free address on private");
};

const create = (server: Record<string, unknown>, mv = "2.37", token = c.demo) =>
  c.req("POST", "/v2.1/servers", {
    token,
    mv,
    body: { server: { name: "netvm", imageRef: c.imageId, flavorRef: "42", ...server } },
  });

before(async () => {
  c = await bootCompute({ compute: { hosts: 2 } });
  const nets = (await net("GET", "/networks", c.admin)).body.networks as Array<{ id: string; name: string }>;
  privateNet = nets.find((n) => n.name === "private")!.id;
  publicNet = nets.find((n) => n.name === "public")!.id;
});
after(() => c?.close());

test("networks auto: a port on the project's only network, shown in addresses, deleted with the server", async () => {
  const r = await create({ networks: "auto" });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  const ports = await portsOf(id);
  assert.equal(ports.length, 1);
  const p = ports[0];
  assert.equal(p.network_id, privateNet);
  assert.equal(p.device_owner, "compute:nova");
  assert.equal(p["binding:host_id"], await hostOf(id));
  assert.deepEqual(s.addresses, {
    private: [
      {
        addr: p.fixed_ips[0].ip_address,
        version: 4,
        "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": p.mac_address,
      },
    ],
  });
  // The driver got the port: its MAC, MTU and Neutron's tap name, for a data plane to plug.
  const agent = c.t.cloud.computeControl.agents.find((a) => a.host === p["binding:host_id"])!;
  const vifs = (agent.deps.driver as FakeDriver).interfacesOf(id);
  assert.deepEqual(
    vifs.map((v) => [v.id, v.address, v.devName, typeof v.mtu]),
    [[p.id, p.mac_address, `tap${p.id.slice(0, 11)}`, "number"]],
  );
  const ips = await c.req("GET", `/v2.1/servers/${id}/ips/private`, { token: c.demo });
  assert.equal(ips.body.private[0].addr, p.fixed_ips[0].ip_address);
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
  assert.equal((await net("GET", `/ports/${p.id}`, c.admin)).status, 404);
});

test("update and rebuild answer plain addresses before 2.75 (no OS-EXT-IPS keys), show's from 2.75", async () => {
  const r = await create({ networks: "auto" });
  const id = r.body.server.id;
  await c.waitStatus(c.demo, id, "ACTIVE");
  const ip = (await portsOf(id))[0].fixed_ips[0].ip_address;
  const put = (mv: string) =>
    c.req("PUT", `/v2.1/servers/${id}`, { token: c.demo, mv, body: { server: { name: `n${mv}` } } });
  assert.deepEqual((await put("2.1")).body.server.addresses, { private: [{ addr: ip, version: 4 }] });
  const rebuilt = await c.req("POST", `/v2.1/servers/${id}/action`, {
    token: c.demo,
    body: { rebuild: { imageRef: c.imageId } },
  });
  assert.equal(rebuilt.status, 202, rebuilt.text);
  assert.deepEqual(rebuilt.body.server.addresses, { private: [{ addr: ip, version: 4 }] });
  await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal((await put("2.75")).body.server.addresses.private[0]["OS-EXT-IPS:type"], "fixed");
  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
});

test("networks none: no port, no addresses", async () => {
  const r = await create({ networks: "none" });
  const s = await c.waitStatus(c.demo, r.body.server.id, "ACTIVE");
  assert.deepEqual(s.addresses, {});
  assert.deepEqual(await portsOf(s.id), []);
});

test("before 2.37 no networks means the project's only network", async () => {
  const r = await create({}, "2.1");
  assert.equal(r.status, 202, r.text);
  const s = await c.waitStatus(c.demo, r.body.server.id, "ACTIVE");
  assert.deepEqual(Object.keys(s.addresses), ["private"]);
});

test("an explicit network with a fixed IP gets that address; a taken or malformed one is refused", async () => {
  const ip = await freeIp();
  const r = await create({ networks: [{ uuid: privateNet, fixed_ip: ip }] });
  assert.equal(r.status, 202, r.text);
  const s = await c.waitStatus(c.demo, r.body.server.id, "ACTIVE");
  assert.equal(s.addresses.private[0].addr, ip);
  const again = await create({ networks: [{ uuid: privateNet, fixed_ip: ip }] });
  assert.equal(again.status, 400);
  assert.match(again.body.badRequest.message, /already in use/);
  assert.equal((await create({ networks: [{ uuid: privateNet, fixed_ip: "10.0.0.x" }] })).status, 400);
  const unknown = await create({ networks: [{ uuid: "8f9bd4f2-3a5c-4b5e-9d61-2f1a0d5e7c11" }] });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.badRequest.message, /Network .* could not be found/);
});

test("another project's network is not found; an external one is forbidden to non-admins", async () => {
  const r = await create({ networks: [{ uuid: publicNet }] });
  assert.equal(r.status, 403, r.text);
  assert.match(r.body.forbidden.message, /not allowed to create an interface on external network/);
  const theirs = await net("POST", "/networks", c.admin, { network: { name: "admins-own" } });
  assert.equal(theirs.status, 201, theirs.text);
  const hidden = await create({ networks: [{ uuid: theirs.body.network.id }] });
  assert.equal(hidden.status, 400);
  assert.match(hidden.body.badRequest.message, /could not be found/);
  await net("DELETE", `/networks/${theirs.body.network.id}`, c.admin);
});

test("a user's port is bound to the server and only unbound when the server goes", async () => {
  const made = await net("POST", "/ports", c.demo, { port: { network_id: privateNet, name: "mine" } });
  assert.equal(made.status, 201, made.text);
  const port = made.body.port;
  const r = await create({ networks: [{ port: port.id }] });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(s.addresses.private[0]["OS-EXT-IPS-MAC:mac_addr"], port.mac_address);
  const bound = (await net("GET", `/ports/${port.id}`, c.admin)).body.port;
  assert.equal(bound.device_id, id);
  assert.equal(bound["binding:host_id"], await hostOf(id));
  const busy = await create({ networks: [{ port: port.id }] });
  assert.equal(busy.status, 409);
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
  const left = await net("GET", `/ports/${port.id}`, c.admin);
  assert.equal(left.status, 200);
  assert.equal(left.body.port.device_id, "");
  assert.equal(left.body.port["binding:host_id"], "");
});

test("several usable networks without a choice are ambiguous (409); with none, auto is a 400", async () => {
  const extra = await net("POST", "/networks", c.demo, { network: { name: "second" } });
  assert.equal(extra.status, 201, extra.text);
  const r = await create({ networks: "auto" });
  assert.equal(r.status, 409);
  assert.match(r.body.conflictingRequest.message, /Multiple possible networks found/);
  assert.equal((await create({}, "2.1")).status, 409);
  await net("DELETE", `/networks/${extra.body.network.id}`, c.demo);
  const p = await c.t.createProject("netless");
  await c.t.createUser("netless-user", "pw", { default_project_id: p.id });
  await c.req("PUT", `/v2.1/os-quota-sets/${p.id}`, {
    token: c.admin,
    body: { quota_set: { instances: 5 } },
  });
  const member = await c.t.roleId("member");
  const uid = await c.t.userId("netless-user");
  await c.t.req("PUT", `/identity/v3/projects/${p.id}/users/${uid}/roles/${member}`, { token: c.admin });
  const tok = await c.t.token("netless-user", "pw", "netless");
  const auto = await create({ networks: "auto" }, "2.37", tok);
  assert.equal(auto.status, 400);
  assert.match(auto.body.badRequest.message, /Unable to automatically allocate a network/);
  const legacy = await create({}, "2.1", tok);
  assert.equal(legacy.status, 202, legacy.text);
  const s = await c.waitStatus(tok, legacy.body.server.id, "ACTIVE");
  assert.deepEqual(s.addresses, {});
});

test("a build that fails on every host frees the ports made for it and unbinds the user's", async () => {
  const drivers = c.t.cloud.computeControl.agents.map(
    (a) => a.deps.driver as unknown as { opts: FakeDriverOptions },
  );
  for (const d of drivers) d.opts.failSpawnFor = (spec) => spec.name === "doomed";
  try {
    const mine = (await net("POST", "/ports", c.demo, { port: { network_id: privateNet } })).body.port;
    const r = await create({ name: "doomed", networks: [{ uuid: privateNet }, { port: mine.id }] });
    assert.equal(r.status, 202, r.text);
    const s = await c.waitStatus(c.demo, r.body.server.id, "ERROR");
    assert.deepEqual(s.addresses, {});
    assert.deepEqual(await portsOf(s.id), []);
    const left = (await net("GET", `/ports/${mine.id}`, c.admin)).body.port;
    assert.equal(left.device_id, "");
  } finally {
    for (const d of drivers) delete d.opts.failSpawnFor;
  }
});

test("os-interface: attach a network and a user's port (hot-plugged), list, show, detach", async () => {
  const r = await create({ networks: "none" });
  const id = r.body.server.id;
  await c.waitStatus(c.demo, id, "ACTIVE");
  const base = `/v2.1/servers/${id}/os-interface`;
  const added = await c.req("POST", base, {
    token: c.demo,
    body: { interfaceAttachment: { net_id: privateNet } },
  });
  assert.equal(added.status, 200, added.text);
  const made = added.body.interfaceAttachment;
  assert.equal(made.net_id, privateNet);
  const mine = (await net("POST", "/ports", c.demo, { port: { network_id: privateNet } })).body.port;
  const bound = await c.req("POST", base, {
    token: c.demo,
    mv: "2.70",
    body: { interfaceAttachment: { port_id: mine.id, tag: "data" } },
  });
  assert.equal(bound.status, 200, bound.text);
  assert.equal(bound.body.interfaceAttachment.tag, "data");
  const host = await hostOf(id);
  const driver = c.t.cloud.computeControl.agents.find((a) => a.host === host)!.deps.driver as FakeDriver;
  assert.deepEqual(
    driver.interfacesOf(id).map((v) => v.id),
    [made.port_id, mine.id],
  );
  const list = await c.req("GET", base, { token: c.demo });
  assert.deepEqual(
    list.body.interfaceAttachments.map((a: { port_id: string }) => a.port_id).sort(),
    [made.port_id, mine.id].sort(),
  );
  const one = await c.req("GET", `${base}/${mine.id}`, { token: c.demo });
  assert.equal(one.body.interfaceAttachment.mac_addr, mine.mac_address);
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(s.addresses.private.length, 2);
  // Neither both a port and a network, nor an unknown network, nor a port in use.
  assert.equal(
    (
      await c.req("POST", base, {
        token: c.demo,
        body: { interfaceAttachment: { net_id: privateNet, port_id: mine.id } },
      })
    ).status,
    400,
  );
  assert.equal(
    (
      await c.req("POST", base, {
        token: c.demo,
        body: { interfaceAttachment: { net_id: "2b7c3c1e-0f52-4c55-9a3e-6e1d0c4b9a77" } },
      })
    ).status,
    404,
  );
  assert.equal(
    (await c.req("POST", base, { token: c.demo, body: { interfaceAttachment: { port_id: mine.id } } }))
      .status,
    409,
  );
  // Detach: the made port is deleted, the user's only unbound.
  assert.equal((await c.req("DELETE", `${base}/${made.port_id}`, { token: c.demo })).status, 202);
  assert.equal((await c.req("DELETE", `${base}/${mine.id}`, { token: c.demo })).status, 202);
  assert.equal((await c.req("DELETE", `${base}/${mine.id}`, { token: c.demo })).status, 404);
  assert.deepEqual(driver.interfacesOf(id), []);
  assert.equal((await net("GET", `/ports/${made.port_id}`, c.admin)).status, 404);
  assert.equal((await net("GET", `/ports/${mine.id}`, c.admin)).body.port.device_id, "");
  const after = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.deepEqual(after.addresses, {});
});

test("network-changed: the cache (and addresses) is read again from the network service", async () => {
  const r = await create({ networks: [{ uuid: privateNet }] });
  const id = r.body.server.id;
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  const [port] = await portsOf(id);
  const ip = await freeIp();
  const moved = await net("PUT", `/ports/${port.id}`, c.admin, {
    port: { fixed_ips: [{ ip_address: ip }] },
  });
  assert.equal(moved.status, 200, moved.text);
  assert.notEqual(s.addresses.private[0].addr, ip);
  const ev = await c.req("POST", "/v2.1/os-server-external-events", {
    token: c.admin,
    body: { events: [{ name: "network-changed", server_uuid: id, tag: port.id }] },
  });
  assert.equal(ev.status, 200, ev.text);
  const after = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.deepEqual(
    after.addresses.private.map((a: { addr: string }) => a.addr),
    [ip],
  );
  // Still compute's port: deleting the server deletes it.
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
  assert.equal((await net("GET", `/ports/${port.id}`, c.admin)).status, 404);
});

test("security_groups by name or id reach the ports; unknown is a 400, a shared name a 409", async () => {
  const mk = async (name: string) => {
    const r = await net("POST", "/security-groups", c.demo, { security_group: { name } });
    assert.equal(r.status, 201, r.text);
    return r.body.security_group.id as string;
  };
  const web = await mk("web");
  const db = await mk("db");
  const r = await create({ networks: "auto", security_groups: [{ name: "web" }, { name: db }] });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(r.body.server.security_groups, [{ name: "web" }, { name: "db" }]);
  const id = r.body.server.id;
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.deepEqual(s.security_groups, [{ name: "web" }, { name: "db" }]);
  const [p] = await portsOf(id);
  assert.deepEqual([...p.security_groups].sort(), [web, db].sort());
  // The implicit default: the network service gives the port the project's default group.
  const d = await create({ networks: "auto" });
  assert.equal(d.status, 202, d.text);
  await c.waitStatus(c.demo, d.body.server.id, "ACTIVE");
  const [dp] = await portsOf(d.body.server.id);
  const groups = (await net("GET", `/security-groups?name=default`, c.demo)).body.security_groups;
  assert.deepEqual(dp.security_groups, [groups[0].id]);
  const unknown = await create({ networks: "auto", security_groups: [{ name: "nope" }] });
  assert.equal(unknown.status, 400, unknown.text);
  assert.match(unknown.body.badRequest.message, /Unable to find security_group with name or id 'nope'/);
  await mk("web");
  const twice = await create({ networks: "auto", security_groups: [{ name: "web" }] });
  assert.equal(twice.status, 409, twice.text);
  // Another project's group is not found by the caller.
  const adminGroup = (
    await net("POST", "/security-groups", c.admin, { security_group: { name: "admins-only" } })
  ).body.security_group.id;
  const foreign = await create({ networks: "auto", security_groups: [{ name: adminGroup }] });
  assert.equal(foreign.status, 400, foreign.text);
  for (const srv of [id, d.body.server.id])
    assert.equal((await c.req("DELETE", `/v2.1/servers/${srv}`, { token: c.demo })).status, 204);
});
