// Addresses and routes (`ip -json addr` / `ip -json route`): ensure a device carries exactly a set of addresses
// (link-local ones are the kernel's and left alone), and ensure routes, touching only what differs.
import { cidrText, ipVersion, parseCidr } from "./addr.js";
import { run } from "./exec.js";
import { ipIn } from "./ip.js";
import { safeIfName } from "./names.js";

interface AddrInfo {
  family: "inet" | "inet6";
  local: string;
  prefixlen: number;
  scope: string;
}

/** The global and host-scope addresses of a device, as `addr/prefix`. */
export async function listAddresses(netns: string | undefined, dev: string): Promise<string[]> {
  const { stdout } = await run([...ipIn(netns), "-json", "addr", "show", "dev", safeIfName(dev)]);
  const links = JSON.parse(stdout) as { addr_info?: AddrInfo[] }[];
  return (links[0]?.addr_info ?? [])
    .filter((a) => a.scope !== "link")
    .map((a) => `${a.local}/${a.prefixlen}`);
}

/** Make `dev` carry exactly `cidrs` (plus its link-local addresses): add the missing, remove the others.
 *  Returns the addresses it added. */
export async function ensureAddresses(
  netns: string | undefined,
  dev: string,
  cidrs: readonly string[],
): Promise<string[]> {
  const want = new Set(cidrs.map((c) => cidrText(c)));
  const have = new Set(await listAddresses(netns, dev));
  for (const c of have)
    if (!want.has(c)) await run([...ipIn(netns), "addr", "del", c, "dev", safeIfName(dev)]);
  const added: string[] = [];
  for (const c of want) {
    if (have.has(c)) continue;
    added.push(c);
    const v6 = parseCidr(c).version === 6 ? ["nodad"] : []; // router and DHCP addresses are ours: no DAD delay
    await run([...ipIn(netns), "addr", "replace", c, "dev", safeIfName(dev), ...v6]);
  }
  return added;
}

/** A route as `ip -json route show` reports it. */
export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
}

/** Routes of a namespace's main table for one IP version, optionally only those of one protocol (e.g. `static`). */
export async function listRoutes(
  netns: string | undefined,
  version: 4 | 6,
  proto?: string,
): Promise<RouteInfo[]> {
  const filter = proto ? ["proto", proto] : [];
  const { stdout } = await run([...ipIn(netns), "-json", `-${version}`, "route", "show", ...filter]);
  return stdout.trim() ? (JSON.parse(stdout) as RouteInfo[]) : [];
}

/** The `ip route` form of a destination (`default`, or addr/prefix with host routes as a bare address). */
export function routeDst(cidr: string): string {
  const c = parseCidr(cidr, "route destination");
  if (c.prefix === 0) return "default";
  return c.prefix === (c.version === 4 ? 32 : 128) ? c.address : `${c.address}/${c.prefix}`;
}

/** Ensure a route (`ip route replace`, a no-op when identical). */
export async function ensureRoute(
  netns: string | undefined,
  route: { destination: string; via?: string; dev?: string; proto?: string },
): Promise<void> {
  const dst = routeDst(route.destination);
  const version = parseCidr(route.destination).version;
  const via = route.via ? ["via", route.via] : [];
  if (route.via && ipVersion(route.via, "next hop") !== version)
    throw new Error(`next hop ${route.via} is not IPv${version}`);
  const dev = route.dev ? ["dev", safeIfName(route.dev)] : [];
  const proto = route.proto ? ["proto", route.proto] : [];
  await run([...ipIn(netns), `-${version}`, "route", "replace", dst, ...via, ...dev, ...proto]);
}

/** Delete a route if present. */
export async function deleteRoute(netns: string | undefined, version: 4 | 6, r: RouteInfo): Promise<void> {
  const via = r.gateway ? ["via", r.gateway] : [];
  const dev = r.dev ? ["dev", safeIfName(r.dev)] : [];
  await run([...ipIn(netns), `-${version}`, "route", "del", r.dst, ...via, ...dev], { okCodes: [0, 2] });
}
