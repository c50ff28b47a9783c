// /v3/{project}/attachments (3.27+; complete 3.44): what compute calls to attach a volume, as Nova does with
// Cinder's new attach flow: create (reserve), update with the host's connector (export, connection_info),
// complete (in-use) and delete (detach, unexport).
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import { complete, connect, remove, reserve } from "../attach.js";
import type { VolumeCore } from "../core.js";
import { attachmentNotFound, badRequest, invalidInput, notFound } from "../errors.js";
import { getAttachment, listAttachments } from "../store/attachments.js";
import type { AttachmentRow } from "../store/rows.js";
import { visibleVolume } from "../store/volumes.js";
import {
  allTenants,
  callerOf,
  field,
  nextLinks,
  optString,
  ownerOf,
  listRoutes,
  ownTarget,
  page,
  sortRows,
  sortSpec,
  wrapped,
  type Ctx,
} from "./common.js";
import { attachmentSummary, attachmentView } from "./views.js";

const A = "/v3/:project_id/attachments";
const ONE = `${A}/:attachment_id`;

/** 404 below the microversion a route needs (Cinder's versioned routes). */
export function needs(ctx: Ctx, v: string): void {
  if (ctx.microversion.lt(v)) throw notFound("The resource could not be found.");
}

async function attachmentOf(core: VolumeCore, ctx: Ctx): Promise<AttachmentRow> {
  const a = await getAttachment(core, ctx.params.attachment_id);
  const caller = callerOf(ctx);
  if (!a || !(caller.readsAll || a.project_id === caller.projectId))
    throw attachmentNotFound(ctx.params.attachment_id);
  return a;
}

const target =
  (core: VolumeCore, v = "3.27") =>
  async (ctx: Ctx): Promise<Target> => {
    needs(ctx, v);
    return { project_id: (await attachmentOf(core, ctx)).project_id };
  };

/** A connector object (bounded) or 400. */
export function connectorOf(v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidInput("connector must be a dictionary.");
  if (JSON.stringify(v).length > 16384) throw invalidInput("connector is too large.");
  return v as Record<string, unknown>;
}

async function list(core: VolumeCore, ctx: Ctx, detail: boolean) {
  needs(ctx, "3.27");
  const caller = callerOf(ctx);
  let rows = await listAttachments(core, allTenants(ctx, caller) ? null : ownerOf(ctx));
  const q = ctx.query;
  if (q.volume_id !== undefined) rows = rows.filter((a) => a.volume_id === q.volume_id);
  if (q.instance_id !== undefined) rows = rows.filter((a) => a.instance_uuid === q.instance_id);
  if (q.status !== undefined) rows = rows.filter((a) => a.attach_status === q.status);
  rows = sortRows(rows, sortSpec(ctx, ["id", "created_at", "attach_status", "volume_id"]), (a, k) =>
    k === "created_at" ? a.created_at : (a as unknown as Record<string, unknown>)[k],
  );
  const p = page(ctx, rows);
  const body: Record<string, unknown> = {
    attachments: p.rows.map((a) => (detail ? attachmentView(a) : attachmentSummary(a))),
  };
  if (p.more && p.rows.length > 0)
    body.attachments_links = nextLinks(ctx, p.rows[p.rows.length - 1].id, p.limit);
  return body;
}

/** Routes of /attachments. */
export function attachmentRoutes(core: VolumeCore): Route[] {
  return [
    ...listRoutes(A, "volume:attachment_get_all", (ctx, detail) => list(core, ctx, detail)),
    route({
      method: "GET",
      path: ONE,
      policy: "volume:attachment_get",
      target: target(core),
      handler: async (ctx) => ({ attachment: attachmentView(await attachmentOf(core, ctx)) }),
    }),
    route({
      method: "POST",
      path: A,
      policy: "volume:attachment_create",
      target: ownTarget,
      handler: async (ctx) => {
        needs(ctx, "3.27");
        const b = wrapped(ctx, "attachment");
        const volumeId = optString(b, "volume_uuid", 36);
        if (!volumeId) throw badRequest("Invalid input received: volume_uuid is required.");
        const instance = optString(b, "instance_uuid", 36) ?? null;
        const modeRaw = field(b, "mode") ?? "rw";
        if (modeRaw !== "rw" && modeRaw !== "ro") throw invalidInput("mode must be rw or ro.");
        if (modeRaw === "ro" && ctx.microversion.lt("3.54"))
          throw invalidInput("mode needs microversion 3.54.");
        const connector = field(b, "connector");
        const v = await visibleVolume(core, callerOf(ctx), volumeId);
        if (!v) throw notFound(`Volume ${volumeId} could not be found.`);
        ctx.authorize("volume:attachment_create", { project_id: v.project_id });
        const a = await reserve(core, v, instance, v.readonly ? "ro" : modeRaw);
        if (connector !== undefined && connector !== null) {
          try {
            await connect(core, a, connectorOf(connector));
          } catch (err) {
            await remove(core, a.id);
            throw err;
          }
        }
        return { attachment: attachmentView((await getAttachment(core, a.id)) ?? a) };
      },
    }),
    route({
      method: "PUT",
      path: ONE,
      policy: "volume:attachment_update",
      target: target(core),
      handler: async (ctx) => {
        const b = wrapped(ctx, "attachment");
        const connector = connectorOf(field(b, "connector"));
        const a = await attachmentOf(core, ctx);
        await connect(core, a, connector);
        return { attachment: attachmentView((await getAttachment(core, a.id)) ?? a) };
      },
    }),
    route({
      method: "POST",
      path: `${ONE}/action`,
      policy: "volume:attachment_complete",
      target: target(core, "3.44"),
      handler: async (ctx) => {
        const b = ctx.body as Record<string, unknown> | null;
        if (!b || typeof b !== "object" || !Object.hasOwn(b, "os-complete"))
          throw badRequest("There is no such action in the request body.");
        await complete(core, await attachmentOf(core, ctx));
        return reply(204, undefined);
      },
    }),
    route({
      method: "DELETE",
      path: ONE,
      policy: "volume:attachment_delete",
      target: target(core),
      handler: async (ctx) => {
        const a = await attachmentOf(core, ctx);
        await remove(core, a.id);
        const rest = await listAttachments(core, a.project_id);
        return { attachments: rest.filter((x) => x.volume_id === a.volume_id).map(attachmentSummary) };
      },
    }),
  ];
}
