// DHCP for one network: a namespace `qdhcp-<network id>`, the DHCP port as a veth (`tap<port>` in the network's
// bridge, `ns-<port>` inside with the port's MAC and addresses), and dnsmasq serving the ports' fixed addresses from
// its hosts and options files (see dhcp-files.ts and dnsmasq.ts). `ensureDhcp` is the whole reconcile: called again
// with the same spec it changes nothing; with new ports it rewrites the files and sends SIGHUP; with new subnets
// (or while tagged host entries are loaded: see hostsHaveTags) it restarts dnsmasq; when dnsmasq has died it starts
// it again (an agent calls it periodically as supervision).
//
// Metadata: the DHCP port also carries 169.254.169.254/32 and every served IPv4 subnet gets a classless route to it
// via the DHCP port's address (Neutron's force_metadata/isolated metadata). This works on networks without a
// router and keeps one path for all networks; the metadata proxy listens in this namespace on that address.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseCidr } from "./addr.js";
import {
  confText,
  hostsHaveTags,
  hostsText,
  METADATA_IP,
  optsText,
  servedSubnets,
  type DhcpPaths,
  type DhcpSpec,
} from "./dhcp-files.js";
import { dnsmasqPid, reloadDnsmasq, startDnsmasq, stopDnsmasq } from "./dnsmasq.js";
import { InvalidSpec } from "./errors.js";
import { run } from "./exec.js";
import { nsPrefix, type LinuxHost } from "./host.js";
import { deleteLink, ensureVeth, getLink, listLinks } from "./ip.js";
import { ensureAddresses } from "./ip-addr.js";
import { deleteNamespace, ensureNamespace } from "./ip-netns.js";
import { bridgeName, dhcpNamespace, dhcpPortName, safeId, tapName } from "./names.js";
import { disableIpv6 } from "./network.js";
import { KeyedLock } from "../../../shared/keyed-lock.js";

const locks = new KeyedLock();

/** The files of one network's dnsmasq under the host's state directory. */
export function dhcpPaths(host: LinuxHost, networkId: string): DhcpPaths {
  // The paths are written into dnsmasq's config file: no control characters or commas in them.
  if ([...host.stateDir].some((c) => c < " " || c === "\x7f" || c === ",")) {
    throw new InvalidSpec(`state directory ${JSON.stringify(host.stateDir)}`);
  }
  const dir = join(resolve(host.stateDir), "dhcp", safeId(networkId, "network id"));
  const f = (n: string) => join(dir, n);
  return {
    dir,
    conf: f("dnsmasq.conf"),
    hosts: f("host"),
    opts: f("opts"),
    leases: f("leases"),
    pid: f("pid"),
    log: f("log"),
  };
}

/** What one `ensureDhcp` did. */
export type DhcpAction = "started" | "restarted" | "reloaded" | "unchanged";

/** Ensure a network's DHCP namespace, port and dnsmasq match `spec`. The network's bridge must exist. */
export function ensureDhcp(host: LinuxHost, spec: DhcpSpec): Promise<{ pid: number; action: DhcpAction }> {
  return locks.run(spec.network.id, () => ensureLocked(host, spec));
}

async function ensureLocked(host: LinuxHost, spec: DhcpSpec): Promise<{ pid: number; action: DhcpAction }> {
  const paths = dhcpPaths(host, spec.network.id);
  const iface = dhcpPortName(spec.port.id);
  const texts = { conf: confText(spec, iface, paths), hosts: hostsText(spec), opts: optsText(spec) }; // validates
  const addresses = portAddresses(spec);
  const bridge = bridgeName(spec.network.id);
  if (!(await getLink(host.netns, bridge)))
    throw new InvalidSpec(`bridge ${bridge} of network ${spec.network.id} is missing`);

  const ns = dhcpNamespace(nsPrefix(host), spec.network.id);
  await ensureNamespace(ns);
  for (const l of await listLinks(ns))
    if (l.ifname.startsWith("ns-") && l.ifname !== iface) await deleteLink(ns, l.ifname);
  const near = tapName(spec.port.id);
  await ensureVeth(host.netns, {
    name: near,
    peerName: iface,
    peerNetns: ns,
    mtu: spec.network.mtu,
    master: bridge,
    peerMac: spec.port.mac,
  });
  await disableIpv6(host, [near]);
  await ensureAddresses(ns, iface, addresses);

  prepareDir(paths.dir);
  const loadedHosts = readOr(paths.hosts, "");
  const confChanged = writeIfChanged(paths.conf, texts.conf);
  const hostsChanged = writeIfChanged(paths.hosts, texts.hosts);
  const filesChanged = writeIfChanged(paths.opts, texts.opts) || hostsChanged;
  let pid = dnsmasqPid(paths);
  if (pid !== null && !confChanged && !(filesChanged && hostsHaveTags(loadedHosts))) {
    if (!filesChanged) return { pid, action: "unchanged" };
    await releaseStaleLeases(ns, iface, paths, texts.hosts);
    reloadDnsmasq(pid);
    return { pid, action: "reloaded" };
  }
  const action: DhcpAction = pid === null ? "started" : "restarted";
  await stopDnsmasq(paths);
  pruneLeases(paths, texts.hosts);
  pid = await startDnsmasq(ns, paths, iface);
  return { pid, action };
}

