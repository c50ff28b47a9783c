// GET /v3/{project}/volumes/summary (3.12): how many volumes and GiB the project has; from 3.36 every metadata
// key with the values its volumes hold.
import { route, type Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { parseMap } from "../store/rows.js";
import { listVolumes } from "../store/volumes.js";
import { needs } from "./attachments.js";
import { allTenants, callerOf, ownerOf, ownTarget, type Ctx } from "./common.js";

async function summary(core: VolumeCore, ctx: Ctx) {
  needs(ctx, "3.12");
  const rows = await listVolumes(core, allTenants(ctx, callerOf(ctx)) ? null : ownerOf(ctx));
  const body: Record<string, unknown> = {
    total_size: rows.reduce((n, v) => n + v.size, 0),
    total_count: rows.length,
  };
  if (ctx.microversion.gte("3.36")) {
    const meta = new Map<string, Set<string>>();
    for (const v of rows)
      for (const [k, x] of parseMap(v.metadata)) meta.set(k, (meta.get(k) ?? new Set()).add(x));
    body.metadata = Object.fromEntries([...meta].map(([k, xs]) => [k, [...xs].sort()]));
  }
  return { "volume-summary": body };
}

/** The volume summary route. */
export function summaryRoutes(core: VolumeCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v3/:project_id/volumes/summary",
      policy: "volume:get_all",
      target: ownTarget,
      handler: (ctx) => summary(core, ctx),
    }),
  ];
}
