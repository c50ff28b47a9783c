// network-vif-plugged between the network and compute services (noop network driver, fake compute): a host
// waits for the events of its tap VIFs before it starts the guest (the network agent's ACTIVE tells compute
// through POST /os-server-external-events); a VIF not plugged in time fails the build (ERROR, ports freed, no
// reschedule) or, when not fatal, is only logged; moves bind the ports to the destination, whose agent plugs
// them; floating IPs appear in `addresses` once the network service says network-changed.
//
// The noop driver binds ports without a tap (vif_details has no tap_name): compute's network client is wrapped
// here to add the tap_name the linux driver gives, so that compute treats the VIFs as real taps.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { netRequest } from "./net-request.js";
import { bootActions } from "../actions/util.js";
import type { Res } from "../../helpers/cloud.js";
import { until } from "../../helpers/wait.js";
import type { NetPort } from "../../../src/compute/network-client.js";
import type { FakeDriver } from "../../../src/compute/drivers/fake.js";
import { NetworkAgent } from "../../../src/network/agent/agent.js";
import { createNetworkDriver } from "../../../src/network/drivers/registry.js";
import { findInstance } from "../../../src/compute/instances/store.js";
import { networkData } from "../../../src/compute/metadata/network-data.js";
import { sourceOf } from "../../../src/compute/metadata/source.js";

let c: ComputeCloud;
let privateNet = "";
let publicNet = "";
let second: NetworkAgent | undefined;

const net = (method: string, path: string, token: string, body?: unknown): Promise<Res> =>
  netRequest(c, method, path, token, body);

const cfg = () => c.t.cloud.cfg.compute;
const portsOf = async (server: string): Promise<any[]> =>
  (await net("GET", `/ports?device_id=${server}`, c.admin)).body.ports;
const show = async (id: string) =>
  (await c.req("GET", `/v2.1/servers/${id}`, { token: c.admin })).body.server;
const agentOf = (host: string) => c.t.cloud.computeControl.agents.find((a) => a.host === host)!;
const create = async (networks: unknown): Promise<string> => {
  const r = await c.req("POST", "/v2.1/servers", {
    token: c.demo,
    mv: "2.37",
    body: { server: { name: "vifs", imageRef: c.imageId, flavorRef: "42", networks } },
  });
  assert.equal(r.status, 202, r.text);
  return r.body.server.id;
};
/** A port of the demo project on private, administratively down (its agent reports it DOWN: never plugged). */
const downPort = async (): Promise<string> => {
  const r = await net("POST", "/ports", c.demo, { port: { network_id: privateNet, admin_state_up: false } });
  assert.equal(r.status, 201, r.text);
  return r.body.port.id;
};

before(async () => {
  // (bootActions: snapshots for shelve are uploaded over HTTP, through a loopback front end.)
  c = await bootActions({ compute: { hosts: 2 } });
  const nets = (await net("GET", "/networks", c.admin)).body.networks as Array<{ id: string; name: string }>;
  privateNet = nets.find((n) => n.name === "private")!.id;
  publicNet = nets.find((n) => n.name === "public")!.id;
  // The second compute host gets its network agent too (the cloud runs one for its own host name).
  const network = c.t.cloud.network;
  second = await NetworkAgent.start({
    core: network.core,
    bus: c.t.cloud.bus,
    host: "compute1-2",
    driver: createNetworkDriver("noop"),
    log: network.core.log,
  });
  // Ports bound by the linux driver name their tap; the noop driver's do not.
  const neutron = c.t.cloud.compute.core.neutron!;
  const withTap = (p: NetPort): NetPort =>
    p["binding:vif_type"] === "tap"
      ? {
          ...p,
          "binding:vif_details": {
            ...p["binding:vif_details"],
            tap_name: `tap${p.id.slice(0, 11)}`,
            bridge_name: `brq${p.network_id.slice(0, 11)}`,
          },
        }
      : p;
  const n = neutron as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const m of ["createPort", "updatePort", "showPort"]) {
    const orig = n[m].bind(neutron);
    n[m] = async (...a: unknown[]) => withTap((await orig(...a)) as NetPort);
  }
  const list = n.listPorts.bind(neutron);
  n.listPorts = async (...a: unknown[]) => ((await list(...a)) as NetPort[]).map(withTap);
});
after(async () => {
  await second?.close();
  await c?.close();
});

