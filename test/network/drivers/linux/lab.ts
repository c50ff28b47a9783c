// A test lab for the linux data plane: every kernel object lives in network namespaces named with one random prefix
// (`stl<hex>-`): a namespace playing the host (bridges, taps, firewall), guests (a namespace with `eth0`, the far end
// of a veth whose near end `tap<port>` is in the host's bridge, as a QEMU tap would be), and the DHCP/router
// namespaces the code under test creates (the host's nsPrefix is the lab prefix). Nothing touches the machine's
// own interfaces, routes or firewall; `close()` kills what the lab started, deletes every namespace with the prefix
// and returns what it had to clean up, and `assertClean()` checks the machine's own state is as it was.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandLine, findTool, run } from "../../../../src/network/drivers/linux/exec.js";
import type { LinuxHost } from "../../../../src/network/drivers/linux/host.js";
import { ensureVeth } from "../../../../src/network/drivers/linux/ip.js";
import { ensureAddresses, ensureRoute } from "../../../../src/network/drivers/linux/ip-addr.js";
import {
  deleteNamespace,
  ensureNamespace,
  listNamespaces,
  sysctl,
} from "../../../../src/network/drivers/linux/ip-netns.js";
import { tapName } from "../../../../src/network/drivers/linux/names.js";
import { until } from "../../../helpers/wait.js";

const TOOLS = [
  "ip",
  "bridge",
  "dnsmasq",
  "dhcp_release",
  "iptables-restore",
  "ip6tables-restore",
  "ipset",
  "nft",
  "conntrack",
  "busybox",
  "sysctl",
];

/** Skip reason for real-kernel tests: not root, or a tool missing (under CI=true nothing is skipped: it must fail). */
export const SKIP_KERNEL: string | false = (() => {
  if (process.env.CI) return false;
  if (process.getuid?.() !== 0) return "needs root (network namespaces, bridges, iptables)";
  const missing = TOOLS.filter((t) => !findTool(t));
  return missing.length
    ? `missing tools: ${missing.join(", ")} (apt-get install iproute2 dnsmasq-base dnsmasq-utils iptables ipset nftables conntrack busybox procps)`
    : false;
})();

// A tiny TCP server / client run with this node binary inside namespaces: the server answers every connection with
// "<name> <peer address>" and then echoes lines; the client prints what it receives.
const SERVER = `const [name, port] = process.argv.slice(1);
require("net").createServer((s) => { s.write(name + " " + s.remoteAddress.replace(/^::ffff:/, "") + "\\n"); s.pipe(s); })
  .listen(Number(port), "::", () => console.log("listening"));`;
const CLIENT = `const [host, port, ms, local] = process.argv.slice(1);
const s = require("net").connect({ host, port: Number(port), localAddress: local || undefined });
s.setTimeout(Number(ms), () => { console.log("TIMEOUT"); process.exit(2); });
s.on("error", (e) => { console.log("ERROR " + e.code); process.exit(3); });
s.once("data", (d) => { process.stdout.write(String(d)); s.destroy(); process.exit(0); });`;
// An interactive client: each stdin line goes to the connection; each received line is printed.
const SESSION = `const [host, port] = process.argv.slice(1);
const s = require("net").connect({ host, port: Number(port) });
s.on("data", (d) => process.stdout.write(String(d)));
s.on("error", (e) => { console.log("ERROR " + e.code); process.exit(3); });
s.on("close", () => { console.log("CLOSED"); process.exit(0); });
process.stdin.on("data", (d) => s.write(d));`;

// udhcpc's script: print what the lease holds (the test applies it), never touch the namespace itself.
const UDHCPC_SCRIPT = `#!/bin/sh
[ "$1" = bound ] || exit 0
for v in ip mask router dns mtu hostname boot_file staticroutes serverid; do printf 'LEASE %s=%s\\n' "$v" "$(printenv "$v")"; done
exit 0
`;

/** How long a connection that must succeed may take (generous: other tests run QEMU guests on the machine). */
export const PASS_MS = 8_000;
/** How long a connection that must fail is given: dropped traffic shows only as silence. */
export const BLOCKED_MS = 1_500;

/** A DHCP lease as udhcpc reported it. */
export type Lease = Map<string, string>;

/** A guest: a namespace with eth0 plugged into a host bridge. */
export class Guest {
  constructor(
    readonly lab: Lab,
    readonly ns: string,
    readonly mac: string,
  ) {}

  /** Run a command in the guest. */
  exec(argv: string[], okCodes?: number[]) {
    return run(argv, { netns: this.ns, okCodes, timeoutMs: 60_000 });
  }

