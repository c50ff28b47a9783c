import type { Route } from "../../shared/http/route.js";
import { reply } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { CODES, badRequest } from "../errors.js";
import { findCandidates, type CandidateGroup } from "../store/candidates.js";
import { getProvider } from "../store/providers.js";
import {
  allowOnly,
  cacheHeaders,
  isUuidLike,
  parseMemberOf,
  parseResources,
  parseTraits,
  proute,
  queryOf,
  type AggSpec,
  type Ctx,
  type TraitSpec,
} from "./common.js";

/** A request group as parsed from the query string (names, not ids). */
interface ParsedGroup {
  suffix: string;
  resources: Map<string, number>;
  traits: TraitSpec;
  aggs: AggSpec;
  inTree?: string;
}

const KEY_1_25 = /^(resources|required|member_of|in_tree)([1-9][0-9]*)?$/;
const KEY_1_33 = /^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})?$/;

/** Which query keys a microversion accepts. */
function allowedKey(ctx: Ctx, key: string): boolean {
  const v = ctx.microversion;
  if (v.lt("1.25")) {
    const plain = ["resources"];
    if (v.gte("1.16")) plain.push("limit");
    if (v.gte("1.17")) plain.push("required");
    if (v.gte("1.21")) plain.push("member_of");
    return plain.includes(key);
  }
  if (key === "limit" || key === "group_policy") return true;
  if (v.gte("1.35") && key === "root_required") return true;
  if (v.gte("1.36") && key === "same_subtree") return true;
  const m = (v.gte("1.33") ? KEY_1_33 : KEY_1_25).exec(key);
  if (!m) return false;
  return m[1] !== "in_tree" || v.gte("1.31");
}

/** Parse the request groups, checking their shape as Placement's RequestGroup.dict_from_request does. */
function parseGroups(ctx: Ctx, q: URLSearchParams, sameSubtrees: string[][]): ParsedGroup[] {
  const v = ctx.microversion;
  const pattern = v.gte("1.33") ? KEY_1_33 : KEY_1_25;
  const groups = new Map<string, ParsedGroup>();
  const group = (suffix: string) =>
    groups.get(suffix) ??
    groups
      .set(suffix, {
        suffix,
        resources: new Map(),
        traits: { required: [], forbidden: [] },
        aggs: { required: [], forbidden: [] },
      })
      .get(suffix)!;
  const done = new Set<string>();
  for (const [key, value] of q) {
    const m = pattern.exec(key);
    if (!m || done.has(key)) continue;
    done.add(key);
    const [, prefix, suffix = ""] = m;
    const g = group(suffix);
    if (prefix === "resources") g.resources = parseResources(q.getAll(key).slice(-1)[0] ?? value);
    else if (prefix === "required") g.traits = parseTraits(ctx, q.getAll(key));
    else if (prefix === "member_of") g.aggs = parseMemberOf(ctx, q.getAll(key), suffix);
    else {
      const t = value.trim();
      if (!isUuidLike(t))
        throw badRequest(
          `Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: ${value}`,
        );
      g.inTree = t;
    }
  }
  const list = [...groups.values()];
  if (v.gte("1.36")) {
    const resourceless = list.filter((g) => !g.resources.size).map((g) => g.suffix);
    if (resourceless.length === list.length)
      throw badRequest(
        "There must be at least one resources or resources[$S] parameter.",
        CODES.QUERYPARAM_MISSING_VALUE,
      );
    const inSubtrees = new Set(sameSubtrees.flat());
    const bad = resourceless.filter((s) => !inSubtrees.has(s));
    if (bad.length)
      throw badRequest(
        `Resourceless suffixed group request should be specified in \`same_subtree\` query param: bad group(s) - ${JSON.stringify(bad).replace(/"/g, "'")}.`,
        CODES.QUERYPARAM_BAD_VALUE,
      );
    const unknown = [...inSubtrees].filter((s) => !groups.has(s));
    if (unknown.length)
      throw badRequest(
        `Real suffixes should be specified in \`same_subtree\`: ${JSON.stringify(unknown).replace(/"/g, "'")} not found in ${JSON.stringify([...groups.keys()]).replace(/"/g, "'")}.`,
        CODES.QUERYPARAM_BAD_VALUE,
      );
  } else {
    const orphanTraits = list.filter((g) => g.traits.required.length && !g.resources.size);
    if (orphanTraits.length)
      throw badRequest(
        `All traits parameters must be associated with resources.  Found the following orphaned traits keys: ${orphanTraits.map((g) => `required${g.suffix}`).join(", ")}`,
      );
    const orphanAggs = list.filter(
      (g) => !g.resources.size && (g.aggs.required.length || g.aggs.forbidden.length),
    );
    if (orphanAggs.length)
      throw badRequest(
        `All member_of parameters must be associated with resources. Found the following orphaned member_of keys: ${orphanAggs.map((g) => `member_of${g.suffix}`).join(", ")}`,
      );
    if (!list.every((g) => g.resources.size)) throw badRequest("All request groups must specify resources.");
    if (!list.length)
      throw badRequest("At least one request group (`resources` or `resources{$S}`) is required.");
  }
  if (v.gte("1.22")) {
    const conflicts: string[] = [];
    for (const g of list)
      for (const any of g.traits.required)
        if (any.every((t) => g.traits.forbidden.includes(t)))
          conflicts.push(`required${g.suffix}: (${[...any].sort().join(", ")})`);
    if (conflicts.length)
      throw badRequest(
        `Conflicting required and forbidden traits found in the following traits keys: ${conflicts.sort().join(", ")}`,
      );
  }
  return list;
}

