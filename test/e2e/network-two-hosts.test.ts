// Two hosts on one machine, real guests on a tenant VXLAN network between them. The main host is this machine's own
// namespace: `stratus up` (qemu, linux network driver: the network node with DHCP, routers and the public network)
// with its tunnel address on an "underlay" veth. The second host is a network namespace of the test's own on the far
// end of that veth, where `stratus agent compute --compute-driver qemu` runs (`ip netns exec`) with its host's
// network agent, so its bridge, VXLAN device, taps, firewall and QEMU all live there; it reaches the control plane
// (API, PostgreSQL, RabbitMQ) at the main host's underlay address, as a second machine would. One guest per host on
// one admin network: both get their addresses from the network node's dnsmasq (the second host's over VXLAN), read
// their metadata, ping each other, and are reached through floating IPs from the public namespace (`stratus
// public-exec`); the agents of both hosts are listed alive with their tunnel addresses; deleting the guests leaves
// the second host without taps, bridge or VXLAN device. Two guests in all (TCG), to keep CI time small.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { GUEST_IMAGE_NAMES } from "../../src/cloud/guest-image.js";
import { qemuAvailable } from "../../src/compute/drivers/qemu/process.js";
import { bridgeName, tapName, vxlanName } from "../../src/network/drivers/linux/names.js";
import { processCloudEnv, startUp, untilOk } from "../helpers/multiprocess.js";
import { CI } from "../helpers/rabbit.js";
import { exec, OPENSTACK, Proc, pyEnv, ROOT } from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";

const isRoot = process.getuid?.() === 0;
const SKIP =
  (qemuAvailable() && isRoot) || CI ? false : "needs root and qemu-system-x86_64 (the linux data plane)";
const STRATUS = join(ROOT, "bin", "stratus");
/** A boot under TCG on a loaded machine; the first run building the guest image. */
const GUEST_MS = 300_000;
const BUILD_MS = 30 * 60_000;
const TAG = randomBytes(3).toString("hex");
/** The hosts' names (unique on this machine: qemu hosts register machine-wide). */
const MAIN = `nh${TAG}-a`;
const SECOND = `nh${TAG}-b`;
/** The second host's namespace and the underlay veth's two ends. */
const NS = `stn2h${TAG}`;
const VETH_MAIN = `u${TAG}a`;
const VETH_SECOND = `u${TAG}b`;
const SSH_OPTS = [
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "LogLevel=ERROR",
];

/** Run a command (no shell); its result. */
const sh = (cmd: string, args: string[]) => exec(cmd, args, process.env);

/** Run a command that must succeed; its stdout. */
async function must(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Live QEMU pids of an instance. */
function qemuPids(uuid: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cmd = readFileSync(`/proc/${n}/cmdline`, "utf8");
      if (cmd.includes("qemu-system") && cmd.includes(`guest=${uuid}`)) out.push(+n);
    } catch {
      // gone
    }
  }
  return out;
}

