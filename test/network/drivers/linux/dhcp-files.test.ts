// dnsmasq's files and command line, without a kernel: what is written for a network, and what is refused.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  confText,
  hostsText,
  optsText,
  type DhcpPaths,
  type DhcpSpec,
} from "../../../../src/network/drivers/linux/dhcp-files.js";
import { dhcpOptionKey, dhcpOptionValue } from "../../../../src/network/drivers/linux/dhcp-options.js";
import { dhcpPaths } from "../../../../src/network/drivers/linux/dhcp.js";
import { dnsmasqArgs } from "../../../../src/network/drivers/linux/dnsmasq.js";
import { InvalidSpec } from "../../../../src/network/drivers/linux/errors.js";
import type { PortSpec, SubnetSpec } from "../../../../src/network/drivers/linux/model.js";

const paths: DhcpPaths = {
  dir: "/d",
  conf: "/d/dnsmasq.conf",
  hosts: "/d/host",
  opts: "/d/opts",
  leases: "/d/leases",
  pid: "/d/pid",
  log: "/d/log",
};
const subnet: SubnetSpec = {
  id: "sub-1",
  networkId: "net-1",
  cidr: "10.0.0.0/24",
  ipVersion: 4,
  gateway: "10.0.0.1",
  dhcp: true,
  dns: ["10.0.0.53", "10.0.0.54"],
  hostRoutes: [{ destination: "192.168.0.0/16", nexthop: "10.0.0.254" }],
  allocationPools: [],
};
const v6: SubnetSpec = {
  ...subnet,
  id: "sub-6",
  cidr: "fd00::/64",
  ipVersion: 6,
  gateway: "fd00::1",
  dns: ["fd00::53"],
  hostRoutes: [],
  ipv6AddressMode: "dhcpv6-stateful",
};
const port = (id: string, ip: string, extra: Partial<PortSpec> = {}): PortSpec => ({
  id,
  networkId: "net-1",
  mac: "FA:16:3E:00:00:05",
  fixedIps: [{ subnetId: "sub-1", address: ip }],
  deviceOwner: "compute:nova",
  securityGroups: [],
  allowedAddressPairs: [],
  portSecurity: true,
  extraDhcpOpts: [],
  ...extra,
});
const dhcpPort = port("dhcp-1", "10.0.0.2", { mac: "fa:16:3e:00:00:02" });
const spec = (ports: PortSpec[] = [], extra: Partial<DhcpSpec> = {}): DhcpSpec => ({
  network: { id: "net-1", mtu: 1450, segmentation: "vxlan", segmentationId: 5 },
  subnets: [subnet],
  port: dhcpPort,
  ports: [dhcpPort, ...ports],
  metadata: true,
  ...extra,
});

