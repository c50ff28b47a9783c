// Volume transfers: /os-volume-transfer (every microversion) and /volume-transfers (3.55+, with no_snapshots):
// create (the auth key is answered once), list, detail, show, delete, and accept from another project.
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { badRequest, invalidInput, volumeNotFound } from "../errors.js";
import { getTransfer, listTransfers, type TransferRow } from "../transfers/store.js";
import { acceptTransfer, cancelTransfer, createTransfer, transferNotFound } from "../transfers/ops.js";
import { visibleVolume } from "../store/volumes.js";
import { needs } from "./attachments.js";
import {
  allTenants,
  boolOf,
  callerOf,
  field,
  isoTime,
  links,
  nextLinks,
  optString,
  ownerOf,
  ownTarget,
  page,
  wrapped,
  type Ctx,
} from "./common.js";

const OLD = "os-volume-transfer";
const NEW = "volume-transfers";

/** A transfer's summary (list, accept). */
const summary = (ctx: Ctx, coll: string, t: TransferRow) => ({
  id: t.id,
  name: t.name,
  volume_id: t.volume_id,
  links: links(ctx, t.source_project_id, coll, t.id),
});

/** A transfer's detail (show, detail list, create), with the fields of later microversions. */
function detail(ctx: Ctx, coll: string, t: TransferRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: t.id,
    created_at: isoTime(t.created_at),
    name: t.name,
    volume_id: t.volume_id,
    links: links(ctx, t.source_project_id, coll, t.id),
  };
  if (ctx.microversion.gte("3.55")) out.no_snapshots = Boolean(t.no_snapshots);
  if (ctx.microversion.gte("3.57")) {
    out.destination_project_id = null;
    out.source_project_id = t.source_project_id;
    out.accepted = false;
  }
  return out;
}

/** The transfer of the URL if the caller's project gave it (or the caller reads every project), else 404. */
async function transferOf(core: VolumeCore, ctx: Ctx): Promise<TransferRow> {
  const id = ctx.params.transfer_id;
  const t = await getTransfer(core, id);
  const caller = callerOf(ctx);
  if (!t || !(caller.readsAll || t.source_project_id === caller.projectId)) throw transferNotFound(id);
  return t;
}

async function listBody(core: VolumeCore, ctx: Ctx, coll: string, full: boolean) {
  const caller = callerOf(ctx);
  for (const k of Object.keys(ctx.query))
    if (!["all_tenants", "limit", "marker", "name", "volume_id"].includes(k))
      throw invalidInput(`Invalid filter keys: ${k}`);
  let rows = await listTransfers(core, allTenants(ctx, caller) ? null : ownerOf(ctx));
  if (ctx.query.name !== undefined) rows = rows.filter((t) => t.name === ctx.query.name);
  if (ctx.query.volume_id !== undefined) rows = rows.filter((t) => t.volume_id === ctx.query.volume_id);
  const p = page(ctx, rows);
  const body: Record<string, unknown> = {
    transfers: p.rows.map((t) => (full ? detail(ctx, coll, t) : summary(ctx, coll, t))),
  };
  if (p.more && p.rows.length > 0)
    body.transfers_links = nextLinks(ctx, p.rows[p.rows.length - 1].id, p.limit);
  return body;
}

/** The six routes of one collection (`minimum`: the microversion it starts at). */
function collection(core: VolumeCore, coll: string, minimum: string): Route[] {
  const base = `/v3/:project_id/${coll}`;
  const one = `${base}/:transfer_id`;
  const gate = (ctx: Ctx) => needs(ctx, minimum);
  const target = async (ctx: Ctx) => {
    gate(ctx);
    const t = await transferOf(core, ctx);
    return { project_id: t.source_project_id };
  };
  return [
    route({
      method: "POST",
      path: base,
      policy: "volume:create_transfer",
      target: ownTarget,
      handler: async (ctx) => {
        gate(ctx);
        const b = wrapped(ctx, "transfer");
        const volumeId = optString(b, "volume_id", 36);
        if (!volumeId) throw badRequest("Must specify 'volume_id'");
        const name = optString(b, "name") ?? null;
        const ns = field(b, "no_snapshots");
        if (ns !== undefined && coll === OLD) throw badRequest("Additional properties are not allowed.");
        const noSnapshots = ns === undefined || ns === null ? false : boolOf("no_snapshots", ns);
        const v = await visibleVolume(core, callerOf(ctx), volumeId);
        if (!v) throw volumeNotFound(volumeId);
        ctx.authorize("volume:create_transfer", { project_id: v.project_id, user_id: v.user_id });
        const { row, authKey } = await createTransfer(core, v, name, noSnapshots);
        return reply(202, { transfer: { ...detail(ctx, coll, row), auth_key: authKey } });
      },
    }),
    route({
      method: "GET",
      path: base,
      policy: "volume:get_all_transfers",
      target: ownTarget,
      handler: (ctx) => {
        gate(ctx);
        return listBody(core, ctx, coll, false);
      },
    }),
    route({
      method: "GET",
      path: `${base}/detail`,
      policy: "volume:get_all_transfers",
      target: ownTarget,
      handler: (ctx) => {
        gate(ctx);
        return listBody(core, ctx, coll, true);
      },
    }),
    route({
      method: "GET",
      path: one,
      policy: "volume:get_transfer",
      target,
      handler: async (ctx) => ({ transfer: detail(ctx, coll, await transferOf(core, ctx)) }),
    }),
    route({
      method: "DELETE",
      path: one,
      policy: "volume:delete_transfer",
      target,
      handler: async (ctx) => {
        await cancelTransfer(core, await transferOf(core, ctx));
        return reply(202, undefined);
      },
    }),
    route({
      method: "POST",
      path: `${one}/accept`,
      policy: "volume:accept_transfer",
      // Any project's member that knows the id and the key: the target is the caller's own project.
      target: ownTarget,
      handler: async (ctx) => {
        gate(ctx);
        const b = wrapped(ctx, "accept");
        const key = optString(b, "auth_key", 255);
        if (!key) throw badRequest("Missing required element 'auth_key' in request body.");
        const t = await acceptTransfer(
          core,
          ctx.params.transfer_id,
          key,
          ownerOf(ctx),
          ctx.auth?.userId ?? "",
        );
        return reply(202, { transfer: summary(ctx, coll, t) });
      },
    }),
  ];
}

/** Routes of both transfer collections. */
export function transferRoutes(core: VolumeCore): Route[] {
  return [...collection(core, OLD, "3.0"), ...collection(core, NEW, "3.55")];
}
