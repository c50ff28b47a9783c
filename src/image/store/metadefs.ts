// Storage of the Metadata Definitions catalog: namespaces and what they contain (objects, properties, tags and
// resource type associations), plus the global list of resource types. Access control is the API's business;
// these functions only answer what is stored and translate unique violations into 409s.
import { randomBytes } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import { isUniqueViolation, nowIso, fromDbBool, toDbBool } from "../../shared/db/index.js";
import { conflict, notFound } from "../../shared/http/errors.js";

/** Row shapes of the metadef tables (booleans 0/1, JSON as text, ISO times). */
export interface MetadefTables {
  image_metadef_namespace: {
    id: string;
    namespace: string;
    display_name: string | null;
    description: string | null;
    visibility: string;
    protected: number;
    owner: string;
    created_at: string;
    updated_at: string | null;
  };
  image_metadef_object: {
    id: string;
    namespace_id: string;
    name: string;
    description: string | null;
    required: string | null;
    json_schema: string;
    created_at: string;
    updated_at: string | null;
  };
  image_metadef_property: {
    id: string;
    namespace_id: string;
    name: string;
    json_schema: string;
    created_at: string;
    updated_at: string | null;
  };
  image_metadef_tag: {
    id: string;
    namespace_id: string;
    name: string;
    created_at: string;
    updated_at: string | null;
  };
  image_metadef_resource_type: {
    id: string;
    name: string;
    protected: number;
    created_at: string;
    updated_at: string | null;
  };
  image_metadef_ns_resource_type: {
    namespace_id: string;
    resource_type_id: string;
    prefix: string | null;
    properties_target: string | null;
    created_at: string;
    updated_at: string | null;
  };
  image_metadef_seeded: { namespace: string; seeded_at: string };
}

type Db = Kysely<MetadefTables>;
type Tx = Transaction<MetadefTables>;

/** A property definition: a small JSON schema (type, title, enum, minimum, ...), stored without its name. */
export type PropertyDef = Record<string, unknown>;

/** A namespace as stored. */
export interface Namespace {
  id: string;
  namespace: string;
  display_name: string | null;
  description: string | null;
  visibility: string;
  protected: boolean;
  owner: string;
  created_at: string;
  updated_at: string | null;
}

/** An object: a named group of property definitions. */
export interface MetaObject {
  id: string;
  name: string;
  description: string | null;
  required: string[] | null;
  properties: Record<string, PropertyDef>;
  created_at: string;
  updated_at: string | null;
}

/** A property definition of a namespace. */
export interface MetaProperty {
  id: string;
  name: string;
  schema: PropertyDef;
  created_at: string;
  updated_at: string | null;
}

/** A tag definition of a namespace. */
export interface MetaTag {
  id: string;
  name: string;
  created_at: string;
  updated_at: string | null;
}

/** A resource type (OS::Glance::Image, OS::Nova::Flavor, ...). */
export interface ResourceType {
  id: string;
  name: string;
  protected: boolean;
  created_at: string;
  updated_at: string | null;
}

/** A namespace's association with a resource type. */
export interface Association {
  namespace_id: string;
  name: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: string;
  updated_at: string | null;
}

/** What a new namespace may carry along. */
export interface NamespaceContents {
  properties?: Record<string, PropertyDef>;
  objects?: Array<{
    name: string;
    description?: string | null;
    required?: string[] | null;
    properties?: Record<string, PropertyDef>;
  }>;
  tags?: string[];
  resource_type_associations?: Array<{
    name: string;
    prefix?: string | null;
    properties_target?: string | null;
  }>;
}

let lastMs = 0;
let seq = 0;

/**
 * A new row id that sorts in creation order (a UUIDv7-like layout: milliseconds, a per-process counter, random
 * bits), so rows created in the same millisecond keep their order when listed — like Glance's integer ids.
 */