describe("linux data plane: dnsmasq files", () => {
  it("the command line is fixed: only the network's own file paths and the derived interface", () => {
    assert.deepEqual(dnsmasqArgs(paths, "ns-dhcp-1"), [
      "dnsmasq",
      "--conf-file=/d/dnsmasq.conf",
      "--pid-file=/d/pid",
      "--dhcp-hostsfile=/d/host",
      "--dhcp-optsfile=/d/opts",
      "--dhcp-leasefile=/d/leases",
      "--interface=ns-dhcp-1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
    ]);
    assert.throws(() => dnsmasqArgs(paths, "ns-x --dhcp-script=/x"), InvalidSpec);
    assert.equal(dhcpPaths({ stateDir: "/var/lib/s" }, "net-1").conf, "/var/lib/s/dhcp/net-1/dnsmasq.conf");
    for (const stateDir of ["/tmp/a\ndhcp-script=/x", "/tmp/a,b"]) {
      assert.throws(() => dhcpPaths({ stateDir }, "net-1"), InvalidSpec, "written into the config file");
    }
    assert.throws(() => dhcpPaths({ stateDir: "/s" }, "../net"), InvalidSpec);
  });

  it("the config file has a static range per served subnet and the subnet options, MTU and routes forced", () => {
    const text = confText(
      spec([], { subnets: [subnet, v6, { ...subnet, id: "off", cidr: "10.1.0.0/24", dhcp: false }] }),
      "ns-dhcp-1",
      paths,
    );
    const lines = text.split("\n");
    for (const l of [
      "interface=ns-dhcp-1",
      "port=0",
      "no-resolv",
      "dhcp-range=set:subnet-sub-1,10.0.0.0,static,255.255.255.0,86400s",
      "dhcp-option=tag:subnet-sub-1,option:dns-server,10.0.0.53,10.0.0.54",
      "dhcp-option-force=tag:subnet-sub-1,option:mtu,1450",
      "dhcp-option=tag:subnet-sub-1,option:router,10.0.0.1",
      "dhcp-option-force=tag:subnet-sub-1,option:classless-static-route,169.254.169.254/32,10.0.0.2,192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1",
      "dhcp-option-force=tag:subnet-sub-1,249,169.254.169.254/32,10.0.0.2,192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1",
      "dhcp-range=set:subnet-sub-6,fd00::,static,64,86400s",
      "dhcp-option=tag:subnet-sub-6,option6:dns-server,[fd00::53]",
    ]) {
      assert.ok(lines.includes(l), `missing ${l}`);
    }
    assert.doesNotMatch(text, /10\.1\.0\.0/, "a subnet with DHCP off is not served");
  });

  it("without a gateway no router is offered; without metadata or host routes no classless route", () => {
    const text = confText(
      spec([], { metadata: false, subnets: [{ ...subnet, gateway: null, hostRoutes: [] }] }),
      "ns-d",
      paths,
    );
    assert.match(text, /^dhcp-option=tag:subnet-sub-1,option:router$/m);
    assert.doesNotMatch(text, /classless/);
  });

  it("the hosts file maps MAC to address and host name; only ports with extra options are tagged", () => {
    const p1 = port("port-1", "10.0.0.5");
    const p2 = port("port-2", "10.0.0.6", {
      mac: "fa:16:3e:00:00:06",
      hostname: "vm2",
      extraDhcpOpts: [{ name: "bootfile-name", value: "pxelinux.0", ipVersion: 4 }],
      fixedIps: [
        { subnetId: "sub-1", address: "10.0.0.6" },
        { subnetId: "sub-6", address: "fd00::6" },
      ],
    });
    const text = hostsText(spec([p1, p2], { subnets: [subnet, v6] }));
    assert.deepEqual(text.split("\n").filter(Boolean).slice(1), [
      "fa:16:3e:00:00:05,host-10-0-0-5.openstacklocal,10.0.0.5",
      "fa:16:3e:00:00:06,vm2.openstacklocal,10.0.0.6,set:port-port-2",
      "fa:16:3e:00:00:06,vm2.openstacklocal,[fd00::6],set:port-port-2",
    ]);
    assert.equal(optsText(spec([p1, p2])), "tag:port-port-2,option:bootfile-name,pxelinux.0\n");
  });

  it("extra options: known names or numbers; plain tokens or lists of addresses", () => {
    assert.equal(dhcpOptionKey({ name: "tftp-server", ipVersion: 4 }), "option:tftp-server");
    assert.equal(dhcpOptionKey({ name: "66", ipVersion: 4 }), "66");
    assert.equal(dhcpOptionKey({ name: "bootfile-url", ipVersion: 6 }), "option6:bootfile-url");
    assert.equal(dhcpOptionKey({ name: "300", ipVersion: 6 }), "option6:300");
    for (const v of [
      "pxelinux.0",
      "http://10.0.0.9/boot.ipxe?x=1&y=2",
      "10.0.0.1,10.0.0.2",
      "[fd00::1],[fd00::2]",
      "10.0.0.0/8,10.0.0.1",
    ]) {
      assert.equal(dhcpOptionValue(v), v);
    }
  });

  it("refuses option names and values that could inject dnsmasq directives (OSSA-2021-005)", () => {
    for (const name of [
      "tag:x,option:router",
      "router\n",
      "255",
      "0",
      "option:router",
      "Router",
      "__proto__",
      "",
    ]) {
      assert.throws(() => dhcpOptionKey({ name, ipVersion: 4 }), InvalidSpec, name);
    }
    for (const value of [
      "a\nb",
      "a\rb",
      "x,dhcp-script=/tmp/evil",
      "1.2.3.4,tag:known",
      "1.2.3.4,",
      ",1.2.3.4",
      "two words",
      'q"uote',
      "back\\slash",
      "hash#",
      "tab\t",
      "",
      "x".repeat(256),
    ]) {
      assert.throws(() => dhcpOptionValue(value), InvalidSpec, JSON.stringify(value));
    }
    const evil = port("port-9", "10.0.0.9", {
      extraDhcpOpts: [{ name: "bootfile-name", value: "a\ndhcp-range=x", ipVersion: 4 }],
    });
    assert.throws(() => optsText(spec([evil])), InvalidSpec);
  });

  it("refuses malformed host names, MACs, addresses and ids", () => {
    assert.throws(() => hostsText(spec([port("p", "10.0.0.5", { hostname: "a,set:known" })])), InvalidSpec);
    assert.throws(() => hostsText(spec([port("p", "10.0.0.5", { hostname: "-lead" })])), InvalidSpec);
    assert.throws(() => hostsText(spec([port("p", "10.0.0.5", { mac: "fa:16:3e:00:00" })])), InvalidSpec);
    assert.throws(
      () => hostsText(spec([port("p", "10.0.0.5", { mac: "01:00:5e:00:00:01" })])),
      InvalidSpec,
      "multicast",
    );
    assert.throws(() => hostsText(spec([port("p", "10.0.0.5,x")])), InvalidSpec);
    assert.throws(
      () =>
        hostsText(
          spec([port("p,x", "10.0.0.5", { extraDhcpOpts: [{ name: "66", value: "x", ipVersion: 4 }] })]),
        ),
      InvalidSpec,
    );
    assert.throws(
      () => confText(spec([], { subnets: [{ ...subnet, cidr: "10.0.0.0/33" }] }), "ns-d", paths),
      InvalidSpec,
    );
    assert.throws(
      () => confText(spec([], { subnets: [{ ...subnet, id: "../x" }] }), "ns-d", paths),
      InvalidSpec,
    );
  });
});