/** GET /allocation_candidates (1.10+). */
export function candidateRoutes(core: PlacementCore): Route[] {
  return [
    proute({
      method: "GET",
      path: "/allocation_candidates",
      policy: "placement:allocation_candidates:list",
      min: "1.10",
      handler: async (ctx) => {
        const v = ctx.microversion;
        const q = queryOf(ctx);
        allowOnly(q, (k) => allowedKey(ctx, k));
        if (v.lt("1.25") && !q.has("resources"))
          throw badRequest("Invalid query string parameters: 'resources' is a required property");
        let limit: number | null = null;
        if (q.has("limit")) {
          const l = q.getAll("limit")[0];
          if (!/^[1-9][0-9]*$/.test(l))
            throw badRequest(`Invalid query string parameters: '${l}' does not match '^[1-9][0-9]*$'`);
          limit = Number(l);
        }
        const groupPolicy = q.get("group_policy");
        if (groupPolicy !== null && !["none", "isolate"].includes(groupPolicy))
          throw badRequest(
            `Invalid query string parameters: '${groupPolicy}' is not one of ['none', 'isolate']`,
          );
        let root: TraitSpec = { required: [], forbidden: [] };
        const rootValues = q.getAll("root_required");
        if (rootValues.length > 1)
          throw badRequest(
            "Query parameter 'root_required' may be specified only once.",
            CODES.ILLEGAL_DUPLICATE_QUERYPARAM,
          );
        if (rootValues.length) {
          root = parseTraits(ctx, rootValues, { anyTraits: false });
          const clash = root.forbidden.filter((t) => root.required.some((a) => a[0] === t));
          if (clash.length)
            throw badRequest(
              `Conflicting required and forbidden traits found in root_required: ${clash.join(", ")}`,
              CODES.QUERYPARAM_BAD_VALUE,
            );
        }
        const sameSubtrees: string[][] = [];
        for (const val of q.getAll("same_subtree")) {
          const suffixes = [...new Set(val.split(",").map((s) => s.trim()))];
          if (suffixes.includes(""))
            throw badRequest(
              "Empty string (unsuffixed group) can not be specified in `same_subtree` ",
              CODES.QUERYPARAM_BAD_VALUE,
            );
          sameSubtrees.push(suffixes);
        }
        const parsed = parseGroups(ctx, q, sameSubtrees);
        if (!groupPolicy && parsed.filter((g) => g.suffix !== "").length > 1)
          throw badRequest(
            'The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.',
          );

        // Names to ids.
        const rcNames = new Set(parsed.flatMap((g) => [...g.resources.keys()]));
        const rcs = await core.resourceClasses.ids(core.db, rcNames);
        if (rcs.missing.length)
          throw badRequest(
            `Invalid resource class in resources parameter: No such resource class ${rcs.missing[0]}.`,
          );
        const traitNames = new Set([
          ...parsed.flatMap((g) => [...g.traits.required.flat(), ...g.traits.forbidden]),
          ...root.required.flat(),
          ...root.forbidden,
        ]);
        const traits = await core.traits.ids(core.db, traitNames);
        if (traits.missing.length) throw badRequest(`No such trait(s): ${traits.missing.join(", ")}.`);
        const tid = (n: string) => traits.ids.get(n)!;
        const groups: CandidateGroup[] = [];
        for (const g of parsed) {
          let inTreeRoot: number | null | undefined;
          if (g.inTree !== undefined) inTreeRoot = (await getProvider(core.db, g.inTree))?.root_id ?? null;
          groups.push({
            suffix: g.suffix,
            resources: new Map([...g.resources].map(([rc, n]) => [rcs.ids.get(rc)!, n])),
            requiredTraits: g.traits.required.map((any) => any.map(tid)),
            forbiddenTraits: g.traits.forbidden.map(tid),
            memberOf: g.aggs.required,
            forbiddenAggs: g.aggs.forbidden,
            ...(inTreeRoot !== undefined ? { inTreeRoot } : {}),
          });
        }
        const requested = new Set(groups.flatMap((g) => [...g.resources.keys()]));
        const result = await findCandidates(core, {
          groups,
          limit,
          groupPolicy,
          rootRequired: root.required.flat().map(tid),
          rootForbidden: root.forbidden.map(tid),
          sameSubtrees,
          nestedAware: v.gte("1.29"),
          withTraits: v.gte("1.17"),
          summaryClasses: v.gte("1.27") ? null : requested,
        });

        // Render.
        const uuidOf = new Map<number, string>();
        for (const s of result.summaries) uuidOf.set(s.id, s.uuid);
        const missingIds = new Set<number>();
        for (const r of result.requests)
          for (const a of r.resources) if (!uuidOf.has(a.provider)) missingIds.add(a.provider);
        if (missingIds.size) {
          const rows = await core.db
            .selectFrom("placement_provider")
            .select(["id", "uuid"])
            .where("id", "in", [...missingIds])
            .execute();
          for (const r of rows) uuidOf.set(Number(r.id), r.uuid);
        }
        await core.resourceClasses.know(
          core.db,
          result.summaries.flatMap((s) => [...s.inventory.keys()]),
        );
        await core.traits.know(
          core.db,
          result.summaries.flatMap((s) => [...s.traitIds]),
        );
        const rcName = (id: number) => core.resourceClasses.nameSync(id);
        const allocationRequests = result.requests.map((r) => {
          if (v.lt("1.12")) {
            const byRp = new Map<number, Record<string, number>>();
            for (const a of r.resources)
              (byRp.get(a.provider) ?? byRp.set(a.provider, {}).get(a.provider)!)[rcName(a.rc)] = a.amount;
            return {
              allocations: [...byRp].map(([id, resources]) => ({
                resource_provider: { uuid: uuidOf.get(id) },
                resources,
              })),
            };
          }
          const allocations: Record<string, { resources: Record<string, number> }> = {};
          for (const a of r.resources)
            (allocations[uuidOf.get(a.provider)!] ??= { resources: {} }).resources[rcName(a.rc)] = a.amount;
          if (v.lt("1.34")) return { allocations };
          return {
            allocations,
            mappings: Object.fromEntries(
              [...r.mappings].map(([s, ids]) => [s, ids.map((id) => uuidOf.get(id))]),
            ),
          };
        });
        const traitName = (id: number) => core.traits.nameSync(id);
        const summaries: Record<string, Record<string, unknown>> = {};
        for (const s of result.summaries) {
          const resources: Record<string, { capacity: number; used: number }> = {};
          for (const [rc, inv] of s.inventory)
            resources[rcName(rc)] = { capacity: inv.capacity, used: inv.used };
          const out: Record<string, unknown> = { resources };
          if (v.gte("1.17")) out.traits = [...s.traitIds].map(traitName).sort();
          if (v.gte("1.29")) {
            out.parent_provider_uuid = s.parentId === null ? null : (uuidOf.get(s.parentId) ?? null);
            out.root_provider_uuid = uuidOf.get(s.rootId) ?? s.uuid;
          }
          summaries[s.uuid] = out;
        }
        return reply(
          200,
          { allocation_requests: allocationRequests, provider_summaries: summaries },
          cacheHeaders(ctx),
        );
      },
    }),
  ];
}
