// Security groups and anti-spoofing on a real kernel: a namespace playing the host with br_netfilter on, three
// guests on one bridge, the firewall applied and re-applied as the agent would (full resyncs), and traffic checked
// from the guests. Each block first shows the traffic passing without the protection it then checks (positive
// control), so a check that could not fail would be noticed.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../../../../src/network/drivers/linux/exec.js";
import { applyFirewall, removeFirewall } from "../../../../src/network/drivers/linux/firewall.js";
import type { FirewallSpec } from "../../../../src/network/drivers/linux/firewall-rules.js";
import type { LinuxHost } from "../../../../src/network/drivers/linux/host.js";
import { sysctl } from "../../../../src/network/drivers/linux/ip-netns.js";
import type {
  NetworkSpec,
  PortSpec,
  SecurityGroupRuleSpec,
  SecurityGroupSpec,
} from "../../../../src/network/drivers/linux/model.js";
import { bridgeName } from "../../../../src/network/drivers/linux/names.js";
import { ensureNetwork } from "../../../../src/network/drivers/linux/network.js";
import { eventually } from "../../../helpers/wait.js";
import { Lab, SKIP_KERNEL, type Guest } from "./lab.js";

describe("linux data plane: security groups and anti-spoofing (real kernel)", { skip: SKIP_KERNEL }, () => {
  const lab = new Lab();
  let host: LinuxHost;
  let net: NetworkSpec;
  const ports = new Map<string, PortSpec>();
  const groups = new Map<string, SecurityGroupSpec>();
  const g: Guest[] = [];
  const p: PortSpec[] = [];
  const sg = { a: "", b: "", c: "" };
  let ruleN = 0;
  const rule = (r: Partial<SecurityGroupRuleSpec>): SecurityGroupRuleSpec => ({
    id: `r${++ruleN}`,
    direction: "ingress",
    ethertype: "IPv4",
    protocol: null,
    portRangeMin: null,
    portRangeMax: null,
    remoteIpPrefix: null,
    remoteGroupId: null,
    ...r,
  });
  const egressAll = () => [rule({ direction: "egress" }), rule({ direction: "egress", ethertype: "IPv6" })];
  const spec = (): FirewallSpec => ({
    networks: [net],
    ports: [...ports.values()],
    groups: [...groups.values()],
  });
  const apply = async () => assert.deepEqual((await applyFirewall(host, spec())).warnings, []);
  const setRules = (id: string, rules: SecurityGroupRuleSpec[]) =>
    groups.set(id, { ...groups.get(id)!, rules });
  const setPort = (i: number, change: Partial<PortSpec>) => {
    p[i] = { ...p[i], ...change };
    ports.set(p[i].id, p[i]);
  };
  const ip = (i: number) => `10.204.0.1${i}`;
  const ssh = (from: number, to: number) => g[from].probe(ip(to), 22);
  const sshBlocked = (from: number, to: number) => g[from].cannotReach(ip(to), 22);

  before(async () => {
    host = await lab.host("h");
    net = { id: lab.id("n"), mtu: 1500, segmentation: "local", ctZone: 7 };
    await ensureNetwork(host, net);
    sg.a = lab.id("sga");
    sg.b = lab.id("sgb");
    sg.c = lab.id("sgc");
    groups.set(sg.a, { id: sg.a, rules: egressAll(), members: [ip(0)] });
    groups.set(sg.b, { id: sg.b, rules: egressAll(), members: [ip(1)] });
    groups.set(sg.c, { id: sg.c, rules: egressAll(), members: [ip(2)] });
    for (const [i, group] of [sg.a, sg.b, sg.c].entries()) {
      const port: PortSpec = {
        id: lab.id(`p${i}`),
        networkId: net.id,
        mac: `fa:16:3e:04:00:1${i}`,
        fixedIps: [
          { subnetId: "s", address: ip(i) },
          { subnetId: "s6", address: `fd00:204::1${i}` },
        ],
        deviceOwner: "compute:nova",
        securityGroups: [group],
        allowedAddressPairs: [],
        portSecurity: true,
        extraDhcpOpts: [],
      };
      p.push(port);
      ports.set(port.id, port);
      const guest = await lab.guest(`g${i}`, host, bridgeName(net.id), port.id, port.mac);
      await guest.address([`${ip(i)}/24`, `fd00:204::1${i}/64`]);
      await sysctl(guest.ns, { "net.ipv4.neigh.eth0.locktime": "0" });
      await guest.serve(22);
      g.push(guest);
    }
  });

  after(async () => {
    await removeFirewall(host);
    await lab.close();
    await lab.assertClean();
  });

  it("without the firewall every guest reaches every other (control)", async () => {
    assert.match((await ssh(0, 1)) ?? "", / 10\.204\.0\.10$/);
    assert.ok(await ssh(2, 1));
    assert.ok(await g[0].ping(ip(1)));
  });

  it("default deny ingress: with no rule for port 22 the connection fails, ICMP allowed by a rule passes", async () => {
    setRules(sg.b, [...egressAll(), rule({ protocol: "icmp" })]);
    await apply();
    assert.ok(await sshBlocked(0, 1));
    assert.ok(await g[0].ping(ip(1)), "ICMP allowed by the rule");
    assert.ok(await g[1].pingFails(ip(0)), "group A has no ingress rule: its guest answers no ping");
  });

  it("adding an ingress rule lets new connections in; they are tracked in the network's conntrack zone", async () => {
    setRules(sg.b, [
      ...groups.get(sg.b)!.rules,
      rule({ protocol: "tcp", portRangeMin: 22, portRangeMax: 22 }),
    ]);
    await apply();
    assert.match((await ssh(0, 1)) ?? "", / 10\.204\.0\.10$/);
    assert.ok(await ssh(2, 1));
    const ct = await run(["conntrack", "-L", "-p", "tcp", "--zone", "7"], { netns: host.netns });
    assert.match(ct.stdout, /dport=22 .*zone=7/);
  });

  it("removing the rule cuts new connections, while an established one keeps working (stateful, no flap)", async () => {
    const session = await lab.session(g[0].ns, ip(1), 22);
    session.send("before");
    assert.ok(await session.received("before"));
    setRules(
      sg.b,
      groups.get(sg.b)!.rules.filter((r) => r.protocol !== "tcp"),
    );
    await apply();
    assert.ok(await sshBlocked(0, 1));
    session.send("after");
    assert.ok(await session.received("after"), "the established connection was cut");
    session.child.kill();
  });

  it("a remote-group rule admits members of the group only; membership changes apply through the ipset", async () => {
    setRules(sg.b, [
      ...groups.get(sg.b)!.rules,
      rule({ protocol: "tcp", portRangeMin: 20, portRangeMax: 30, remoteGroupId: sg.a }),
    ]);
    await apply();
    assert.ok(await ssh(0, 1), "guest 0 is in group A");
    assert.ok(await sshBlocked(2, 1), "guest 2 is not");
    groups.set(sg.a, { ...groups.get(sg.a)!, members: [ip(0), ip(2)] });
    await apply();
    assert.ok(await ssh(2, 1), "guest 2's address joined group A");
    const set = await run(["ipset", "list", `stv4-${sg.a.slice(0, 26)}`], { netns: host.netns });
    assert.match(set.stdout, /10\.204\.0\.12/);
    groups.set(sg.a, { ...groups.get(sg.a)!, members: [ip(0)] });
    await apply();
    assert.ok(await sshBlocked(2, 1), "and left it");
  });

  it("a resync with the same spec changes no rule, set or table, and keeps one jump first in each chain", async () => {
    const state = async () => {
      const ipt = await run(["iptables-save"], { netns: host.netns });
      const ip6 = await run(["ip6tables-save"], { netns: host.netns });
      const sets = await run(["ipset", "save"], { netns: host.netns });
      const nft = await run(["nft", "list", "table", "bridge", "stratus"], { netns: host.netns });
      const strip = (s: string) =>
        s
          .split("\n")
          .filter((l) => !l.startsWith("#"))
          .map((l) => l.replace(/\[\d+:\d+\]/, ""));
      return [strip(ipt.stdout), strip(ip6.stdout), sets.stdout.replace(/initval \S+/g, ""), nft.stdout];
    };
    const before = await state();
    await apply();
    assert.deepEqual(await state(), before);
    const fwd = (await run(["iptables", "-S", "FORWARD"], { netns: host.netns })).stdout.split("\n");
    assert.equal(fwd[1], "-A FORWARD -j stratus-FORWARD");
    assert.equal(fwd.filter((l) => l.includes("stratus")).length, 1);
  });

  it("IPv6: ingress is default-deny, a rule admits it, and neighbour discovery passes the chains", async () => {
    assert.ok(await g[0].cannotReach("fd00:204::11", 22));
    setRules(sg.b, [
      ...groups.get(sg.b)!.rules,
      rule({ ethertype: "IPv6", protocol: "tcp", portRangeMin: 22 }),
    ]);
    await apply();
    assert.match((await g[0].probe("fd00:204::11", 22)) ?? "", /fd00:204::10$/);
  });

  it("a guest sending from an address that is not its own gets nothing through; an allowed address pair passes", async () => {
    setRules(sg.b, [
      ...groups.get(sg.b)!.rules,
      rule({ protocol: "tcp", portRangeMin: 22, remoteIpPrefix: "0.0.0.0/0" }),
    ]);
    await apply();
    // A static neighbour entry, so the packet itself (not only the guest's ARP) meets the source check.
    await g[0].exec(["ip", "neigh", "replace", ip(1), "lladdr", p[1].mac, "dev", "eth0", "nud", "permanent"]);
    await g[0].exec(["ip", "addr", "add", "10.204.0.99/32", "dev", "eth0"]);
    assert.ok(await g[0].probe(ip(1), 22), "from its own address");
    assert.ok(await g[0].cannotReach(ip(1), 22, "10.204.0.99"), "from a forged address");
    setPort(0, { allowedAddressPairs: [{ ipAddress: "10.204.0.96/30" }] });
    await apply();
    assert.match((await g[0].probe(ip(1), 22, "10.204.0.99")) ?? "", / 10\.204\.0\.99$/);
    setPort(0, { allowedAddressPairs: [] });
    await apply();
    await g[0].exec(["ip", "addr", "del", "10.204.0.99/32", "dev", "eth0"]);
  });

  it("a guest sending with a MAC that is not its port's gets nothing through", async () => {
    assert.ok(await ssh(0, 1));
    await g[0].exec(["ip", "link", "set", "dev", "eth0", "address", "fa:16:3e:04:ff:10"]);
    try {
      assert.ok(await sshBlocked(0, 1));
    } finally {
      await g[0].exec(["ip", "link", "set", "dev", "eth0", "address", p[0].mac]);
    }
    assert.ok(await ssh(0, 1));
  });

  it("ARP spoofing is dropped: a guest claiming another's address does not poison a neighbour's cache", async () => {
    const neighMac = async () => {
      await g[1].exec(["busybox", "ping", "-c", "1", "-W", "1", ip(2)], [0, 1]);
      const r = await g[1].exec(["ip", "-j", "neigh", "show", ip(2), "dev", "eth0"]);
      return (JSON.parse(r.stdout) as { lladdr?: string }[])[0]?.lladdr;
    };
    const spoof = async () => {
      await g[0].exec(["ip", "addr", "add", `${ip(2)}/32`, "dev", "eth0"]); // arping binds to the address it forges
      try {
        await g[0].exec(["busybox", "arping", "-U", "-c", "2", "-I", "eth0", "-s", ip(2), ip(2)], [0, 1]);
      } finally {
        await g[0].exec(["ip", "addr", "del", `${ip(2)}/32`, "dev", "eth0"]);
      }
    };
    setRules(sg.c, [...egressAll(), rule({ protocol: "icmp" })]);
    await apply();
    assert.equal(await neighMac(), p[2].mac);
    await spoof();
    assert.equal(await neighMac(), p[2].mac);
    setPort(0, { portSecurity: false }); // control: without port security the same ARP poisons the cache
    await apply();
    await g[1].exec(["ip", "neigh", "replace", ip(2), "lladdr", p[2].mac, "dev", "eth0", "nud", "reachable"]);
    await eventually(async () => {
      await spoof();
      const r = await g[1].exec(["ip", "-j", "neigh", "show", ip(2), "dev", "eth0"]);
      assert.equal((JSON.parse(r.stdout) as { lladdr?: string }[])[0]?.lladdr, p[0].mac);
    }, 15_000);
    await g[1].exec(["ip", "neigh", "flush", "dev", "eth0"]);
    setPort(0, { portSecurity: true });
    await apply();
  });

  it("a DHCP server run by a guest is not heard by the others", async () => {
    const conf = join(lab.dir, "udhcpd.conf");
    writeFileSync(
      conf,
      [
        "start 10.204.0.100",
        "end 10.204.0.110",
        "interface eth0",
        `lease_file ${join(lab.dir, "udhcpd.leases")}`,
        `pidfile ${join(lab.dir, "udhcpd.pid")}`,
        "option subnet 255.255.255.0",
        "",
      ].join("\n"),
    );
    writeFileSync(join(lab.dir, "udhcpd.leases"), "");
    lab.spawn(g[0].ns, ["busybox", "udhcpd", "-f", conf]);
    setPort(0, { portSecurity: false }); // control: without port security guest 1 takes the rogue lease
    await apply();
    assert.match((await g[1].dhcp(10))?.get("ip") ?? "", /^10\.204\.0\.1\d\d$/);
    setPort(0, { portSecurity: true });
    await apply();
    assert.equal(await g[1].dhcp(3), null);
  });

  it("removing the firewall leaves no chain, jump, set or table", async () => {
    await removeFirewall(host);
    for (const tool of ["iptables-save", "ip6tables-save"]) {
      const out = (await run([tool], { netns: host.netns })).stdout;
      assert.doesNotMatch(out, /stratus/);
    }
    assert.doesNotMatch((await run(["ipset", "list", "-n"], { netns: host.netns })).stdout, /^st[vt][46]-/m);
    assert.doesNotMatch((await run(["nft", "list", "tables"], { netns: host.netns })).stdout, /stratus/);
    assert.ok(await ssh(2, 1), "and traffic flows unfiltered again");
  });
});
