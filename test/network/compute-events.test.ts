// What the network service tells compute (compute-notifier.ts), captured instead of sent: network-vif-plugged
// when a compute-owned port's agent makes it ACTIVE (once, not at every replug), network-vif-unplugged when it
// stops being ACTIVE, nothing for ports no server owns; network-changed when a server port's fixed IPs or floating
// IPs change, network-vif-deleted when it is deleted; a port moved to another host is DOWN until that host's
// agent plugs it; an agent's stale snapshot of a port rebound meanwhile tells the port's new server.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import type { ClientRequest, ServiceClient } from "../../src/shared/client/service-client.js";
import { reportPortStatus, type ComputeEvent } from "../../src/network/compute-notifier.js";
import { getPort, setPortStatus } from "../../src/network/store/ports.js";
import { NetworkAgent } from "../../src/network/agent/agent.js";
import { createNetworkDriver } from "../../src/network/drivers/registry.js";
import { until } from "../helpers/wait.js";
import { bootNetwork, type NetCloud } from "./helpers.js";

let c: NetCloud;
let privateNet = "";
let publicNet = "";
let other: NetworkAgent | undefined;
const sent: ComputeEvent[] = [];
const SERVER = "3a6f0e0c-6c53-4c56-9d0a-1f6c6f1e2a11";

before(async () => {
  c = await bootNetwork();
  const capture: ServiceClient = {
    async request(method: string, path: string, req?: ClientRequest) {
      assert.deepEqual([method, path], ["POST", "/v2.1/os-server-external-events"]);
      sent.push(...(req?.body as { events: ComputeEvent[] }).events);
      return { status: 200, headers: {}, body: {} };
    },
  };
  c.t.cloud.network.core.computeEvents.connect(capture);
  const nets = (await c.ok("GET", "/v2.0/networks", 200, { token: c.admin })).networks;
  privateNet = nets.find((n: { name: string }) => n.name === "private").id;
  publicNet = nets.find((n: { name: string }) => n.name === "public").id;
  const core = c.t.cloud.network.core;
  other = await NetworkAgent.start({
    core,
    bus: c.t.cloud.bus,
    host: "compute2",
    driver: createNetworkDriver("noop"),
    log: core.log,
  });
});
after(async () => {
  await other?.close();
  await c?.close();
});
beforeEach(() => void sent.splice(0));

const port = (id: string) => c.ok("GET", `/v2.0/ports/${id}`, 200, { token: c.admin }).then((b) => b.port);
const eventsFor = (portId: string, name: string) =>
  sent.filter((e) => e.tag === portId && e.name === name && e.server_uuid === SERVER);

test("a server's port: vif-plugged once ACTIVE, not again at a replug; vif-unplugged when it goes down", async () => {
  const p = (
    await c.ok("POST", "/v2.0/ports", 201, {
      token: c.admin,
      body: {
        port: {
          network_id: privateNet,
          device_id: SERVER,
          device_owner: "compute:nova",
          "binding:host_id": "compute1",
        },
      },
    })
  ).port;
  await until("the port ACTIVE", async () => (await port(p.id)).status === "ACTIVE");
  await until("vif-plugged sent", () => eventsFor(p.id, "network-vif-plugged").length === 1);
  // A change that replugs it (its name) sends nothing new.
  await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, { token: c.admin, body: { port: { name: "renamed" } } });
  await c.t.cloud.network.localAgent!.resync();
  await c.t.cloud.network.core.computeEvents.flush();
  assert.equal(eventsFor(p.id, "network-vif-plugged").length, 1);
  // Moved to another host: DOWN at once, then plugged there (vif-plugged again, for the destination).
  const moved = await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, {
    token: c.admin,
    body: { port: { "binding:host_id": "compute2" } },
  });
  assert.equal(moved.port.status, "DOWN");
  await until("plugged on compute2", () => eventsFor(p.id, "network-vif-plugged").length === 2);
  assert.equal((await port(p.id)).status, "ACTIVE");
  // Administratively down: vif-unplugged.
  await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, {
    token: c.admin,
    body: { port: { admin_state_up: false } },
  });
  await until("vif-unplugged sent", () => eventsFor(p.id, "network-vif-unplugged").length === 1);
  await c.ok("DELETE", `/v2.0/ports/${p.id}`, 204, { token: c.admin });
});

test("a port no server owns tells compute nothing", async () => {
  const p = (
    await c.ok("POST", "/v2.0/ports", 201, {
      token: c.admin,
      // A user's port bound to a host, no server's (network:* ports are the network node's, set ACTIVE by DHCP
      // and routers, which the noop driver does not run).
      body: { port: { network_id: privateNet, "binding:host_id": "compute1" } },
    })
  ).port;
  await until("the port ACTIVE", async () => (await port(p.id)).status === "ACTIVE");
  await c.t.cloud.network.core.computeEvents.flush();
  assert.deepEqual(
    sent.filter((e) => e.tag === p.id),
    [],
  );
  await c.ok("DELETE", `/v2.0/ports/${p.id}`, 204, { token: c.admin });
});

