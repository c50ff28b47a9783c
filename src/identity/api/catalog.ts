import { Type } from "@sinclair/typebox";
import { badRequest } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import {
  createEndpoint,
  createRegion,
  createService,
  deleteEndpoint,
  deleteRegion,
  deleteService,
  getEndpoint,
  getRegion,
  getService,
  listEndpoints,
  listRegions,
  listServices,
  updateEndpoint,
  updateRegion,
  updateService,
  type Endpoint,
  type Region,
  type Service,
} from "../store/catalog.js";
import { NStr, Name, OpenObject, Wrap, collectionLinks, extras, selfLink } from "./common.js";

const REGION_KNOWN = ["id", "description", "parent_region_id", "links"];
const SERVICE_KNOWN = ["id", "type", "enabled", "name", "description", "links"];
const ENDPOINT_KNOWN = ["id", "interface", "service_id", "url", "region_id", "region", "enabled", "links"];

const RegionBody = Wrap(
  "region",
  OpenObject({
    id: Type.Optional(Type.String({ maxLength: 255 })),
    description: Type.Optional(NStr()),
    parent_region_id: Type.Optional(NStr({ maxLength: 255 })),
  }),
);
const ServiceBody = (create: boolean) =>
  Wrap(
    "service",
    OpenObject({
      type: create
        ? Type.String({ minLength: 1, maxLength: 255 })
        : Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      name: Type.Optional(Name),
      enabled: Type.Optional(Type.Boolean()),
      description: Type.Optional(NStr()),
    }),
  );
// Keystone's url type: lenient, scheme followed by anything (rfc1738 section 2.1).
const Url = Type.String({ minLength: 0, maxLength: 225, pattern: "^[a-zA-Z0-9+.-]+:.+" });
const Interface = Type.Union([Type.Literal("public"), Type.Literal("internal"), Type.Literal("admin")]);
const EndpointCreate = Wrap(
  "endpoint",
  OpenObject({
    interface: Interface,
    service_id: Type.String(),
    url: Url,
    region_id: Type.Optional(NStr()),
    region: Type.Optional(NStr()),
    enabled: Type.Optional(Type.Boolean()),
  }),
);
const EndpointUpdate = Wrap(
  "endpoint",
  OpenObject({
    interface: Type.Optional(Interface),
    service_id: Type.Optional(Type.String()),
    url: Type.Optional(Url),
    region_id: Type.Optional(NStr()),
    region: Type.Optional(NStr()),
    enabled: Type.Optional(Type.Boolean()),
  }),
);

/** Keystone's JSON view of a region. */
export function renderRegion(ctx: RequestCtx<any, any, any>, r: Region): Record<string, unknown> {
  return {
    ...r.extra,
    id: r.id,
    description: r.description,
    parent_region_id: r.parent_region_id,
    links: selfLink(ctx, `regions/${r.id}`),
  };
}

/** Keystone's JSON view of a service (name defaults to "" as Keystone stores it). */
export function renderService(ctx: RequestCtx<any, any, any>, s: Service): Record<string, unknown> {
  return {
    ...s.extra,
    id: s.id,
    type: s.type,
    enabled: s.enabled,
    name: s.name ?? "",
    ...(s.description !== undefined && s.description !== null ? { description: s.description } : {}),
    links: selfLink(ctx, `services/${s.id}`),
  };
}

/** Keystone's JSON view of an endpoint: region_id and its legacy alias region. */
export function renderEndpoint(ctx: RequestCtx<any, any, any>, e: Endpoint): Record<string, unknown> {
  return {
    ...e.extra,
    id: e.id,
    interface: e.interface,
    service_id: e.service_id,
    url: e.url,
    region_id: e.region_id,
    region: e.region_id,
    enabled: e.enabled,
    links: selfLink(ctx, `endpoints/${e.id}`),
  };
}

const SUBSTITUTIONS = new Set(["tenant_id", "project_id", "user_id"]);