  /** Give eth0 addresses and (optionally) a default route. */
  async address(cidrs: string[], gateway?: string): Promise<void> {
    await ensureAddresses(this.ns, "eth0", cidrs);
    if (gateway)
      await ensureRoute(this.ns, { destination: gateway.includes(":") ? "::/0" : "0.0.0.0/0", via: gateway });
  }

  /** Whether one ICMP echo to `ip` is answered within `seconds` (generous: the machine may be busy). */
  async ping(ip: string, seconds = 5): Promise<boolean> {
    const r = await this.exec(["busybox", "ping", "-c", "1", "-W", String(seconds), ip], [0, 1]);
    return r.code === 0;
  }

  /** Whether an ICMP echo to `ip` goes unanswered (a short wait: for traffic that must not pass). */
  async pingFails(ip: string): Promise<boolean> {
    return !(await this.ping(ip, 1));
  }

  /** Ask for a DHCP lease (udhcpc); null when none came. */
  async dhcp(tries = 8): Promise<Lease | null> {
    const r = await this.exec(
      [
        "busybox",
        "udhcpc",
        "-i",
        "eth0",
        "-f",
        "-q",
        "-n",
        "-t",
        String(tries),
        "-T",
        "1",
        "-s",
        this.lab.udhcpcScript,
      ],
      [0, 1],
    );
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("LEASE "));
    if (!lines.length) return null;
    return new Map(lines.map((l) => [l.slice(6, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  }

  /** Start the TCP server on `port`; resolves once it listens. */
  serve(port: number, name = this.ns): Promise<ChildProcess> {
    return this.lab.serve(this.ns, port, name);
  }

  /** Connect to host:port; the server's greeting ("<name> <peer>"), or null when refused, dropped or timed out. */
  probe(host: string, port: number, localAddress?: string): Promise<string | null> {
    return this.lab.probe(this.ns, host, port, PASS_MS, localAddress);
  }

  /** Whether a connection to host:port fails (a short wait: for traffic that must not pass). */
  async cannotReach(host: string, port: number, localAddress?: string): Promise<boolean> {
    return (await this.lab.probe(this.ns, host, port, BLOCKED_MS, localAddress)) === null;
  }
}

/** The lab: one prefix, one scratch directory, and everything started under them. */
export class Lab {
  /** Six hex digits that start every id the tests make, so the lab's kernel objects are recognizable. */
  readonly marker = randomBytes(3).toString("hex");
  readonly prefix = `stl${this.marker}`;
  readonly dir: string;
  readonly udhcpcScript: string;
  private readonly children = new Set<ChildProcess>();
  private readonly before: ReturnType<typeof machineState>;

  constructor() {
    this.before = machineState(this.marker);
    // dnsmasq drops to `nobody`: its files' directory must be traversable, so not under a 0700 TMPDIR.
    this.dir = mkdtempSync(`/tmp/${this.prefix}-`);
    chmodSync(this.dir, 0o755);
    this.udhcpcScript = join(this.dir, "udhcpc.sh");
    writeFileSync(this.udhcpcScript, UDHCPC_SCRIPT, { mode: 0o755 });
  }

  /** A resource id for the tests: the marker, a role, then random hex (`<marker><role>-<hex>`, a plain identifier). */
  id(role: string): string {
    return `${this.marker}${role}-${randomBytes(8).toString("hex")}`;
  }

  /** The name of a lab namespace. */
  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** A namespace playing a host (loopback up), with its own state directory and the lab's namespace prefix. */
  async host(name: string): Promise<LinuxHost> {
    await ensureNamespace(this.ns(name));
    return { netns: this.ns(name), nsPrefix: `${this.prefix}-${name}-`, stateDir: join(this.dir, name) };
  }

  /** A guest namespace whose eth0 (with `mac`) is the far end of `tap<portId>` in `bridge` of `host`. */
  async guest(
    name: string,
    host: LinuxHost,
    bridge: string,
    portId: string,
    mac: string,
    mtu = 1500,
  ): Promise<Guest> {
    const ns = this.ns(name);
    await ensureNamespace(ns);
    await sysctl(ns, { "net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0" });
    await ensureVeth(host.netns, {
      name: tapName(portId),
      peerName: "eth0",
      peerNetns: ns,
      mtu,
      master: bridge,
      peerMac: mac,
    });
    return new Guest(this, ns, mac);
  }

  /** Spawn a long-running process in a namespace (killed by close()). */
  spawn(ns: string, argv: string[]): ChildProcess {
    const full = commandLine(argv, ns);
    const child = spawn(full[0], full.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    this.children.add(child);
    child.on("exit", () => this.children.delete(child));
    return child;
  }

  /** Start the TCP server in a namespace on `port`; resolves once it listens. */
  async serve(ns: string, port: number, name: string): Promise<ChildProcess> {
    const child = this.spawn(ns, [process.execPath, "-e", SERVER, name, String(port)]);
    let out = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    await until(
      `server ${name}:${port} listening`,
      () => out.includes("listening") || child.exitCode !== null,
    );
    assert.ok(out.includes("listening"), `server ${name} did not start`);
    return child;
  }

  /** Connect from a namespace to host:port; the greeting line, or null when refused, dropped or timed out. */
  async probe(
    ns: string,
    host: string,
    port: number,
    timeoutMs = PASS_MS,
    localAddress?: string,
  ): Promise<string | null> {
    const argv = [process.execPath, "-e", CLIENT, host, String(port), String(timeoutMs), localAddress ?? ""];
    const r = await run(argv, { netns: ns, okCodes: [0, 2, 3], timeoutMs: timeoutMs + 30_000 });
    return r.code === 0 ? r.stdout.trim() : null;
  }

  /** An open TCP session from a namespace: send lines, read what comes back. */
  async session(ns: string, host: string, port: number): Promise<Session> {
    const child = this.spawn(ns, [process.execPath, "-e", SESSION, host, String(port)]);
    const s = new Session(child);
    await until(`session to ${host}:${port}`, () => s.output.length > 0);
    return s;
  }

  /** Kill everything the lab started, delete its namespaces and directory; returns the namespaces it deleted. */
  async close(): Promise<string[]> {
    for (const c of this.children) c.kill("SIGKILL");
    const mine = (await listNamespaces()).filter((n) => n.startsWith(`${this.prefix}-`));
    for (const n of mine) await deleteNamespace(n);
    rmSync(this.dir, { recursive: true, force: true });
    return mine;
  }

  /** Assert no lab namespace or process is left and the machine's own links, rules and sets are as before. */
  async assertClean(): Promise<void> {
    const left = (await listNamespaces()).filter((n) => n.startsWith(`${this.prefix}-`));
    assert.deepEqual(left, [], "namespaces left behind");
    assert.deepEqual(processesMentioning(this.dir), [], "processes left behind");
    assert.deepEqual(
      machineState(this.marker),
      this.before,
      "the machine's own links, firewall or sets changed",
    );
  }
}

/** An interactive TCP session (see SESSION). */
export class Session {
  output = "";
  constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (d) => (this.output += String(d)));
  }
  /** Whether `text` does not come back (a short wait: for traffic that must not pass). */
  async silent(text: string): Promise<boolean> {
    return !(await this.received(text, BLOCKED_MS));
  }
  /** Send a line. */
  send(line: string): void {
    this.child.stdin!.write(line + "\n");
  }
  /** Whether `text` has come back (within `timeoutMs`). */
  async received(text: string, timeoutMs = PASS_MS): Promise<boolean> {
    try {
      await until(
        `session output ${text}`,
        () => this.output.includes(text) || this.output.includes("CLOSED"),
        timeoutMs,
      );
    } catch {
      return false;
    }
    return this.output.includes(text);
  }
}

/** Pids of live processes whose command line mentions `dir`. */
export function processesMentioning(dir: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${n}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${n}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (cmd.includes(dir)) out.push(Number(n));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** What of the lab could show in the machine's own (init) namespace: links, rules, sets naming its marker. */
function machineState(marker: string) {
  const out = (argv: string[]) => {
    try {
      return execFileSync(findTool(argv[0]) ?? argv[0], argv.slice(1), { encoding: "utf8" });
    } catch {
      return "";
    }
  };
  const mine = (text: string) => text.split("\n").filter((l) => l.includes(marker));
  return {
    links: mine(out(["ip", "-o", "link", "show"])),
    iptables: mine(out(["iptables-save"])),
    ip6tables: mine(out(["ip6tables-save"])),
    sets: mine(out(["ipset", "list", "-n"])),
    // Every table (a leak may not name the marker), but another cloud's on this machine (a tag that is not ours):
    // tests running beside this one start and stop clouds.
    nftTables: out(["nft", "list", "tables"])
      .split("\n")
      .filter((l) => !/^table \S+ stratus[0-9a-f]{6}$/.test(l) || l.includes(marker))
      .join("\n"),
  };
}
