// Why no host was found, in plain words, counting every compute host of the cloud: "0 of 12 hosts: 9 lacked
// 4096 MB RAM, 3 were disabled". Each host is counted once, under the first reason that ruled it out.
import type { ComputeCore } from "../core.js";
import type { Inventory, Resources } from "../placement-client.js";
import { amountInWords, orderedClasses, type PlacementRequest } from "./request.js";
import type { ScheduleRequest } from "./types.js";

/** What the failed selection already knows. */
export interface ExplainInput {
  req: ScheduleRequest;
  preq: PlacementRequest;
  /** Reasons found while selecting (requested host, ignored, filters, lost races), by node uuid. */
  reasons: Map<string, string>;
  /** Node uuids placement offered as candidates. */
  offered: Set<string>;
  /** Placement returned as many candidates as the limit allowed (so it may have cut some off). */
  limitReached: boolean;
  limit: number;
}

const NO_HOSTS = "no compute host is registered (start an agent: stratus agent compute)";

/** Reason of hosts other than the one an admin asked for. */
export const notRequested = (host: string): string => `was not the requested host '${host}'`;
/** Reason of hosts the request said to skip. */
export const EXCLUDED = "was excluded by the request (a source host or one already tried)";
/** Reason of a host whose claim failed because another request took the room first. */
export const LOST_RACE = "was filled by another request meanwhile";

/** A singular reason made plural: "was disabled" → "were disabled". */
export function pluralise(reason: string): string {
  const swaps: Array<[string, string]> = [
    ["was ", "were "],
    ["is ", "are "],
    ["has ", "have "],
    ["does ", "do "],
  ];
  for (const [one, many] of swaps) if (reason.startsWith(one)) return many + reason.slice(one.length);
  return reason;
}

/** "0 of N hosts: " and the reasons grouped, largest group first. */
export function summarise(total: number, reasons: string[]): string {
  if (total === 0) return `0 of 0 hosts: ${NO_HOSTS}`;
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([r, n]) => `${n} ${n === 1 ? r : pluralise(r)}`);
  return `0 of ${total} host${total === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

/** What a provider's inventory and usage lack for the requested totals; null when everything fits. */
export function shortfall(
  usage: { inventories: Record<string, Inventory>; usages: Resources },
  totals: Resources,
): string | null {
  for (const cls of orderedClasses(totals)) {
    const want = totals[cls];
    const inv = usage.inventories[cls];
    if (!inv) return `had no ${cls} inventory`;
    const capacity = Math.floor((inv.total - (inv.reserved ?? 0)) * (inv.allocation_ratio ?? 1));
    const free = capacity - (usage.usages[cls] ?? 0);
    if (want > free) return `lacked ${amountInWords(cls, want)}`;
    if (inv.max_unit !== undefined && want > inv.max_unit)
      return `allowed at most ${amountInWords(cls, inv.max_unit)} per server`;
  }
  return null;
}

/** Why placement left out a provider that exists. */
async function placementReason(core: ComputeCore, nodeUuid: string, input: ExplainInput): Promise<string> {
  const usage = await core.placement.providerUsage(nodeUuid);
  if (!usage) return "was not registered in placement";
  const lack = shortfall(usage, input.preq.totals);
  if (lack) return lack;
  if (input.preq.traits.length) return `did not match the traits asked for (${input.preq.traits.join(", ")})`;
  if (input.limitReached) return `was beyond placement's first ${input.limit} candidates`;
  return "was not offered by placement";
}

/** Run `fn` over `items`, a few at a time. */
async function pool<T, R>(items: T[], width: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

/** The plain-words explanation over every compute host of the cloud. */
export async function explainNoValidHost(core: ComputeCore, input: ExplainInput): Promise<string> {
  const nodes = await core.db.selectFrom("compute_node").select(["uuid", "host"]).orderBy("id").execute();
  const services = await core.db
    .selectFrom("compute_service")
    .select("host")
    .where("binary", "=", "nova-compute")
    .execute();
  const nodeHosts = new Set(nodes.map((n) => String(n.host)));
  const { req } = input;
  const ignored = new Set(req.ignoreHosts ?? []);
  const reasons = await pool(nodes, 8, async (n) => {
    const uuid = String(n.uuid);
    const host = String(n.host);
    const known = input.reasons.get(uuid);
    if (known) return known;
    if (req.requestedHost && host !== req.requestedHost) return notRequested(req.requestedHost);
    if (ignored.has(host)) return EXCLUDED;
    if (!input.offered.has(uuid)) return placementReason(core, uuid, input);
    return "was not chosen";
  });
  for (const s of services)
    if (!nodeHosts.has(String(s.host))) reasons.push("had not reported resources yet");
  return summarise(reasons.length, reasons);
}
