// /v3/{project}/types: volume types with extra specs and access lists (private types), and /qos-specs (stored
// only: no backend applies them yet).
import { nowIso } from "../../shared/db/index.js";
import { isUniqueViolation } from "../../shared/db/index.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { badRequest, conflict, invalidInput, notFound, typeNotFound } from "../errors.js";
import { isSomeDefault } from "../default-types.js";
import { mapObject, mapText, parseMap, type QosRow, type TypeRow } from "../store/rows.js";
import {
  deleteType,
  findType,
  getQos,
  getType,
  insertType,
  listQos,
  listTypes,
  typeProjects,
  typeVisible,
  updateType,
} from "../store/types.js";
import { boolOf, callerOf, field, metadataOf, objectBody, optString, wrapped, type Ctx } from "./common.js";
import { specRoutes, specsOf } from "./spec-routes.js";
import { typeView, visibleSpecs } from "./views.js";

const T = "/v3/:project_id/types";
const ONE = `${T}/:type_id`;
const Q = "/v3/:project_id/qos-specs";
const QONE = `${Q}/:qos_id`;

async function typeOf(core: VolumeCore, ctx: Ctx): Promise<TypeRow> {
  const id = ctx.params.type_id;
  const t =
    id === "default"
      ? await findType(core, callerOf(ctx), core.cfg.volume.defaultVolumeType)
      : await findType(core, callerOf(ctx), id);
  if (!t) throw typeNotFound(id);
  return t;
}

async function qosOf(core: VolumeCore, ctx: Ctx): Promise<QosRow> {
  const q = await getQos(core, ctx.params.qos_id);
  if (!q) throw notFound(`QoS Specs ${ctx.params.qos_id} could not be found.`);
  return q;
}

const qosView = (q: QosRow) => ({
  id: q.id,
  name: q.name,
  consumer: q.consumer,
  specs: mapObject(parseMap(q.specs)),
});

