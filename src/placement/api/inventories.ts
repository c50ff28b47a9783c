import type { Route } from "../../shared/http/route.js";
import { noContent, reply } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { badRequest, notFound } from "../errors.js";
import {
  addInventory,
  capacityOf,
  deleteInventory,
  listInventories,
  replaceInventories,
  resolveClasses,
  updateInventory,
  type Inventory,
  type InventoryFields,
} from "../store/inventories.js";
import { MAX_INT } from "../store/sql.js";
import { cacheHeaders, jsonBody, latest, mount, proute, type Ctx } from "./common.js";
import { providerOr404 } from "./resource-providers.js";

const RC_PATTERN = "^[A-Z0-9_]+$";
const int = (min: number) => ({ type: "integer", minimum: min, maximum: MAX_INT });
const FIELDS = {
  total: int(1),
  reserved: int(0),
  min_unit: int(1),
  max_unit: int(1),
  step_size: int(1),
  allocation_ratio: { type: "number", maximum: 3.40282e38 },
};
/** One inventory with the provider generation (PUT .../inventories/{rc}). */
export const INVENTORY = {
  type: "object",
  properties: { resource_provider_generation: { type: "integer" }, ...FIELDS },
  required: ["total", "resource_provider_generation"],
  additionalProperties: false,
};
const POST_INVENTORY = {
  type: "object",
  properties: {
    resource_provider_generation: { type: "integer" },
    resource_class: { type: "string", pattern: RC_PATTERN },
    ...FIELDS,
  },
  required: ["total", "resource_class"],
  additionalProperties: false,
};
const RECORD = { type: "object", properties: FIELDS, required: ["total"], additionalProperties: false };
/** All inventories of a provider (PUT .../inventories, and per provider in the reshaper). */
export const INVENTORIES = {
  type: "object",
  properties: {
    resource_provider_generation: { type: "integer" },
    inventories: { type: "object", patternProperties: { [RC_PATTERN]: RECORD } },
  },
  required: ["resource_provider_generation", "inventories"],
  additionalProperties: false,
};

/** Defaults filled in, as Placement's INVENTORY_DEFAULTS. */
export function withDefaults(raw: Record<string, unknown>): InventoryFields {
  return {
    total: raw.total as number,
    reserved: (raw.reserved as number | undefined) ?? 0,
    min_unit: (raw.min_unit as number | undefined) ?? 1,
    max_unit: (raw.max_unit as number | undefined) ?? MAX_INT,
    step_size: (raw.step_size as number | undefined) ?? 1,
    allocation_ratio: (raw.allocation_ratio as number | undefined) ?? 1.0,
  };
}

/** Reserved must leave capacity: before 1.26 strictly below total, from 1.26 up to total. */
export function checkCapacity(
  ctx: Ctx,
  uuid: string,
  rc: string,
  inv: InventoryFields,
  prefix: string,
): void {
  const cap = capacityOf(inv);
  if (ctx.microversion.lt("1.26") ? cap <= 0 : cap < 0)
    throw badRequest(
      `${prefix}: Invalid inventory for '${rc}' on resource provider '${uuid}'. The reserved value is greater than ${ctx.microversion.lt("1.26") ? "or equal to " : ""}total.`,
    );
}

const view = (i: InventoryFields) => ({
  total: i.total,
  reserved: i.reserved,
  min_unit: i.min_unit,
  max_unit: i.max_unit,
  step_size: i.step_size,
  allocation_ratio: i.allocation_ratio,
});

function inventoriesView(list: Inventory[], generation: number) {
  return {
    resource_provider_generation: generation,
    inventories: Object.fromEntries(list.map((i) => [i.resource_class, view(i)])),
  };
}

