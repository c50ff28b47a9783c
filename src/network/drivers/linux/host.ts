// The host the data plane acts on. By default that is the agent's own network namespace; a test, or several
// "hosts" simulated on one machine, name a namespace that plays the host instead (its bridges, taps, firewall and
// conntrack live there), and a prefix for the namespaces it creates so two such hosts never collide.
import { InvalidSpec } from "./errors.js";
import { run, type RunOptions, type RunResult } from "./exec.js";

/** Where one agent's data plane lives. */
export interface LinuxHost {
  /** Named network namespace that plays the host; undefined: the agent's own namespace. */
  netns?: string;
  /** Prepended to the DHCP and router namespaces this host creates (default ""). */
  nsPrefix?: string;
  /** Directory for this host's dnsmasq files (hosts, options, leases, pid files). */
  stateDir: string;
  /** Tag of the firewall's chains, sets and table (a cloud's, when several share the namespace; default none). */
  firewallTag?: string;
}

/** Run a tool in the host's namespace. */
export const hostRun = (
  host: LinuxHost,
  argv: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> => run(argv, { ...opts, netns: host.netns });

/** The host's namespace prefix (validated: it becomes part of namespace names). */
export function nsPrefix(host: LinuxHost): string {
  const p = host.nsPrefix ?? "";
  if (!/^[A-Za-z0-9_-]{0,32}$/.test(p))
    throw new InvalidSpec(`namespace prefix ${JSON.stringify(p)} is not plain`);
  return p;
}