export function orderedId(): string {
  const now = Math.max(Date.now(), lastMs);
  if (now === lastMs) seq++;
  else seq = 0;
  lastMs = now;
  if (seq > 0xffff) {
    lastMs = now + 1;
    seq = 0;
  }
  const hex =
    lastMs.toString(16).padStart(12, "0") +
    seq.toString(16).padStart(4, "0") +
    randomBytes(8).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const parseJson = <T>(s: string | null, fallback: T): T => {
  if (s === null || s === "") return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
};

const db = (k: Kysely<any>): Db => k as Db;

function toNamespace(r: MetadefTables["image_metadef_namespace"]): Namespace {
  return {
    id: r.id,
    namespace: r.namespace,
    display_name: r.display_name,
    description: r.description,
    visibility: r.visibility,
    protected: fromDbBool(r.protected),
    owner: r.owner,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

// ---- messages (404 / 409), in the words Glance's exceptions use ----

export const namespaceNotFound = (ns: string) =>
  notFound(`Metadata definition namespace=${ns} was not found.`);
const duplicateNamespace = (ns: string) =>
  conflict(`The metadata definition namespace=${ns} already exists.`);
const duplicateIn = (what: string, name: string, ns: string) =>
  conflict(`A metadata definition ${what} with name=${name} already exists in namespace=${ns}.`);
export const notFoundIn = (what: string, name: string, ns: string) =>
  notFound(`The metadata definition ${what} with name=${name} was not found in namespace=${ns}.`);
const duplicateAssociation = (rt: string, ns: string) =>
  conflict(
    `The metadata definition resource-type association of resource-type=${rt} to namespace=${ns}, already exists.`,
  );

/** Run `fn`, turning a unique violation into the given error. */
async function unique<T>(fn: () => Promise<T>, err: () => Error): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) throw err();
    throw e;
  }
}

// ---- namespaces ----

/** Every namespace (the API filters by visibility, sorts and pages: the catalog is small). */
export async function listNamespaces(k: Kysely<any>): Promise<Namespace[]> {
  return (await db(k).selectFrom("image_metadef_namespace").selectAll().execute()).map(toNamespace);
}

/** Ids of the namespaces associated with any of these resource types. */
export async function namespaceIdsForResourceTypes(k: Kysely<any>, names: string[]): Promise<Set<string>> {
  if (!names.length) return new Set();
  const rows = await db(k)
    .selectFrom("image_metadef_ns_resource_type as a")
    .innerJoin("image_metadef_resource_type as rt", "rt.id", "a.resource_type_id")
    .select("a.namespace_id")
    .where("rt.name", "in", names)
    .execute();
  return new Set(rows.map((r) => r.namespace_id));
}

/** A namespace by its name, or null. */
export async function findNamespace(k: Kysely<any>, name: string): Promise<Namespace | null> {
  const r = await db(k)
    .selectFrom("image_metadef_namespace")
    .selectAll()
    .where("namespace", "=", name)
    .executeTakeFirst();
  return r ? toNamespace(r) : null;
}

async function insertContents(tx: Tx, ns: Namespace, c: NamespaceContents, now: string): Promise<void> {
  for (const a of c.resource_type_associations ?? []) await insertAssociation(tx, ns, a, now);
  for (const o of c.objects ?? [])
    await unique(
      () =>
        tx
          .insertInto("image_metadef_object")
          .values({
            id: orderedId(),
            namespace_id: ns.id,
            name: o.name,
            description: o.description ?? null,
            required: o.required === undefined || o.required === null ? null : JSON.stringify(o.required),
            json_schema: JSON.stringify(o.properties ?? {}),
            created_at: now,
            updated_at: now,
          })
          .execute(),
      () => duplicateIn("object", o.name, ns.namespace),
    );
  for (const t of c.tags ?? [])
    await unique(
      () =>
        tx
          .insertInto("image_metadef_tag")
          .values({ id: orderedId(), namespace_id: ns.id, name: t, created_at: now, updated_at: now })
          .execute(),
      () => duplicateTag(t, ns.namespace),
    );
  for (const [name, schema] of Object.entries(c.properties ?? {}))
    await unique(
      () =>
        tx
          .insertInto("image_metadef_property")
          .values({
            id: orderedId(),
            namespace_id: ns.id,
            name,
            json_schema: JSON.stringify(schema),
            created_at: now,
            updated_at: now,
          })
          .execute(),
      () => duplicateIn("property", name, ns.namespace),
    );
}

