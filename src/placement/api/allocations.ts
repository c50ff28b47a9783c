import type { Route } from "../../shared/http/route.js";
import { noContent, reply } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { badRequest, notFound } from "../errors.js";
import {
  allocationsOfConsumer,
  allocationsOfProvider,
  deleteAllocations,
  writeAllocations,
  type ConsumerWrite,
  type WriteKind,
} from "../store/allocations.js";
import { cacheHeaders, isUuidLike, jsonBody, latest, normalizeUuid, proute, type Ctx } from "./common.js";
import { providerOr404 } from "./resource-providers.js";

const RC = "^[A-Z0-9_]+$";
const UUID = "^[0-9a-fA-F-]{36}$";
const RESOURCES = {
  type: "object",
  minProperties: 1,
  patternProperties: { [RC]: { type: "integer", minimum: 1 } },
  additionalProperties: false,
};
const ID = { type: "string", minLength: 1, maxLength: 255 };

/** Before 1.12: a list of {resource_provider: {uuid}, resources}. */
const LIST_ALLOCATIONS = {
  type: "array",
  minItems: 1,
  items: {
    type: "object",
    properties: {
      resource_provider: {
        type: "object",
        properties: { uuid: { type: "string", format: "uuid" } },
        required: ["uuid"],
        additionalProperties: false,
      },
      resources: RESOURCES,
    },
    required: ["resource_provider", "resources"],
    additionalProperties: false,
  },
};
const PUT_1_0 = {
  type: "object",
  properties: { allocations: LIST_ALLOCATIONS },
  required: ["allocations"],
  additionalProperties: false,
};
const PUT_1_8 = {
  type: "object",
  properties: { allocations: LIST_ALLOCATIONS, project_id: ID, user_id: ID },
  required: ["allocations", "project_id", "user_id"],
  additionalProperties: false,
};

