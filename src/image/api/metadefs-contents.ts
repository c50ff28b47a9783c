// /v2/metadefs/namespaces/{ns}/objects, /properties and /tags: what a namespace defines.
import { Type } from "@sinclair/typebox";
import { badRequest, notFound } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { ImageService } from "../service.js";
import {
  associationsOf,
  createObject,
  createProperty,
  createTag,
  createTags,
  deleteObject,
  deleteProperty,
  deleteTag,
  getObject,
  getProperty,
  getTag,
  listObjects,
  listProperties,
  listTags,
  renameTag,
  updateObject,
  updateProperty,
  type PropertyDef,
} from "../store/metadefs.js";
import {
  afterMarker,
  bodyOf,
  checkName,
  enforce,
  limitOf,
  loadNamespace,
  objectView,
  propertiesView,
  propertyView,
  sortDir,
  sortRows,
  tagView,
  toPropertyDef,
  unprotected,
  type Ctx,
} from "./metadefs-common.js";
import { check, validators } from "./metadefs-schemas.js";

const AnyBody = Type.Unknown();
const ENTITY_READ_ONLY = ["self", "schema", "created_at", "updated_at"];
const TIMES_READ_ONLY = ["created_at", "updated_at"];
const TAG_SORT_KEYS = ["name", "created_at", "updated_at"];

/** X-Openstack-Append as oslo's bool_from_string reads it. */
function appendHeader(ctx: Ctx): boolean {
  const v = ctx.headers["x-openstack-append"];
  const s = (Array.isArray(v) ? v[0] : v)?.trim().toLowerCase();
  return s !== undefined && ["1", "t", "true", "on", "y", "yes"].includes(s);
}

/** An object's definition from a request body (properties normalised). */
function objectInput(b: Record<string, any>) {
  const properties: Record<string, PropertyDef> = {};
  for (const [name, def] of Object.entries((b.properties ?? {}) as Record<string, Record<string, unknown>>))
    properties[checkName("property", name)] = toPropertyDef(def);
  return {
    name: checkName("object", b.name),
    description: (b.description as string | undefined) ?? null,
    required: (b.required as string[] | undefined) ?? null,
    properties,
  };
}

/** Glance checks the paging parameters of object and tag lists even where it ignores them. */
function listParams(ctx: Ctx, positiveLimit: boolean) {
  const q = ctx.query as Record<string, string | undefined>;
  const dir = sortDir(q.sort_dir);
  const limit = limitOf(q.limit, positiveLimit);
  if (q.visibility && !["public", "private", "shared"].includes(q.visibility))
    throw badRequest(`Invalid visibility value: ${q.visibility}`);
  return { dir, limit, marker: q.marker || undefined, key: q.sort_key ?? "created_at" };
}