/** Create a namespace with its contents, all or nothing; 409 on any duplicate. */
export async function createNamespace(
  k: Kysely<any>,
  input: Omit<Namespace, "id" | "created_at" | "updated_at">,
  contents: NamespaceContents = {},
  now = nowIso(),
): Promise<Namespace> {
  const ns: Namespace = { ...input, id: orderedId(), created_at: now, updated_at: now };
  await unique(
    () =>
      db(k)
        .transaction()
        .execute(async (tx) => {
          await unique(
            () =>
              tx
                .insertInto("image_metadef_namespace")
                .values({ ...ns, protected: toDbBool(ns.protected) })
                .execute(),
            () => duplicateNamespace(ns.namespace),
          );
          await insertContents(tx, ns, contents, now);
        }),
    () => duplicateNamespace(ns.namespace),
  );
  return ns;
}

/** Replace a namespace's own attributes (its contents stay); 409 if renamed onto another namespace. */
export async function updateNamespace(
  k: Kysely<any>,
  ns: Namespace,
  patch: Pick<Namespace, "namespace" | "display_name" | "description" | "visibility" | "protected" | "owner">,
): Promise<Namespace> {
  const updated_at = nowIso();
  await unique(
    () =>
      db(k)
        .updateTable("image_metadef_namespace")
        .set({ ...patch, protected: toDbBool(patch.protected), updated_at })
        .where("id", "=", ns.id)
        .execute(),
    () =>
      conflict(
        `Invalid update. It would result in a duplicate metadata definition namespace with the same name of ${patch.namespace}`,
      ),
  );
  return { ...ns, ...patch, updated_at };
}

/** Delete a namespace and everything in it. */
export async function deleteNamespace(k: Kysely<any>, id: string): Promise<void> {
  await db(k)
    .transaction()
    .execute(async (tx) => {
      for (const t of [
        "image_metadef_object",
        "image_metadef_property",
        "image_metadef_tag",
        "image_metadef_ns_resource_type",
      ] as const)
        await tx.deleteFrom(t).where("namespace_id", "=", id).execute();
      await tx.deleteFrom("image_metadef_namespace").where("id", "=", id).execute();
    });
}

/** Delete all objects, properties or tags of a namespace. */
export async function deleteContents(
  k: Kysely<any>,
  id: string,
  what: "objects" | "properties" | "tags",
): Promise<void> {
  const table = {
    objects: "image_metadef_object",
    properties: "image_metadef_property",
    tags: "image_metadef_tag",
  }[what] as "image_metadef_object" | "image_metadef_property" | "image_metadef_tag";
  await db(k).deleteFrom(table).where("namespace_id", "=", id).execute();
}

// ---- objects ----

