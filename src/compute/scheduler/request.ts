// Turns a flavor and an image into a placement allocation_candidates query, as Nova's ResourceRequest does:
// the flavor's sizes, `resources[S]:CLASS=N` overrides, `trait[S]:NAME=required|forbidden`, and image traits.
import type { InstanceFlavor, RequestSpec } from "../instances/store.js";
import type { Resources } from "../placement-client.js";

/** One request group: "" is the unnumbered group, anything else a granular group suffix. */
export interface RequestGroup {
  suffix: string;
  resources: Resources;
  required: string[];
  forbidden: string[];
}

/** What the scheduler asks placement for, in a form the explanation can reuse. */
export interface PlacementRequest {
  groups: RequestGroup[];
  /** Amounts per class summed over every group (what a host must have room for). */
  totals: Resources;
  /** Traits asked of the hosts, "!NAME" when forbidden (for explanations). */
  traits: string[];
  groupPolicy?: string;
}

const SPEC_KEY = /^(resources|trait)([a-zA-Z0-9_-]{1,64})?:([A-Z0-9_]+)$/;
const CLASS_ORDER = ["VCPU", "MEMORY_MB", "DISK_GB"];

/** Build the request groups from the flavor's sizes and extra specs and the image's trait properties. */
export function placementRequest(
  flavor: InstanceFlavor,
  image: RequestSpec["image"],
  volumeBacked = false,
): PlacementRequest {
  const groups = new Map<string, RequestGroup>();
  const group = (suffix: string): RequestGroup => {
    let g = groups.get(suffix);
    if (!g) groups.set(suffix, (g = { suffix, resources: {}, required: [], forbidden: [] }));
    return g;
  };
  const base = group("");
  base.resources.VCPU = flavor.vcpus;
  base.resources.MEMORY_MB = flavor.memory_mb;
  // A volume-backed server's root disk is in the block storage service, not on the host (as Nova's is_bfv).
  base.resources.DISK_GB =
    (volumeBacked ? 0 : flavor.root_gb) + flavor.ephemeral_gb + Math.ceil(flavor.swap / 1024);
  const traitSpec = (g: RequestGroup, name: string, value: string) => {
    if (value === "required" && !g.required.includes(name)) g.required.push(name);
    if (value === "forbidden" && !g.forbidden.includes(name)) g.forbidden.push(name);
  };
  for (const [key, value] of Object.entries(flavor.extra_specs ?? {})) {
    const m = SPEC_KEY.exec(key);
    if (!m) continue;
    const g = group(m[2] ?? "");
    if (m[1] === "trait") traitSpec(g, m[3], value);
    else if (/^\d+$/.test(value)) g.resources[m[3]] = Number(value);
  }
  for (const [key, value] of Object.entries(image.properties ?? {})) {
    const m = /^trait:([A-Z0-9_]+)$/.exec(key);
    if (m && value === "required") traitSpec(base, m[1], value);
  }
  const totals: Resources = {};
  const traits: string[] = [];
  for (const g of groups.values()) {
    for (const [cls, n] of Object.entries(g.resources)) {
      if (n <= 0) delete g.resources[cls];
      else totals[cls] = (totals[cls] ?? 0) + n;
    }
    traits.push(...g.required, ...g.forbidden.map((t) => `!${t}`));
  }
  const kept = [...groups.values()].filter((g) => g.suffix === "" || Object.keys(g.resources).length > 0);
  const req: PlacementRequest = { groups: kept, totals, traits };
  const policy = flavor.extra_specs?.group_policy;
  if (policy) req.groupPolicy = policy;
  else if (kept.filter((g) => g.suffix !== "").length > 1) req.groupPolicy = "none";
  return req;
}

/** Resource classes in display order: VCPU, MEMORY_MB, DISK_GB, then the rest by name. */
export function orderedClasses(res: Resources): string[] {
  const rank = (c: string) => (CLASS_ORDER.includes(c) ? CLASS_ORDER.indexOf(c) : CLASS_ORDER.length);
  return Object.keys(res).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** An amount in plain words: "4096 MB RAM", "2 VCPU", "20 GB disk", "1 CUSTOM_GPU". */
export function amountInWords(cls: string, n: number): string {
  if (cls === "MEMORY_MB") return `${n} MB RAM`;
  if (cls === "DISK_GB") return `${n} GB disk`;
  return `${n} ${cls}`;
}

/** The GET /allocation_candidates query; `inTree` restricts every group to one provider tree. */
export function candidatesQuery(req: PlacementRequest, limit: number, inTree?: string): URLSearchParams {
  const q = new URLSearchParams();
  for (const g of req.groups) {
    const res = orderedClasses(g.resources).map((c) => `${c}:${g.resources[c]}`);
    const traits = [...g.required, ...g.forbidden.map((t) => `!${t}`)];
    if (res.length === 0) {
      // An unnumbered group without resources cannot carry traits; ask them of the root instead.
      if (traits.length) q.set("root_required", traits.join(","));
      continue;
    }
    q.set(`resources${g.suffix}`, res.join(","));
    if (traits.length) q.set(`required${g.suffix}`, traits.join(","));
    if (inTree) q.set(`in_tree${g.suffix}`, inTree);
  }
  if (req.groupPolicy) q.set("group_policy", req.groupPolicy);
  q.set("limit", String(limit));
  return q;
}

/** Whether the request asks placement for anything at all. */
export function asksForResources(req: PlacementRequest): boolean {
  return Object.keys(req.totals).length > 0;
}