test("a tap VIF: the host waits for network-vif-plugged, then starts the guest with the tap", async () => {
  cfg().vifPluggingTimeout = 300;
  const port = await downPort();
  const id = await create([{ port }]);
  const host = await until(
    "the state awaited",
    async () => (await show(id))["OS-EXT-SRV-ATTR:host"] as string | undefined,
  );
  // The host waits (the port is DOWN: its agent has not plugged it).
  await until("the state awaited", async () => agentOf(host).deps.events.count(id) === 1);
  assert.equal((await show(id)).status, "BUILD");
  // Once up, the network agent plugs it, marks it ACTIVE and tells compute; the guest starts.
  assert.equal((await net("PUT", `/ports/${port}`, c.demo, { port: { admin_state_up: true } })).status, 200);
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  assert.equal(agentOf(host).deps.events.count(id), 0);
  const vifs = (agentOf(host).deps.driver as FakeDriver).interfacesOf(id);
  assert.deepEqual(
    vifs.map((v) => [v.id, v.tapName]),
    [[port, `tap${port.slice(0, 11)}`]],
  );
  // The cache keeps the binding the driver was given.
  const p = (await net("GET", `/ports/${port}`, c.admin)).body.port;
  assert.equal(p.status, "ACTIVE");
  assert.equal(s.addresses.private[0].addr, p.fixed_ips[0].ip_address);
  // The event is recorded on the server's create action.
  const actions = await c.req("GET", `/v2.1/servers/${id}/os-instance-actions`, { token: c.admin });
  const req = actions.body.instanceActions.find((a: any) => a.action === "create").request_id;
  const detail = await c.req("GET", `/v2.1/servers/${id}/os-instance-actions/${req}`, {
    token: c.admin,
    mv: "2.51",
  });
  assert.ok(
    detail.body.instanceAction.events.some((e: any) => e.event === `network-vif-plugged-${port}`),
    JSON.stringify(detail.body.instanceAction.events),
  );
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
});

test("a port ACTIVE before the host waits counts as plugged (the race is closed by re-reading its status)", async () => {
  cfg().vifPluggingTimeout = 300;
  const id = await create([{ uuid: privateNet }]);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const [p] = await portsOf(id);
  assert.equal(p.status, "ACTIVE");
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
});

test("vif plugging timeout, fatal: the build is aborted (ERROR, not rescheduled), its ports freed", async () => {
  Object.assign(cfg(), { vifPluggingTimeout: 1, vifPluggingIsFatal: true });
  const port = await downPort();
  const id = await create([{ port }, { uuid: privateNet }]);
  await until("the state awaited", async () => (await portsOf(id)).length === 2);
  const made = (await portsOf(id)).find((p) => p.id !== port)!.id;
  const s = await c.waitStatus(c.admin, id, "ERROR");
  assert.match(s.fault.message, /Failed to allocate the network\(s\), not rescheduling/);
  assert.match(s.fault.message, /Virtual Interface creation failed/);
  // Compute's port is deleted, the user's unbound and kept.
  assert.equal((await net("GET", `/ports/${made}`, c.admin)).status, 404);
  const kept = (await net("GET", `/ports/${port}`, c.admin)).body.port;
  assert.deepEqual([kept.device_id, kept["binding:host_id"]], ["", ""]);
  // One attempt only: a single build event on a single host.
  const actions = await c.req("GET", `/v2.1/servers/${id}/os-instance-actions`, { token: c.admin });
  const req = actions.body.instanceActions[0].request_id;
  const detail = await c.req("GET", `/v2.1/servers/${id}/os-instance-actions/${req}`, {
    token: c.admin,
    mv: "2.51",
  });
  const builds = detail.body.instanceAction.events.filter(
    (e: any) => e.event === "compute_build_and_run_instance",
  );
  assert.equal(builds.length, 1, JSON.stringify(detail.body.instanceAction.events));
  for (const a of c.t.cloud.computeControl.agents) assert.equal(a.deps.events.count(id), 0);
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.admin });
  await c.waitGone(c.admin, id);
  await net("DELETE", `/ports/${port}`, c.admin);
});