function toObject(r: MetadefTables["image_metadef_object"]): MetaObject {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    required: parseJson<string[] | null>(r.required, null),
    properties: parseJson<Record<string, PropertyDef>>(r.json_schema, {}),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** A namespace's objects in creation order. */
export async function listObjects(k: Kysely<any>, nsId: string): Promise<MetaObject[]> {
  const rows = await db(k)
    .selectFrom("image_metadef_object")
    .selectAll()
    .where("namespace_id", "=", nsId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(toObject);
}

/** An object by name, or 404. */
export async function getObject(k: Kysely<any>, ns: Namespace, name: string): Promise<MetaObject> {
  const r = await db(k)
    .selectFrom("image_metadef_object")
    .selectAll()
    .where("namespace_id", "=", ns.id)
    .where("name", "=", name)
    .executeTakeFirst();
  if (!r) throw notFoundIn("object", name, ns.namespace);
  return toObject(r);
}

/** Create an object; 409 on a duplicate name in the namespace. */
export async function createObject(
  k: Kysely<any>,
  ns: Namespace,
  o: {
    name: string;
    description: string | null;
    required: string[] | null;
    properties: Record<string, PropertyDef>;
  },
): Promise<MetaObject> {
  const now = nowIso();
  const row = {
    id: orderedId(),
    namespace_id: ns.id,
    name: o.name,
    description: o.description,
    required: o.required === null ? null : JSON.stringify(o.required),
    json_schema: JSON.stringify(o.properties),
    created_at: now,
    updated_at: now,
  };
  await unique(
    () => db(k).insertInto("image_metadef_object").values(row).execute(),
    () => duplicateIn("object", o.name, ns.namespace),
  );
  return toObject(row);
}

/** Replace an object's definition (rename included); 409 if the new name is taken. */
export async function updateObject(
  k: Kysely<any>,
  ns: Namespace,
  old: MetaObject,
  o: {
    name: string;
    description: string | null;
    required: string[] | null;
    properties: Record<string, PropertyDef>;
  },
): Promise<MetaObject> {
  const updated_at = nowIso();
  await unique(
    () =>
      db(k)
        .updateTable("image_metadef_object")
        .set({
          name: o.name,
          description: o.description,
          required: o.required === null ? null : JSON.stringify(o.required),
          json_schema: JSON.stringify(o.properties),
          updated_at,
        })
        .where("id", "=", old.id)
        .execute(),
    () => duplicateIn("object", o.name, ns.namespace),
  );
  return { ...old, ...o, updated_at };
}

/** Delete one object by id. */
export async function deleteObject(k: Kysely<any>, id: string): Promise<void> {
  await db(k).deleteFrom("image_metadef_object").where("id", "=", id).execute();
}

// ---- properties ----

function toProperty(r: MetadefTables["image_metadef_property"]): MetaProperty {
  return {
    id: r.id,
    name: r.name,
    schema: parseJson<PropertyDef>(r.json_schema, {}),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** A namespace's properties in creation order. */
export async function listProperties(k: Kysely<any>, nsId: string): Promise<MetaProperty[]> {
  const rows = await db(k)
    .selectFrom("image_metadef_property")
    .selectAll()
    .where("namespace_id", "=", nsId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(toProperty);
}

/** A property by name, or 404. */
export async function getProperty(k: Kysely<any>, ns: Namespace, name: string): Promise<MetaProperty> {
  const r = await db(k)
    .selectFrom("image_metadef_property")
    .selectAll()
    .where("namespace_id", "=", ns.id)
    .where("name", "=", name)
    .executeTakeFirst();
  if (!r) throw notFoundIn("property", name, ns.namespace);
  return toProperty(r);
}

/** Create a property; 409 on a duplicate name in the namespace. */
export async function createProperty(
  k: Kysely<any>,
  ns: Namespace,
  name: string,
  schema: PropertyDef,
): Promise<MetaProperty> {
  const now = nowIso();
  const row = {
    id: orderedId(),
    namespace_id: ns.id,
    name,
    json_schema: JSON.stringify(schema),
    created_at: now,
    updated_at: now,
  };
  await unique(
    () => db(k).insertInto("image_metadef_property").values(row).execute(),
    () => duplicateIn("property", name, ns.namespace),
  );
  return toProperty(row);
}

/** Replace a property's definition (rename included); 409 if the new name is taken. */
export async function updateProperty(
  k: Kysely<any>,
  ns: Namespace,
  old: MetaProperty,
  name: string,
  schema: PropertyDef,
): Promise<MetaProperty> {
  const updated_at = nowIso();
  await unique(
    () =>
      db(k)
        .updateTable("image_metadef_property")
        .set({ name, json_schema: JSON.stringify(schema), updated_at })
        .where("id", "=", old.id)
        .execute(),
    () => duplicateIn("property", name, ns.namespace),
  );
  return { ...old, name, schema, updated_at };
}

/** Delete one property by id. */
export async function deleteProperty(k: Kysely<any>, id: string): Promise<void> {
  await db(k).deleteFrom("image_metadef_property").where("id", "=", id).execute();
}

// ---- tags ----

const duplicateTag = (name: string, ns: string) =>
  conflict(`A metadata tag with name=${name} already exists in namespace=${ns}.`);

/** A namespace's tags (unsorted; the API sorts and pages). */
export async function listTags(k: Kysely<any>, nsId: string): Promise<MetaTag[]> {
  return db(k)
    .selectFrom("image_metadef_tag")
    .select(["id", "name", "created_at", "updated_at"])
    .where("namespace_id", "=", nsId)
    .execute();
}

/** A tag by name, or 404. */
export async function getTag(k: Kysely<any>, ns: Namespace, name: string): Promise<MetaTag> {
  const r = await db(k)
    .selectFrom("image_metadef_tag")
    .select(["id", "name", "created_at", "updated_at"])
    .where("namespace_id", "=", ns.id)
    .where("name", "=", name)
    .executeTakeFirst();
  if (!r) throw notFoundIn("tag", name, ns.namespace);
  return r;
}

/** Create one tag; 409 if it exists. */
export async function createTag(k: Kysely<any>, ns: Namespace, name: string): Promise<MetaTag> {
  const now = nowIso();
  const row = { id: orderedId(), namespace_id: ns.id, name, created_at: now, updated_at: now };
  await unique(
    () => db(k).insertInto("image_metadef_tag").values(row).execute(),
    () => duplicateTag(name, ns.namespace),
  );
  return { id: row.id, name, created_at: now, updated_at: now };
}

/** Create several tags at once, replacing the existing ones unless `append`; all or nothing (409 on a duplicate). */
export async function createTags(
  k: Kysely<any>,
  ns: Namespace,
  names: string[],
  append: boolean,
): Promise<MetaTag[]> {
  const now = nowIso();
  const out: MetaTag[] = [];
  if (!names.length) return out;
  await db(k)
    .transaction()
    .execute(async (tx) => {
      if (!append) await tx.deleteFrom("image_metadef_tag").where("namespace_id", "=", ns.id).execute();
      const seen = new Set<string>();
      for (const name of names) {
        if (seen.has(name)) throw duplicateTag(name, ns.namespace);
        seen.add(name);
        const row = { id: orderedId(), namespace_id: ns.id, name, created_at: now, updated_at: now };
        await unique(
          () => tx.insertInto("image_metadef_tag").values(row).execute(),
          () => duplicateTag(name, ns.namespace),
        );
        out.push({ id: row.id, name, created_at: now, updated_at: now });
      }
    });
  return out;
}

/** Rename a tag; 409 if the new name is taken. */
export async function renameTag(k: Kysely<any>, ns: Namespace, old: MetaTag, name: string): Promise<MetaTag> {
  const updated_at = nowIso();
  await unique(
    () => db(k).updateTable("image_metadef_tag").set({ name, updated_at }).where("id", "=", old.id).execute(),
    () => duplicateTag(name, ns.namespace),
  );
  return { ...old, name, updated_at };
}

/** Delete one tag by id. */
export async function deleteTag(k: Kysely<any>, id: string): Promise<void> {
  await db(k).deleteFrom("image_metadef_tag").where("id", "=", id).execute();
}

// ---- resource types and associations ----

/** Every resource type, in creation order. */
export async function listResourceTypes(k: Kysely<any>): Promise<ResourceType[]> {
  const rows = await db(k)
    .selectFrom("image_metadef_resource_type")
    .selectAll()
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ ...r, protected: fromDbBool(r.protected) }));
}

/** The resource type of this name, created if missing (created ones are protected when seeded). */
async function ensureResourceType(
  tx: Tx | Db,
  name: string,
  now: string,
  isProtected: boolean,
): Promise<string> {
  const find = () =>
    tx.selectFrom("image_metadef_resource_type").select("id").where("name", "=", name).executeTakeFirst();
  const found = await find();
  if (found) return found.id;
  const id = orderedId();
  try {
    await tx
      .insertInto("image_metadef_resource_type")
      .values({ id, name, protected: toDbBool(isProtected), created_at: now, updated_at: now })
      .execute();
    return id;
  } catch (e) {
    // Created concurrently by another request (outside a transaction the row is visible now).
    if (isUniqueViolation(e)) {
      const again = await find();
      if (again) return again.id;
    }
    throw e;
  }
}

/** Ensure a resource type exists (seeding). */
export async function ensureResourceTypes(
  k: Kysely<any>,
  names: string[],
  isProtected: boolean,
): Promise<void> {
  const now = nowIso();
  for (const n of names) await ensureResourceType(db(k), n, now, isProtected);
}

async function insertAssociation(
  tx: Tx | Db,
  ns: Namespace,
  a: { name: string; prefix?: string | null; properties_target?: string | null },
  now: string,
  rtProtected = false,
): Promise<Association> {
  const rtId = await ensureResourceType(tx, a.name, now, rtProtected);
  const row = {
    namespace_id: ns.id,
    resource_type_id: rtId,
    prefix: a.prefix ?? null,
    properties_target: a.properties_target ?? null,
    created_at: now,
    updated_at: now,
  };
  await unique(
    () => tx.insertInto("image_metadef_ns_resource_type").values(row).execute(),
    () => duplicateAssociation(a.name, ns.namespace),
  );
  return {
    namespace_id: ns.id,
    name: a.name,
    prefix: row.prefix,
    properties_target: row.properties_target,
    created_at: now,
    updated_at: now,
  };
}

/** Associate a resource type (created if new) with a namespace; 409 if already associated. */
export async function createAssociation(
  k: Kysely<any>,
  ns: Namespace,
  a: { name: string; prefix?: string | null; properties_target?: string | null },
): Promise<Association> {
  const now = nowIso();
  // A unique violation that escapes is the resource type being created by a concurrent request.
  return unique(
    () =>
      db(k)
        .transaction()
        .execute((tx) => insertAssociation(tx, ns, a, now)),
    () => duplicateAssociation(a.name, ns.namespace),
  );
}

/** Resource type associations of these namespaces, by namespace id, in creation order. */
export async function associationsOf(k: Kysely<any>, nsIds: string[]): Promise<Map<string, Association[]>> {
  const out = new Map<string, Association[]>();
  if (!nsIds.length) return out;
  const rows: Array<{
    namespace_id: string;
    name: string;
    prefix: string | null;
    properties_target: string | null;
    created_at: string;
    updated_at: string | null;
    rt_id: string;
  }> = [];
  // Chunked: IN lists stay well below every engine's parameter limit.
  for (let i = 0; i < nsIds.length; i += 500)
    rows.push(
      ...(await db(k)
        .selectFrom("image_metadef_ns_resource_type as a")
        .innerJoin("image_metadef_resource_type as rt", "rt.id", "a.resource_type_id")
        .select([
          "a.namespace_id",
          "rt.name",
          "rt.id as rt_id",
          "a.prefix",
          "a.properties_target",
          "a.created_at",
          "a.updated_at",
        ])
        .where("a.namespace_id", "in", nsIds.slice(i, i + 500))
        .execute()),
    );
  rows.sort((a, b) =>
    a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.rt_id < b.rt_id ? -1 : 1,
  );
  for (const { rt_id: _rt, ...r } of rows) {
    const list = out.get(r.namespace_id) ?? [];
    list.push(r);
    out.set(r.namespace_id, list);
  }
  return out;
}

/** Remove one association; false when the namespace has no association with that resource type. */
export async function deleteAssociation(k: Kysely<any>, ns: Namespace, rtName: string): Promise<boolean> {
  const rt = await db(k)
    .selectFrom("image_metadef_resource_type")
    .select("id")
    .where("name", "=", rtName)
    .executeTakeFirst();
  if (!rt) return false;
  const r = await db(k)
    .deleteFrom("image_metadef_ns_resource_type")
    .where("namespace_id", "=", ns.id)
    .where("resource_type_id", "=", rt.id)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

// ---- seeding ----

/** Names of the default-catalog namespaces that were seeded at some point. */
export async function seededNamespaces(k: Kysely<any>): Promise<Set<string>> {
  const rows = await db(k).selectFrom("image_metadef_seeded").select("namespace").execute();
  return new Set(rows.map((r) => r.namespace));
}

/**
 * Seed one namespace of the default catalog unless it was seeded before or a namespace of that name exists;
 * resource types it creates are protected. Returns whether it was created. Safe against a concurrent seeder.
 */
export async function seedNamespace(
  k: Kysely<any>,
  input: Omit<Namespace, "id" | "created_at" | "updated_at">,
  contents: NamespaceContents,
): Promise<boolean> {
  const now = nowIso();
  try {
    return await db(k)
      .transaction()
      .execute(async (tx) => {
        await tx
          .insertInto("image_metadef_seeded")
          .values({ namespace: input.namespace, seeded_at: now })
          .execute();
        const exists = await tx
          .selectFrom("image_metadef_namespace")
          .select("id")
          .where("namespace", "=", input.namespace)
          .executeTakeFirst();
        if (exists) return false;
        const ns: Namespace = { ...input, id: orderedId(), created_at: now, updated_at: now };
        await tx
          .insertInto("image_metadef_namespace")
          .values({ ...ns, protected: toDbBool(ns.protected) })
          .execute();
        for (const a of contents.resource_type_associations ?? [])
          await insertAssociation(tx, ns, a, now, true);
        await insertContents(tx, ns, { ...contents, resource_type_associations: [] }, now);
        return true;
      });
  } catch (e) {
    if (e instanceof Error && "status" in e) throw e;
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}