/** Routes of /types and /qos-specs. */
export function typeRoutes(core: VolumeCore): Route[] {
  return [
    route({
      method: "GET",
      path: T,
      policy: "volume_extension:type_get_all",
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const pub = ctx.query.is_public;
        const out = [];
        for (const t of await listTypes(core)) {
          if (!(await typeVisible(core, caller, t))) continue;
          if (
            caller.isAdmin &&
            pub !== undefined &&
            pub !== "None" &&
            Boolean(t.is_public) !== boolOf("is_public", pub)
          )
            continue;
          if (!caller.isAdmin && !t.is_public) continue;
          out.push(typeView(t, caller.isAdmin));
        }
        return { volume_types: out };
      },
    }),
    route({
      method: "GET",
      path: ONE,
      policy: "volume_extension:type_get",
      handler: async (ctx) => ({ volume_type: typeView(await typeOf(core, ctx), callerOf(ctx).isAdmin) }),
    }),
    route({
      method: "POST",
      path: T,
      policy: "volume_extension:types_manage",
      handler: async (ctx) => {
        const b = wrapped(ctx, "volume_type");
        const name = optString(b, "name");
        if (!name || !name.trim()) throw invalidInput("Volume type name can not be empty.");
        const description = optString(b, "description") ?? null;
        const isPublic = field(b, "os-volume-type-access:is_public") ?? field(b, "is_public");
        const specs = field(b, "extra_specs");
        const row: TypeRow = {
          id: core.newId(),
          name,
          description,
          is_public: isPublic === undefined || isPublic === null || boolOf("is_public", isPublic) ? 1 : 0,
          extra_specs: mapText(specs === undefined || specs === null ? new Map() : specsOf(specs)),
          qos_specs_id: null,
          created_at: nowIso(),
        };
        try {
          await insertType(core, row);
        } catch (e) {
          if (isUniqueViolation(e)) throw conflict(`Volume Type ${name} already exists.`);
          throw e;
        }
        return { volume_type: typeView(row, true, "create") };
      },
    }),
    route({
      method: "PUT",
      path: ONE,
      policy: "volume_extension:types_manage",
      handler: async (ctx) => {
        const t = await typeOf(core, ctx);
        const b = wrapped(ctx, "volume_type");
        const set: Partial<TypeRow> = {};
        const name = optString(b, "name");
        const description = optString(b, "description");
        const isPublic = field(b, "is_public");
        if (name !== undefined && name !== null) {
          if (!name.trim()) throw invalidInput("Volume type name can not be empty.");
          set.name = name;
        }
        if (description !== undefined) set.description = description;
        if (isPublic !== undefined && isPublic !== null)
          set.is_public = boolOf("is_public", isPublic) ? 1 : 0;
        if (Object.keys(set).length === 0)
          throw invalidInput("Specify volume type name, description, is_public or a combination thereof.");
        try {
          await updateType(core, t.id, set);
        } catch (e) {
          if (isUniqueViolation(e)) throw conflict(`Volume Type ${String(name)} already exists.`);
          throw e;
        }
        return { volume_type: typeView((await getType(core, t.id)) ?? t, true, "update") };
      },
    }),
    route({
      method: "DELETE",
      path: ONE,
      policy: "volume_extension:types_manage",
      handler: async (ctx) => {
        const t = await typeOf(core, ctx);
        if (t.name === core.cfg.volume.defaultVolumeType)
          throw badRequest("Default volume type can not be deleted.");
        if (await isSomeDefault(core, t.id))
          throw badRequest(`The volume type ${t.id} is a default volume type and cannot be deleted.`);
        const used = await core.db
          .selectFrom("volume_volume")
          .select("id")
          .where("volume_type_id", "=", t.id)
          .executeTakeFirst();
        if (used)
          throw badRequest(
            `Target volume type is still in use. Volume Type ${t.id} deletion is not allowed with volumes present with the type.`,
          );
        await deleteType(core, t.id);
        return reply(202, undefined);
      },
    }),
    ...specRoutes({
      one: ONE,
      key: "extra_specs",
      policies: {
        index: "volume_extension:types_extra_specs:index",
        show: "volume_extension:types_extra_specs:show",
        create: "volume_extension:types_extra_specs:create",
        update: "volume_extension:types_extra_specs:update",
        delete: "volume_extension:types_extra_specs:delete",
      },
      load: async (ctx) => {
        const t = await typeOf(core, ctx);
        return { id: t.id, specs: parseMap(t.extra_specs) };
      },
      save: (id, specs) => updateType(core, id, { extra_specs: mapText(specs) }),
      missing: (id, key) => notFound(`Volume Type ${id} has no extra specs with key ${key}.`),
      shown: (ctx, specs) => visibleSpecs(specs, callerOf(ctx).isAdmin),
      createStatus: 200,
    }),
    route({
      method: "GET",
      path: `${ONE}/os-volume-type-access`,
      policy: "volume_extension:volume_type_access",
      handler: async (ctx) => {
        const t = await typeOf(core, ctx);
        if (t.is_public) throw notFound(`Volume type access not found for ${t.id}.`);
        return {
          volume_type_access: (await typeProjects(core, t.id)).map((p) => ({
            volume_type_id: t.id,
            project_id: p,
          })),
        };
      },
    }),
    route({
      method: "POST",
      path: `${ONE}/action`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const b = objectBody(ctx);
        const add = Object.hasOwn(b, "addProjectAccess");
        const rm = Object.hasOwn(b, "removeProjectAccess");
        if (add === rm) throw badRequest("There is no such action in the request body.");
        ctx.authorize(
          `volume_extension:volume_type_access:${add ? "addProjectAccess" : "removeProjectAccess"}`,
          {},
        );
        const t = await typeOf(core, ctx);
        const arg = b[add ? "addProjectAccess" : "removeProjectAccess"];
        const project =
          arg && typeof arg === "object" ? optString(arg as Record<string, unknown>, "project") : null;
        if (!project) throw invalidInput("Missing required element 'project' in request body.");
        if (t.is_public)
          throw badRequest(
            "Invalid volume type: Type access modification is not applicable to public volume type.",
          );
        const has = (await typeProjects(core, t.id)).includes(project);
        if (add) {
          if (has) throw conflict(`Volume type access for ${t.id} / ${project} combination already exists.`);
          await core.db
            .insertInto("volume_type_access")
            .values({ volume_type_id: t.id, project_id: project })
            .execute();
        } else {
          if (!has) throw notFound(`Volume type access not found for ${t.id} / ${project} combination.`);
          await core.db
            .deleteFrom("volume_type_access")
            .where("volume_type_id", "=", t.id)
            .where("project_id", "=", project)
            .execute();
        }
        return reply(202, undefined);
      },
    }),
    route({
      method: "GET",
      path: Q,
      policy: "volume_extension:qos_specs_manage:get_all",
      handler: async () => ({ qos_specs: (await listQos(core)).map(qosView) }),
    }),
    route({
      method: "POST",
      path: Q,
      policy: "volume_extension:qos_specs_manage:create",
      handler: async (ctx) => {
        const b = { ...wrapped(ctx, "qos_specs") };
        const name = optString(b, "name");
        if (!name || !name.trim()) throw invalidInput("Please specify a name for QoS specs.");
        const consumer = optString(b, "consumer", 16) ?? "back-end";
        if (!["front-end", "back-end", "both"].includes(consumer))
          throw invalidInput(`Invalid consumer ${consumer}.`);
        const specs = new Map<string, string>();
        for (const [k, v] of Object.entries(b))
          if (k !== "name" && k !== "consumer") specs.set(k, typeof v === "string" ? v : JSON.stringify(v));
        const row: QosRow = {
          id: core.newId(),
          name,
          consumer,
          specs: mapText(metadataOf(Object.fromEntries(specs), "specs")),
          created_at: nowIso(),
        };
        try {
          await core.db.insertInto("volume_qos").values(row).execute();
        } catch (e) {
          if (isUniqueViolation(e)) throw conflict(`QoS Specs ${name} already exists.`);
          throw e;
        }
        return { qos_specs: qosView(row), links: [] };
      },
    }),
    route({
      method: "GET",
      path: QONE,
      policy: "volume_extension:qos_specs_manage:get",
      handler: async (ctx) => ({ qos_specs: qosView(await qosOf(core, ctx)), links: [] }),
    }),
    route({
      method: "PUT",
      path: QONE,
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        const q = await qosOf(core, ctx);
        const b = wrapped(ctx, "qos_specs");
        const m = parseMap(q.specs);
        const add = metadataOf(b, "qos_specs");
        for (const [k, v] of add) m.set(k, v);
        await core.db
          .updateTable("volume_qos")
          .set({ specs: mapText(m) })
          .where("id", "=", q.id)
          .execute();
        return { qos_specs: mapObject(add) };
      },
    }),
    route({
      method: "DELETE",
      path: QONE,
      policy: "volume_extension:qos_specs_manage:delete",
      handler: async (ctx) => {
        const q = await qosOf(core, ctx);
        const used = await core.db
          .selectFrom("volume_type")
          .select("id")
          .where("qos_specs_id", "=", q.id)
          .executeTakeFirst();
        const force = ctx.query.force !== undefined && boolOf("force", ctx.query.force);
        if (used && !force) throw badRequest(`QoS Specs ${q.id} is still associated with entities.`);
        await core.db
          .updateTable("volume_type")
          .set({ qos_specs_id: null })
          .where("qos_specs_id", "=", q.id)
          .execute();
        await core.db.deleteFrom("volume_qos").where("id", "=", q.id).execute();
        return reply(202, undefined);
      },
    }),
    route({
      method: "PUT",
      path: `${QONE}/delete_keys`,
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        const q = await qosOf(core, ctx);
        const keys = field(objectBody(ctx), "keys");
        if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string"))
          throw invalidInput("keys must be a list of strings.");
        const m = parseMap(q.specs);
        for (const k of keys as string[])
          if (!m.delete(k)) throw notFound(`QoS spec ${k} could not be found.`);
        await core.db
          .updateTable("volume_qos")
          .set({ specs: mapText(m) })
          .where("id", "=", q.id)
          .execute();
        return reply(202, undefined);
      },
    }),
    route({
      method: "GET",
      path: `${QONE}/associations`,
      policy: "volume_extension:qos_specs_manage:get",
      handler: async (ctx) => {
        const q = await qosOf(core, ctx);
        const rows = await core.db
          .selectFrom("volume_type")
          .select(["id", "name"])
          .where("qos_specs_id", "=", q.id)
          .execute();
        return {
          qos_associations: rows.map((r) => ({ association_type: "volume_type", name: r.name, id: r.id })),
        };
      },
    }),
    route({
      method: "GET",
      path: `${QONE}/associate`,
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        const q = await qosOf(core, ctx);
        const vt = ctx.query.vol_type_id;
        if (!vt) throw invalidInput("Volume Type id must not be None.");
        const t = await getType(core, vt);
        if (!t) throw typeNotFound(vt);
        if (t.qos_specs_id && t.qos_specs_id !== q.id)
          throw badRequest(`Type ${t.id} is already associated with another qos specs: ${t.qos_specs_id}`);
        await updateType(core, t.id, { qos_specs_id: q.id });
        return reply(202, undefined);
      },
    }),
    route({
      method: "GET",
      path: `${QONE}/disassociate`,
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        const q = await qosOf(core, ctx);
        const vt = ctx.query.vol_type_id;
        if (!vt) throw invalidInput("Volume Type id must not be None.");
        const t = await getType(core, vt);
        if (!t) throw typeNotFound(vt);
        if (t.qos_specs_id === q.id) await updateType(core, t.id, { qos_specs_id: null });
        return reply(202, undefined);
      },
    }),
    route({
      method: "GET",
      path: `${QONE}/disassociate_all`,
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        const q = await qosOf(core, ctx);
        await core.db
          .updateTable("volume_type")
          .set({ qos_specs_id: null })
          .where("qos_specs_id", "=", q.id)
          .execute();
        return reply(202, undefined);
      },
    }),
  ];
}
