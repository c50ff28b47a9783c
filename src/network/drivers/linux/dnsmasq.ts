// The dnsmasq process of one network: a fixed command line (paths derived from the network id, the interface name
// derived from the DHCP port id; everything else comes from files), started inside the DHCP namespace, daemonized
// so it outlives agent restarts, found again through its pid file (and checked to be ours by its command line),
// reloaded with SIGHUP after its hosts or options file changes, stopped with SIGTERM then SIGKILL.
import { readFileSync } from "node:fs";
import { pidAlive, terminatePid } from "../../../shared/process.js";
import { run } from "./exec.js";
import type { DhcpPaths } from "./dhcp-files.js";
import { safeIfName } from "./names.js";

/** dnsmasq's argv for a network (fixed: no spec-derived text beyond its own file paths and the interface). */
export function dnsmasqArgs(paths: DhcpPaths, iface: string): string[] {
  return [
    "dnsmasq",
    `--conf-file=${paths.conf}`,
    `--pid-file=${paths.pid}`,
    `--dhcp-hostsfile=${paths.hosts}`,
    `--dhcp-optsfile=${paths.opts}`,
    `--dhcp-leasefile=${paths.leases}`,
    `--interface=${safeIfName(iface)}`,
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
  ];
}

/** The pid of the running dnsmasq that uses these files, or null when none runs. */
export function dnsmasqPid(paths: DhcpPaths): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(paths.pid, "utf8").trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !pidAlive(pid)) return null;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.includes(`--conf-file=${paths.conf}`) ? pid : null; // a recycled pid is not ours
  } catch {
    return null;
  }
}

/** Start dnsmasq in `netns`; resolves once it has daemonized and written its pid (dnsmasq reports start errors). */
export async function startDnsmasq(netns: string, paths: DhcpPaths, iface: string): Promise<number> {
  await run(dnsmasqArgs(paths, iface), { netns, timeoutMs: 30_000 });
  const pid = dnsmasqPid(paths);
  if (pid === null) throw new Error(`dnsmasq for ${paths.dir} did not stay up (see ${paths.log})`);
  return pid;
}

/** Ask a running dnsmasq to re-read its hosts and options files. */
export function reloadDnsmasq(pid: number): void {
  process.kill(pid, "SIGHUP");
}

/** Stop the dnsmasq of these files if it runs: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopDnsmasq(paths: DhcpPaths, graceMs = 5_000): Promise<void> {
  const pid = dnsmasqPid(paths);
  if (pid === null) return;
  await terminatePid(pid, "dnsmasq", graceMs);
}
