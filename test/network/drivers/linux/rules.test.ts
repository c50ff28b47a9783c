// Firewall and NAT rule generation, without a kernel: the iptables lines a spec becomes, and what is left out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bridgeTableText } from "../../../../src/network/drivers/linux/firewall-bridge.js";
import { setEntries } from "../../../../src/network/drivers/linux/firewall-ipset.js";
import {
  buildFamilyRules,
  linkLocalOf,
  ruleMatch,
} from "../../../../src/network/drivers/linux/firewall-rules.js";
import { InvalidSpec } from "../../../../src/network/drivers/linux/errors.js";
import { restoreText } from "../../../../src/network/drivers/linux/iptables.js";
import type {
  PortSpec,
  RouterSpec,
  SecurityGroupRuleSpec,
} from "../../../../src/network/drivers/linux/model.js";
import * as names from "../../../../src/network/drivers/linux/names.js";
import { currentFloatingMap, natRules } from "../../../../src/network/drivers/linux/router-nat.js";
import { udpliteTableText } from "../../../../src/network/drivers/linux/router-udplite.js";

const r = (x: Partial<SecurityGroupRuleSpec>): SecurityGroupRuleSpec => ({
  id: "r",
  direction: "ingress",
  ethertype: "IPv4",
  protocol: null,
  portRangeMin: null,
  portRangeMax: null,
  remoteIpPrefix: null,
  remoteGroupId: null,
  ...x,
});
const port: PortSpec = {
  id: "0123456789abcdef",
  networkId: "net",
  mac: "fa:16:3e:00:00:01",
  fixedIps: [
    { subnetId: "s", address: "10.0.0.5" },
    { subnetId: "s6", address: "fd00::5" },
  ],
  deviceOwner: "compute:nova",
  securityGroups: ["sg1"],
  allowedAddressPairs: [{ ipAddress: "10.0.0.128/25", macAddress: "fa:16:3e:00:00:99" }],
  portSecurity: true,
  extraDhcpOpts: [],
};

describe("linux data plane: names", () => {
  it("derives Neutron's names within IFNAMSIZ and refuses ids that are not plain", () => {
    const id = "6f2c9a1e-0b5d-4c1e-9f3a-2b7c8d9e0f1a";
    assert.equal(names.bridgeName(id), "brq6f2c9a1e-0b");
    assert.equal(names.tapName(id), "tap6f2c9a1e-0b");
    assert.equal(names.routerPortName(id), "qr-6f2c9a1e-0b");
    assert.equal(names.gatewayPortName(id), "qg-6f2c9a1e-0b");
    assert.equal(names.dhcpPortName(id), "ns-6f2c9a1e-0b");
    assert.equal(names.vxlanName(16777215), "vxlan-16777215");
    assert.equal(names.vlanName("enp0s31f6-long", 4094), "enp0s31f6-.4094");
    assert.equal(names.dhcpNamespace("", id), `qdhcp-${id}`);
    for (const n of [names.bridgeName(id), names.vlanName("enp0s31f6-long", 4094)]) assert.ok(n.length <= 15);
    for (const bad of ["../etc", "a b", "x\n", "-lead", "", "a;b"])
      assert.throws(() => names.tapName(bad), InvalidSpec);
    assert.throws(() => names.vxlanName(0), InvalidSpec);
    assert.throws(() => names.vlanName("eth0", 4095), InvalidSpec);
  });
});

