// Allocation candidates (GET /allocation_candidates): which providers, alone or together within one provider tree
// (plus sharing providers associated by aggregate), can satisfy a request made of request groups.
//
// The filtering is set-based SQL. A query selects the providers whose inventory has room — inventory rows of each
// requested class joined on the provider, unit constraints and capacity checked against the sum of allocations —
// with traits and aggregates as EXISTS conditions in the same statement. It selects provider ids only: providers
// are read by id afterwards, because joining the provider table into it makes PostgreSQL nest a full scan of
// providers per candidate.
//
// The common case — one request group over providers without trees or sharing providers — is that one query with
// the limit pushed into SQL, then three batch reads for the provider summaries. Otherwise each request group (and
// each class of the unnumbered group, which may be spread over a tree) gets its query, and the combination of
// groups and of providers within a tree is done in memory, as Placement does, loading trees a batch at a time until
// the limit is reached.
import { sql, type RawBuilder } from "kysely";
import type { Db, PlacementCore } from "../core.js";
import { and, capacityIds, hasAnyTrait, inAnyAggregate, intList, MAX_INT } from "./sql.js";

/** One request group, resolved to ids. */
export interface CandidateGroup {
  /** "" for the unnumbered group. */
  suffix: string;
  /** rc id -> amount (may be empty for a resourceless granular group, 1.36+). */
  resources: Map<number, number>;
  /** Each inner list: at least one of these traits. */
  requiredTraits: number[][];
  forbiddenTraits: number[];
  /** Each inner list: in at least one of these aggregates. */
  memberOf: string[][];
  forbiddenAggs: string[];
  /** Root id of the in_tree provider; null when that provider does not exist; undefined: no in_tree. */
  inTreeRoot?: number | null;
}

/** Request-wide parameters. */
export interface CandidateRequest {
  groups: CandidateGroup[];
  limit: number | null;
  groupPolicy: string | null;
  /** root_required (1.35): traits the tree's root must have / must not have. */
  rootRequired: number[];
  rootForbidden: number[];
  /** same_subtree (1.36): sets of suffixes whose providers must share an ancestor among them. */
  sameSubtrees: string[][];
  /** 1.29+: allocation requests may span several providers of one tree. */
  nestedAware: boolean;
  /** Load traits for the summaries (1.17+). */
  withTraits: boolean;
  /** rc ids to include in summaries; null = all inventories (1.27+). */
  summaryClasses: Set<number> | null;
}

/** One allocation request: amounts per provider and class, and which providers served which group. */
export interface AllocationRequest {
  resources: Array<{ provider: number; rc: number; amount: number }>;
  mappings: Map<string, number[]>;
}

/** One provider in the summaries. */
export interface ProviderSummary {
  id: number;
  uuid: string;
  parentId: number | null;
  rootId: number;
  /** rc id -> capacity, used, max_unit. */
  inventory: Map<number, { capacity: number; used: number; maxUnit: number }>;
  traitIds: Set<number>;
}

/** The result: allocation requests and the summaries of every provider in their trees. */
export interface CandidateResult {
  requests: AllocationRequest[];
  summaries: ProviderSummary[];
}

const EMPTY: CandidateResult = { requests: [], summaries: [] };

/** SQL conditions on provider `col` for a group's traits and aggregates. */
function traitAndAggregateConditions(g: CandidateGroup, col: string): RawBuilder<unknown>[] {
  const conds: RawBuilder<unknown>[] = [];
  for (const any of g.requiredTraits) conds.push(hasAnyTrait(col, any));
  if (g.forbiddenTraits.length) conds.push(sql`NOT ${hasAnyTrait(col, g.forbiddenTraits)}`);
  for (const any of g.memberOf) conds.push(inAnyAggregate(col, any));
  if (g.forbiddenAggs.length) conds.push(sql`NOT ${inAnyAggregate(col, g.forbiddenAggs)}`);
  return conds;
}

/** Ids of the providers in a tree. */
async function treeMembers(db: Db, root: number): Promise<number[]> {
  const r =
    await sql<any>`SELECT id FROM placement_provider WHERE root_id = ${sql.raw(String(root))}`.execute(db);
  return r.rows.map((x) => Number(x.id));
}

/**
 * Providers that alone satisfy a group: capacity for all its classes (or, for a resourceless group, any provider),
 * traits, aggregates, tree; plus `extra` conditions on the provider id.
 */