test("network-changed: a server port's fixed IPs change, a floating IP is associated, moved and released", async () => {
  const mk = async () =>
    (
      await c.ok("POST", "/v2.0/ports", 201, {
        token: c.admin,
        body: { port: { network_id: privateNet, device_id: SERVER, device_owner: "compute:nova" } },
      })
    ).port;
  const p = await mk();
  const q = await mk();
  const subnet = p.fixed_ips[0].subnet_id;
  await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, {
    token: c.admin,
    body: { port: { fixed_ips: [{ subnet_id: subnet }, { subnet_id: subnet }] } },
  });
  await c.t.cloud.network.core.computeEvents.flush();
  assert.equal(eventsFor(p.id, "network-changed").length, 1);
  // router1 (the start-up topology) joins public and private: floating IPs reach private's ports.
  sent.splice(0);
  const fip = (
    await c.ok("POST", "/v2.0/floatingips", 201, {
      token: c.admin,
      body: {
        floatingip: {
          floating_network_id: publicNet,
          port_id: p.id,
          fixed_ip_address: (await port(p.id)).fixed_ips[0].ip_address,
        },
      },
    })
  ).floatingip;
  await c.ok("PUT", `/v2.0/floatingips/${fip.id}`, 200, {
    token: c.admin,
    body: { floatingip: { port_id: q.id } },
  });
  await c.ok("DELETE", `/v2.0/floatingips/${fip.id}`, 204, { token: c.admin });
  await c.t.cloud.network.core.computeEvents.flush();
  // Associated with p; moved from p to q (both told); released from q.
  assert.equal(eventsFor(p.id, "network-changed").length, 2);
  assert.equal(eventsFor(q.id, "network-changed").length, 2);
  sent.splice(0);
  for (const x of [p, q]) await c.ok("DELETE", `/v2.0/ports/${x.id}`, 204, { token: c.admin });
  await c.t.cloud.network.core.computeEvents.flush();
  assert.deepEqual(
    sent.map((e) => [e.name, e.tag]),
    [
      ["network-vif-deleted", p.id],
      ["network-vif-deleted", q.id],
    ],
  );
});

test("an agent's stale snapshot (the port rebound to another server meanwhile) still tells the new server", async () => {
  const core = c.t.cloud.network.core;
  const server2 = "5b7e1d2c-8a94-4c1e-b3f0-2d6e9a7c4b10";
  const bind = (device: string) => ({
    token: c.admin,
    body: { port: { device_id: device, device_owner: "compute:nova", "binding:host_id": "compute1" } },
  });
  const p = (
    await c.ok("POST", "/v2.0/ports", 201, {
      ...bind(SERVER),
      body: { port: { network_id: privateNet, ...bind(SERVER).body.port } },
    })
  ).port;
  await until("the port ACTIVE", async () => (await port(p.id)).status === "ACTIVE");
  // The agent read the port here, then (slowly) plugged it while compute unbound it and bound it to server2.
  const stale = (await getPort(core, p.id))!;
  const unbound = { device_id: "", device_owner: "", "binding:host_id": "" };
  await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, { token: c.admin, body: { port: unbound } });
  await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, bind(server2));
  await until("plugged for server2", () => sent.some((e) => e.server_uuid === server2));
  // Replay the race: the port is DOWN again (rebound, not plugged yet) when the stale report lands.
  await setPortStatus(core, p.id, "DOWN");
  sent.splice(0);
  await reportPortStatus(core, stale, "ACTIVE");
  await core.computeEvents.flush();
  assert.ok(
    sent.some((e) => e.name === "network-vif-plugged" && e.server_uuid === server2 && e.tag === p.id),
    JSON.stringify(sent),
  );
  assert.ok(!sent.some((e) => e.server_uuid === SERVER), "nothing for the server the port left");
  assert.equal((await port(p.id)).status, "ACTIVE");
  // A snapshot from a host the port has left sets nothing (the new host's agent reports it).
  await c.ok("PUT", `/v2.0/ports/${p.id}`, 200, {
    token: c.admin,
    body: { port: { "binding:host_id": "compute2" } },
  });
  await until("plugged on compute2", async () => (await port(p.id)).status === "ACTIVE");
  await reportPortStatus(core, stale, "DOWN");
  assert.equal((await port(p.id)).status, "ACTIVE");
  await c.ok("DELETE", `/v2.0/ports/${p.id}`, 204, { token: c.admin });
});
