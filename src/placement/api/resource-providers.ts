import type { Route } from "../../shared/http/route.js";
import { reply, noContent } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { badRequest, notFound } from "../errors.js";
import {
  createProvider,
  deleteProvider,
  getProvider,
  listProviders,
  updateProvider,
  type Provider,
  type ProviderFilters,
} from "../store/providers.js";
import {
  allowOnly,
  cacheHeaders,
  isUuidLike,
  jsonBody,
  latest,
  mount,
  normalizeUuid,
  parseMemberOf,
  parseResources,
  parseTraits,
  proute,
  queryOf,
  type Ctx,
} from "./common.js";

const uuidOrNull = { anyOf: [{ type: "string", format: "uuid" }, { type: "null" }] };
const CREATE = {
  type: "object",
  properties: { name: { type: "string", maxLength: 200 }, uuid: { type: "string", format: "uuid" } },
  required: ["name"],
  additionalProperties: false,
};
const CREATE_1_14 = { ...CREATE, properties: { ...CREATE.properties, parent_provider_uuid: uuidOrNull } };
const UPDATE = {
  type: "object",
  properties: { name: { type: "string", maxLength: 200 } },
  required: ["name"],
  additionalProperties: false,
};
const UPDATE_1_14 = { ...UPDATE, properties: { ...UPDATE.properties, parent_provider_uuid: uuidOrNull } };

/** A provider's representation at the request's microversion. */
export function providerView(ctx: Ctx, p: Provider): Record<string, unknown> {
  const self = `${mount(ctx)}/resource_providers/${p.uuid}`;
  const rels = ["inventories", "usages"];
  if (ctx.microversion.gte("1.1")) rels.push("aggregates");
  if (ctx.microversion.gte("1.6")) rels.push("traits");
  if (ctx.microversion.gte("1.11")) rels.push("allocations");
  const out: Record<string, unknown> = {
    uuid: p.uuid,
    name: p.name,
    generation: p.generation,
    links: [{ rel: "self", href: self }, ...rels.map((rel) => ({ rel, href: `${self}/${rel}` }))],
  };
  if (ctx.microversion.gte("1.14")) {
    out.parent_provider_uuid = p.parent_provider_uuid;
    out.root_provider_uuid = p.root_provider_uuid;
  }
  return out;
}

/** The provider named in the path, or 404. */
export async function providerOr404(core: PlacementCore, uuid: string): Promise<Provider> {
  const p = await getProvider(core.db, uuid);
  if (!p) throw notFound(`No resource provider with uuid ${uuid} found`);
  return p;
}

/** Resolve trait names to ids for a filter; 400 naming unknown traits. */
export async function traitIds(core: PlacementCore, names: string[], message: (m: string) => string) {
  const { ids, missing } = await core.traits.ids(core.db, names);
  if (missing.length) throw badRequest(message(`No such trait(s): ${missing.join(", ")}.`));
  return ids;
}