/** Pids of the dnsmasq processes running now. */
function dnsmasqPids(): number[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/comm`, "utf8").trim() === "dnsmasq";
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The named namespace a process runs in ("" for the machine's own). */
const netnsOf = async (pid: number) => (await sh("ip", ["netns", "identify", String(pid)])).stdout.trim();

/** A TCP forwarder: connections to listenHost:port go to 127.0.0.1:port (the control plane's loopback services). */
function forward(listenHost: string, port: number): Promise<Server> {
  return new Promise((res, rej) => {
    const srv = createServer((c) => {
      const up = createConnection({ host: "127.0.0.1", port });
      c.pipe(up).pipe(c);
      const end = () => {
        c.destroy();
        up.destroy();
      };
      c.on("error", end).on("close", end);
      up.on("error", end).on("close", end);
    });
    srv.once("error", rej);
    srv.listen(port, listenHost, () => res(srv));
  });
}

/** The same URL on another host (the underlay address instead of loopback). */
function viaHost(url: string, host: string): string {
  const u = new URL(url);
  u.hostname = host;
  return u.toString();
}

/** A `bin/stratus` child process inside the second host's namespace, with what it printed. */
class NsProc extends Proc {
  constructor(name: string, args: string[], env: Record<string, string>) {
    super(name, args, env, ["ip", ["netns", "exec", NS, process.execPath]]);
  }
}

describe("two hosts over VXLAN: a compute host in its own namespace, real guests", { skip: SKIP }, () => {
  let skip: string | null = "before() did not finish";
  let dropEnv = async () => {};
  let root = "";
  let key = "";
  let subnet = "";
  let ul1 = "";
  let ul2 = "";
  let cp: Proc | undefined;
  let second: Proc | undefined;
  let cloudsYaml = "";
  let mainDir = "";
  const forwarders: Server[] = [];
  const ids = new Map<string, string>();
  const fixed = new Map<string, string>();
  const fips = new Map<string, string>();
  let netId = "";
  let vni = 0;

  const guard = (t: TestContext): boolean => {
    if (skip) t.skip(skip);
    return !!skip;
  };
  const context = () =>
    [cp, second].map((p) => (p ? `--- ${p.name}:\n${p.output.slice(-3000)}` : "")).join("\n");
  const osc = async (args: string[]): Promise<string> => {
    const r = await exec(
      OPENSTACK,
      args,
      pyEnv({ OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: "stratus-admin" }),
    );
    assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}\n${context()}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await osc([...args, "-f", "json"])) as any;
  /** A command in the cloud's public namespace (where floating IPs are reachable). */
  const pub = (cmd: string[], timeoutS = 30) =>
    exec(
      "timeout",
      [String(timeoutS), STRATUS, "public-exec", "--data-dir", mainDir, "--", ...cmd],
      process.env,
    );
  const ssh = async (name: string, cmd: string) => {
    let out = "";
    await until(
      `ssh ${name} (${fips.get(name)}): ${cmd}`,
      async () => {
        // prettier-ignore
        const r = await pub(["ssh", "-i", key, ...SSH_OPTS, "-o", "ConnectTimeout=10", "-o", "BatchMode=yes", `cirros@${fips.get(name)}`, cmd], 40);
        out = r.stdout.trim();
        return r.code === 0;
      },
      GUEST_MS,
      2000,
    );
    return out;
  };
  const consoleLog = (name: string) => osc(["console", "log", "show", name]);
  const links = async (ns?: string) =>
    (await must("ip", [...(ns ? ["-n", ns] : []), "-br", "link"])).split("\n");
  const hasLink = async (ns: string | undefined, name: string) =>
    (await links(ns)).some((l) => l.split(/\s+/)[0]?.split("@")[0] === name);
  const iptablesSave = (ns?: string) =>
    ns ? must("ip", ["netns", "exec", ns, "iptables-save"]) : must("iptables-save", []);
  const floodPeers = async (ns: string | undefined, dev: string) =>
    (await must("bridge", [...(ns ? ["-n", ns] : []), "fdb", "show", "dev", dev]))
      .split("\n")
      .filter((l) => l.startsWith("00:00:00:00:00:00 dst "))
      .map((l) => l.split(" ")[2]);

  before(
    async () => {
      const env = await processCloudEnv("twohosts");
      if ("skip" in env) {
        skip = env.skip;
        return;
      }
      dropEnv = env.cleanup;
      root = env.root;
      chmodSync(root, 0o755);
      key = join(root, "key");
      await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
      // The underlay: a /24 of the benchmarking range no interface of the machine uses, on a veth to the namespace.
      const used = await must("ip", ["-br", "addr"]);
      for (let i = 0; i < 50 && !subnet; i++) {
        const c = `198.18.${Math.floor(Math.random() * 256)}`;
        if (!used.includes(`${c}.`)) subnet = c;
      }
      assert.ok(subnet, "no free underlay subnet");
      ul1 = `${subnet}.1`;
      ul2 = `${subnet}.2`;
      await must("ip", ["netns", "add", NS]);
      await must("ip", ["-n", NS, "link", "set", "lo", "up"]);
      // prettier-ignore
      await must("ip", ["link", "add", VETH_MAIN, "type", "veth", "peer", "name", VETH_SECOND, "netns", NS]);
      await must("ip", ["addr", "add", `${ul1}/24`, "dev", VETH_MAIN]);
      await must("ip", ["link", "set", VETH_MAIN, "up"]);
      await must("ip", ["-n", NS, "addr", "add", `${ul2}/24`, "dev", VETH_SECOND]);
      await must("ip", ["-n", NS, "link", "set", VETH_SECOND, "up"]);
      // The control plane's PostgreSQL and RabbitMQ listen on loopback: forwarders on the main host's underlay
      // address stand in for a controller that listens on its network.
      const dbPort = Number(new URL(env.dbUrl).port || 5432);
      const busPort = Number(new URL(env.busUrl).port || 5672);
      for (const p of [dbPort, busPort]) forwarders.push(await forward(ul1, p));
      mainDir = join(root, "main");
      const secondDir = join(root, "second");
      for (const d of [mainDir, secondDir]) mkdirSync(d, { recursive: true });
      // prettier-ignore
      const yaml = (host: string) => [
        "compute:", `  hostName: ${host}`, "  reportInterval: 2", "  qemu:", "    accel: tcg",
        "network:", "  reportInterval: 3", "",
      ].join("\n");
      writeFileSync(join(mainDir, "stratus.yaml"), yaml(MAIN));
      writeFileSync(join(secondDir, "stratus.yaml"), yaml(SECOND));
      // prettier-ignore
      const up = await startUp("main host", {
        dataDir: mainDir, dbUrl: env.dbUrl, busUrl: env.busUrl,
        args: ["--host", ul1, "--compute-driver", "qemu", "--network-driver", "linux", "--tunnel-ip", ul1],
      }, BUILD_MS);
      cp = up.proc;
      cloudsYaml = join(mainDir, "clouds.yaml");
      const adminPassword = up.clouds["stratus-admin"].auth.password as string;
      // prettier-ignore
      second = new NsProc("second host", [
        "agent", "compute", "--host", SECOND, "--data-dir", secondDir, "--config", join(secondDir, "stratus.yaml"),
        "--db", viaHost(env.dbUrl, ul1), "--bus", viaHost(env.busUrl, ul1), "--compute-driver", "qemu",
        "--auth-url", `${up.base}/identity/v3`, "--tunnel-ip", ul2, "--log-file", join(secondDir, "agent.log"),
      ], { STRATUS_SERVICE_PASSWORD: adminPassword });
      await second.waitFor(new RegExp(`Compute agent ${SECOND} is ready`), 180_000);
      skip = null;
    },
    { timeout: BUILD_MS + 600_000 },
  );

  after(async () => {
    if (cloudsYaml && !skip)
      for (const name of ids.keys()) await osc(["server", "delete", "--wait", name]).catch(() => undefined);
    for (const p of [second, cp]) await p?.stop().catch(() => undefined);
    for (const uuid of ids.values())
      for (const pid of qemuPids(uuid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }
    if (mainDir) await sh(STRATUS, ["wipe-network", "--data-dir", mainDir]).catch(() => undefined);
    if (root)
      await sh("ip", [
        "netns",
        "exec",
        NS,
        STRATUS,
        "wipe-network",
        "--data-dir",
        join(root, "second"),
      ]).catch(() => undefined);
    // Deleting the namespace removes the veth (both ends) and whatever the second host left in it.
    await sh("ip", ["netns", "del", NS]).catch(() => undefined);
    await sh("ip", ["link", "del", VETH_MAIN]).catch(() => undefined);
    for (const f of forwarders) f.close();
    for (const h of [MAIN, SECOND]) rmSync(join(tmpdir(), "stratus-q-hosts", h), { force: true });
    await dropEnv();
  });

  test("both hosts' network agents are alive with their tunnel addresses; both compute hosts are up", async (t) => {
    if (guard(t)) return;
    const agents = await untilOk(
      "two network agents alive",
      async () => {
        const list = (await json(["network", "agent", "list"])) as Array<Record<string, unknown>>;
        const mine = list.filter((a) => a.Host === MAIN || a.Host === SECOND);
        return mine.length === 2 && mine.every((a) => a.Alive === true || a.Alive === ":-)") ? mine : null;
      },
      60_000,
      1000,
    );
    const tunnels = new Map<string, unknown>();
    for (const a of agents) {
      const v = await json(["network", "agent", "show", String(a.ID)]);
      const conf = (v.configuration ?? v.configurations) as Record<string, unknown>;
      tunnels.set(String(a.Host), conf.tunnel_ip);
      assert.equal(conf.network_node, a.Host === MAIN, `only ${MAIN} is the network node`);
      assert.equal(conf.driver, "linux");
    }
    assert.deepEqual(Object.fromEntries(tunnels), { [MAIN]: ul1, [SECOND]: ul2 });
    const hv = (await json(["hypervisor", "list"])) as Array<Record<string, string>>;
    assert.deepEqual(hv.map((h) => h["Hypervisor Hostname"]).sort(), [MAIN, SECOND]);
    // The second host's agent process runs inside its namespace.
    assert.equal(await netnsOf(second!.child.pid!), NS);
  });

  test("one guest per host on a VXLAN network: DHCP from the network node, metadata, MTU, taps where they belong", async (t) => {
    if (guard(t)) return;
    await osc(["keypair", "create", "--public-key", `${key}.pub`, "k1"]);
    const net = await json(["network", "create", `n2h${TAG}`]);
    netId = net.id as string;
    assert.equal(net["provider:network_type"], "vxlan");
    vni = Number(net["provider:segmentation_id"]);
    await osc(["subnet", "create", "--network", netId, "--subnet-range", "10.77.0.0/24", `s2h${TAG}`]);
    await osc(["router", "create", `r2h${TAG}`]);
    await osc(["router", "set", "--external-gateway", "public", `r2h${TAG}`]);
    await osc(["router", "add", "subnet", `r2h${TAG}`, `s2h${TAG}`]);
    // A group of the test's own (the name "default" is every project's): ICMP and SSH in, everything out.
    const sg = (await json(["security", "group", "create", `g2h${TAG}`])).id as string;
    for (const rule of [
      ["--protocol", "icmp"],
      ["--protocol", "tcp", "--dst-port", "22"],
    ])
      await osc(["security", "group", "rule", "create", ...rule, sg]);
    for (const [name, host] of [
      ["vm1", MAIN],
      ["vm2", SECOND],
    ]) {
      // prettier-ignore
      const v = await json([
        "server", "create", "--image", GUEST_IMAGE_NAMES.direct, "--flavor", "m1.tiny", "--network", netId,
        "--key-name", "k1", "--security-group", sg, "--availability-zone", `nova:${host}`, name,
      ]);
      ids.set(name, v.id as string);
    }
    for (const [name, host] of [
      ["vm1", MAIN],
      ["vm2", SECOND],
    ]) {
      const v = await untilOk(
        `${name} ACTIVE`,
        async () => {
          const s = await json(["server", "show", name]);
          if (s.status === "ERROR") throw new Error(`${name} is in ERROR: ${JSON.stringify(s.fault)}`);
          return s.status === "ACTIVE" ? s : null;
        },
        GUEST_MS,
        2000,
      );
      assert.equal(v["OS-EXT-SRV-ATTR:host"], host);
      const addr = (Object.values(v.addresses as Record<string, string[]>)[0] ?? []).find((a) =>
        a.startsWith("10.77.0."),
      );
      assert.ok(addr, `${name} has no address: ${JSON.stringify(v.addresses)}`);
      fixed.set(name, addr);
    }
    // Each guest's port is bound to its host, ACTIVE, and its tap is in that host's namespace only.
    for (const [name, host] of [
      ["vm1", MAIN],
      ["vm2", SECOND],
    ]) {
      const [port] = (await json(["port", "list", "--server", name])) as Array<{ ID: string }>;
      const p = await json(["port", "show", port.ID]);
      assert.equal(p.binding_host_id, host);
      assert.equal(p.status, "ACTIVE");
      const tap = tapName(port.ID);
      assert.equal(await hasLink(host === SECOND ? NS : undefined, tap), true, `${tap} on ${host}`);
      assert.equal(await hasLink(host === SECOND ? undefined : NS, tap), false, `${tap} only on ${host}`);
      // Its security group chains are in that host's firewall only.
      const chain = new RegExp(`^:stratus-(?:[a-z0-9]+-)?i${port.ID.slice(0, 11)} `, "m");
      const here = host === SECOND ? NS : undefined;
      assert.match(await iptablesSave(here), chain, `firewall of ${name} on ${host}`);
      assert.doesNotMatch(
        await iptablesSave(host === SECOND ? undefined : NS),
        chain,
        `${name}'s firewall elsewhere`,
      );
      // Its QEMU runs in the same namespace as its tap.
      const pids = qemuPids(ids.get(name)!);
      assert.equal(pids.length, 1, `one QEMU for ${name}`);
      assert.equal(await netnsOf(pids[0]), host === SECOND ? NS : "");
    }
    // The tenant network spans both hosts: a bridge and a VXLAN device on each, flooding to the other's address.
    const dev = vxlanName(vni);
    assert.equal(await hasLink(NS, bridgeName(netId)), true);
    assert.deepEqual(await floodPeers(NS, dev), [ul1]);
    await until(
      `${dev} on ${MAIN} flooding to ${ul2}`,
      async () => (await floodPeers(undefined, dev)).includes(ul2),
      60_000,
      500,
    );
    // DHCP runs on the network node only: no dnsmasq in the second host's namespace.
    for (const pid of dnsmasqPids())
      assert.notEqual(await netnsOf(pid), NS, `dnsmasq ${pid} runs on ${SECOND}`);
    // Both guests got their address by DHCP (the second host's across VXLAN) and found the metadata service.
    for (const name of ids.keys()) {
      await until(
        `${name} login prompt`,
        async () => new RegExp(`${name} login:`).test(await consoleLog(name)),
        GUEST_MS,
        2000,
      );
      const log = await consoleLog(name);
      assert.match(log, new RegExp(`address: eth0 ${fixed.get(name)!.replace(/\./g, "\\.")}/24`));
      assert.match(log, /datasource: metadata service/);
      assert.match(log, new RegExp(`instance-id: ${ids.get(name)}`));
    }
  });

  test("floating IPs reach both guests from the public namespace; inside, they ping each other and read metadata", async (t) => {
    if (guard(t)) return;
    for (const name of ids.keys()) {
      const fip = (await json(["floating", "ip", "create", "public"])).floating_ip_address as string;
      await osc(["server", "add", "floating", "ip", name, fip]);
      fips.set(name, fip);
    }
    for (const [name, fip] of fips) {
      await until(
        `ping ${fip} (${name})`,
        async () => (await pub(["ping", "-c", "1", "-W", "2", fip], 10)).code === 0,
        GUEST_MS,
        1000,
      );
      assert.equal(await ssh(name, "hostname"), name);
    }
    for (const [name, other] of [
      ["vm1", "vm2"],
      ["vm2", "vm1"],
    ]) {
      const ip = fixed.get(other)!;
      assert.match(
        await ssh(name, `ping -c 2 -W 5 ${ip} >/dev/null && echo reached`),
        /reached/,
        `${name} -> ${other}`,
      );
      const md = JSON.parse(
        await ssh(name, "curl -s -m 15 http://169.254.169.254/openstack/latest/meta_data.json"),
      );
      assert.equal(md.uuid, ids.get(name));
      assert.equal(md.name, name);
      // The VXLAN network's MTU (the underlay's less 50) came with the lease.
      assert.equal(await ssh(name, "cat /sys/class/net/eth0/mtu"), "1450");
      assert.equal(
        await ssh(name, "ip -4 -o addr show eth0 | grep -o '10\\.77\\.0\\.[0-9]*/24'"),
        `${fixed.get(name)}/24`,
      );
    }
    // The second guest's traffic to the other host really crosses the underlay as VXLAN (UDP 4789).
    const before = Number(
      (await must("ip", ["-n", NS, "-s", "-j", "link", "show", VETH_SECOND])).match(
        /"tx":\{"bytes":(\d+)/,
      )?.[1],
    );
    assert.match(
      await ssh("vm2", `ping -c 3 -W 5 ${fixed.get("vm1")} >/dev/null && echo reached`),
      /reached/,
    );
    const afterTx = Number(
      (await must("ip", ["-n", NS, "-s", "-j", "link", "show", VETH_SECOND])).match(
        /"tx":\{"bytes":(\d+)/,
      )?.[1],
    );
    assert.ok(afterTx > before, "the underlay carried the guests' traffic");
  });

  test("deleting the guests leaves the second host without taps, bridge or VXLAN device", async (t) => {
    if (guard(t)) return;
    const ports = (await json([
      "port",
      "list",
      "--network",
      netId,
      "--device-owner",
      "compute:nova",
    ])) as Array<{
      ID: string;
    }>;
    assert.equal(ports.length, 2);
    for (const name of [...ids.keys()]) {
      await osc(["server", "delete", "--wait", name]);
      assert.deepEqual(qemuPids(ids.get(name)!), []);
      ids.delete(name);
    }
    await until(
      `${SECOND} without taps, bridge and VXLAN device`,
      async () => {
        const l = (await links(NS)).map((x) => x.split(/\s+/)[0]?.split("@")[0]);
        return (
          !l.includes(bridgeName(netId)) &&
          !l.includes(vxlanName(vni)) &&
          !ports.some((p) => l.includes(tapName(p.ID)))
        );
      },
      60_000,
      500,
    );
    for (const p of ports) assert.equal(await hasLink(undefined, tapName(p.ID)), false);
  });
});
