// /v3/{project}/group_types (3.11+): group types with their group specs. Everyone lists and shows the public
// ones; admins also see private ones and the specs, and create, update and delete them.
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { badRequest, conflict, invalidInput, notFound } from "../errors.js";
import { findGroupType, getGroupType, listGroupTypes, type GroupTypeRow } from "../groups/store.js";
import { mapObject, mapText, parseMap } from "../store/rows.js";
import { needs } from "./attachments.js";
import {
  boolOf,
  callerOf,
  field,
  nextLinks,
  optString,
  page,
  sortRows,
  sortSpec,
  wrapped,
  type Ctx,
} from "./common.js";
import { specRoutes, specsOf } from "./spec-routes.js";

const G = "/v3/:project_id/group_types";
const ONE = `${G}/:group_type_id`;

/** 404 "Group type <id> could not be found." */
export const groupTypeNotFound = (id: string) => notFound(`Group type ${id} could not be found.`);

/** A group type body (group_specs for admins only, as Cinder's access_group_types_specs). */
export function groupTypeView(t: GroupTypeRow, isAdmin: boolean) {
  const body: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: Boolean(t.is_public),
  };
  if (isAdmin) body.group_specs = mapObject(parseMap(t.group_specs));
  return body;
}

/** The URL's group type (by id or name) if the caller may see it, else 404 (also below 3.11). */
async function groupTypeOf(core: VolumeCore, ctx: Ctx): Promise<GroupTypeRow> {
  needs(ctx, "3.11");
  const id = ctx.params.group_type_id;
  // No default group type is configured (Cinder's default_group_type unset).
  if (id === "default") throw notFound("Default group type can not be found.");
  const t = await findGroupType(core, callerOf(ctx), id);
  if (!t) throw groupTypeNotFound(id);
  return t;
}

/** Group type names: 1-255 characters, not only spaces. */
function nameOf(b: Record<string, unknown>): string | undefined {
  const name = optString(b, "name");
  if (name === null) throw invalidInput("Group type name can not be empty.");
  if (name !== undefined && !name.trim()) throw invalidInput("Group type name can not be empty.");
  return name;
}

async function list(core: VolumeCore, ctx: Ctx) {
  needs(ctx, "3.11");
  const caller = callerOf(ctx);
  const pub = ctx.query.is_public;
  let rows = (await listGroupTypes(core)).filter((t) => t.is_public || caller.isAdmin);
  // As for volume types: admins filter by is_public ("None": every type); others see the public ones.
  if (caller.isAdmin && pub !== undefined && pub !== "None") {
    const want = boolOf("is_public", pub);
    rows = rows.filter((t) => Boolean(t.is_public) === want);
  }
  rows = sortRows(
    rows,
    sortSpec(ctx, ["id", "name", "created_at", "is_public", "description"]),
    (t, k) => (t as unknown as Record<string, unknown>)[k],
  );
  const p = page(ctx, rows);
  const body: Record<string, unknown> = { group_types: p.rows.map((t) => groupTypeView(t, caller.isAdmin)) };
  if (p.more && p.rows.length > 0)
    body.group_type_links = nextLinks(ctx, p.rows[p.rows.length - 1].id, p.limit);
  return body;
}

async function create(core: VolumeCore, ctx: Ctx) {
  needs(ctx, "3.11");
  const b = wrapped(ctx, "group_type");
  const name = nameOf(b);
  if (name === undefined) throw invalidInput("Group type name can not be empty.");
  const pub = field(b, "is_public");
  const specs = field(b, "group_specs");
  const row: GroupTypeRow = {
    id: core.newId(),
    name,
    description: optString(b, "description") ?? null,
    is_public: pub === undefined || pub === null || boolOf("is_public", pub) ? 1 : 0,
    group_specs: mapText(specs === undefined || specs === null ? new Map() : specsOf(specs, "group_specs")),
    created_at: nowIso(),
  };
  try {
    await core.db.insertInto("volume_group_type").values(row).execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`Group Type ${name} already exists.`);
    throw e;
  }
  return reply(202, { group_type: groupTypeView(row, true) });
}

async function update(core: VolumeCore, ctx: Ctx) {
  const t = await groupTypeOf(core, ctx);
  const b = wrapped(ctx, "group_type");
  const set: Partial<GroupTypeRow> = {};
  const name = nameOf(b);
  const description = optString(b, "description");
  const pub = field(b, "is_public");
  if (name !== undefined) set.name = name;
  if (description !== undefined) set.description = description;
  if (pub !== undefined && pub !== null) set.is_public = boolOf("is_public", pub) ? 1 : 0;
  if (Object.keys(set).length === 0)
    throw invalidInput("Specify group type name, description or a combination thereof.");
  try {
    await core.db.updateTable("volume_group_type").set(set).where("id", "=", t.id).execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`Group Type ${String(name)} already exists.`);
    throw e;
  }
  return { group_type: groupTypeView((await getGroupType(core, t.id)) ?? t, true) };
}

async function remove(core: VolumeCore, ctx: Ctx) {
  const t = await groupTypeOf(core, ctx);
  const used = await core.db
    .selectFrom("volume_group")
    .select("id")
    .where("group_type_id", "=", t.id)
    .executeTakeFirst();
  if (used)
    throw badRequest(
      `Target group type is still in use. Group Type ${t.id} deletion is not allowed with groups present with the type.`,
    );
  await core.db.deleteFrom("volume_group_type").where("id", "=", t.id).execute();
  return reply(202, undefined);
}

/** Routes of /group_types and their group specs. */
export function groupTypeRoutes(core: VolumeCore): Route[] {
  return [
    route({ method: "GET", path: G, policy: null, auth: "required", handler: (ctx) => list(core, ctx) }),
    route({
      method: "GET",
      path: ONE,
      policy: null,
      auth: "required",
      handler: async (ctx) => ({
        group_type: groupTypeView(await groupTypeOf(core, ctx), callerOf(ctx).isAdmin),
      }),
    }),
    route({
      method: "POST",
      path: G,
      policy: "group:group_types:create",
      handler: (ctx) => create(core, ctx),
    }),
    route({
      method: "PUT",
      path: ONE,
      policy: "group:group_types:update",
      handler: (ctx) => update(core, ctx),
    }),
    route({
      method: "DELETE",
      path: ONE,
      policy: "group:group_types:delete",
      handler: (ctx) => remove(core, ctx),
    }),
    ...specRoutes({
      one: ONE,
      key: "group_specs",
      policies: {
        index: "group:group_types_specs:get_all",
        show: "group:group_types_specs:get",
        create: "group:group_types_specs:create",
        update: "group:group_types_specs:update",
        delete: "group:group_types_specs:delete",
      },
      load: async (ctx) => {
        const t = await groupTypeOf(core, ctx);
        return { id: t.id, specs: parseMap(t.group_specs) };
      },
      save: (id, specs) =>
        core.db
          .updateTable("volume_group_type")
          .set({ group_specs: mapText(specs) })
          .where("id", "=", id)
          .execute(),
      missing: (id, key) => notFound(`Group Type ${id} has no specs with key ${key}.`),
      createStatus: 202,
    }),
  ];
}
