// The external `public` network as a host-local bridge inside a namespace Stratus creates (default
// `stratus-public`): the bridge carries the external subnet's gateway address, routers plug their `qg-` ports into
// it, and nothing links it to a real interface, so guest traffic never leaves the machine. `publicExec` runs a
// command inside that namespace, where floating IPs are reachable (the basis of `stratus public-exec -- CMD`).
import { ensureAddresses } from "./ip-addr.js";
import { ensureBridge } from "./ip.js";
import { deleteNamespace, ensureNamespace, sysctl } from "./ip-netns.js";
import { commandLine, run, type RunOptions, type RunResult } from "./exec.js";
import { bridgeName } from "./names.js";
import type { BridgeRef } from "./router.js";

/** Default namespace of the public network. */
export const PUBLIC_NETNS = "stratus-public";

/** The public network on this machine. */
export interface PublicSpec {
  /** The external network's id (its bridge is `brq<id>` inside the namespace). */
  networkId: string;
  mtu: number;
  /** The external subnets' gateway addresses with prefix, e.g. 172.24.4.1/24. */
  gatewayCidrs: readonly string[];
  /** Namespace to create (default `stratus-public`; one per cloud when several run on one machine). */
  netns?: string;
  /** Forward IPv4 (only with the operator's uplink: uplink.ts; default off). */
  forward?: boolean;
}

/** Ensure the public namespace and bridge with the gateway addresses. Returns where routers plug in. */
export async function ensurePublic(spec: PublicSpec): Promise<BridgeRef> {
  const netns = spec.netns ?? PUBLIC_NETNS;
  const bridge = bridgeName(spec.networkId);
  await ensureNamespace(netns);
  await sysctl(netns, {
    "net.ipv4.ip_forward": spec.forward ? "1" : "0",
    "net.ipv6.conf.all.forwarding": "0",
  });
  await ensureBridge(netns, bridge, spec.mtu);
  await ensureAddresses(netns, bridge, spec.gatewayCidrs);
  return { bridge, netns };
}

/** Remove the public namespace (routers' gateway veths go with it). */
export async function removePublic(netns = PUBLIC_NETNS): Promise<void> {
  await deleteNamespace(netns);
}

/** Run a command in the public namespace and collect its output. */
export function publicExec(
  argv: readonly string[],
  opts: RunOptions & { netns?: string } = {},
): Promise<RunResult> {
  return run(argv, { ...opts, netns: opts.netns ?? PUBLIC_NETNS });
}

/** The argv that runs `argv` in the public namespace (for spawning with inherited stdio, as a CLI does). */
export const publicCommand = (argv: readonly string[], netns = PUBLIC_NETNS): string[] =>
  commandLine(argv, netns);
