// Networks spanning hosts on a real kernel: two namespaces play two hosts, linked by veth pairs standing in for the
// underlay (VXLAN, unicast with head-end replication) and for a trunk (VLAN); guests on different hosts reach each
// other only through the segment.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { run } from "../../../../src/network/drivers/linux/exec.js";
import { applyFirewall, removeFirewall } from "../../../../src/network/drivers/linux/firewall.js";
import type { LinuxHost } from "../../../../src/network/drivers/linux/host.js";
import { ensureVeth, getLink } from "../../../../src/network/drivers/linux/ip.js";
import { ensureAddresses } from "../../../../src/network/drivers/linux/ip-addr.js";
import { listFloodPeers } from "../../../../src/network/drivers/linux/ip-vxlan.js";
import type { NetworkSpec, PortSpec } from "../../../../src/network/drivers/linux/model.js";
import { bridgeName } from "../../../../src/network/drivers/linux/names.js";
import { ensureNetwork, removeNetwork } from "../../../../src/network/drivers/linux/network.js";
import { Lab, SKIP_KERNEL, type Guest } from "./lab.js";

describe("linux data plane: VXLAN between two hosts (real kernel)", { skip: SKIP_KERNEL }, () => {
  const lab = new Lab();
  const hosts: LinuxHost[] = [];
  const underlay = ["192.168.77.1", "192.168.77.2"];
  let vx: NetworkSpec;
  const vxOn = (h: number, peers = [underlay[1 - h]]): NetworkSpec => ({
    ...vx,
    vxlanLocal: underlay[h],
    vxlanPeers: peers,
  });
  const vxGuests: Guest[] = [];
  const vxPorts: string[] = [];

  before(async () => {
    hosts.push(await lab.host("h1"), await lab.host("h2"));
    const [h1, h2] = hosts;
    await ensureVeth(h1.netns, { name: "und0", peerName: "und0", peerNetns: h2.netns, mtu: 1500 });
    await ensureAddresses(h1.netns, "und0", [`${underlay[0]}/24`]);
    await ensureAddresses(h2.netns, "und0", [`${underlay[1]}/24`]);
    vx = { id: lab.id("vx"), mtu: 1450, segmentation: "vxlan", segmentationId: 1001, vxlanDevice: "und0" };
    for (const h of [0, 1]) {
      await ensureNetwork(hosts[h], vxOn(h));
      vxPorts.push(lab.id(`px${h}`));
      const a = await lab.guest(
        `x${h}`,
        hosts[h],
        bridgeName(vx.id),
        vxPorts[h],
        `fa:16:3e:06:00:1${h}`,
        1450,
      );
      await a.address([`10.206.0.1${h}/24`]);
      await a.serve(22, `x${h}`);
      vxGuests.push(a);
    }
  });

  after(async () => {
    for (const h of hosts) await removeFirewall(h);
    await lab.close();
    await lab.assertClean();
  });

  it("guests on two hosts reach each other over VXLAN, with the network's MTU on every device", async () => {
    assert.ok(await vxGuests[0].ping("10.206.0.11"));
    assert.ok(await vxGuests[1].ping("10.206.0.10"));
    assert.equal(await vxGuests[0].probe("10.206.0.11", 22), "x1 10.206.0.10");
    for (const h of hosts) {
      assert.equal((await getLink(h.netns, "vxlan-1001"))?.mtu, 1450);
      assert.equal((await getLink(h.netns, bridgeName(vx.id)))?.mtu, 1450);
    }
  });

  it("the flood list follows the peers: without the peer nothing crosses, with it back traffic flows", async () => {
    const [h1] = hosts;
    await ensureNetwork(h1, vxOn(0, []));
    assert.deepEqual(await listFloodPeers(h1.netns, "vxlan-1001"), []);
    await vxGuests[0].exec(["ip", "neigh", "flush", "dev", "eth0"]);
    assert.ok(await vxGuests[0].pingFails("10.206.0.11"));
    await ensureNetwork(h1, vxOn(0));
    assert.deepEqual(await listFloodPeers(h1.netns, "vxlan-1001"), [underlay[1]]);
    await vxGuests[0].exec(["ip", "neigh", "flush", "dev", "eth0"]); // forget the failed resolution of the control
    assert.ok(await vxGuests[0].ping("10.206.0.11"));
  });

  it("security groups apply to decapsulated traffic on each host", async () => {
    const rule = { portRangeMin: null, portRangeMax: null, remoteIpPrefix: null, remoteGroupId: null };
    const sg = {
      id: "sg",
      members: [],
      rules: [
        { ...rule, id: "e", direction: "egress" as const, ethertype: "IPv4" as const, protocol: null },
        { ...rule, id: "i", direction: "ingress" as const, ethertype: "IPv4" as const, protocol: "icmp" },
      ],
    };
    for (const h of [0, 1]) {
      const port: PortSpec = {
        id: vxPorts[h],
        networkId: vx.id,
        mac: `fa:16:3e:06:00:1${h}`,
        fixedIps: [{ subnetId: "s", address: `10.206.0.1${h}` }],
        deviceOwner: "compute:nova",
        securityGroups: ["sg"],
        allowedAddressPairs: [],
        portSecurity: true,
        extraDhcpOpts: [],
      };
      await applyFirewall(hosts[h], { networks: [vxOn(h)], ports: [port], groups: [sg] });
    }
    assert.ok(await vxGuests[0].ping("10.206.0.11"), "ICMP is allowed");
    assert.ok(await vxGuests[0].cannotReach("10.206.0.11", 22), "TCP 22 is not");
  });

  it("with a host FORWARD policy of DROP, traffic between non-VM ports of our networks still passes", async () => {
    const [h1] = hosts;
    // A DHCP-like port on host 1 (not a VM port) that a VM on host 2 reaches over VXLAN.
    const d = await lab.guest("d1", h1, bridgeName(vx.id), lab.id("pd"), "fa:16:3e:06:00:20", 1450);
    await d.address(["10.206.0.20/24"]);
    await run(["iptables", "-P", "FORWARD", "DROP"], { netns: h1.netns });
    const sg = { id: "sg", members: [], rules: [] };
    await applyFirewall(h1, { networks: [], ports: [], groups: [sg] });
    assert.ok(await vxGuests[1].pingFails("10.206.0.20"), "control: the host policy drops it");
    await applyFirewall(h1, { networks: [vxOn(0)], ports: [], groups: [sg] });
    assert.ok(await vxGuests[1].ping("10.206.0.20"));
    await run(["iptables", "-P", "FORWARD", "ACCEPT"], { netns: h1.netns });
  });

  it("a flat network plugs a host interface into its bridge; removal unplugs it and leaves it", async () => {
    const [h1, h2] = hosts;
    await ensureVeth(h1.netns, { name: "flat0", peerName: "flat0", peerNetns: h2.netns, mtu: 1500 });
    const flat: NetworkSpec = {
      id: lab.id("fl"),
      mtu: 1500,
      segmentation: "flat",
      physicalInterface: "flat0",
    };
    const g: Guest[] = [];
    for (const h of [0, 1]) {
      await ensureNetwork(hosts[h], flat);
      g.push(
        await lab.guest(`f${h}`, hosts[h], bridgeName(flat.id), lab.id(`pf${h}`), `fa:16:3e:08:00:1${h}`),
      );
      await g[h].address([`10.208.0.1${h}/24`]);
    }
    assert.ok(await g[0].ping("10.208.0.11"));
    for (const host of hosts) {
      await removeNetwork(host, flat);
      const phys = await getLink(host.netns, "flat0");
      assert.ok(phys && !phys.master, "the physical interface stays, unplugged");
    }
  });

  it("removing the VXLAN network leaves no bridge or VXLAN device", async () => {
    for (const [h, host] of hosts.entries()) {
      await removeNetwork(host, vxOn(h));
      assert.equal(await getLink(host.netns, "vxlan-1001"), null);
      assert.equal(await getLink(host.netns, bridgeName(vx.id)), null);
    }
  });
});

