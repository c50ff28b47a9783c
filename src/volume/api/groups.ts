// /v3/{project}/groups (3.13+): generic volume groups. Create (with a group type and volume types), list and
// detail, show, update (name, description, add and remove volumes), delete (with its volumes: delete-volumes),
// create from a group snapshot or a source group (3.14), and reset status for admins (3.20).
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { VolumeCore } from "../core.js";
import { badRequest, invalidInput, typeNotFound } from "../errors.js";
import {
  findGroupType,
  getGroup,
  groupVolumes,
  groupVolumeTypes,
  listGroups,
  transitionGroup,
  updateGroup,
  type GroupRow,
} from "../groups/store.js";
import { findType } from "../store/types.js";
import { needs } from "./attachments.js";
import { changeMembers, groupNotFound, invalidGroup } from "./group-members.js";
import { createFromSource } from "./group-sources.js";
import { insertGroup, newGroupRow } from "./group-new.js";
import { deleteGroupVolumes } from "./group-delete.js";
import { groupTypeNotFound } from "./group-types.js";
import {
  allTenants,
  boolOf,
  callerOf,
  field,
  isoTime,
  nextLinks,
  objectBody,
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

const G = "/v3/:project_id/groups";
const ONE = `${G}/:group_id`;

/** Statuses reset_status may set (Cinder's group statuses). */
const STATUSES = [
  "creating",
  "available",
  "deleting",
  "error",
  "error_deleting",
  "updating",
  "in-use",
  "deleted",
];

/** The URL's group if the caller may see it, else 404 (also below 3.13). */
async function groupOf(core: VolumeCore, ctx: Ctx): Promise<GroupRow> {
  needs(ctx, "3.13");
  const g = await getGroup(core, ctx.params.group_id);
  const caller = callerOf(ctx);
  if (!g || !(caller.readsAll || g.project_id === caller.projectId)) throw groupNotFound(ctx.params.group_id);
  return g;
}

const groupTarget =
  (core: VolumeCore) =>
  async (ctx: Ctx): Promise<Target> => ({ project_id: (await groupOf(core, ctx)).project_id });

/** A group's full body (show, detail); the volume ids from 3.25 when `list_volume` asks for them. */
async function groupView(core: VolumeCore, ctx: Ctx, g: GroupRow): Promise<Record<string, unknown>> {
  const mv = ctx.microversion;
  const body: Record<string, unknown> = {
    id: g.id,
    name: g.name,
    description: g.description,
    status: g.status,
    availability_zone: g.availability_zone,
    created_at: isoTime(g.created_at),
    group_type: g.group_type_id,
    volume_types: groupVolumeTypes(g),
  };
  if (mv.gte("3.14")) {
    body.group_snapshot_id = g.group_snapshot_id;
    body.source_group_id = g.source_group_id;
  }
  const lv = ctx.query.list_volume;
  if (mv.gte("3.25") && lv !== undefined && boolOf("list_volume", lv))
    body.volumes = (await groupVolumes(core, g.id)).map((v) => v.id);
  if (mv.gte("3.38")) body.replication_status = "disabled";
  if (mv.gte("3.58") && callerOf(ctx).isAdmin) body.project_id = g.project_id;
  return body;
}

/** A group's short body (list, create). */
const groupSummary = (g: GroupRow) => ({ id: g.id, name: g.name });

async function list(core: VolumeCore, ctx: Ctx, detail: boolean) {
  needs(ctx, "3.13");
  const caller = callerOf(ctx);
  const q = ctx.query;
  let rows = await listGroups(core, allTenants(ctx, caller) ? null : ownerOf(ctx));
  if (q.name !== undefined) rows = rows.filter((g) => g.name === q.name);
  if (q.status !== undefined) rows = rows.filter((g) => g.status === q.status);
  rows = sortRows(
    rows,
    sortSpec(ctx, ["id", "name", "status", "created_at", "availability_zone"]),
    (g, k) => (g as unknown as Record<string, unknown>)[k],
  );
  const p = page(ctx, rows);
  const groups = [];
  for (const g of p.rows) groups.push(detail ? await groupView(core, ctx, g) : groupSummary(g));
  const body: Record<string, unknown> = { groups };
  if (p.more && p.rows.length > 0) body.group_links = nextLinks(ctx, p.rows[p.rows.length - 1].id, p.limit);
  return body;
}

async function create(core: VolumeCore, ctx: Ctx) {
  needs(ctx, "3.13");
  const b = wrapped(ctx, "group");
  const caller = callerOf(ctx);
  const gt = optString(b, "group_type", 255);
  if (!gt) throw badRequest("Missing required element 'group_type' in request body.");
  const groupType = await findGroupType(core, caller, gt);
  if (!groupType) throw groupTypeNotFound(gt);
  const vts = field(b, "volume_types");
  if (!Array.isArray(vts) || vts.length === 0)
    throw badRequest("Missing required element 'volume_types' in request body.");
  if (vts.length > 100) throw invalidInput("volume_types lists more than 100 types.");
  const typeIds: string[] = [];
  for (const x of vts) {
    if (typeof x !== "string") throw invalidInput("volume_types must be a list of strings.");
    const t = await findType(core, caller, x);
    if (!t) throw typeNotFound(x);
    if (!typeIds.includes(t.id)) typeIds.push(t.id);
  }
  const zone = optString(b, "availability_zone") ?? core.cfg.volume.availabilityZone;
  if (zone !== core.cfg.volume.availabilityZone)
    throw invalidInput(`Availability zone '${zone}' is invalid.`);
  const row = newGroupRow(core, ctx, {
    name: optString(b, "name") ?? null,
    description: optString(b, "description") ?? null,
    availability_zone: zone,
    group_type_id: groupType.id,
    volume_type_ids: JSON.stringify(typeIds),
  });
  // No backend keeps state for a generic group: it is available as soon as it is recorded.
  await insertGroup(core, row);
  return reply(202, { group: groupSummary(row) });
}

async function update(core: VolumeCore, ctx: Ctx) {
  const g = await groupOf(core, ctx);
  const b = wrapped(ctx, "group");
  const name = optString(b, "name");
  const description = optString(b, "description");
  const add = optString(b, "add_volumes", 65535);
  const remove = optString(b, "remove_volumes", 65535);
  if (name === undefined && description === undefined && !add && !remove)
    throw invalidInput(
      "Name, description, add_volumes, and remove_volumes can not be all empty in the request body.",
    );
  if ((add || remove) && g.status !== "available")
    throw invalidGroup(`Group status must be available, but current status is: ${g.status}.`);
  await changeMembers(core, ctx, g, add, remove);
  const set: Partial<GroupRow> = {};
  if (name !== undefined) set.name = name;
  if (description !== undefined) set.description = description;
  await updateGroup(core, g.id, set);
  return reply(202, undefined);
}

async function action(core: VolumeCore, ctx: Ctx) {
  const b = objectBody(ctx);
  const g = await groupOf(core, ctx);
  const arg = (k: string): Record<string, unknown> => {
    const v = b[k];
    if (v === null || typeof v !== "object" || Array.isArray(v))
      throw badRequest(`Missing required element '${k}' in request body.`);
    return v as Record<string, unknown>;
  };
  if (Object.hasOwn(b, "delete")) {
    ctx.authorize("group:delete", { project_id: g.project_id });
    const dv = field(arg("delete"), "delete-volumes");
    await deleteGroupVolumes(core, g, dv !== undefined && boolOf("delete-volumes", dv), ctx.requestId);
    return reply(202, undefined);
  }
  if (Object.hasOwn(b, "reset_status")) {
    needs(ctx, "3.20");
    ctx.authorize("group:reset_status", { project_id: g.project_id });
    const status = optString(arg("reset_status"), "status", 32);
    if (!status || !STATUSES.includes(status)) throw invalidInput(`Invalid status: ${String(status)}`);
    await transitionGroup(core, g.id, [g.status], status);
    return reply(202, undefined);
  }
  for (const k of ["enable_replication", "disable_replication", "failover_replication"])
    if (Object.hasOwn(b, k)) throw invalidGroup(`replication is not enabled for group ${g.id}.`);
  if (Object.hasOwn(b, "list_replication_targets")) return { replication_targets: [] };
  throw badRequest(`There is no such action: ${Object.keys(b)[0] ?? ""}`);
}

/** Routes of /groups. */
export function groupRoutes(core: VolumeCore): Route[] {
  const target = groupTarget(core);
  return [
    ...listRoutes(G, "group:get_all", (ctx, detail) => list(core, ctx, detail)),
    route({
      method: "POST",
      path: G,
      policy: "group:create",
      target: ownTarget,
      handler: (ctx) => create(core, ctx),
    }),
    route({
      method: "POST",
      path: `${G}/action`,
      policy: "group:create",
      target: ownTarget,
      handler: async (ctx) => {
        needs(ctx, "3.14");
        const b = objectBody(ctx);
        if (!Object.hasOwn(b, "create-from-src"))
          throw badRequest(`There is no such action: ${Object.keys(b)[0] ?? ""}`);
        const g = await createFromSource(core, ctx, wrapped(ctx, "create-from-src"));
        return reply(202, { group: groupSummary(g) });
      },
    }),
    route({
      method: "GET",
      path: ONE,
      policy: "group:get",
      target,
      handler: async (ctx) => ({ group: await groupView(core, ctx, await groupOf(core, ctx)) }),
    }),
    route({ method: "PUT", path: ONE, policy: "group:update", target, handler: (ctx) => update(core, ctx) }),
    route({
      method: "POST",
      path: `${ONE}/action`,
      policy: null,
      auth: "required",
      handler: (ctx) => action(core, ctx),
    }),
  ];
}