async function singleProviderIds(
  db: Db,
  g: CandidateGroup,
  extra: (col: string) => RawBuilder<unknown>[] = () => [],
  limit: number | null = null,
): Promise<number[]> {
  const inTree =
    g.inTreeRoot !== undefined && g.inTreeRoot !== null ? await treeMembers(db, g.inTreeRoot) : null;
  // With a limit, the first rows the database finds will do (as in Placement): no ORDER BY, so that no plan has to
  // evaluate every provider before it can stop. Without one, provider order keeps the answer stable.
  let r;
  if (g.resources.size) {
    const more = [...traitAndAggregateConditions(g, "i0.provider_id"), ...extra("i0.provider_id")];
    if (inTree) more.push(sql`i0.provider_id IN ${intList(inTree)}`);
    const tail = limit ? sql` LIMIT ${sql.raw(String(limit))}` : sql` ORDER BY i0.provider_id`;
    r = await sql<any>`${capacityIds([...g.resources], more)}${tail}`.execute(db);
  } else {
    const more = [...traitAndAggregateConditions(g, "rp.id"), ...extra("rp.id")];
    if (inTree) more.push(sql`rp.id IN ${intList(inTree)}`);
    const tail = limit ? sql` LIMIT ${sql.raw(String(limit))}` : sql` ORDER BY rp.id`;
    r = await sql<any>`SELECT rp.id FROM placement_provider rp WHERE ${and(more)}${tail}`.execute(db);
  }
  return r.rows.map((x) => Number(x.id));
}

/** Root ids of providers, read once per request: by id list, or the whole table when most of it is asked for. */
class RootMap {
  private readonly roots = new Map<number, number>();
  private all = false;

  constructor(private readonly db: Db) {}

  async of(ids: number[]): Promise<Map<number, number>> {
    const missing = this.all ? [] : ids.filter((id) => !this.roots.has(id));
    if (missing.length > 2000) {
      const r = await sql<any>`SELECT id, root_id FROM placement_provider`.execute(this.db);
      for (const x of r.rows) this.roots.set(Number(x.id), Number(x.root_id));
      this.all = true;
    } else if (missing.length) {
      const r =
        await sql<any>`SELECT id, root_id FROM placement_provider WHERE id IN ${intList(missing)}`.execute(
          this.db,
        );
      for (const x of r.rows) this.roots.set(Number(x.id), Number(x.root_id));
    }
    return this.roots;
  }
}

/** Ids of the providers carrying MISC_SHARES_VIA_AGGREGATE. */
async function sharingProviders(db: Db): Promise<Set<number>> {
  const r =
    await sql<any>`SELECT pt.provider_id FROM placement_provider_trait pt JOIN placement_trait t ON t.id = pt.trait_id WHERE t.name = 'MISC_SHARES_VIA_AGGREGATE'`.execute(
      db,
    );
  return new Set(r.rows.map((x) => Number(x.provider_id)));
}

/** Whether any provider has a parent. */
async function hasTrees(db: Db): Promise<boolean> {
  const r = await sql<any>`SELECT id FROM placement_provider WHERE parent_id IS NOT NULL LIMIT 1`.execute(db);
  return r.rows.length > 0;
}

/** Roots of the trees a sharing provider serves: every tree with a provider in one of its aggregates. */
async function sharingAnchors(db: Db, sharing: number[]): Promise<Map<number, Set<number>>> {
  const out = new Map<number, Set<number>>();
  if (!sharing.length) return out;
  const r =
    await sql<any>`SELECT DISTINCT pa.provider_id AS sp, o.root_id AS anchor FROM placement_provider_aggregate pa JOIN placement_provider_aggregate pb ON pb.aggregate_uuid = pa.aggregate_uuid JOIN placement_provider o ON o.id = pb.provider_id WHERE pa.provider_id IN ${intList(sharing)}`.execute(
      db,
    );
  for (const row of r.rows) {
    const sp = Number(row.sp);
    (out.get(sp) ?? out.set(sp, new Set()).get(sp)!).add(Number(row.anchor));
  }
  return out;
}

/** Roots (providers without parent) with all `required` and none of `forbidden` traits. */
async function rootsWithTraits(db: Db, required: number[], forbidden: number[]): Promise<Set<number>> {
  const conds: RawBuilder<unknown>[] = [sql`rp.parent_id IS NULL`];
  for (const t of required) conds.push(hasAnyTrait("rp.id", [t]));
  if (forbidden.length) conds.push(sql`NOT ${hasAnyTrait("rp.id", forbidden)}`);
  const r = await sql<any>`SELECT rp.id FROM placement_provider rp WHERE ${and(conds)}`.execute(db);
  return new Set(r.rows.map((x) => Number(x.id)));
}

