// /v2.0/subnetpools: pools of prefixes subnets are allocated from (subnet_allocation), with the default pool of
// each IP version (default-subnetpools) and add/remove_prefixes (subnetpool-prefix-ops). Prefixes only grow by
// update; a pool with subnets cannot be deleted, nor lose a prefix they use.
import { Type } from "@sinclair/typebox";
import { nowIso } from "../../shared/db/index.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { NetworkCore } from "../core.js";
import { badRequest, conflict, invalidInput, nerr, notFound } from "../errors.js";
import { bits, cidrOf, cidrsOverlap, cidrWithin, type Cidr } from "../ipam/addr.js";
import { collapse } from "../ipam/prefixes.js";
import { lockRow, withQuota } from "../quotas.js";
import {
  defaultPool,
  deleteSubnetPoolRow,
  getSubnetPool,
  insertSubnetPool,
  listSubnetPools,
  poolVisible,
  saveSubnetPool,
  type SubnetPool,
} from "../store/subnetpools.js";
import { subnetsOfPool } from "../store/subnets.js";
import { removeTags, tagsFor } from "../store/tags.js";
import {
  bodyItem,
  bodyItems,
  parseCreate,
  parseUpdate,
  policyAttrsOnCreate,
  policyAttrsOnUpdate,
  projectOf,
  resourceBody,
  val,
  type Attr,
  type Parsed,
} from "./attrs.js";
import { callerOf, enforceOn, enforceWrite, isoTime, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { bool, cidr, int, intOrNull, listOf, str, type Validator } from "./validators.js";

const nonEmpty: Validator<string> = (v, a) => {
  const s = str(255)(v, a);
  if (!s.trim()) throw badRequest(`Invalid input for ${a}. Reason: '${s}' Blank strings are not permitted.`);
  return s;
};

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["name", { post: "required", put: true, parse: nonEmpty }],
  ["description", { post: true, put: true, parse: str(255), def: "" }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["prefixes", { post: "required", put: true, parse: listOf(cidr) }],
  ["default_prefixlen", { post: true, put: true, parse: int(0, 128) }],
  ["min_prefixlen", { post: true, put: true, parse: int(0, 128) }],
  ["max_prefixlen", { post: true, put: true, parse: int(0, 128) }],
  ["shared", { post: true, put: false, parse: bool, def: false, policy: true }],
  ["is_default", { post: true, put: true, parse: bool, def: false, policy: true }],
  ["default_quota", { post: true, put: true, parse: intOrNull(0, 2 ** 31 - 1) }],
  ["address_scope_id", { post: true, put: true, parse: (v, a) => (v === null ? null : invalidScope(a)) }],
  ["ip_version", { post: false, put: false, parse: str() }],
]);

function invalidScope(attr: string): never {
  throw badRequest(`Invalid input for ${attr}. Reason: address scopes are not supported.`);
}

const LIST: ListSpec = {
  collection: "subnetpools",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["name", "string"],
    ["description", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["ip_version", "int"],
    ["shared", "bool"],
    ["is_default", "bool"],
    ["default_prefixlen", "int"],
    ["min_prefixlen", "int"],
    ["max_prefixlen", "int"],
    ["revision_number", "int"],
  ]),
  sortKeys: new Set([
    "id",
    "name",
    "ip_version",
    "shared",
    "is_default",
    "project_id",
    "tenant_id",
    "created_at",
    "updated_at",
    "revision_number",
  ]),
  markerNotFound: (id) => notFound("subnetpool", id),
};

const view = (p: SubnetPool, tags: string[]) => ({
  id: p.id,
  name: p.name,
  tenant_id: p.project_id,
  project_id: p.project_id,
  prefixes: p.prefixes,
  default_prefixlen: p.default_prefixlen,
  min_prefixlen: p.min_prefixlen,
  max_prefixlen: p.max_prefixlen,
  shared: p.shared,
  is_default: p.is_default,
  default_quota: p.default_quota,
  address_scope_id: null,
  ip_version: p.ip_version,
  description: p.description,
  tags,
  created_at: isoTime(p.created_at),
  updated_at: isoTime(p.updated_at),
  revision_number: p.revision_number,
});

const targetOf = (p: Pick<SubnetPool, "project_id" | "shared">): Target => ({
  project_id: p.project_id,
  tenant_id: p.project_id,
  shared: p.shared,
});

async function viewOf(core: NetworkCore, p: SubnetPool) {
  return view(p, (await tagsFor(core, "subnetpools", [p.id])).get(p.id) ?? []);
}