/** From 1.12: {rp_uuid: {resources, generation?}}; empty allowed where `minProps` is 0. */
function dictAllocations(minProps: number) {
  return {
    type: "object",
    minProperties: minProps,
    patternProperties: {
      [UUID]: {
        type: "object",
        properties: { generation: { type: "integer" }, resources: RESOURCES },
        required: ["resources"],
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  };
}
const MAPPINGS = {
  type: "object",
  minProperties: 1,
  patternProperties: {
    "^[a-zA-Z0-9_-]{1,64}$": { type: "array", minItems: 1, items: { type: "string", format: "uuid" } },
  },
};
const CONSUMER_TYPE = { type: "string", pattern: RC, minLength: 1, maxLength: 255 };

/** The body of one consumer's allocations at a microversion (PUT body, or one value of a POST body). */
export function consumerSchema(v: Ctx["microversion"], post: boolean): object {
  const props: Record<string, unknown> = {
    allocations: dictAllocations(post || v.gte("1.28") ? 0 : 1),
    project_id: ID,
    user_id: ID,
  };
  const required = ["allocations", "project_id", "user_id"];
  if (v.gte("1.28")) {
    props.consumer_generation = { type: ["integer", "null"] };
    required.push("consumer_generation");
  }
  if (v.gte("1.34")) props.mappings = MAPPINGS;
  if (v.gte("1.38")) {
    props.consumer_type = CONSUMER_TYPE;
    required.push("consumer_type");
  }
  return { type: "object", properties: props, required, additionalProperties: false };
}

/** POST /allocations and the reshaper's allocations: {consumer_uuid: consumer body}. */
export function manySchema(v: Ctx["microversion"], minProps: number): object {
  return {
    type: "object",
    minProperties: minProps,
    additionalProperties: false,
    patternProperties: { [UUID]: consumerSchema(v, true) },
  };
}

/** Turn validated consumer bodies into writes. */
export function toWrites(core: PlacementCore, ctx: Ctx, data: Record<string, any>): ConsumerWrite[] {
  const v = ctx.microversion;
  return Object.entries(data).map(([consumer, body]) => ({
    consumer: normalizeUuid(consumer),
    projectId: body.project_id,
    userId: body.user_id,
    ...(v.gte("1.38") ? { consumerType: body.consumer_type } : {}),
    ...(v.gte("1.28") ? { generation: body.consumer_generation } : {}),
    allocations: new Map(
      Object.entries(body.allocations as Record<string, { resources: Record<string, number> }>).map(
        ([rp, a]) => [normalizeUuid(rp), new Map(Object.entries(a.resources))],
      ),
    ),
  }));
}

/** GET/PUT/DELETE /allocations/{consumer}, POST /allocations (1.13+), GET /resource_providers/{uuid}/allocations. */
export function allocationRoutes(core: PlacementCore): Route[] {
  const write = async (writes: ConsumerWrite[], kind: WriteKind) => {
    await writeAllocations(core, writes, kind);
    return noContent();
  };
  return [
    proute({
      method: "GET",
      path: "/allocations/:consumer_uuid",
      policy: "placement:allocations:list",
      handler: async (ctx) => {
        const v = ctx.microversion;
        const { consumer, allocations } = await allocationsOfConsumer(core, ctx.params.consumer_uuid);
        const byRp: Record<string, { generation: number; resources: Record<string, number> }> = {};
        for (const a of allocations) {
          const e = (byRp[a.provider_uuid] ??= { generation: a.provider_generation, resources: {} });
          e.resources[a.resource_class] = a.used;
        }
        const out: Record<string, unknown> = { allocations: byRp };
        if (consumer && allocations.length && v.gte("1.12")) {
          out.project_id = consumer.project_id;
          out.user_id = consumer.user_id;
          if (v.gte("1.28")) out.consumer_generation = consumer.generation;
          if (v.gte("1.38")) out.consumer_type = consumer.consumer_type ?? "unknown";
        }
        return reply(200, out, cacheHeaders(ctx, latest(allocations.map((a) => a.updated_at))));
      },
    }),
    proute({
      method: "PUT",
      path: "/allocations/:consumer_uuid",
      policy: "placement:allocations:update",
      handler: async (ctx) => {
        const v = ctx.microversion;
        const raw = ctx.params.consumer_uuid;
        if (!isUuidLike(raw)) throw badRequest(`Malformed consumer_uuid: ${raw}`);
        const consumer = normalizeUuid(raw);
        if (v.lt("1.12")) {
          const body = jsonBody<{
            allocations: Array<{ resource_provider: { uuid: string }; resources: Record<string, number> }>;
            project_id?: string;
            user_id?: string;
          }>(ctx, v.gte("1.8") ? PUT_1_8 : PUT_1_0);
          const allocations = new Map<string, Map<string, number>>();
          for (const a of body.allocations)
            allocations.set(normalizeUuid(a.resource_provider.uuid), new Map(Object.entries(a.resources)));
          return write(
            [
              {
                consumer,
                projectId: body.project_id ?? core.incompleteConsumerProject,
                userId: body.user_id ?? core.incompleteConsumerUser,
                allocations,
              },
            ],
            "put",
          );
        }
        const body = jsonBody<Record<string, any>>(ctx, consumerSchema(v, false));
        return write(toWrites(core, ctx, { [consumer]: body }), "put");
      },
    }),
    proute({
      method: "DELETE",
      path: "/allocations/:consumer_uuid",
      policy: "placement:allocations:delete",
      handler: async (ctx) => {
        const consumer = ctx.params.consumer_uuid;
        if (!(await deleteAllocations(core, isUuidLike(consumer) ? normalizeUuid(consumer) : consumer)))
          throw notFound(`No allocations for consumer '${consumer}'`);
        return noContent();
      },
    }),
    proute({
      method: "POST",
      path: "/allocations",
      policy: "placement:allocations:manage",
      min: "1.13",
      handler: async (ctx) => {
        const body = jsonBody<Record<string, any>>(ctx, manySchema(ctx.microversion, 1));
        return write(toWrites(core, ctx, body), "post");
      },
    }),
    proute({
      method: "GET",
      path: "/resource_providers/:uuid/allocations",
      policy: "placement:resource_providers:allocations:list",
      handler: async (ctx) => {
        const p = await providerOr404(core, ctx.params.uuid);
        const rows = await allocationsOfProvider(core, p.id);
        const withGen = ctx.microversion.gte("1.28");
        const byConsumer: Record<string, Record<string, unknown>> = {};
        for (const r of rows) {
          const e = (byConsumer[r.consumer_uuid] ??= { resources: {} as Record<string, number> });
          (e.resources as Record<string, number>)[r.resource_class] = r.used;
          if (withGen) e.consumer_generation = r.consumer_generation;
        }
        return reply(
          200,
          { allocations: byConsumer, resource_provider_generation: p.generation },
          cacheHeaders(ctx, latest(rows.map((r) => r.updated_at))),
        );
      },
    }),
  ];
}