test("vif plugging timeout, not fatal: the guest starts anyway", async () => {
  Object.assign(cfg(), { vifPluggingTimeout: 1, vifPluggingIsFatal: false });
  try {
    const port = await downPort();
    const id = await create([{ port }]);
    await c.waitStatus(c.demo, id, "ACTIVE");
    await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
    await c.waitGone(c.demo, id);
    await net("DELETE", `/ports/${port}`, c.admin);
  } finally {
    Object.assign(cfg(), { vifPluggingTimeout: 300, vifPluggingIsFatal: true });
  }
});

test("cold migration binds the ports to the destination, which waits for them; revert binds them back", async () => {
  cfg().vifPluggingTimeout = 300;
  const id = await create([{ uuid: privateNet }]);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const source = (await show(id))["OS-EXT-SRV-ATTR:host"];
  const [p] = await portsOf(id);
  assert.equal(p["binding:host_id"], source);
  const move = async (action: Record<string, unknown>, status: string) => {
    const r = await c.req("POST", `/v2.1/servers/${id}/action`, { token: c.admin, body: action });
    assert.ok([202, 204].includes(r.status), r.text);
    return c.waitStatus(c.admin, id, status);
  };
  const moved = await move({ migrate: null }, "VERIFY_RESIZE");
  const dest = moved["OS-EXT-SRV-ATTR:host"];
  assert.notEqual(dest, source);
  const [after1] = await portsOf(id);
  assert.deepEqual([after1["binding:host_id"], after1.status], [dest, "ACTIVE"]);
  assert.equal(
    (agentOf(dest).deps.driver as FakeDriver).interfacesOf(id)[0]?.tapName,
    `tap${p.id.slice(0, 11)}`,
  );
  await move({ revertResize: null }, "ACTIVE");
  const [back] = await portsOf(id);
  assert.deepEqual([back["binding:host_id"], back.status], [source, "ACTIVE"]);
  // Again, confirmed this time.
  await move({ migrate: null }, "VERIFY_RESIZE");
  await move({ confirmResize: null }, "ACTIVE");
  const [after2] = await portsOf(id);
  assert.equal(after2["binding:host_id"], (await show(id))["OS-EXT-SRV-ATTR:host"]);
  assert.equal(after2["binding:host_id"], dest);
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
});

test("live migration binds the ports to the destination before it prepares", async () => {
  cfg().vifPluggingTimeout = 300;
  const id = await create([{ uuid: privateNet }]);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const source = (await show(id))["OS-EXT-SRV-ATTR:host"];
  const r = await c.req("POST", `/v2.1/servers/${id}/action`, {
    token: c.admin,
    mv: "2.30",
    body: { "os-migrateLive": { host: null, block_migration: "auto" } },
  });
  assert.equal(r.status, 202, r.text);
  const s = await until("the state awaited", async () => {
    const now = await show(id);
    return now.status === "ACTIVE" && now["OS-EXT-SRV-ATTR:host"] !== source ? now : undefined;
  });
  const [p] = await portsOf(id);
  assert.deepEqual([p["binding:host_id"], p.status], [s["OS-EXT-SRV-ATTR:host"], "ACTIVE"]);
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
});

