// The tags API on every taggable resource, agents (the in-process noop agent: listed, updated, deleted and
// registering again), network IP availability, and the agent contract's drivers registry.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  createNetworkDriver,
  NETWORK_DRIVER_NAMES,
  parseNetworkDriverName,
} from "../../src/network/drivers/registry.js";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("tags, agents, IP availability", () => {
  let c: NetCloud;
  before(async () => {
    c = await bootNetwork();
  });
  after(() => c?.close());

  test("tags: replace, add one, check one, remove one, remove all; on networks, subnets, ports and pools", async () => {
    const net = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "tagged" } } })
    ).network.id;
    const subnet = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        token: c.demo,
        body: { subnet: { network_id: net, ip_version: 4, cidr: "10.60.0.0/24" } },
      })
    ).subnet.id;
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, { token: c.demo, body: { port: { network_id: net } } })
    ).port.id;
    const pool = (
      await c.ok("POST", "/v2.0/subnetpools", 201, {
        token: c.demo,
        body: { subnetpool: { name: "tp", prefixes: ["10.61.0.0/16"] } },
      })
    ).subnetpool.id;
    for (const [resource, id] of [
      ["networks", net],
      ["subnets", subnet],
      ["ports", port],
      ["subnetpools", pool],
    ]) {
      const base = `/v2.0/${resource}/${id}/tags`;
      assert.deepEqual(
        (await c.ok("PUT", base, 200, { token: c.demo, body: { tags: ["b", "a", "a"] } })).tags,
        ["a", "b"],
      );
      assert.equal((await c.req("PUT", `${base}/c`, { token: c.demo })).status, 201);
      assert.equal((await c.req("GET", `${base}/c`, { token: c.demo })).status, 204);
      neutronError(await c.req("GET", `${base}/zz`, { token: c.demo }), 404, "TagNotFound");
      assert.equal((await c.req("DELETE", `${base}/a`, { token: c.demo })).status, 204);
      assert.deepEqual((await c.ok("GET", base, 200, { token: c.demo })).tags, ["b", "c"]);
      assert.deepEqual(
        (await c.ok("GET", `/v2.0/${resource}/${id}`, 200, { token: c.demo }))[resource.slice(0, -1)].tags,
        ["b", "c"],
      );
      assert.equal((await c.req("DELETE", base, { token: c.demo })).status, 204);
      assert.deepEqual((await c.ok("GET", base, 200, { token: c.demo })).tags, []);
    }
    neutronError(await c.req("PUT", `/v2.0/networks/${net}/tags/${"x".repeat(61)}`, { token: c.demo }), 400);
    neutronError(await c.req("GET", `/v2.0/routers/${net}/tags`, { token: c.demo }), 404);
    const other = await c.user("tags-iso");
    neutronError(
      await c.req("PUT", `/v2.0/networks/${net}/tags/x`, { token: other.token }),
      404,
      "NetworkNotFound",
    );
  });

  test("agents: the in-process noop agent, alive in its zone; admins update and delete it; readers only read", async () => {
    const list = (await c.ok("GET", "/v2.0/agents", 200)).agents;
    assert.equal(list.length, 1);
    const a = list[0];
    assert.equal(a.host, "compute1");
    assert.equal(a.agent_type, "Stratus network agent");
    assert.equal(a.binary, "stratus-network-agent");
    assert.equal(a.alive, true);
    assert.equal(a.availability_zone, "nova");
    assert.equal(a.configurations.driver, "noop");
    assert.equal(a.configurations.real_data_plane, false);
    assert.match(a.heartbeat_timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // Others than readers of all see no agents (an empty list, 404 for one), as Neutron (tempest's
    // test_list_agents_non_admin).
    assert.deepEqual((await c.req("GET", "/v2.0/agents", { token: c.demo })).body, { agents: [] });
    neutronError(await c.req("GET", `/v2.0/agents/${a.id}`, { token: c.demo }), 404, "AgentNotFound");
    const u = (
      await c.ok("PUT", `/v2.0/agents/${a.id}`, 200, {
        body: { agent: { admin_state_up: false, description: "off" } },
      })
    ).agent;
    assert.equal(u.admin_state_up, false);
    assert.equal(u.description, "off");
    // An agent down for the admin binds nothing.
    const net = (await c.ok("POST", "/v2.0/networks", 201, { body: { network: { name: "agent-net" } } }))
      .network.id;
    const p = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: { port: { network_id: net, "binding:host_id": "compute1" } },
      })
    ).port;
    assert.equal(p["binding:vif_type"], "binding_failed");
    await c.ok("PUT", `/v2.0/agents/${a.id}`, 200, { body: { agent: { admin_state_up: true } } });
    assert.equal((await c.req("DELETE", `/v2.0/agents/${a.id}`, { token: c.admin })).status, 204);
    neutronError(await c.req("GET", `/v2.0/agents/${a.id}`, { token: c.admin }), 404, "AgentNotFound");
  });

  test("network IP availability counts pool addresses and allocations per subnet", async () => {
    const net = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "avail" } } })
    ).network.id;
    const s = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        token: c.demo,
        body: { subnet: { network_id: net, ip_version: 4, cidr: "10.62.0.0/28" } },
      })
    ).subnet.id;
    await c.ok("POST", "/v2.0/ports", 201, { token: c.demo, body: { port: { network_id: net } } });
    const one = (await c.ok("GET", `/v2.0/network-ip-availabilities/${net}`, 200)).network_ip_availability;
    assert.equal(one.total_ips, 13);
    assert.equal(one.used_ips, 1);
    assert.deepEqual(one.subnet_ip_availability, [
      { subnet_id: s, subnet_name: "", cidr: "10.62.0.0/28", ip_version: 4, total_ips: 13, used_ips: 1 },
    ]);
    const list = (await c.ok("GET", `/v2.0/network-ip-availabilities?network_id=${net}`, 200))
      .network_ip_availabilities;
    assert.deepEqual(list, [one]);
    neutronError(await c.req("GET", "/v2.0/network-ip-availabilities", { token: c.demo }), 403);
  });

  test("the driver registry knows linux and noop and refuses unknown names", () => {
    assert.deepEqual(NETWORK_DRIVER_NAMES, ["linux", "noop"]);
    assert.equal(createNetworkDriver("noop").name, "noop");
    assert.throws(() => createNetworkDriver("linux"), /needs its options/);
    assert.throws(() => parseNetworkDriverName("ovs"), /Unknown network driver "ovs" \(known: linux, noop\)/);
  });
});