/** Routes for a namespace's objects, properties and tags. */
export function metadefContentRoutes(svc: ImageService): Route[] {
  const db = svc.core.db;
  const NS = "/v2/metadefs/namespaces/:namespace";
  const common = { policy: null, auth: "required" as const };

  return [
    // ---- objects ----
    route({
      ...common,
      method: "GET",
      path: `${NS}/objects`,
      handler: async (ctx) => {
        listParams(ctx, true);
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "get_metadef_objects", ns);
        const objects = ctx.allowed("get_metadef_object", { project_id: ns.owner, visibility: ns.visibility })
          ? await listObjects(db, ns.id)
          : [];
        return {
          objects: objects.map((o) => objectView(ns.namespace, o)),
          schema: "/v2/schemas/metadefs/objects",
        };
      },
    }),
    route({
      ...common,
      method: "POST",
      path: `${NS}/objects`,
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.object, "object", ENTITY_READ_ONLY);
        // Each property of a new object must also be a valid property definition on its own.
        for (const def of Object.values((b.properties ?? {}) as Record<string, unknown>))
          check(validators.propertyNoName, "property", def);
        const input = objectInput(b);
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "add_metadef_object", ns);
        return reply(201, objectView(ns.namespace, await createObject(db, ns, input)));
      },
    }),
    route({
      ...common,
      method: "GET",
      path: `${NS}/objects/:object_name`,
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "get_metadef_object", ns);
        return objectView(ns.namespace, await getObject(db, ns, ctx.params.object_name));
      },
    }),
    route({
      ...common,
      method: "PUT",
      path: `${NS}/objects/:object_name`,
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.object, "object", ENTITY_READ_ONLY);
        const input = objectInput(b);
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "modify_metadef_object", ns);
        const old = await getObject(db, ns, ctx.params.object_name);
        return objectView(ns.namespace, await updateObject(db, ns, old, input));
      },
    }),
    route({
      ...common,
      method: "DELETE",
      path: `${NS}/objects/:object_name`,
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "delete_metadef_object", ns);
        const o = await getObject(db, ns, ctx.params.object_name);
        unprotected(ns, "object", o.name);
        await deleteObject(db, o.id);
        return noContent();
      },
    }),

    // ---- properties ----
    route({
      ...common,
      method: "GET",
      path: `${NS}/properties`,
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "get_metadef_properties", ns);
        const props = await listProperties(db, ns.id);
        return { properties: propertiesView(Object.fromEntries(props.map((p) => [p.name, p.schema]))) };
      },
    }),
    route({
      ...common,
      method: "POST",
      path: `${NS}/properties`,
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.property, "property", TIMES_READ_ONLY);
        const name = checkName("property", b.name);
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "add_metadef_property", ns);
        const p = await createProperty(db, ns, name, toPropertyDef(b));
        return reply(201, propertyView(p.schema, p.name));
      },
    }),
    route({
      ...common,
      method: "GET",
      path: `${NS}/properties/:property_name`,
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "get_metadef_property", ns);
        let name = ctx.params.property_name;
        const rt = (ctx.query as Record<string, string | undefined>).resource_type;
        if (rt) {
          // The name is given with the resource type's prefix (hw_cpu_cores for cpu_cores on images).
          enforce(ctx, "get_metadef_resource_type", ns);
          const a = ((await associationsOf(db, [ns.id])).get(ns.id) ?? []).find((x) => x.name === rt);
          if (!a)
            throw notFound(
              `The metadata definition resource-type association of resource-type=${rt} to namespace=${ns.namespace}, was not found.`,
            );
          if (!a.prefix || !name.startsWith(a.prefix))
            throw notFound(
              `Property ${name} does not start with the expected resource type association prefix of '${a.prefix ?? ""}'.`,
            );
          name = name.slice(a.prefix.length);
        }
        const p = await getProperty(db, ns, name);
        return propertyView(p.schema, p.name);
      },
    }),
    route({
      ...common,
      method: "PUT",
      path: `${NS}/properties/:property_name`,
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.property, "property", TIMES_READ_ONLY);
        const name = checkName("property", b.name);
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "modify_metadef_property", ns);
        const old = await getProperty(db, ns, ctx.params.property_name);
        const p = await updateProperty(db, ns, old, name, toPropertyDef(b));
        return propertyView(p.schema, p.name);
      },
    }),
    route({
      ...common,
      method: "DELETE",
      path: `${NS}/properties/:property_name`,
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "remove_metadef_property", ns);
        const p = await getProperty(db, ns, ctx.params.property_name);
        unprotected(ns, "property", p.name);
        await deleteProperty(db, p.id);
        return noContent();
      },
    }),

    // ---- tags ----
    route({
      ...common,
      method: "GET",
      path: `${NS}/tags`,
      handler: async (ctx) => {
        const { dir, limit, marker, key } = listParams(ctx, false);
        if (!TAG_SORT_KEYS.includes(key)) throw badRequest(`Invalid sort key: ${key}`);
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "get_metadef_tags", ns);
        const all = await listTags(db, ns.id);
        let rows = sortRows(all, key, dir);
        if (marker) {
          const m = all.find((t) => t.name === marker);
          if (!m)
            throw notFound(
              `The metadata definition tag with name=${marker} was not found in namespace=${ns.namespace}.`,
            );
          rows = afterMarker(rows, m, key, dir);
        }
        if (limit !== undefined) rows = rows.slice(0, limit);
        return { tags: rows.map((t) => ({ name: t.name })) };
      },
    }),
    route({
      ...common,
      method: "POST",
      path: `${NS}/tags`,
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.tags, "tags", TIMES_READ_ONLY);
        const names = ((b.tags ?? []) as Array<{ name: unknown }>).map((t) => checkName("tag", t.name));
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "add_metadef_tags", ns);
        const tags = await createTags(db, ns, names, appendHeader(ctx));
        return reply(201, { tags: tags.map((t) => ({ name: t.name })) });
      },
    }),
    route({
      ...common,
      method: "POST",
      path: `${NS}/tags/:tag_name`,
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        const name = ctx.params.tag_name;
        check(validators.tag, "tag", { name });
        checkName("tag", name);
        enforce(ctx, "add_metadef_tag", ns);
        return reply(201, tagView(await createTag(db, ns, name)));
      },
    }),
    route({
      ...common,
      method: "GET",
      path: `${NS}/tags/:tag_name`,
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "get_metadef_tag", ns);
        return tagView(await getTag(db, ns, ctx.params.tag_name));
      },
    }),
    route({
      ...common,
      method: "PUT",
      path: `${NS}/tags/:tag_name`,
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.tag, "tag", TIMES_READ_ONLY);
        const name = checkName("tag", b.name);
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "modify_metadef_tag", ns);
        const old = await getTag(db, ns, ctx.params.tag_name);
        return tagView(await renameTag(db, ns, old, name));
      },
    }),
    route({
      ...common,
      method: "DELETE",
      path: `${NS}/tags/:tag_name`,
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "delete_metadef_tag", ns);
        const t = await getTag(db, ns, ctx.params.tag_name);
        unprotected(ns, "tag", t.name);
        await deleteTag(db, t.id);
        return noContent();
      },
    }),
  ];
}