/** A pool the caller may read; 404 SubnetPoolNotFound otherwise. */
async function loadPool(
  ctx: Ctx,
  core: NetworkCore,
  id: string,
  rule = "get_subnetpool",
): Promise<SubnetPool> {
  const p = await getSubnetPool(core, id);
  if (!p || !poolVisible(p, callerOf(ctx))) throw notFound("subnetpool", id);
  enforceOn(ctx, rule, "get_subnetpool", targetOf(p), notFound("subnetpool", id));
  return p;
}

/** Check a pool's prefixes (one version) and prefix length bounds; throws 400. */
function checkBounds(prefixes: Cidr[], min: number, def: number, max: number): void {
  const version = prefixes[0]?.version ?? 4;
  if (!prefixes.length) throw invalidInput("A subnet pool needs at least one prefix");
  if (prefixes.some((c) => c.version !== version))
    throw invalidInput("Prefixes of a subnet pool must all be of one IP version");
  const width = bits(version);
  const illegal = (t: string, v: number, bt: string, bv: number) =>
    nerr(400, "IllegalSubnetPoolPrefixBounds", `Illegal prefix bounds: ${t}=${v}, ${bt}=${bv}.`);
  if (max > width) throw illegal("max_prefixlen", max, "ip_version_bits", width);
  if (min > max) throw illegal("min_prefixlen", min, "max_prefixlen", max);
  if (def < min) throw illegal("default_prefixlen", def, "min_prefixlen", min);
  if (def > max) throw illegal("default_prefixlen", def, "max_prefixlen", max);
}

/** 400 when another pool of the version already is the default. */
async function checkDefault(core: NetworkCore, version: 4 | 6, except?: string): Promise<void> {
  const other = await defaultPool(core, version);
  if (other && other.id !== except)
    throw invalidInput(
      "A default subnetpool for this IP family has already been set. Only one default may exist per IP family",
    );
}