/** Providers in all of the aggregate any-sets. */
async function providersInAggregates(db: Db, memberOf: string[][]): Promise<Set<number>> {
  const r =
    await sql<any>`SELECT rp.id FROM placement_provider rp WHERE ${and(memberOf.map((any) => inAnyAggregate("rp.id", any)))}`.execute(
      db,
    );
  return new Set(r.rows.map((x) => Number(x.id)));
}

/** Summaries of the given providers (fast path) or of every provider in the given trees. */
async function loadSummaries(
  db: Db,
  by: { providers: number[] } | { roots: number[] },
  req: Pick<CandidateRequest, "withTraits" | "summaryClasses">,
  alwaysTraits = false,
): Promise<Map<number, ProviderSummary>> {
  const out = new Map<number, ProviderSummary>();
  const keys = "providers" in by ? by.providers : by.roots;
  if (!keys.length) return out;
  const provWhere = "providers" in by ? sql`id IN ${intList(keys)}` : sql`root_id IN ${intList(keys)}`;
  const provs =
    await sql<any>`SELECT id, uuid, parent_id, root_id FROM placement_provider WHERE ${provWhere}`.execute(
      db,
    );
  for (const r of provs.rows)
    out.set(Number(r.id), {
      id: Number(r.id),
      uuid: r.uuid,
      parentId: r.parent_id === null ? null : Number(r.parent_id),
      rootId: Number(r.root_id),
      inventory: new Map(),
      traitIds: new Set(),
    });
  if (!out.size) return out;
  const ids = intList(out.keys());
  const classes = req.summaryClasses ? sql` AND iv.rc_id IN ${intList(req.summaryClasses)}` : sql``;
  const invs =
    await sql<any>`SELECT iv.provider_id, iv.rc_id, iv.total, iv.reserved, iv.allocation_ratio, iv.max_unit, (SELECT COALESCE(SUM(al.used), 0) FROM placement_allocation al WHERE al.provider_id = iv.provider_id AND al.rc_id = iv.rc_id) AS used FROM placement_inventory iv WHERE iv.provider_id IN ${ids}${classes}`.execute(
      db,
    );
  for (const r of invs.rows)
    out.get(Number(r.provider_id))?.inventory.set(Number(r.rc_id), {
      capacity: Math.trunc((Number(r.total) - Number(r.reserved)) * Number(r.allocation_ratio)),
      used: Number(r.used),
      maxUnit: Number(r.max_unit),
    });
  if (req.withTraits || alwaysTraits) {
    const trs =
      await sql<any>`SELECT provider_id, trait_id FROM placement_provider_trait WHERE provider_id IN ${ids}`.execute(
        db,
      );
    for (const r of trs.rows) out.get(Number(r.provider_id))?.traitIds.add(Number(r.trait_id));
  }
  return out;
}

/** A per-group candidate: the providers serving it, anchored at a tree root. */
interface GroupCandidate {
  anchor: number;
  resources: Array<{ provider: number; rc: number; amount: number }>;
  providers: number[];
}

/** Find allocation candidates for a request. */
export async function findCandidates(core: PlacementCore, req: CandidateRequest): Promise<CandidateResult> {
  const db = core.db;
  for (const g of req.groups) {
    if (g.inTreeRoot === null) return EMPTY;
    for (const amount of g.resources.values()) if (amount > MAX_INT) return EMPTY;
  }
  const anchors =
    req.rootRequired.length || req.rootForbidden.length
      ? await rootsWithTraits(db, req.rootRequired, req.rootForbidden)
      : null;
  if (anchors && !anchors.size) return EMPTY;
  const trees = await hasTrees(db);
  const sharing = await sharingProviders(db);

  if (
    req.groups.length === 1 &&
    req.groups[0].resources.size > 0 &&
    !trees &&
    !sharing.size &&
    !req.sameSubtrees.length
  )
    return fastPath(db, req, req.groups[0]);
  return generalPath(db, req, trees, sharing, anchors);
}