test("shelve offload unbinds the ports; unshelve binds them where the server lands", async () => {
  cfg().vifPluggingTimeout = 300;
  const id = await create([{ uuid: privateNet }]);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const act = (body: unknown) => c.req("POST", `/v2.1/servers/${id}/action`, { token: c.demo, body });
  assert.equal((await act({ shelve: null })).status, 202);
  await c.waitStatus(c.demo, id, "SHELVED_OFFLOADED");
  await until("the state awaited", async () => (await portsOf(id))[0]?.["binding:host_id"] === "");
  assert.equal((await act({ unshelve: null })).status, 202);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const [p] = await portsOf(id);
  assert.deepEqual([p["binding:host_id"], p.status], [(await show(id))["OS-EXT-SRV-ATTR:host"], "ACTIVE"]);
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
});

test("floating IPs: associating one tells compute (network-changed) and addresses lists it as floating", async () => {
  const id = await create([{ uuid: privateNet }]);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const [p] = await portsOf(id);
  const fip = await net("POST", "/floatingips", c.demo, {
    floatingip: { floating_network_id: publicNet, port_id: p.id },
  });
  assert.equal(fip.status, 201, fip.text);
  const addr = fip.body.floatingip.floating_ip_address;
  const s = await until("the state awaited", async () => {
    const now = await show(id);
    return now.addresses.private?.length === 2 ? now : undefined;
  });
  assert.deepEqual(s.addresses.private, [
    {
      addr: p.fixed_ips[0].ip_address,
      version: 4,
      "OS-EXT-IPS:type": "fixed",
      "OS-EXT-IPS-MAC:mac_addr": p.mac_address,
    },
    { addr, version: 4, "OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": p.mac_address },
  ]);
  // Disassociated: gone from addresses again.
  await net("PUT", `/floatingips/${fip.body.floatingip.id}`, c.demo, { floatingip: { port_id: null } });
  await until("the state awaited", async () => (await show(id)).addresses.private.length === 1);
  await net("DELETE", `/floatingips/${fip.body.floatingip.id}`, c.demo);
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
});

test("network_data.json of a tap VIF: its link (tap, MAC, MTU), network and DNS from the port's subnet", async () => {
  const id = await create([{ uuid: privateNet }]);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const [p] = await portsOf(id);
  const subnet = (await net("GET", `/subnets/${p.fixed_ips[0].subnet_id}`, c.admin)).body.subnet;
  const network = (await net("GET", `/networks/${privateNet}`, c.admin)).body.network;
  const db = c.t.cloud.compute.core.db;
  const doc = networkData((await sourceOf(db, (await findInstance(db, id))!)).networkInfo) as any;
  const tap = `tap${p.id.slice(0, 11)}`;
  assert.deepEqual(doc.links, [
    { id: tap, vif_id: p.id, type: "tap", mtu: network.mtu, ethernet_mac_address: p.mac_address },
  ]);
  assert.equal(doc.networks.length, 1);
  assert.equal(doc.networks[0].link, tap);
  assert.equal(doc.networks[0].network_id, privateNet);
  // DHCP on the subnet: the guest asks dnsmasq (as Nova says for such subnets).
  assert.equal(doc.networks[0].type, subnet.enable_dhcp ? "ipv4_dhcp" : "ipv4");
  assert.deepEqual(
    doc.services,
    subnet.dns_nameservers.map((a: string) => ({ type: "dns", address: a })),
  );
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
});

test("a server's port deleted in the network service (network-vif-deleted) leaves its addresses", async () => {
  const id = await create([{ uuid: privateNet }]);
  await c.waitStatus(c.demo, id, "ACTIVE");
  const [p] = await portsOf(id);
  assert.equal((await net("DELETE", `/ports/${p.id}`, c.admin)).status, 204);
  await until(
    "the port gone from addresses",
    async () => Object.keys((await show(id)).addresses).length === 0,
  );
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
});