async function createOne(c: NetworkCore, p: Parsed, project: string): Promise<SubnetPool> {
  const prefixes = val<string[]>(p, "prefixes").map(cidrOf);
  const version = prefixes[0]?.version ?? 4;
  const min = val<number | undefined>(p, "min_prefixlen") ?? (version === 4 ? 8 : 64);
  const max = val<number | undefined>(p, "max_prefixlen") ?? bits(version);
  const def = val<number | undefined>(p, "default_prefixlen") ?? min;
  checkBounds(prefixes, min, def, max);
  if (val(p, "is_default")) await checkDefault(c, version);
  const now = nowIso();
  const pool: SubnetPool = {
    id: c.newId(),
    project_id: project,
    name: val(p, "name"),
    description: val(p, "description"),
    ip_version: version,
    prefixes: collapse(prefixes),
    default_prefixlen: def,
    min_prefixlen: min,
    max_prefixlen: max,
    shared: val(p, "shared"),
    is_default: val(p, "is_default"),
    default_quota: val<number | null | undefined>(p, "default_quota") ?? null,
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  await insertSubnetPool(c, pool);
  return pool;
}

/** 409 unless every subnet of the pool lies in the remaining prefixes. */
async function checkPrefixesCover(core: NetworkCore, pool: SubnetPool, prefixes: Cidr[]): Promise<void> {
  for (const s of await subnetsOfPool(core, pool.id))
    if (!prefixes.some((p) => cidrWithin(cidrOf(s.cidr), p)))
      throw conflict(
        "IllegalSubnetPoolPrefixUpdate",
        `Illegal update to prefixes: subnet ${s.id} (${s.cidr}) uses a removed prefix.`,
      );
}

/** Routes of /v2.0/subnetpools. */
export function subnetPoolRoutes(core: NetworkCore): Route[] {
  const prefixBody = Type.Object({ prefixes: Type.Array(Type.String()) }, { additionalProperties: false });
  const changePrefixes = (action: "add_prefixes" | "remove_prefixes"): Route =>
    route({
      method: "PUT",
      path: `/v2.0/subnetpools/:subnetpool_id/${action}`,
      policy: null,
      auth: "required",
      body: prefixBody,
      handler: async (ctx) => {
        const pool = await loadPool(ctx, core, ctx.params.subnetpool_id, action);
        const given = listOf(cidr)(ctx.body.prefixes, "prefixes").map(cidrOf);
        if (given.some((g) => g.version !== pool.ip_version))
          throw invalidInput(`Prefixes must be IPv${pool.ip_version}`);
        const current = pool.prefixes.map(cidrOf);
        await core.transaction(async (c) => {
          await lockRow(c, "subnetpool", pool.id);
          let next: Cidr[];
          if (action === "add_prefixes") next = [...current, ...given];
          else {
            next = current.filter((p) => !given.some((g) => cidrsOverlap(g, p) && cidrWithin(p, g)));
            await checkPrefixesCover(c, pool, next);
          }
          pool.prefixes = collapse(next);
          await saveSubnetPool(c, pool);
        });
        return { prefixes: pool.prefixes };
      },
    });
  return [
    route({
      method: "GET",
      path: "/v2.0/subnetpools",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const pools = (await listSubnetPools(core, callerOf(ctx))).filter((p) =>
          ctx.allowed("get_subnetpool", targetOf(p)),
        );
        const tags = await tagsFor(
          core,
          "subnetpools",
          pools.map((p) => p.id),
        );
        return listResponse(
          ctx,
          LIST,
          pools.map((p) => view(p, tags.get(p.id) ?? [])),
        );
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/subnetpools",
      policy: null,
      auth: "required",
      body: resourceBody("subnetpool", "subnetpools"),
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const bulk = ctx.body && Object.hasOwn(ctx.body, "subnetpools");
        const items = bodyItems(ctx.body, "subnetpool", "subnetpools").map((item) =>
          parseCreate(item, ATTRS),
        );
        const created: SubnetPool[] = [];
        for (const p of items) {
          const project = projectOf(p, caller.projectId);
          enforceWrite(ctx, "create_subnetpool", policyAttrsOnCreate(p, ATTRS), {
            project_id: project,
            tenant_id: project,
            shared: val(p, "shared"),
          });
          created.push(await withQuota(core, project, "subnetpool", 1, (c) => createOne(c, p, project)));
        }
        const views = await Promise.all(created.map((p) => viewOf(core, p)));
        return reply(201, bulk ? { subnetpools: views } : { subnetpool: views[0] });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/subnetpools/:subnetpool_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => ({
        subnetpool: selectFields(
          await viewOf(core, await loadPool(ctx, core, ctx.params.subnetpool_id)),
          fieldsOf(ctx),
        ),
      }),
    }),
    route({
      method: "PUT",
      path: "/v2.0/subnetpools/:subnetpool_id",
      policy: null,
      auth: "required",
      body: resourceBody("subnetpool"),
      handler: async (ctx) => {
        const pool = await loadPool(ctx, core, ctx.params.subnetpool_id, "update_subnetpool");
        const p = parseUpdate(bodyItem(ctx.body, "subnetpool"), ATTRS);
        enforceWrite(ctx, "update_subnetpool", policyAttrsOnUpdate(p, ATTRS), targetOf(pool));
        await core.transaction(async (c) => {
          await lockRow(c, "subnetpool", pool.id);
          const prefixes = p.values.has("prefixes")
            ? val<string[]>(p, "prefixes").map(cidrOf)
            : pool.prefixes.map(cidrOf);
          const current = pool.prefixes.map(cidrOf);
          if (!current.every((old) => prefixes.some((n) => cidrWithin(old, n))))
            throw nerr(
              400,
              "IllegalSubnetPoolPrefixUpdate",
              "Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.",
            );
          if (prefixes.some((x) => x.version !== pool.ip_version))
            throw invalidInput(`Prefixes must be IPv${pool.ip_version}`);
          const next: SubnetPool = {
            ...pool,
            name: val<string | undefined>(p, "name") ?? pool.name,
            description: val<string | undefined>(p, "description") ?? pool.description,
            prefixes: collapse(prefixes),
            min_prefixlen: val<number | undefined>(p, "min_prefixlen") ?? pool.min_prefixlen,
            max_prefixlen: val<number | undefined>(p, "max_prefixlen") ?? pool.max_prefixlen,
            default_prefixlen: val<number | undefined>(p, "default_prefixlen") ?? pool.default_prefixlen,
            is_default: val<boolean | undefined>(p, "is_default") ?? pool.is_default,
            default_quota: p.values.has("default_quota")
              ? val<number | null>(p, "default_quota")
              : pool.default_quota,
          };
          checkBounds(prefixes, next.min_prefixlen, next.default_prefixlen, next.max_prefixlen);
          if (next.is_default && !pool.is_default) await checkDefault(c, pool.ip_version, pool.id);
          await saveSubnetPool(c, next);
        });
        return { subnetpool: await viewOf(core, (await getSubnetPool(core, pool.id)) as SubnetPool) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/subnetpools/:subnetpool_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const pool = await loadPool(ctx, core, ctx.params.subnetpool_id, "delete_subnetpool");
        await core.transaction(async (c) => {
          await lockRow(c, "subnetpool", pool.id);
          if ((await subnetsOfPool(c, pool.id)).length)
            throw conflict(
              "SubnetPoolInUse",
              `Unable to complete operation on subnet pool ${pool.id}. Subnet pool ${pool.id} cannot be deleted as it is still in use.`,
            );
          await deleteSubnetPoolRow(c, pool.id);
          await removeTags(c, "subnetpools", pool.id);
        });
        return noContent();
      },
    }),
    changePrefixes("add_prefixes"),
    changePrefixes("remove_prefixes"),
  ];
}