/** Keystone's check_endpoint_url: only whitelisted $(name)s substitutions are allowed. */
function checkEndpointUrl(url: string): void {
  const bad = () => badRequest(`Cannot create an endpoint with an invalid URL: ${url}.`);
  const s = url.replace(/\$\(/g, "%(");
  for (let i = s.indexOf("%"); i !== -1; i = s.indexOf("%", i + 1)) {
    if (s[i + 1] === "%") {
      i++;
      continue;
    }
    const m = /^%\(([^)]*)\)s/.exec(s.slice(i));
    if (!m || !SUBSTITUTIONS.has(m[1])) throw bad();
  }
}

function requireMatchingId(bodyId: unknown, urlId: string): void {
  if (bodyId !== undefined && bodyId !== null && bodyId !== urlId) throw badRequest("Cannot change ID");
}

/** Routes for /v3/regions, /v3/services and /v3/endpoints. */
export function catalogRoutes(svc: IdentityService): Route[] {
  const core = svc.core;

  /** Keystone's backward compatibility: an endpoint given `region` (not region_id) auto-creates that region. */
  const endpointRegion = async (b: {
    region_id?: string | null;
    region?: string | null;
  }): Promise<string | null | undefined> => {
    if ((b.region_id === undefined || b.region_id === null) && b.region !== undefined && b.region !== null) {
      if (!(await getRegion(core, b.region).catch(() => null))) await createRegion(core, { id: b.region });
      return b.region;
    }
    return b.region_id;
  };

  return [
    // Regions
    route({
      method: "GET",
      path: "/v3/regions",
      policy: "identity:list_regions",
      handler: async (ctx) => {
        const regions = await listRegions(core, { parent_region_id: ctx.query.parent_region_id });
        return { regions: regions.map((r) => renderRegion(ctx, r)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/regions",
      policy: "identity:create_region",
      body: RegionBody,
      handler: async (ctx) => {
        const b = ctx.body.region;
        const r = await createRegion(core, {
          id: b.id || undefined,
          description: b.description ?? "",
          parent_region_id: b.parent_region_id ?? null,
          extra: extras(b, REGION_KNOWN),
        });
        return reply(201, { region: renderRegion(ctx, r) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/regions/:region_id",
      policy: "identity:get_region",
      handler: async (ctx) => ({ region: renderRegion(ctx, await getRegion(core, ctx.params.region_id)) }),
    }),
    route({
      method: "PUT",
      path: "/v3/regions/:region_id",
      policy: "identity:create_region",
      body: RegionBody,
      handler: async (ctx) => {
        const b = ctx.body.region;
        if (b.id !== undefined && b.id !== ctx.params.region_id)
          throw badRequest(`Conflicting region IDs specified: "${ctx.params.region_id}" != "${b.id}"`);
        const r = await createRegion(core, {
          id: ctx.params.region_id,
          description: b.description ?? "",
          parent_region_id: b.parent_region_id ?? null,
          extra: extras(b, REGION_KNOWN),
        });
        return reply(201, { region: renderRegion(ctx, r) });
      },
    }),
    route({
      method: "PATCH",
      path: "/v3/regions/:region_id",
      policy: "identity:update_region",
      body: RegionBody,
      handler: async (ctx) => {
        const b = ctx.body.region;
        requireMatchingId(b.id, ctx.params.region_id);
        const r = await getRegion(core, ctx.params.region_id);
        const updated = await updateRegion(core, r, {
          description: b.description === null ? "" : b.description,
          parent_region_id: b.parent_region_id,
          extra: extras(b, REGION_KNOWN),
        });
        return { region: renderRegion(ctx, updated) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/regions/:region_id",
      policy: "identity:delete_region",
      handler: async (ctx) => {
        await deleteRegion(core, ctx.params.region_id);
        return noContent();
      },
    }),

    // Services
    route({
      method: "GET",
      path: "/v3/services",
      policy: "identity:list_services",
      handler: async (ctx) => {
        const services = await listServices(core, { type: ctx.query.type, name: ctx.query.name });
        return { services: services.map((s) => renderService(ctx, s)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/services",
      policy: "identity:create_service",
      body: ServiceBody(true),
      handler: async (ctx) => {
        const b = ctx.body.service;
        const s = await createService(core, {
          type: b.type as string,
          enabled: b.enabled ?? true,
          name: b.name ?? "",
          description: b.description ?? undefined,
          extra: extras(b, SERVICE_KNOWN),
        });
        return reply(201, { service: renderService(ctx, s) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/services/:service_id",
      policy: "identity:get_service",
      handler: async (ctx) => ({
        service: renderService(ctx, await getService(core, ctx.params.service_id)),
      }),
    }),
    route({
      method: "PATCH",
      path: "/v3/services/:service_id",
      policy: "identity:update_service",
      body: ServiceBody(false),
      handler: async (ctx) => {
        const b = ctx.body.service;
        requireMatchingId((b as Record<string, unknown>).id, ctx.params.service_id);
        const s = await getService(core, ctx.params.service_id);
        const updated = await updateService(core, s, {
          type: b.type,
          enabled: b.enabled,
          name: b.name,
          description: b.description ?? undefined,
          extra: extras(b, SERVICE_KNOWN),
        });
        return { service: renderService(ctx, updated) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/services/:service_id",
      policy: "identity:delete_service",
      handler: async (ctx) => {
        await getService(core, ctx.params.service_id);
        await deleteService(core, ctx.params.service_id);
        return noContent();
      },
    }),

    // Endpoints
    route({
      method: "GET",
      path: "/v3/endpoints",
      policy: "identity:list_endpoints",
      handler: async (ctx) => {
        const q = ctx.query;
        const eps = await listEndpoints(core, {
          interface: q.interface,
          service_id: q.service_id,
          region_id: q.region_id,
        });
        return { endpoints: eps.map((e) => renderEndpoint(ctx, e)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/endpoints",
      policy: "identity:create_endpoint",
      body: EndpointCreate,
      handler: async (ctx) => {
        const b = ctx.body.endpoint;
        checkEndpointUrl(b.url);
        const regionId = await endpointRegion(b);
        const e = await createEndpoint(core, {
          service_id: b.service_id,
          interface: b.interface,
          url: b.url,
          region_id: regionId ?? null,
          enabled: b.enabled ?? true,
          extra: extras(b, ENDPOINT_KNOWN),
        });
        return reply(201, { endpoint: renderEndpoint(ctx, e) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/endpoints/:endpoint_id",
      policy: "identity:get_endpoint",
      handler: async (ctx) => ({
        endpoint: renderEndpoint(ctx, await getEndpoint(core, ctx.params.endpoint_id)),
      }),
    }),
    route({
      method: "PATCH",
      path: "/v3/endpoints/:endpoint_id",
      policy: "identity:update_endpoint",
      body: EndpointUpdate,
      handler: async (ctx) => {
        const b = ctx.body.endpoint;
        requireMatchingId((b as Record<string, unknown>).id, ctx.params.endpoint_id);
        const ep = await getEndpoint(core, ctx.params.endpoint_id);
        if (b.url !== undefined) checkEndpointUrl(b.url);
        const regionId = await endpointRegion(b);
        const updated = await updateEndpoint(core, ep, {
          service_id: b.service_id,
          interface: b.interface,
          url: b.url,
          region_id: regionId,
          enabled: b.enabled,
          extra: extras(b, ENDPOINT_KNOWN),
        });
        return { endpoint: renderEndpoint(ctx, updated) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/endpoints/:endpoint_id",
      policy: "identity:delete_endpoint",
      handler: async (ctx) => {
        await getEndpoint(core, ctx.params.endpoint_id);
        await deleteEndpoint(core, ctx.params.endpoint_id);
        return noContent();
      },
    }),
  ];
}
