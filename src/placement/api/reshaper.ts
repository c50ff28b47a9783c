import type { Route } from "../../shared/http/route.js";
import { noContent } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { CODES, GenerationConflict, badRequest, concurrentUpdate } from "../errors.js";
import { writeAllocations } from "../store/allocations.js";
import {
  listInventories,
  replaceInventories,
  resolveClasses,
  type InventoryFields,
} from "../store/inventories.js";
import { getProvider } from "../store/providers.js";
import { manySchema, toWrites } from "./allocations.js";
import { jsonBody, proute } from "./common.js";
import { INVENTORIES, withDefaults } from "./inventories.js";

/** POST /reshaper (1.30+): move inventory and the allocations against it between providers, atomically. */
export function reshaperRoutes(core: PlacementCore): Route[] {
  return [
    proute({
      method: "POST",
      path: "/reshaper",
      policy: "placement:reshaper:reshape",
      min: "1.30",
      handler: async (ctx) => {
        const schema = {
          type: "object",
          properties: {
            inventories: {
              type: "object",
              minProperties: 1,
              patternProperties: { "^[0-9a-fA-F-]{36}$": INVENTORIES },
              additionalProperties: false,
            },
            allocations: manySchema(ctx.microversion, 0),
          },
          required: ["inventories", "allocations"],
          additionalProperties: false,
        };
        const body = jsonBody<{
          inventories: Record<
            string,
            { resource_provider_generation: number; inventories: Record<string, any> }
          >;
          allocations: Record<string, any>;
        }>(ctx, schema);
        const plan: Array<{ uuid: string; generation: number; inventories: Map<number, InventoryFields> }> =
          [];
        for (const [uuid, data] of Object.entries(body.inventories)) {
          const p = await getProvider(core.db, uuid);
          if (!p)
            throw badRequest(
              `Resource provider ${uuid} in inventories not found: No resource provider with uuid ${uuid} found`,
              CODES.RESOURCE_PROVIDER_NOT_FOUND,
            );
          if (p.generation !== data.resource_provider_generation)
            throw concurrentUpdate(
              `resource provider generation conflict for provider ${uuid}: actual: ${p.generation}, given: ${data.resource_provider_generation}`,
            );
          const ids = await resolveClasses(
            core,
            core.db,
            Object.keys(data.inventories),
            (m) => `malformed reshaper data: ${m}`,
          );
          plan.push({
            uuid,
            generation: data.resource_provider_generation,
            inventories: new Map(
              Object.entries(data.inventories).map(([rc, raw]) => [ids.get(rc)!, withDefaults(raw)]),
            ),
          });
        }
        const writes = toWrites(core, ctx, body.allocations);
        try {
          await core.tx(async (tx) => {
            // Interim inventories: what exists plus what is new, so that allocations can move in either direction.
            for (const step of plan) {
              const p = (await getProvider(tx, step.uuid))!;
              const interim = new Map<number, InventoryFields>();
              for (const i of await listInventories(core, tx, p.id)) interim.set(i.rc_id, i);
              for (const [rc, inv] of step.inventories) interim.set(rc, inv);
              if (step.inventories.size)
                await replaceInventories(core, tx, step.uuid, step.generation, interim);
            }
            await writeAllocations(core, writes, "post", tx);
            for (const step of plan) await replaceInventories(core, tx, step.uuid, null, step.inventories);
          });
        } catch (e) {
          if (e instanceof GenerationConflict) throw concurrentUpdate(`update conflict: ${e.message}`);
          throw e;
        }
        return noContent();
      },
    }),
  ];
}