/** The DHCP port's addresses with their subnets' prefixes, plus the metadata address when asked. */
function portAddresses(spec: DhcpSpec): string[] {
  const byId = new Map(spec.subnets.map((s) => [s.id, s]));
  const out: string[] = [];
  for (const f of spec.port.fixedIps) {
    const s = byId.get(f.subnetId);
    if (!s) throw new InvalidSpec(`DHCP port address ${f.address} is on unknown subnet ${f.subnetId}`);
    out.push(`${f.address}/${parseCidr(s.cidr).prefix}`);
  }
  for (const s of servedSubnets(spec)) {
    if (!spec.port.fixedIps.some((f) => f.subnetId === s.id))
      throw new InvalidSpec(`DHCP port has no address on subnet ${s.id}`);
  }
  if (spec.metadata) out.push(`${METADATA_IP}/32`);
  return out;
}

/** dnsmasq drops to `nobody` and re-reads its files on SIGHUP as that user: the path must be traversable. */
function prepareDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new InvalidSpec(
        `${d} is not traversable by others: dnsmasq (running as nobody) could not read its files`,
      );
    }
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

/** Write a file atomically (0644) unless it already has this content. Returns whether it changed. */
function writeIfChanged(path: string, text: string): boolean {
  try {
    if (readFileSync(path, "utf8") === text) return false;
  } catch {
    // missing
  }
  writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
  return true;
}

/** IPv4 leases (`expiry mac ip host clientid`) of the lease file. */
function readLeases(paths: DhcpPaths): { line: string; mac: string; ip: string }[] {
  if (!existsSync(paths.leases)) return [];
  return readFileSync(paths.leases, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [, mac = "", ip = ""] = line.split(" ");
      return { line, mac: mac.toLowerCase(), ip };
    });
}

const served = (hosts: string) =>
  new Set(
    hosts
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [mac, , ip] = l.split(",");
        return `${mac} ${ip.replace(/^\[|\]$/g, "")}`;
      }),
  );

/** Before a start: drop leases whose MAC no longer holds that address, so the address can go to its new port. */
function pruneLeases(paths: DhcpPaths, hosts: string): void {
  const keep = served(hosts);
  const leases = readLeases(paths);
  const kept = leases.filter((l) => l.ip.includes(":") || keep.has(`${l.mac} ${l.ip}`));
  if (kept.length !== leases.length) writeIfChanged(paths.leases, kept.map((l) => l.line + "\n").join(""));
}

/** While running: release (dhcp_release) the IPv4 leases of addresses no longer served to that MAC. */
async function releaseStaleLeases(ns: string, iface: string, paths: DhcpPaths, hosts: string): Promise<void> {
  const keep = served(hosts);
  for (const l of readLeases(paths)) {
    if (l.ip.includes(":") || keep.has(`${l.mac} ${l.ip}`)) continue;
    await run(["dhcp_release", iface, l.ip, l.mac], { netns: ns }).catch(() => undefined); // best effort
  }
}

/** Whether the network's dnsmasq runs. */
export const dhcpRunning = (host: LinuxHost, networkId: string): boolean =>
  dnsmasqPid(dhcpPaths(host, networkId)) !== null;

/** Remove a network's DHCP: stop dnsmasq, delete its namespace (and so its port) and its files. */
export function removeDhcp(host: LinuxHost, networkId: string): Promise<void> {
  return locks.run(networkId, async () => {
    const paths = dhcpPaths(host, networkId);
    await stopDnsmasq(paths);
    await deleteNamespace(dhcpNamespace(nsPrefix(host), networkId));
    rmSync(paths.dir, { recursive: true, force: true });
  });
}