/** One group, flat providers, no sharing: one query with the limit in SQL, then the summaries. */
async function fastPath(db: Db, req: CandidateRequest, g: CandidateGroup): Promise<CandidateResult> {
  // Without trees every provider is its own root.
  const rootConds = (col: string) => {
    const conds: RawBuilder<unknown>[] = req.rootRequired.map((t) => hasAnyTrait(col, [t]));
    if (req.rootForbidden.length) conds.push(sql`NOT ${hasAnyTrait(col, req.rootForbidden)}`);
    return conds;
  };
  const ids = await singleProviderIds(db, g, rootConds, req.limit);
  const requests: AllocationRequest[] = ids.map((id) => ({
    resources: [...g.resources].map(([rc, amount]) => ({ provider: id, rc, amount })),
    mappings: new Map([[g.suffix, [id]]]),
  }));
  const sums = await loadSummaries(db, { providers: ids }, req);
  return { requests, summaries: ids.map((id) => sums.get(id)!).filter(Boolean) };
}

function cartesian<T>(lists: T[][], visit: (combo: T[]) => boolean): void {
  const combo: T[] = new Array(lists.length);
  const rec = (i: number): boolean => {
    if (i === lists.length) return visit(combo);
    for (const x of lists[i]) {
      combo[i] = x;
      if (!rec(i + 1)) return false;
    }
    return true;
  };
  if (lists.every((l) => l.length)) rec(0);
}