describe("linux data plane: security group rules", () => {
  it("translates protocols, port ranges, ICMP type/code, prefixes and remote groups", () => {
    const m = (x: Partial<SecurityGroupRuleSpec>, v: 4 | 6 = 4) => ruleMatch(r(x), v);
    assert.deepEqual(m({ protocol: "tcp", portRangeMin: 22, portRangeMax: 22 }), {
      match: "-p 6 -m tcp --dport 22",
    });
    assert.deepEqual(m({ protocol: "17", portRangeMin: 1000, portRangeMax: 2000 }), {
      match: "-p 17 -m udp --dport 1000:2000",
    });
    assert.deepEqual(m({ protocol: "icmp", portRangeMin: 8, portRangeMax: 0 }), {
      match: "-p 1 -m icmp --icmp-type 8/0",
    });
    assert.deepEqual(m({ ethertype: "IPv6", protocol: "icmp", portRangeMin: 128 }, 6), {
      match: "-p 58 -m icmp6 --icmpv6-type 128",
    });
    assert.deepEqual(m({ protocol: "any" }), { match: "" });
    assert.deepEqual(m({ protocol: "gre" }), { match: "-p 47" });
    assert.deepEqual(m({ remoteIpPrefix: "10.1.0.0/16", protocol: "tcp" }), { match: "-s 10.1.0.0/16 -p 6" });
    assert.deepEqual(m({ direction: "egress", remoteIpPrefix: "10.1.0.0/16" }), { match: "-d 10.1.0.0/16" });
    assert.deepEqual(m({ remoteGroupId: "sg2" }), { match: "-m set --match-set stv4-sg2 src" });
    assert.ok("skip" in m({ protocol: "bogus" }), "unknown protocol: left out");
    assert.ok(
      "skip" in m({ protocol: "gre", portRangeMin: 1 }),
      "ports on a protocol without ports: left out, not widened",
    );
    assert.ok("skip" in m({ remoteIpPrefix: "fd00::/8" }), "prefix of the other family: left out");
    assert.throws(() => m({ protocol: "tcp", portRangeMin: 70000 }), InvalidSpec);
  });

  it("builds per-port chains: dispatch by physdev, anti-spoofing, stateful, default drop", () => {
    const rules = buildFamilyRules(
      {
        networks: [{ id: "net", mtu: 1500, segmentation: "local", ctZone: 3 }],
        ports: [port, { ...port, id: "nosecurity1", portSecurity: false }],
        groups: [
          {
            id: "sg1",
            members: ["10.0.0.5", "fd00::5"],
            rules: [r({ protocol: "tcp", portRangeMin: 22, remoteGroupId: "sg1" }), r({ ethertype: "IPv6" })],
          },
        ],
      },
      4,
    );
    const f = rules.filter.rules;
    const has = (l: string) => assert.ok(f.includes(l), `missing: ${l}`);
    has("-A stratus-FORWARD -m physdev --physdev-out tap0123456789a --physdev-is-bridged -j stratus-sg");
    has("-A stratus-sg -m physdev --physdev-out tap0123456789a --physdev-is-bridged -j stratus-i0123456789a");
    has("-A stratus-sg -m physdev --physdev-in tap0123456789a --physdev-is-bridged -j stratus-o0123456789a");
    has(
      "-A stratus-INPUT -m physdev --physdev-in tap0123456789a --physdev-is-bridged -j stratus-o0123456789a",
    );
    has("-A stratus-s0123456789a -s 10.0.0.5/32 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN");
    has("-A stratus-s0123456789a -s 10.0.0.128/25 -m mac --mac-source fa:16:3e:00:00:99 -j RETURN");
    has("-A stratus-o0123456789a -p 17 -m udp --sport 67 --dport 68 -j DROP");
    has("-A stratus-i0123456789a -p 6 -m tcp --dport 22 -m set --match-set stv4-sg1 src -j RETURN");
    assert.deepEqual(f.slice(-2), [
      "-A stratus-sg -j ACCEPT",
      "-A stratus-FORWARD -i brqnet -o brqnet -m physdev --physdev-is-bridged -j ACCEPT",
    ]);
    const ingress = f.filter((l) => l.startsWith("-A stratus-i0123456789a "));
    assert.equal(ingress[0], "-A stratus-i0123456789a -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN");
    assert.equal(ingress.at(-1), "-A stratus-i0123456789a -j DROP");
    assert.ok(!f.some((l) => l.includes("nosecurity")), "a port without port security has no rules");
    assert.deepEqual(rules.raw.rules, ["-A stratus-PREROUTING -i brqnet -j CT --zone 3"]);
    assert.deepEqual([...rules.sets], [["stv4-sg1", ["10.0.0.5"]]]);
    assert.ok(!f.some((l) => l.includes("fd00")), "IPv6 rules stay out of iptables");
    const six = buildFamilyRules(
      { networks: [], ports: [port], groups: [{ id: "sg1", members: [], rules: [] }] },
      6,
    ).filter.rules;
    assert.ok(
      six.includes(
        "-A stratus-s0123456789a -s fe80::f816:3eff:fe00:1/128 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN",
      ),
    );
    assert.ok(
      six.includes("-A stratus-o0123456789a -p 58 -m icmp6 --icmpv6-type 134 -j DROP"),
      "router advertisements from guests",
    );
  });

  it("a security group the spec does not include is reported, and its port stays default-deny", () => {
    const rules = buildFamilyRules({ networks: [], ports: [port], groups: [] }, 4);
    assert.match(rules.warnings.join(), /sg1 not given/);
    assert.ok(!rules.filter.rules.some((l) => l.includes("--dport 22")));
  });

  it("helpers: link-local of a MAC, set entries, restore text, the bridge table", () => {
    assert.equal(linkLocalOf("fa:16:3e:00:00:01"), "fe80::f816:3eff:fe00:1");
    assert.deepEqual(setEntries(["10.0.0.5/32", "10.1.0.0/16", "0.0.0.0/0", "fd00::1"]), [
      "10.0.0.5",
      "10.1.0.0/16",
      "0.0.0.0/1",
      "128.0.0.0/1",
      "fd00::1",
    ]);
    assert.equal(
      restoreText("filter", { chains: ["stratus-a"], rules: ["-A stratus-a -j DROP"] }, ["stratus-old"]),
      "*filter\n:stratus-a - [0:0]\n:stratus-old - [0:0]\n-A stratus-a -j DROP\n-X stratus-old\nCOMMIT\n",
    );
    assert.throws(() => restoreText("filter", { chains: ["FORWARD"], rules: [] }, []));
    const nft = bridgeTableText([port]);
    assert.match(nft, /iifname "tap0123456789a" jump port-0123456789a/);
    assert.match(nft, /ether saddr != \{ fa:16:3e:00:00:01, fa:16:3e:00:00:99 \} drop/);
    assert.match(nft, /arp saddr ip != \{ 0\.0\.0\.0, 10\.0\.0\.5, 10\.0\.0\.128\/25 \} drop/);
    assert.equal(
      bridgeTableText([{ ...port, portSecurity: false }]),
      "table bridge stratus\ndelete table bridge stratus\n",
    );
  });
});

