// Two hosts, two agents (real kernel, as root): a network node (DHCP) and a compute-only host, each a lab namespace
// with a tunnel address on a shared underlay link. The VXLAN peers come from the agents' reports in the database:
// a host that joins later becomes a peer at the next heartbeat; the compute host carries bridge, VXLAN, tap and
// firewall only (no DHCP); a guest on the compute host gets its lease from the network node's dnsmasq over VXLAN and
// reaches a guest on the network node.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { NetworkAgent } from "../../../../src/network/agent/agent.js";
import { LinuxDriver } from "../../../../src/network/drivers/linux/driver.js";
import { run } from "../../../../src/network/drivers/linux/exec.js";
import { getLink, ensureVeth } from "../../../../src/network/drivers/linux/ip.js";
import { ensureAddresses } from "../../../../src/network/drivers/linux/ip-addr.js";
import { listFloodPeers } from "../../../../src/network/drivers/linux/ip-vxlan.js";
import { listNamespaces } from "../../../../src/network/drivers/linux/ip-netns.js";
import type { LinuxHost } from "../../../../src/network/drivers/linux/host.js";
import { bridgeName, tapName, vxlanName } from "../../../../src/network/drivers/linux/names.js";
import { until } from "../../../helpers/wait.js";
import { bootNetwork, type NetCloud } from "../../helpers.js";
import { Lab, SKIP_KERNEL } from "./lab.js";

/** Poll every 250 ms (these checks run tools) until `fn` is truthy; fail naming `what`. */
const waitFor = <T>(what: string, fn: () => Promise<T> | T, ms = 60_000) => until(what, fn, ms, 250);

describe("linux data plane: two hosts over VXLAN from the agents' reports", { skip: SKIP_KERNEL }, () => {
  let lab: Lab;
  let c: NetCloud;
  const hosts: LinuxHost[] = [];
  const drivers: LinuxDriver[] = [];
  const agents: NetworkAgent[] = [];
  const underlay = ["192.168.211.1", "192.168.211.2"];
  const names: string[] = [];
  const ids: Record<string, string> = {};

  const start = async (i: number, networkNode: boolean) => {
    const h = hosts[i];
    drivers[i] = new LinuxDriver({ prefix: h.nsPrefix!, stateDir: h.stateDir, hostNetns: h.netns });
    agents[i] = await NetworkAgent.start({
      core: c.t.cloud.network.core,
      bus: c.t.cloud.bus,
      host: names[i],
      driver: drivers[i],
      log: c.t.cloud.log,
      networkNode,
      tunnelIp: underlay[i],
    });
  };

  before(async () => {
    lab = new Lab();
    for (const n of ["a", "b"]) {
      hosts.push(await lab.host(n));
      names.push(`${n}${lab.marker}`);
    }
    await ensureVeth(hosts[0].netns, {
      name: "und0",
      peerName: "und0",
      peerNetns: hosts[1].netns,
      mtu: 1500,
    });
    await ensureAddresses(hosts[0].netns, "und0", [`${underlay[0]}/24`]);
    await ensureAddresses(hosts[1].netns, "und0", [`${underlay[1]}/24`]);
    c = await bootNetwork({ network: { driver: "noop", topology: { enabled: false } } });
    await start(0, true);
  });

  after(async () => {
    for (const a of agents) await a?.close().catch(() => undefined);
    for (const d of drivers) await d?.wipe().catch(() => undefined);
    await c?.close();
    await lab?.close();
  });

  test("a host that joins becomes a VXLAN peer; the compute host carries no DHCP", async () => {
    const net = (await c.ok("POST", "/v2.0/networks", 201, { body: { network: { name: `v${lab.marker}` } } }))
      .network;
    assert.equal(net["provider:network_type"], "vxlan");
    ids.net = net.id;
    ids.vxlan = vxlanName(net["provider:segmentation_id"]);
    await c.ok("POST", "/v2.0/subnets", 201, {
      body: { subnet: { network_id: net.id, ip_version: 4, cidr: "10.55.0.0/24" } },
    });
    // The network node serves DHCP; alone, it has no tunnel.
    await waitFor("the network node's bridge", () => getLink(hosts[0].netns, bridgeName(net.id)));
    assert.equal(await getLink(hosts[0].netns, ids.vxlan), null);
    await start(1, false);
    await agents[0].refreshPeers(); // what its next heartbeat does
    assert.deepEqual(await listFloodPeers(hosts[0].netns, ids.vxlan), [underlay[1]]);
    const p = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: { port: { network_id: net.id, "binding:host_id": names[1] } },
      })
    ).port;
    ids.port = p.id;
    await waitFor(
      "the port ACTIVE",
      async () => (await c.ok("GET", `/v2.0/ports/${p.id}`, 200)).port.status === "ACTIVE",
    );
    assert.equal((await getLink(hosts[1].netns, tapName(p.id)))?.master, bridgeName(net.id));
    assert.deepEqual(await listFloodPeers(hosts[1].netns, ids.vxlan), [underlay[0]]);
    assert.match(
      (await run(["iptables-save"], { netns: hosts[1].netns })).stdout,
      new RegExp(`stratus-i${p.id.slice(0, 11)}`),
    );
    // DHCP only on the network node.
    assert.ok((await listNamespaces()).some((n) => n.startsWith(`${hosts[0].nsPrefix}qdhcp-`)));
    assert.ok(!(await listNamespaces()).some((n) => n.startsWith(`${hosts[1].nsPrefix}`)));
    const dhcp = (await c.ok("GET", `/v2.0/ports?network_id=${net.id}&device_owner=network:dhcp`, 200)).ports;
    assert.deepEqual(
      dhcp.map((x: { "binding:host_id": string }) => x["binding:host_id"]),
      [names[0]],
    );
  });

  test("a guest on the compute host gets its lease over VXLAN and reaches a guest on the network node", async () => {
    const mk = async () =>
      (
        await c.ok("POST", "/v2.0/ports", 201, {
          body: { port: { network_id: ids.net, port_security_enabled: false } },
        })
      ).port;
    const [pa, pb] = [await mk(), await mk()];
    const ga = await lab.guest("ga", hosts[0], bridgeName(ids.net), pa.id, pa.mac_address, 1450);
    const gb = await lab.guest("gb", hosts[1], bridgeName(ids.net), pb.id, pb.mac_address, 1450);
    for (const [g, p] of [
      [ga, pa],
      [gb, pb],
    ] as const) {
      const lease = await g.dhcp();
      assert.ok(lease, "no lease");
      assert.equal(lease.get("ip"), p.fixed_ips[0].ip_address);
      await g.address([`${p.fixed_ips[0].ip_address}/24`]);
    }
    assert.ok(await gb.ping(pa.fixed_ips[0].ip_address), "the guests do not reach each other over VXLAN");
  });
});
