// /v2/metadefs: the Metadata Definitions catalog (Glance's metadef API) — namespaces, resource types and the
// metadef schemas. Objects, properties and tags are in metadefs-contents.ts.
import { Type } from "@sinclair/typebox";
import { ApiError, badRequest, notFound } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Method, type Route } from "../../shared/http/route.js";
import type { ImageService } from "../service.js";
import {
  associationsOf,
  createAssociation,
  createNamespace,
  deleteAssociation,
  deleteContents,
  deleteNamespace,
  listNamespaces,
  listObjects,
  listProperties,
  listResourceTypes,
  listTags,
  namespaceIdsForResourceTypes,
  updateNamespace,
  type Namespace,
  type NamespaceContents,
  type PropertyDef,
} from "../store/metadefs.js";
import {
  afterMarker,
  associationView,
  bodyOf,
  callerProject,
  checkName,
  enforce,
  limitOf,
  loadNamespace,
  locationOf,
  namespaceView,
  objectView,
  propertiesView,
  sortDir,
  sortRows,
  toPropertyDef,
  unprotected,
  visible,
  resourceTypeView,
  type Ctx,
} from "./metadefs-common.js";
import { metadefContentRoutes } from "./metadefs-contents.js";
import { metadefSchemaDocs, validators } from "./metadefs-schemas.js";

const NS_READ_ONLY = ["self", "schema", "created_at", "updated_at"];
const RT_READ_ONLY = ["created_at", "updated_at"];
const SORT_KEYS = [
  "namespace",
  "display_name",
  "description",
  "visibility",
  "protected",
  "owner",
  "created_at",
  "updated_at",
];
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;

/** Any body: routes check JSON bodies themselves (Glance's order: read-only attributes 403, then schema 400). */
const AnyBody = Type.Unknown();

/** The contents a namespace create request carries, checked and normalised. */
function contentsOf(b: Record<string, any>): NamespaceContents {
  const c: NamespaceContents = {};
  if (b.properties !== undefined) {
    c.properties = {};
    for (const [name, def] of Object.entries(b.properties as Record<string, Record<string, unknown>>))
      c.properties[checkName("property", name)] = toPropertyDef(def);
  }
  if (b.objects !== undefined)
    c.objects = (b.objects as Array<Record<string, any>>).map((o) => {
      const properties: Record<string, PropertyDef> = {};
      for (const [name, def] of Object.entries(
        (o.properties ?? {}) as Record<string, Record<string, unknown>>,
      ))
        properties[checkName("property", name)] = toPropertyDef(def);
      return {
        name: checkName("object", o.name),
        description: o.description ?? null,
        required: o.required ?? null,
        properties,
      };
    });
  if (b.tags !== undefined)
    c.tags = (b.tags as Array<{ name?: unknown }>).map((t) => checkName("tag", t.name));
  if (b.resource_type_associations !== undefined)
    c.resource_type_associations = (b.resource_type_associations as Array<Record<string, any>>).map((a) => ({
      name: checkName("resource type", a.name),
      prefix: a.prefix === undefined || a.prefix === null ? null : checkName("prefix", a.prefix),
      properties_target:
        a.properties_target === undefined || a.properties_target === null
          ? null
          : checkName("properties_target", a.properties_target),
    }));
  return c;
}

/** A namespace with everything in it (GET /namespaces/{ns}), optionally with a resource type's prefix applied. */
async function namespaceDetail(
  svc: ImageService,
  ns: Namespace,
  only?: Set<string>,
  resourceType?: string,
): Promise<Record<string, unknown>> {
  const db = svc.core.db;
  const view: Record<string, unknown> = namespaceView(ns);
  const want = (k: string) => !only || only.has(k);
  const rts = want("resource_type_associations")
    ? ((await associationsOf(db, [ns.id])).get(ns.id) ?? [])
    : [];
  const prefix = resourceType ? (rts.find((a) => a.name === resourceType)?.prefix ?? "") : "";
  if (want("objects")) {
    const objects = await listObjects(db, ns.id);
    if (objects.length || only) view.objects = objects.map((o) => objectView(ns.namespace, o, prefix));
  }
  if (rts.length || (only && want("resource_type_associations")))
    view.resource_type_associations = rts.map(associationView);
  if (want("properties")) {
    const props = await listProperties(db, ns.id);
    if (props.length || only)
      view.properties = propertiesView(Object.fromEntries(props.map((p) => [p.name, p.schema])), prefix);
  }
  if (want("tags")) {
    const tags = await listTags(db, ns.id);
    if (tags.length || only)
      view.tags = [...tags]
        .sort((a, b) =>
          a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1,
        )
        .map((t) => ({ name: t.name }));
  }
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(view).sort()) sorted[k] = view[k];
  return sorted;
}