/** /resource_providers/{uuid}/inventories[/{resource_class}]. */
export function inventoryRoutes(core: PlacementCore): Route[] {
  const BASE = "/resource_providers/:uuid/inventories";
  return [
    proute({
      method: "GET",
      path: BASE,
      policy: "placement:resource_providers:inventories:list",
      handler: async (ctx) => {
        const p = await providerOr404(core, ctx.params.uuid);
        const list = await listInventories(core, core.db, p.id);
        return reply(
          200,
          inventoriesView(list, p.generation),
          cacheHeaders(ctx, latest(list.map((i) => i.updated_at))),
        );
      },
    }),
    proute({
      method: "PUT",
      path: BASE,
      policy: "placement:resource_providers:inventories:update",
      handler: async (ctx) => {
        const uuid = ctx.params.uuid;
        await providerOr404(core, uuid);
        const body = jsonBody<{ resource_provider_generation: number; inventories: Record<string, any> }>(
          ctx,
          INVENTORIES,
        );
        const wanted = new Map<string, InventoryFields>();
        for (const [rc, raw] of Object.entries(body.inventories)) {
          const inv = withDefaults(raw);
          checkCapacity(ctx, uuid, rc, inv, `Unable to update inventory for resource provider ${uuid}`);
          wanted.set(rc, inv);
        }
        const ids = await resolveClasses(
          core,
          core.db,
          [...wanted.keys()],
          (m) => `Unknown resource class in inventory for resource provider ${uuid}: ${m}`,
        );
        const p = await core.tx((tx) =>
          replaceInventories(
            core,
            tx,
            uuid,
            body.resource_provider_generation,
            new Map([...wanted].map(([rc, inv]) => [ids.get(rc)!, inv])),
          ),
        );
        const list = await listInventories(core, core.db, p.id);
        return reply(
          200,
          inventoriesView(list, p.generation),
          cacheHeaders(ctx, latest(list.map((i) => i.updated_at))),
        );
      },
    }),
    proute({
      method: "POST",
      path: BASE,
      policy: "placement:resource_providers:inventories:create",
      handler: async (ctx) => {
        const uuid = ctx.params.uuid;
        await providerOr404(core, uuid);
        const body = jsonBody<Record<string, any>>(ctx, POST_INVENTORY);
        const rc = body.resource_class as string;
        const inv = withDefaults(body);
        const prefix = `Unable to create inventory for resource provider ${uuid}`;
        checkCapacity(ctx, uuid, rc, inv, prefix);
        const ids = await resolveClasses(core, core.db, [rc], (m) => `${prefix}: ${m}`);
        const p = await addInventory(
          core,
          uuid,
          body.resource_provider_generation ?? null,
          ids.get(rc)!,
          inv,
        );
        return reply(
          201,
          { ...view(inv), resource_provider_generation: p.generation },
          {
            location: `${ctx.origin}${mount(ctx)}/resource_providers/${uuid}/inventories/${rc}`,
            ...cacheHeaders(ctx),
          },
        );
      },
    }),
    proute({
      method: "DELETE",
      path: BASE,
      policy: "placement:resource_providers:inventories:delete",
      min: "1.5",
      outside: 405,
      handler: async (ctx) => {
        await providerOr404(core, ctx.params.uuid);
        await core.tx((tx) => replaceInventories(core, tx, ctx.params.uuid, null, new Map()));
        return noContent();
      },
    }),
    proute({
      method: "GET",
      path: `${BASE}/:resource_class`,
      policy: "placement:resource_providers:inventories:show",
      handler: async (ctx) => {
        const { uuid, resource_class: rc } = ctx.params;
        const p = await providerOr404(core, uuid);
        const inv = (await listInventories(core, core.db, p.id)).find((i) => i.resource_class === rc);
        if (!inv) throw notFound(`No inventory of class ${rc} for ${uuid}`);
        return reply(
          200,
          { ...view(inv), resource_provider_generation: p.generation },
          cacheHeaders(ctx, inv.updated_at),
        );
      },
    }),
    proute({
      method: "PUT",
      path: `${BASE}/:resource_class`,
      policy: "placement:resource_providers:inventories:update",
      handler: async (ctx) => {
        const { uuid, resource_class: rc } = ctx.params;
        await providerOr404(core, uuid);
        const body = jsonBody<Record<string, any>>(ctx, INVENTORY);
        const inv = withDefaults(body);
        const prefix = `Unable to update inventory for resource provider ${uuid}`;
        checkCapacity(ctx, uuid, rc, inv, prefix);
        const rcId = await core.resourceClasses.id(core.db, rc);
        if (rcId === undefined)
          throw badRequest(
            `No inventory record with resource class for resource provider ${uuid}: No inventory of class ${rc} found.`,
          );
        const p = await updateInventory(core, uuid, body.resource_provider_generation, rcId, rc, inv);
        return reply(200, { ...view(inv), resource_provider_generation: p.generation }, cacheHeaders(ctx));
      },
    }),
    proute({
      method: "DELETE",
      path: `${BASE}/:resource_class`,
      policy: "placement:resource_providers:inventories:delete",
      handler: async (ctx) => {
        const { uuid, resource_class: rc } = ctx.params;
        await providerOr404(core, uuid);
        const rcId = await core.resourceClasses.id(core.db, rc);
        if (rcId === undefined)
          throw notFound(`No inventory of class ${rc} found for delete: No such resource class ${rc}.`);
        await deleteInventory(core, uuid, rcId, rc);
        return noContent();
      },
    }),
  ];
}