async function generalPath(
  db: Db,
  req: CandidateRequest,
  trees: boolean,
  sharing: Set<number>,
  anchors: Set<number> | null,
): Promise<CandidateResult> {
  const anchorOk = (a: number) => !anchors || anchors.has(a);
  const anchorsOfSharing = await sharingAnchors(db, [...sharing]);
  const rootMap = new RootMap(db);
  /** Each candidate provider's own root (a sharing provider may serve other trees' anchors). */
  const realRoot = new Map<number, number>();
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);

  // 1. Set-based filtering in SQL, per group. A group on one provider: anchor -> providers. The unnumbered group
  // when trees or sharing providers exist: anchor -> class -> providers with room for that class.
  const singleBy = new Map<string, Map<number, number[]>>();
  const spanBy = new Map<string, Map<number, Map<number, number[]>>>();
  for (const g of req.groups) {
    const spans = g.suffix === "" && (trees || sharing.size > 0);
    if (!spans) {
      const ids = await singleProviderIds(db, g);
      const roots = await rootMap.of(ids);
      const byAnchor = new Map<number, number[]>();
      for (const id of ids) {
        const root = roots.get(id) ?? id;
        realRoot.set(id, root);
        if (anchorOk(root)) push(byAnchor, root, id);
        if (sharing.has(id))
          for (const a of anchorsOfSharing.get(id) ?? [])
            if (a !== root && anchorOk(a)) push(byAnchor, a, id);
      }
      if (!byAnchor.size) return EMPTY;
      singleBy.set(g.suffix, byAnchor);
      continue;
    }
    let inAggs: Set<number> | null = null;
    if (g.memberOf.length) {
      inAggs = await providersInAggregates(db, g.memberOf);
      if (!inAggs.size) return EMPTY;
    }
    const badAggs = g.forbiddenAggs.length
      ? await providersInAggregates(db, [g.forbiddenAggs])
      : new Set<number>();
    const perRc = new Map<number, Array<{ provider: number; anchor: number }>>();
    let common = null as Set<number> | null;
    for (const [rc, amount] of g.resources) {
      const ids = await singleProviderIds(db, {
        suffix: g.suffix,
        resources: new Map([[rc, amount]]),
        requiredTraits: [],
        forbiddenTraits: [],
        memberOf: [],
        forbiddenAggs: [],
        ...(g.inTreeRoot !== undefined ? { inTreeRoot: g.inTreeRoot } : {}),
      });
      if (!ids.length) return EMPTY;
      const roots = await rootMap.of(ids);
      let pairs = ids.map((id) => ({ provider: id, anchor: roots.get(id) ?? id }));
      for (const p of pairs) realRoot.set(p.provider, p.anchor);
      if (g.inTreeRoot === undefined) {
        for (const p of [...pairs]) {
          if (!sharing.has(p.provider) || (inAggs && !inAggs.has(p.provider))) continue;
          for (const a of anchorsOfSharing.get(p.provider) ?? [])
            if (a !== p.anchor) pairs.push({ provider: p.provider, anchor: a });
        }
      }
      if (anchors) pairs = pairs.filter((p) => anchors.has(p.anchor));
      if (inAggs) pairs = pairs.filter((p) => inAggs.has(p.provider) || inAggs.has(p.anchor));
      if (badAggs.size) pairs = pairs.filter((p) => !badAggs.has(p.provider) && !badAggs.has(p.anchor));
      const these = new Set(pairs.map((p) => p.anchor));
      const prev: Set<number> | null = common;
      common = prev ? new Set([...prev].filter((x) => these.has(x))) : these;
      if (!common.size) return EMPTY;
      perRc.set(rc, pairs);
    }
    const byAnchor = new Map<number, Map<number, number[]>>();
    for (const [rc, pairs] of perRc)
      for (const p of pairs) {
        if (!common!.has(p.anchor)) continue;
        const m = byAnchor.get(p.anchor) ?? byAnchor.set(p.anchor, new Map()).get(p.anchor)!;
        push(m, rc, p.provider);
      }
    spanBy.set(g.suffix, byAnchor);
  }

  // 2. The anchors (tree roots) every group can be served from, in id order.
  let anchorList: number[] | null = null;
  for (const g of req.groups) {
    const keys = new Set((singleBy.get(g.suffix) ?? spanBy.get(g.suffix)!).keys());
    anchorList = anchorList ? anchorList.filter((a) => keys.has(a)) : [...keys];
  }
  anchorList = (anchorList ?? []).sort((x, y) => x - y);
  if (!anchorList.length) return EMPTY;

  // 3. Trees are loaded (providers, inventories with usage, traits) a batch of anchors at a time, and combined until
  // the limit is reached: a limit of 1000 over 10,000 trees reads about 1000 trees.
  const info = new Map<number, ProviderSummary>();
  const loaded = new Set<number>();
  const rootOf = (id: number) => info.get(id)?.rootId ?? realRoot.get(id) ?? id;
  const providersAt = (a: number): number[] => {
    const out: number[] = [];
    for (const g of req.groups) {
      const s = singleBy.get(g.suffix)?.get(a);
      if (s) out.push(...s);
      const m = spanBy.get(g.suffix)?.get(a);
      if (m) for (const l of m.values()) out.push(...l);
    }
    return out;
  };

  /** One group's candidates at one anchor. */
  const candidatesAt = (g: CandidateGroup, anchor: number): GroupCandidate[] => {
    const single = singleBy.get(g.suffix);
    if (single)
      return (single.get(anchor) ?? []).map((id) => ({
        anchor,
        resources: [...g.resources].map(([rc, amount]) => ({ provider: id, rc, amount })),
        providers: [id],
      }));
    const m = spanBy.get(g.suffix)!.get(anchor);
    if (!m) return [];
    const rcs = [...g.resources.keys()];
    const out: GroupCandidate[] = [];
    cartesian(
      rcs.map((rc) => m.get(rc) ?? []),
      (combo) => {
        const used = new Set(combo);
        const traits = new Set<number>();
        for (const pid of used) {
          const t = info.get(pid)?.traitIds ?? new Set<number>();
          if (g.forbiddenTraits.some((f) => t.has(f))) return true;
          for (const x of t) traits.add(x);
        }
        if (!g.requiredTraits.every((any) => any.some((t) => traits.has(t)))) return true;
        out.push({
          anchor,
          resources: rcs.map((rc, i) => ({ provider: combo[i], rc, amount: g.resources.get(rc)! })),
          providers: [...used],
        });
        return true;
      },
    );
    return out;
  };

  const suffixes = req.groups.map((g) => g.suffix);
  const granular = suffixes.filter((s) => s !== "");
  const ancestors = (id: number): Set<number> => {
    const out = new Set<number>([id]);
    let cur = info.get(id)?.parentId ?? null;
    while (cur !== null && !out.has(cur)) {
      out.add(cur);
      cur = info.get(cur)?.parentId ?? null;
    }
    return out;
  };
  const sameSubtreeOk = (mappings: Map<string, Set<number>>): boolean => {
    for (const set of req.sameSubtrees) {
      const rps = new Set<number>();
      for (const s of set) for (const p of mappings.get(s) ?? []) rps.add(p);
      if (rps.size <= 1) continue;
      let common: Set<number> | undefined;
      for (const p of rps) {
        const a = ancestors(p);
        const prev: Set<number> | undefined = common;
        common = prev ? new Set([...prev].filter((x) => a.has(x))) : a;
      }
      if (![...(common ?? [])].some((x) => rps.has(x))) return false;
    }
    return true;
  };

  const results: AllocationRequest[] = [];
  const seen = new Set<string>();
  const limit = req.limit ?? Infinity;
  let batch = req.limit ? Math.max(64, Math.ceil(req.limit * 1.25)) : anchorList.length;
  for (let start = 0; start < anchorList.length && results.length < limit; start += batch, batch *= 2) {
    const slice = anchorList.slice(start, start + batch);
    const need = new Set<number>();
    for (const a of slice) {
      need.add(a);
      for (const p of providersAt(a)) need.add(realRoot.get(p) ?? p);
    }
    const missing = [...need].filter((r) => !loaded.has(r));
    if (missing.length) {
      const more = await loadSummaries(
        db,
        { roots: missing },
        { withTraits: true, summaryClasses: null },
        true,
      );
      for (const [id, s] of more) info.set(id, s);
      for (const r of missing) loaded.add(r);
    }
    for (const anchor of slice) {
      if (results.length >= limit) break;
      const lists = req.groups.map((g) => candidatesAt(g, anchor));
      cartesian(lists, (combo) => {
        if (req.groupPolicy === "isolate" && granular.length > 1) {
          const distinct = new Set<number>();
          combo.forEach((c, i) => {
            if (suffixes[i] !== "") for (const p of c.providers) distinct.add(p);
          });
          if (distinct.size !== granular.length) return true;
        }
        const mappings = new Map<string, Set<number>>();
        const amounts = new Map<string, { provider: number; rc: number; amount: number }>();
        combo.forEach((c, i) => {
          const set = mappings.get(suffixes[i]) ?? mappings.set(suffixes[i], new Set()).get(suffixes[i])!;
          for (const p of c.providers) set.add(p);
          for (const r of c.resources) {
            const k = `${r.provider}:${r.rc}`;
            const cur = amounts.get(k);
            if (cur) cur.amount += r.amount;
            else amounts.set(k, { ...r });
          }
        });
        if (req.sameSubtrees.length && !sameSubtreeOk(mappings)) return true;
        for (const a of amounts.values()) {
          const inv = info.get(a.provider)?.inventory.get(a.rc);
          if (!inv || inv.used + a.amount > inv.capacity || a.amount > inv.maxUnit) return true;
        }
        if (!req.nestedAware && trees) {
          const providers = new Set([...amounts.values()].map((a) => a.provider));
          const roots = new Set([...providers].map(rootOf));
          if (roots.size !== providers.size) return true;
        }
        const resources = [...amounts.values()].sort((x, y) => x.provider - y.provider || x.rc - y.rc);
        const mapList = new Map([...mappings].map(([s, set]) => [s, [...set].sort((x, y) => x - y)]));
        const key = JSON.stringify([
          resources.map((r) => [r.provider, r.rc, r.amount]),
          [...mapList].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)),
        ]);
        if (seen.has(key)) return true;
        seen.add(key);
        results.push({ resources, mappings: mapList });
        return results.length < limit;
      });
    }
  }

  // 4. Summaries: every provider of every tree a chosen provider belongs to; before 1.29, with trees around, only
  // the providers the requests use (as Placement's nested-unaware filter does).
  if (!req.nestedAware && trees) {
    const used = new Set<number>();
    for (const r of results) for (const a of r.resources) used.add(a.provider);
    const summaries = [...used].map((id) => info.get(id)!).filter(Boolean);
    return { requests: results, summaries: summaries.map((p) => trimSummary(p, req)) };
  }
  const keepRoots = new Set<number>();
  for (const r of results) for (const a of r.resources) keepRoots.add(rootOf(a.provider));
  for (const r of results) for (const ps of r.mappings.values()) for (const p of ps) keepRoots.add(rootOf(p));
  const summaries = [...info.values()].filter((p) => keepRoots.has(p.rootId)).map((p) => trimSummary(p, req));
  return { requests: results, summaries };
}

/** A summary with only the classes and traits the microversion shows. */
function trimSummary(p: ProviderSummary, req: CandidateRequest): ProviderSummary {
  return {
    ...p,
    inventory: req.summaryClasses
      ? new Map([...p.inventory].filter(([rc]) => req.summaryClasses!.has(rc)))
      : p.inventory,
    traitIds: req.withTraits ? p.traitIds : new Set<number>(),
  };
}