/** /resource_providers and /resource_providers/{uuid}. */
export function providerRoutes(core: PlacementCore): Route[] {
  return [
    proute({
      method: "GET",
      path: "/resource_providers",
      policy: "placement:resource_providers:list",
      handler: async (ctx) => {
        const v = ctx.microversion;
        const q = queryOf(ctx);
        const allowed = new Set(["name", "uuid"]);
        if (v.gte("1.3")) allowed.add("member_of");
        if (v.gte("1.4")) allowed.add("resources");
        if (v.gte("1.14")) allowed.add("in_tree");
        if (v.gte("1.18")) allowed.add("required");
        allowOnly(q, (k) => allowed.has(k));
        const f: ProviderFilters = {};
        const one = (k: string) => q.get(k) ?? undefined;
        if (q.has("name")) f.name = one("name");
        if (q.has("uuid")) {
          const u = one("uuid")!;
          if (!isUuidLike(u)) throw badRequest(`Invalid query string parameters: '${u}' is not a 'uuid'`);
          f.uuid = u;
        }
        if (q.has("in_tree")) {
          const u = one("in_tree")!;
          if (!isUuidLike(u)) throw badRequest(`Invalid query string parameters: '${u}' is not a 'uuid'`);
          const tree = await getProvider(core.db, u);
          f.inTreeRoot = tree ? tree.root_id : null;
        }
        if (q.has("member_of")) {
          const m = parseMemberOf(ctx, q.getAll("member_of"));
          f.memberOf = m.required;
          f.forbiddenAggs = m.forbidden;
        }
        if (q.has("required")) {
          const t = parseTraits(ctx, q.getAll("required"));
          const names = [...new Set([...t.required.flat(), ...t.forbidden])];
          const ids = await traitIds(core, names, (m) => `Invalid trait(s) in "required" parameter: ${m}`);
          f.requiredTraits = t.required.map((any) => any.map((n) => ids.get(n)!));
          f.forbiddenTraits = t.forbidden.map((n) => ids.get(n)!);
        }
        if (q.has("resources")) {
          const res = parseResources(one("resources")!);
          const { ids, missing } = await core.resourceClasses.ids(core.db, res.keys());
          if (missing.length)
            throw badRequest(
              `Invalid resource class in resources parameter: No such resource class ${missing[0]}.`,
            );
          f.resources = new Map([...res].map(([rc, n]) => [ids.get(rc)!, n]));
        }
        const list = await listProviders(core.db, f);
        return reply(
          200,
          { resource_providers: list.map((p) => providerView(ctx, p)) },
          cacheHeaders(ctx, latest(list.map((p) => p.updated_at))),
        );
      },
    }),
    proute({
      method: "POST",
      path: "/resource_providers",
      policy: "placement:resource_providers:create",
      handler: async (ctx) => {
        const v = ctx.microversion;
        const body = jsonBody<{ name: string; uuid?: string; parent_provider_uuid?: string | null }>(
          ctx,
          v.gte("1.14") ? CREATE_1_14 : CREATE,
        );
        const uuid = body.uuid ? normalizeUuid(body.uuid) : core.newUuid();
        const parent = body.parent_provider_uuid ? normalizeUuid(body.parent_provider_uuid) : null;
        const p = await createProvider(core, { uuid, name: body.name, parentUuid: parent });
        const location = `${ctx.origin}${mount(ctx)}/resource_providers/${p.uuid}`;
        if (v.lt("1.20")) return reply(201, undefined, { location });
        return reply(200, providerView(ctx, p), { location, ...cacheHeaders(ctx, p.updated_at) });
      },
    }),
    proute({
      method: "GET",
      path: "/resource_providers/:uuid",
      policy: "placement:resource_providers:show",
      handler: async (ctx) => {
        const p = await providerOr404(core, ctx.params.uuid);
        return reply(200, providerView(ctx, p), cacheHeaders(ctx, p.updated_at));
      },
    }),
    proute({
      method: "PUT",
      path: "/resource_providers/:uuid",
      policy: "placement:resource_providers:update",
      handler: async (ctx) => {
        const v = ctx.microversion;
        await providerOr404(core, ctx.params.uuid);
        const body = jsonBody<{ name: string; parent_provider_uuid?: string | null }>(
          ctx,
          v.gte("1.14") ? UPDATE_1_14 : UPDATE,
        );
        const parent =
          body.parent_provider_uuid === undefined
            ? undefined
            : body.parent_provider_uuid === null
              ? null
              : normalizeUuid(body.parent_provider_uuid);
        const p = await updateProvider(
          core,
          ctx.params.uuid,
          { name: body.name, ...(parent !== undefined ? { parentUuid: parent } : {}) },
          v.gte("1.37"),
        );
        return reply(200, providerView(ctx, p), cacheHeaders(ctx, p.updated_at));
      },
    }),
    proute({
      method: "DELETE",
      path: "/resource_providers/:uuid",
      policy: "placement:resource_providers:delete",
      handler: async (ctx) => {
        if (!(await deleteProvider(core, ctx.params.uuid)))
          throw notFound(`No resource provider with uuid ${ctx.params.uuid} found for delete`);
        return noContent();
      },
    }),
  ];
}