// This project's CI kernel is built without 802.1Q (CONFIG_VLAN_8021Q): VLAN segments cannot exist there at all.
const SKIP_VLAN =
  SKIP_KERNEL || (kernelHas("CONFIG_VLAN_8021Q") ? false : "the kernel has no 802.1Q VLAN support");

describe("linux data plane: VLAN between two hosts (real kernel)", { skip: SKIP_VLAN }, () => {
  const lab = new Lab();
  const hosts: LinuxHost[] = [];
  let vl: NetworkSpec;
  const vlGuests: Guest[] = [];

  before(async () => {
    hosts.push(await lab.host("h1"), await lab.host("h2"));
    await ensureVeth(hosts[0].netns, {
      name: "trunk0",
      peerName: "trunk0",
      peerNetns: hosts[1].netns,
      mtu: 1500,
    });
    vl = {
      id: lab.id("vl"),
      mtu: 1500,
      segmentation: "vlan",
      segmentationId: 101,
      physicalInterface: "trunk0",
    };
    for (const h of [0, 1]) {
      await ensureNetwork(hosts[h], vl);
      const b = await lab.guest(
        `v${h}`,
        hosts[h],
        bridgeName(vl.id),
        lab.id(`pv${h}`),
        `fa:16:3e:07:00:1${h}`,
      );
      await b.address([`10.207.0.1${h}/24`]);
      vlGuests.push(b);
    }
  });

  after(async () => {
    await lab.close();
    await lab.assertClean();
  });

  it("guests on two hosts reach each other over a VLAN on a trunk; removal leaves the trunk alone", async () => {
    assert.ok(await vlGuests[0].ping("10.207.0.11"));
    assert.ok(await getLink(hosts[0].netns, "trunk0.101"));
    for (const h of hosts) {
      await removeNetwork(h, vl);
      assert.equal(await getLink(h.netns, "trunk0.101"), null);
      assert.equal(await getLink(h.netns, bridgeName(vl.id)), null);
      assert.ok(await getLink(h.netns, "trunk0"));
    }
    assert.ok(await vlGuests[0].pingFails("10.207.0.11"));
  });
});

/** Whether the running kernel was built with an option (from /proc/config.gz; true when that file is missing). */
function kernelHas(option: string): boolean {
  try {
    const config = gunzipSync(readFileSync("/proc/config.gz")).toString("utf8");
    return new RegExp(`^${option}=[ym]$`, "m").test(config);
  } catch {
    return true;
  }
}
