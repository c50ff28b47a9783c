// The dashboard's pure rules, without a browser: which instance actions each server state offers (Nova's checks),
// the noVNC WebSocket URL taken from a console URL, and the topology graph built from the Neutron and Nova lists.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  actionAllowed,
  buildTopology,
  consoleSocket,
  type Network,
  type Router,
  type Server,
  type ServerAction,
  type Subnet,
  type TopoPort,
} from "../../src/dashboard/web/api/index.js";

const ALL: ServerAction[] = [
  "pause",
  "unpause",
  "suspend",
  "resume",
  "resize",
  "confirmResize",
  "revertResize",
  "createImage",
  "rebuild",
  "rescue",
  "unrescue",
  "lock",
  "unlock",
  "shelve",
  "unshelve",
  "softReboot",
  "hardReboot",
];
const offered = (status: string, extra: { task?: string; locked?: boolean } = {}) =>
  ALL.filter((a) =>
    actionAllowed(a, { status, "OS-EXT-STS:task_state": extra.task ?? null, locked: extra.locked ?? false }),
  );

test("each state offers the actions Nova accepts in it", () => {
  assert.deepEqual(offered("ACTIVE"), [
    "pause",
    "suspend",
    "resize",
    "createImage",
    "rebuild",
    "rescue",
    "lock",
    "shelve",
    "softReboot",
    "hardReboot",
  ]);
  assert.deepEqual(offered("PAUSED"), ["unpause", "createImage", "lock", "shelve", "hardReboot"]);
  assert.deepEqual(offered("SUSPENDED"), ["resume", "createImage", "lock", "shelve", "hardReboot"]);
  assert.deepEqual(offered("SHUTOFF"), [
    "resize",
    "createImage",
    "rebuild",
    "rescue",
    "lock",
    "shelve",
    "hardReboot",
  ]);
  assert.deepEqual(offered("VERIFY_RESIZE"), ["confirmResize", "revertResize", "lock"]);
  assert.deepEqual(offered("RESCUE"), ["unrescue", "lock"]);
  assert.deepEqual(offered("SHELVED_OFFLOADED"), ["lock", "unshelve"]);
  assert.deepEqual(offered("ERROR"), ["rebuild", "rescue", "lock", "hardReboot"]);
  // A task under way, or a lock, leaves only the lock toggle.
  assert.deepEqual(offered("ACTIVE", { task: "pausing" }), ["lock"]);
  assert.deepEqual(offered("ACTIVE", { locked: true }), ["unlock"]);
});

test("the console's WebSocket is /vnc/ on the dashboard's own origin, with the URL's token", () => {
  const url = "http://cloud.example:8080/vnc/vnc_lite.html?path=%3Ftoken%3Dabc-123";
  assert.equal(
    consoleSocket(url, { protocol: "http:", host: "127.0.0.1:5000" }),
    "ws://127.0.0.1:5000/vnc/?token=abc-123",
  );
  assert.equal(consoleSocket(url, { protocol: "https:", host: "h" }), "wss://h/vnc/?token=abc-123");
  assert.equal(
    consoleSocket("http://x/vnc_auto.html?token=t%2B1", { protocol: "http:", host: "h" }),
    "ws://h/vnc/?token=t%2B1",
  );
});

test("the topology links routers and instances to the networks of their ports", () => {
  const net = (id: string, name: string, external = false) =>
    ({
      id,
      name,
      status: "ACTIVE",
      shared: false,
      subnets: [],
      project_id: "p",
      "router:external": external,
    }) as Network;
  const subnet = (network_id: string, cidr: string) =>
    ({ id: `s-${network_id}`, name: "", network_id, cidr, ip_version: 4, gateway_ip: null }) as Subnet;
  const port = (device_id: string, device_owner: string, network_id: string, ip: string): TopoPort => ({
    id: `${device_id}-${network_id}`,
    device_id,
    device_owner,
    network_id,
    fixed_ips: [{ ip_address: ip, subnet_id: `s-${network_id}` }],
  });
  const router: Router = {
    id: "r1",
    name: "router1",
    status: "ACTIVE",
    admin_state_up: true,
    external_gateway_info: {
      network_id: "pub",
      external_fixed_ips: [{ subnet_id: "s-pub", ip_address: "172.24.4.10" }],
    },
  };
  const server = (id: string, name: string, addresses: Server["addresses"] = {}) =>
    ({ id, name, status: "ACTIVE", addresses }) as Server;
  const g = buildTopology(
    [net("priv", "private"), net("pub", "public", true)],
    [subnet("priv", "10.0.0.0/24"), subnet("pub", "172.24.4.0/24")],
    [router],
    [
      port("r1", "network:router_interface", "priv", "10.0.0.1"),
      port("vm1", "compute:nova", "priv", "10.0.0.5"),
    ],
    [
      server("vm1", "one"),
      server("vm2", "two", {
        private: [{ addr: "10.0.0.6" }, { addr: "172.24.4.9", "OS-EXT-IPS:type": "floating" }],
      }),
    ],
  );
  assert.deepEqual(
    g.networks.map((n) => [n.name, n.cidrs, n.external]),
    [
      ["public", ["172.24.4.0/24"], true],
      ["private", ["10.0.0.0/24"], false],
    ],
  );
  const links = Object.fromEntries(g.nodes.map((n) => [n.name, n.links]));
  assert.deepEqual(links.router1, [
    { network: "pub", ips: ["172.24.4.10"], gateway: true },
    { network: "priv", ips: ["10.0.0.1"] },
  ]);
  assert.deepEqual(links.one, [{ network: "priv", ips: ["10.0.0.5"] }]);
  // Without a visible port, the server's fixed addresses place it by network name.
  assert.deepEqual(links.two, [{ network: "priv", ips: ["10.0.0.6"] }]);

  // A gateway on a network the caller cannot list still gets its lane.
  const hidden = buildTopology([], [], [router], [], []);
  assert.deepEqual(hidden.networks, [{ id: "pub", name: "pub", cidrs: [], external: true }]);
});