describe("linux data plane: router NAT rules", () => {
  const router: RouterSpec = {
    id: "r1",
    interfaces: [
      { portId: "qr1", networkId: "n1", mac: "fa:16:3e:00:00:01", addresses: ["10.0.0.1/24"], mtu: 1500 },
    ],
    gateway: {
      portId: "qg1",
      networkId: "pub",
      mac: "fa:16:3e:00:00:02",
      addresses: ["172.24.4.10/24"],
      gatewayIp: "172.24.4.1",
      enableSnat: true,
      mtu: 1500,
    },
    routes: [],
    floatingIps: [{ id: "f", floatingIp: "172.24.4.20", fixedIp: "10.0.0.5", portId: "p" }],
  };

  it("DNAT and SNAT per floating IP, SNAT for the router, hairpin only for internal sources", () => {
    assert.deepEqual(natRules(router).rules, [
      "-A stratus-PREROUTING -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.5",
      "-A stratus-OUTPUT -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.5",
      "-A stratus-POSTROUTING ! -o qg-qg1 -m conntrack ! --ctstate DNAT -j ACCEPT",
      "-A stratus-POSTROUTING -s 10.0.0.5/32 -j SNAT --to-source 172.24.4.20",
      "-A stratus-POSTROUTING -o qg-qg1 -j SNAT --to-source 172.24.4.10",
      "-A stratus-POSTROUTING -s 10.0.0.0/24 -m conntrack --ctstate DNAT -j SNAT --to-source 172.24.4.10",
    ]);
    const noSnat = natRules({ ...router, gateway: { ...router.gateway!, enableSnat: false } }).rules;
    assert.ok(!noSnat.some((l) => l.includes("172.24.4.10")));
    assert.deepEqual(natRules({ ...router, gateway: null }).rules, []);
    assert.throws(
      () => natRules({ ...router, floatingIps: [{ ...router.floatingIps[0], floatingIp: "2001:db8::1" }] }),
      InvalidSpec,
    );
    const saved = natRules(router).rules.join("\n");
    assert.deepEqual([...currentFloatingMap(saved)], [["172.24.4.20", "10.0.0.5"]]);
  });

  it("port forwardings: iptables DNAT for tcp, udp and sctp; UDP-Lite in an nft table of its own", () => {
    const pf = (id: string, protocol: "tcp" | "udp" | "sctp" | "udplite", ext: number, port: number) => ({
      id,
      floatingIp: "172.24.4.30",
      protocol,
      externalPort: ext,
      internalIp: "10.0.0.7",
      internalPort: port,
    });
    const fwd: RouterSpec = {
      ...router,
      floatingIps: [],
      portForwardings: [
        pf("a", "tcp", 2022, 22),
        pf("b", "udplite", 5000, 6000),
        pf("c", "udplite", 5001, 5001),
      ],
    };
    const rules = natRules(fwd).rules;
    assert.ok(
      rules.includes(
        "-A stratus-PREROUTING -d 172.24.4.30/32 -p tcp -m tcp --dport 2022 -j DNAT --to-destination 10.0.0.7:22",
      ),
    );
    assert.ok(!rules.some((l) => l.includes("udplite")), "iptables cannot DNAT UDP-Lite ports");
    const nft = udpliteTableText(fwd);
    assert.equal(
      nft,
      [
        "table ip stratus-udplite",
        "delete table ip stratus-udplite",
        "table ip stratus-udplite {",
        "  chain prerouting {",
        "    type nat hook prerouting priority -101; policy accept;",
        "    ip daddr 172.24.4.30 udplite dport 5000 dnat to 10.0.0.7:6000",
        "    ip daddr 172.24.4.30 udplite dport 5001 dnat to 10.0.0.7:5001",
        "  }",
        "  chain output {",
        "    type nat hook output priority -101; policy accept;",
        "    ip daddr 172.24.4.30 udplite dport 5000 dnat to 10.0.0.7:6000",
        "    ip daddr 172.24.4.30 udplite dport 5001 dnat to 10.0.0.7:5001",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    // None (or no gateway): the script only deletes the table.
    const empty = "table ip stratus-udplite\ndelete table ip stratus-udplite\n";
    assert.equal(udpliteTableText(router), empty);
    assert.equal(udpliteTableText({ ...fwd, gateway: null }), empty);
    assert.throws(
      () => udpliteTableText({ ...fwd, portForwardings: [pf("d", "udplite", 0, 1)] }),
      InvalidSpec,
    );
    assert.throws(
      () =>
        udpliteTableText({ ...fwd, portForwardings: [{ ...pf("e", "udplite", 1, 1), internalIp: "::1" }] }),
      InvalidSpec,
    );
  });
});
