// The DHCP building block on a real kernel: a network's bridge in a namespace playing the host, dnsmasq in its own
// namespace serving fixed addresses and options, guests (namespaces behind veths) leasing with busybox udhcpc.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  dhcpPaths,
  dhcpRunning,
  ensureDhcp,
  removeDhcp,
} from "../../../../src/network/drivers/linux/dhcp.js";
import type { DhcpSpec } from "../../../../src/network/drivers/linux/dhcp-files.js";
import { InvalidSpec } from "../../../../src/network/drivers/linux/errors.js";
import type { LinuxHost } from "../../../../src/network/drivers/linux/host.js";
import { getLink } from "../../../../src/network/drivers/linux/ip.js";
import { namespaceExists } from "../../../../src/network/drivers/linux/ip-netns.js";
import { pidAlive } from "../../../../src/shared/process.js";
import type { NetworkSpec, PortSpec, SubnetSpec } from "../../../../src/network/drivers/linux/model.js";
import { dhcpNamespace, tapName } from "../../../../src/network/drivers/linux/names.js";
import { ensureNetwork, removeNetwork } from "../../../../src/network/drivers/linux/network.js";
import { until } from "../../../helpers/wait.js";
import { Lab, SKIP_KERNEL, type Guest } from "./lab.js";

describe("linux data plane: DHCP (real kernel)", { skip: SKIP_KERNEL }, () => {
  const lab = new Lab();
  let host: LinuxHost;
  let net: NetworkSpec;
  let subnet: SubnetSpec;
  let spec: DhcpSpec;
  const port = (role: string, ip: string, mac: string, extra: Partial<PortSpec> = {}): PortSpec => ({
    id: lab.id(role),
    networkId: net.id,
    mac,
    fixedIps: [{ subnetId: subnet.id, address: ip }],
    deviceOwner: "compute:nova",
    securityGroups: [],
    allowedAddressPairs: [],
    portSecurity: false,
    extraDhcpOpts: [],
    ...extra,
  });
  const guests = new Map<string, Guest>();
  const guestFor = async (p: PortSpec) => {
    const g = await lab.guest(`g${guests.size + 1}`, host, `brq${net.id.slice(0, 11)}`, p.id, p.mac, net.mtu);
    guests.set(p.id, g);
    return g;
  };

  before(async () => {
    host = await lab.host("h");
    net = { id: lab.id("n"), mtu: 1450, segmentation: "local" };
    subnet = {
      id: lab.id("s"),
      networkId: net.id,
      cidr: "10.202.0.0/24",
      ipVersion: 4,
      gateway: "10.202.0.1",
      dhcp: true,
      dns: ["10.202.0.53"],
      hostRoutes: [{ destination: "10.99.0.0/16", nexthop: "10.202.0.254" }],
      allocationPools: [{ start: "10.202.0.2", end: "10.202.0.200" }],
    };
    await ensureNetwork(host, net);
    const dhcpPort = port("d", "10.202.0.2", "fa:16:3e:02:00:02", { deviceOwner: "network:dhcp" });
    const p1 = port("p1", "10.202.0.11", "fa:16:3e:02:00:11", {
      extraDhcpOpts: [{ name: "bootfile-name", value: "pxelinux.0", ipVersion: 4 }],
    });
    const p2 = port("p2", "10.202.0.12", "fa:16:3e:02:00:12", { hostname: "vm-two" });
    spec = { network: net, subnets: [subnet], port: dhcpPort, ports: [dhcpPort, p1, p2], metadata: true };
  });

  after(async () => {
    await removeDhcp(host, net.id);
    await removeNetwork(host, net);
    assert.equal(await namespaceExists(dhcpNamespace(host.nsPrefix!, net.id)), false);
    await lab.close();
    await lab.assertClean();
  });

  it("serves each port its fixed address, host name, options and the metadata route", async () => {
    const r = await ensureDhcp(host, spec);
    assert.equal(r.action, "started");
    const [, p1, p2] = spec.ports;
    const g1 = await guestFor(p1);
    const g2 = await guestFor(p2);
    const l1 = await g1.dhcp();
    assert.ok(l1, "guest 1 got no lease");
    assert.equal(l1.get("ip"), "10.202.0.11");
    assert.equal(l1.get("mask"), "24");
    assert.equal(l1.get("router"), "10.202.0.1");
    assert.equal(l1.get("dns"), "10.202.0.53");
    assert.equal(l1.get("mtu"), "1450");
    assert.equal(l1.get("boot_file"), "pxelinux.0");
    assert.equal(l1.get("hostname"), "host-10-202-0-11");
    assert.equal(l1.get("serverid"), "10.202.0.2");
    // option 121: the metadata route via the DHCP port, the host route, and the default route (121 replaces 3)
    assert.equal(
      l1.get("staticroutes"),
      "169.254.169.254/32 10.202.0.2 10.99.0.0/16 10.202.0.254 0.0.0.0/0 10.202.0.1",
    );
    const l2 = await g2.dhcp();
    assert.equal(l2?.get("ip"), "10.202.0.12");
    assert.equal(l2?.get("hostname"), "vm-two");
    assert.equal(l2?.get("boot_file"), "", "port 1's extra option must not reach port 2");
  });

  it("guests with their leases reach each other, the DHCP port and 169.254.169.254 through it", async () => {
    const [, p1, p2] = spec.ports;
    const g1 = guests.get(p1.id)!;
    const g2 = guests.get(p2.id)!;
    await g1.address(["10.202.0.11/24"]);
    await g2.address(["10.202.0.12/24"]);
    await g1.exec(["ip", "route", "replace", "169.254.169.254", "via", "10.202.0.2"]);
    assert.ok(await g1.ping("10.202.0.12"), "guest 1 -> guest 2");
    assert.ok(await g2.ping("10.202.0.11"), "guest 2 -> guest 1");
    assert.ok(await g1.ping("10.202.0.2"), "guest 1 -> DHCP port");
    assert.ok(await g1.ping("169.254.169.254"), "guest 1 -> metadata address on the DHCP port");
  });

  it("is idempotent: the same spec changes nothing and keeps dnsmasq", async () => {
    const pid = (await ensureDhcp(host, spec)).pid;
    const again = await ensureDhcp(host, spec);
    assert.deepEqual(again, { pid, action: "unchanged" });
  });

  it("while a port with extra options is loaded, a change restarts dnsmasq (2.90 aborts on SIGHUP then)", async () => {
    const { pid } = await ensureDhcp(host, spec);
    const [, p1] = spec.ports;
    spec = { ...spec, ports: spec.ports.map((p) => (p.id === p1.id ? { ...p, extraDhcpOpts: [] } : p)) };
    const r = await ensureDhcp(host, spec);
    assert.equal(r.action, "restarted");
    assert.notEqual(r.pid, pid);
    assert.equal((await guests.get(p1.id)!.dhcp())?.get("boot_file"), "");
  });

  it("a new port is served after a SIGHUP reload, without restarting dnsmasq", async () => {
    const pid = (await ensureDhcp(host, spec)).pid;
    assert.equal((await guests.get(spec.ports[1].id)!.dhcp())?.get("ip"), "10.202.0.11"); // a lease before the reload
    const p3 = port("p3", "10.202.0.13", "fa:16:3e:02:00:13");
    spec = { ...spec, ports: [...spec.ports, p3] };
    assert.deepEqual(await ensureDhcp(host, spec), { pid, action: "reloaded" });
    const g3 = await guestFor(p3);
    assert.equal((await g3.dhcp())?.get("ip"), "10.202.0.13");
    assert.ok(dhcpRunning(host, net.id), "dnsmasq survived the reload");
  });

  it("an address freed by a deleted port goes to its new port (the old lease is released)", async () => {
    const paths = dhcpPaths(host, net.id);
    const p2 = spec.ports[2];
    await until("guest 2's lease in the lease file", () =>
      readFileSync(paths.leases, "utf8").includes("10.202.0.12"),
    );
    const p4 = port("p4", "10.202.0.12", "fa:16:3e:02:00:14");
    spec = { ...spec, ports: [...spec.ports.filter((p) => p.id !== p2.id), p4] };
    assert.equal((await ensureDhcp(host, spec)).action, "reloaded");
    const g4 = await guestFor(p4);
    assert.equal((await g4.dhcp())?.get("ip"), "10.202.0.12");
  });

  it("refuses extra DHCP option values that would inject dnsmasq directives, changing nothing (OSSA-2021-005)", async () => {
    const paths = dhcpPaths(host, net.id);
    const files = () => [paths.conf, paths.hosts, paths.opts].map((f) => readFileSync(f, "utf8"));
    const before = files();
    const { pid } = await ensureDhcp(host, spec);
    const evil = [
      "pxelinux.0\ndhcp-range=set:x,10.9.9.0,static",
      "a,b",
      "x\rdhcp-script=/tmp/x",
      "1.2.3.4,tag:x",
      "has space",
      'quote"d',
    ];
    for (const value of evil) {
      const bad = port("pe", "10.202.0.99", "fa:16:3e:02:00:99", {
        extraDhcpOpts: [{ name: "bootfile-name", value, ipVersion: 4 }],
      });
      await assert.rejects(
        ensureDhcp(host, { ...spec, ports: [...spec.ports, bad] }),
        InvalidSpec,
        JSON.stringify(value),
      );
    }
    const badName = port("pn", "10.202.0.98", "fa:16:3e:02:00:98", {
      extraDhcpOpts: [{ name: "tag:x,option:router", value: "1.2.3.4", ipVersion: 4 }],
    });
    await assert.rejects(ensureDhcp(host, { ...spec, ports: [...spec.ports, badName] }), InvalidSpec);
    const badHost = port("ph", "10.202.0.97", "fa:16:3e:02:00:97", { hostname: "x,set:known" });
    await assert.rejects(ensureDhcp(host, { ...spec, ports: [...spec.ports, badHost] }), InvalidSpec);
    assert.deepEqual(files(), before);
    assert.deepEqual(await ensureDhcp(host, spec), { pid, action: "unchanged" });
  });

  it("a new subnet restarts dnsmasq with its range; a dead dnsmasq is started again", async () => {
    const { pid } = await ensureDhcp(host, spec);
    const s2: SubnetSpec = {
      ...subnet,
      id: lab.id("s2"),
      cidr: "10.203.0.0/24",
      gateway: "10.203.0.1",
      dns: [],
      hostRoutes: [],
    };
    const dhcpPort = {
      ...spec.port,
      fixedIps: [...spec.port.fixedIps, { subnetId: s2.id, address: "10.203.0.2" }],
    };
    spec = { ...spec, subnets: [subnet, s2], port: dhcpPort, ports: [dhcpPort, ...spec.ports.slice(1)] };
    const r = await ensureDhcp(host, spec);
    assert.equal(r.action, "restarted");
    assert.notEqual(r.pid, pid);
    assert.equal(pidAlive(pid), false);
    assert.match(
      readFileSync(dhcpPaths(host, net.id).conf, "utf8"),
      /dhcp-range=set:subnet-\S+,10\.203\.0\.0,static,255\.255\.255\.0,86400s/,
    );
    process.kill(r.pid, "SIGKILL");
    await until("dnsmasq dead", () => !dhcpRunning(host, net.id));
    const again = await ensureDhcp(host, spec);
    assert.equal(again.action, "started");
    const g1 = guests.get(spec.ports[1].id)!;
    assert.equal((await g1.dhcp())?.get("ip"), "10.202.0.11");
  });

  it("remove stops dnsmasq and leaves no namespace, port or file", async () => {
    const { pid } = await ensureDhcp(host, spec);
    await removeDhcp(host, net.id);
    assert.equal(pidAlive(pid), false);
    assert.equal(await namespaceExists(dhcpNamespace(host.nsPrefix!, net.id)), false);
    assert.equal(await getLink(host.netns, tapName(spec.port.id)), null);
    assert.equal(existsSync(dhcpPaths(host, net.id).dir), false);
    await removeDhcp(host, net.id); // idempotent
  });
});