/** 405 routes for the methods a path does not support, with Glance's Allow header. */
function rejectOthers(path: string, allowed: Method[]): Route {
  const others = (["GET", "POST", "PUT", "PATCH", "DELETE"] as Method[]).filter((m) => !allowed.includes(m));
  return route({
    method: others,
    path,
    policy: null,
    auth: "required",
    handler: () => {
      throw new ApiError(405, "The method specified is not allowed for this resource.", {
        headers: { allow: allowed.join(", ") },
      });
    },
  });
}

/** Routes of /v2/metadefs and /v2/schemas/metadefs. */
export function metadefRoutes(svc: ImageService): Route[] {
  const db = svc.core.db;
  const NS = "/v2/metadefs/namespaces";

  const listNs = async (ctx: Ctx) => {
    const q = ctx.query as Record<string, string | undefined>;
    const limit = Math.min(limitOf(q.limit) ?? DEFAULT_LIMIT, MAX_LIMIT);
    const dir = sortDir(q.sort_dir);
    const key = q.sort_key ?? "created_at";
    if (!SORT_KEYS.includes(key)) throw badRequest(`Invalid sort key: ${key}`);
    if (q.visibility && q.visibility !== "public" && q.visibility !== "private")
      throw badRequest(`Invalid visibility value: ${q.visibility}`);
    enforce(ctx, "get_metadef_namespaces");
    enforce(ctx, "list_metadef_resource_types");
    let marker: Namespace | undefined;
    if (q.marker) marker = await loadNamespace(db, ctx, q.marker);
    let rows = (await listNamespaces(db)).filter((ns) => visible(ctx, ns));
    if (q.visibility) rows = rows.filter((ns) => ns.visibility === q.visibility);
    if (q.resource_types !== undefined) {
      const ids = await namespaceIdsForResourceTypes(
        db,
        q.resource_types
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      );
      rows = rows.filter((ns) => ids.has(ns.id));
    }
    rows = sortRows(rows, key, dir);
    if (marker) rows = afterMarker(rows, marker, key, dir);
    const page = rows
      .slice(0, limit)
      .filter((ns) =>
        ctx.allowed("get_metadef_namespace", { project_id: ns.owner, visibility: ns.visibility }),
      );
    const rts = await associationsOf(
      db,
      page.map((ns) => ns.id),
    );
    const params = new URLSearchParams(ctx.url.split("?")[1] ?? "");
    params.delete("marker");
    const query = params.toString();
    const body: Record<string, unknown> = {
      namespaces: page.map((ns) => {
        const v = namespaceView(ns);
        const a = rts.get(ns.id);
        if (a?.length) v.resource_type_associations = a.map(associationView);
        return Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1)));
      }),
      first: `${NS}${query ? `?${query}` : ""}`,
      schema: "/v2/schemas/metadefs/namespaces",
    };
    if (page.length && page.length === limit) {
      params.set("marker", page[page.length - 1].namespace);
      body.next = `${NS}?${params.toString()}`;
    }
    return body;
  };

  const schemaDocs = metadefSchemaDocs();

  return [
    route({ method: "GET", path: NS, policy: null, auth: "required", handler: listNs }),
    route({
      method: "POST",
      path: NS,
      policy: null,
      auth: "required",
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.namespace, "namespace", NS_READ_ONLY);
        const name = checkName("namespace", b.namespace);
        const contents = contentsOf(b);
        enforce(ctx, "add_metadef_namespace");
        if (contents.resource_type_associations?.length)
          enforce(ctx, "add_metadef_resource_type_association");
        if (contents.objects?.length) enforce(ctx, "add_metadef_object");
        if (contents.properties && Object.keys(contents.properties).length)
          enforce(ctx, "add_metadef_property");
        if (contents.tags?.length) enforce(ctx, "add_metadef_tag");
        const ns = await createNamespace(
          db,
          {
            namespace: name,
            display_name: b.display_name ?? null,
            description: b.description ?? null,
            visibility: b.visibility ?? "private",
            protected: b.protected ?? false,
            owner: b.owner ?? callerProject(ctx) ?? ctx.auth!.userId,
          },
          contents,
        );
        const sections = new Set(
          ["properties", "objects", "tags", "resource_type_associations"].filter((k) => b[k] !== undefined),
        );
        return reply(201, await namespaceDetail(svc, ns, sections), {
          location: locationOf(ctx, ns.namespace),
        });
      },
    }),
    route({
      method: "GET",
      path: `${NS}/:namespace`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "get_metadef_namespace", ns);
        for (const r of [
          "list_metadef_resource_types",
          "get_metadef_objects",
          "get_metadef_properties",
          "get_metadef_tags",
        ])
          enforce(ctx, r, ns);
        const rt = (ctx.query as Record<string, string | undefined>).resource_type;
        return namespaceDetail(svc, ns, undefined, rt || undefined);
      },
    }),
    route({
      method: "PUT",
      path: `${NS}/:namespace`,
      policy: null,
      auth: "required",
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.namespace, "namespace", NS_READ_ONLY);
        const name = checkName("namespace", b.namespace);
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "modify_metadef_namespace", ns);
        // Glance's update replaces the namespace's own attributes: what the body omits goes back to its default.
        const updated = await updateNamespace(db, ns, {
          namespace: name,
          display_name: b.display_name ?? null,
          description: b.description ?? null,
          visibility: b.visibility ?? "private",
          protected: b.protected ?? false,
          owner: b.owner ?? callerProject(ctx) ?? ctx.auth!.userId,
        });
        return namespaceView(updated);
      },
    }),
    route({
      method: "DELETE",
      path: `${NS}/:namespace`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "delete_metadef_namespace", ns);
        unprotected(ns, "namespace", ns.namespace);
        await deleteNamespace(db, ns.id);
        return noContent();
      },
    }),

    // ---- resource types ----
    route({
      method: "GET",
      path: "/v2/metadefs/resource_types",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        enforce(ctx, "list_metadef_resource_types");
        return { resource_types: (await listResourceTypes(db)).map(resourceTypeView) };
      },
    }),
    route({
      method: "GET",
      path: `${NS}/:namespace/resource_types`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "list_metadef_resource_types", ns);
        const list = ctx.allowed("get_metadef_resource_type", {
          project_id: ns.owner,
          visibility: ns.visibility,
        })
          ? ((await associationsOf(db, [ns.id])).get(ns.id) ?? [])
          : [];
        return { resource_type_associations: list.map(associationView) };
      },
    }),
    route({
      method: "POST",
      path: `${NS}/:namespace/resource_types`,
      policy: null,
      auth: "required",
      body: AnyBody,
      handler: async (ctx) => {
        const b = bodyOf(ctx, validators.resource_type, "resource_type_association", RT_READ_ONLY);
        const a = {
          name: checkName("resource type", b.name),
          prefix: b.prefix === undefined ? null : checkName("prefix", b.prefix),
          properties_target:
            b.properties_target === undefined ? null : checkName("properties_target", b.properties_target),
        };
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "add_metadef_resource_type_association", ns);
        return reply(201, associationView(await createAssociation(db, ns, a)));
      },
    }),
    route({
      method: "DELETE",
      path: `${NS}/:namespace/resource_types/:resource_type`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const ns = await loadNamespace(db, ctx, ctx.params.namespace);
        enforce(ctx, "remove_metadef_resource_type_association", ns);
        const name = ctx.params.resource_type;
        const list = (await associationsOf(db, [ns.id])).get(ns.id) ?? [];
        if (!list.some((a) => a.name === name))
          throw notFound(`Failed to find resource type ${name} to delete`);
        unprotected(ns, "resource-type-association", name);
        if (!(await deleteAssociation(db, ns, name)))
          throw notFound(`Failed to find resource type ${name} to delete`);
        return noContent();
      },
    }),

    // ---- bulk deletes of a namespace's contents (Glance routes them to the namespace controller) ----
    ...(["objects", "properties", "tags"] as const).map((what) =>
      route({
        method: "DELETE",
        path: `${NS}/:namespace/${what}`,
        policy: null,
        auth: "required",
        handler: async (ctx) => {
          const ns = await loadNamespace(db, ctx, ctx.params.namespace);
          enforce(ctx, "delete_metadef_namespace", ns);
          if (what === "tags") enforce(ctx, "delete_metadef_tags", ns);
          unprotected(ns, "namespace", ns.namespace);
          await deleteContents(db, ns.id, what);
          return noContent();
        },
      }),
    ),

    ...metadefContentRoutes(svc),

    // ---- schemas ----
    ...Object.entries(schemaDocs).map(([name, doc]) =>
      route({
        method: "GET",
        path: `/v2/schemas/metadefs/${name}`,
        policy: null,
        auth: "required",
        handler: () => doc,
      }),
    ),

    // ---- 405 for other methods, as Glance's router answers them ----
    rejectOthers(NS, ["GET", "POST"]),
    rejectOthers(`${NS}/:namespace`, ["GET", "PUT", "DELETE"]),
    rejectOthers("/v2/metadefs/resource_types", ["GET"]),
    rejectOthers(`${NS}/:namespace/resource_types`, ["GET", "POST"]),
    rejectOthers(`${NS}/:namespace/resource_types/:resource_type`, ["DELETE"]),
    rejectOthers(`${NS}/:namespace/objects`, ["GET", "POST", "DELETE"]),
    rejectOthers(`${NS}/:namespace/objects/:object_name`, ["GET", "PUT", "DELETE"]),
    rejectOthers(`${NS}/:namespace/properties`, ["GET", "POST", "DELETE"]),
    rejectOthers(`${NS}/:namespace/properties/:property_name`, ["GET", "PUT", "DELETE"]),
    rejectOthers(`${NS}/:namespace/tags`, ["GET", "POST", "DELETE"]),
    rejectOthers(`${NS}/:namespace/tags/:tag_name`, ["GET", "POST", "PUT", "DELETE"]),
    ...Object.keys(schemaDocs).map((name) => rejectOthers(`/v2/schemas/metadefs/${name}`, ["GET"])),
  ];
}
