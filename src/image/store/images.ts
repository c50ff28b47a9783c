import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from "kysely";
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import { ApiError, badRequest, conflict } from "../../shared/http/errors.js";
import type { ImageCore } from "../core.js";
import { dict, imageDb, num, type ImageTables } from "./tables.js";

/** Every status an image can have (Glance's state machine). */
export const IMAGE_STATUSES = [
  "queued",
  "saving",
  "active",
  "killed",
  "deleted",
  "uploading",
  "importing",
  "pending_delete",
  "deactivated",
] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/** Image visibilities. */
export const VISIBILITIES = ["community", "public", "private", "shared"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** An image as the service sees it. */
export interface Image {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: boolean;
  os_hidden: boolean;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number | null;
  virtual_size: number | null;
  min_disk: number;
  min_ram: number;
  disk_format: string | null;
  container_format: string | null;
  owner: string | null;
  /** Where the default store keeps the bytes (never shown to clients). */
  location: string | null;
  /** Store id holding the bytes ("file"), shown as `stores`. */
  store: string | null;
  created_at: string;
  updated_at: string;
  /** Custom ("extra") properties, string-valued; a prototype-less object. */
  properties: Record<string, string>;
  tags: string[];
}

/** Who asks, as the DB layer of Glance sees it: the project ("owner") and whether the caller is an admin. */
export interface Caller {
  projectId: string | null;
  userId: string | null;
  isAdmin: boolean;
}

type Row = ImageTables["image_image"];
type Eb = ExpressionBuilder<ImageTables & { i: Row }, "i">;

function fromRow(r: Row, props: Record<string, string>, tags: string[]): Image {
  return {
    id: r.id,
    name: r.name,
    status: r.status as ImageStatus,
    visibility: r.visibility as Visibility,
    protected: Number(r.protected) === 1,
    os_hidden: Number(r.os_hidden) === 1,
    checksum: r.checksum,
    os_hash_algo: r.os_hash_algo,
    os_hash_value: r.os_hash_value,
    size: num(r.size),
    virtual_size: num(r.virtual_size),
    min_disk: Number(r.min_disk),
    min_ram: Number(r.min_ram),
    disk_format: r.disk_format,
    container_format: r.container_format,
    owner: r.owner,
    location: r.location,
    store: r.store,
    created_at: r.created_at,
    updated_at: r.updated_at,
    properties: props,
    tags,
  };
}

/** The columns of an image as written to its row. */
function toRow(img: Image): Omit<Row, "deleted" | "deleted_at"> {
  return {
    id: img.id,
    name: img.name,
    status: img.status,
    visibility: img.visibility,
    protected: img.protected ? 1 : 0,
    os_hidden: img.os_hidden ? 1 : 0,
    checksum: img.checksum,
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    size: img.size,
    virtual_size: img.virtual_size,
    min_disk: img.min_disk,
    min_ram: img.min_ram,
    disk_format: img.disk_format,
    container_format: img.container_format,
    owner: img.owner,
    location: img.location,
    store: img.store,
    created_at: img.created_at,
    updated_at: img.updated_at,
  };
}

async function hydrate(core: ImageCore, rows: Row[]): Promise<Image[]> {
  const db = imageDb(core);
  const props = new Map<string, Record<string, string>>();
  const tags = new Map<string, string[]>();
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    for (const p of await db
      .selectFrom("image_property")
      .selectAll()
      .where("image_id", "in", chunk)
      .execute()) {
      let d = props.get(p.image_id);
      if (!d) props.set(p.image_id, (d = dict<string>()));
      d[p.name] = p.value ?? "";
    }
    const tagRows = await db
      .selectFrom("image_tag")
      .selectAll()
      .where("image_id", "in", chunk)
      .orderBy("value")
      .execute();
    for (const t of tagRows) tags.set(t.image_id, [...(tags.get(t.image_id) ?? []), t.value]);
  }
  return rows.map((r) => fromRow(r, props.get(r.id) ?? dict<string>(), tags.get(r.id) ?? []));
}

/** An image that is not deleted, or null (no visibility check). */
export async function findImage(core: ImageCore, id: string): Promise<Image | null> {
  if (id.length > 64) return null;
  const r = await imageDb(core)
    .selectFrom("image_image")
    .selectAll()
    .where("id", "=", id)
    .where("deleted", "=", 0)
    .executeTakeFirst();
  if (!r) return null;
  return (await hydrate(core, [r]))[0];
}

/** Whether an image exists at all, deleted ones included (ids are never reused). */
export async function imageIdTaken(core: ImageCore, id: string): Promise<boolean> {
  const r = await imageDb(core)
    .selectFrom("image_image")
    .select("id")
    .where("id", "=", id)
    .executeTakeFirst();
  return r !== undefined;
}

/** Glance's visibility rule: admins see everything; others public, community, their own, and shared with them. */
export async function isVisible(core: ImageCore, img: Image, caller: Caller): Promise<boolean> {
  if (caller.isAdmin || img.owner === null) return true;
  if (img.visibility === "public" || img.visibility === "community") return true;
  if (caller.projectId === null) return false;
  if (img.owner === caller.projectId) return true;
  if (img.visibility !== "shared") return false;
  const m = await imageDb(core)
    .selectFrom("image_member")
    .select("member")
    .where("image_id", "=", img.id)
    .where("member", "=", caller.projectId)
    .executeTakeFirst();
  return m !== undefined;
}

/** An image the caller can see, or 404 as Glance answers it. */
export async function getVisibleImage(core: ImageCore, id: string, caller: Caller): Promise<Image> {
  const img = await findImage(core, id);
  if (!img || !(await isVisible(core, img, caller))) throw new ApiError(404, `No image found with ID ${id}`);
  return img;
}

/** Insert a new image with its properties and tags; 409 if the id was ever used. */
export async function insertImage(core: ImageCore, img: Image): Promise<void> {
  try {
    const db = imageDb(core);
    // Already in a transaction (under the quota lock): write in it.
    const inTrx = (fn: (trx: Kysely<ImageTables>) => Promise<void>) =>
      db.isTransaction ? fn(db) : db.transaction().execute(fn);
    await inTrx(async (trx) => {
      await trx
        .insertInto("image_image")
        .values({ ...toRow(img), deleted: 0, deleted_at: null })
        .execute();
      const props = Object.entries(img.properties);
      if (props.length)
        await trx
          .insertInto("image_property")
          .values(props.map(([name, value]) => ({ image_id: img.id, name, value })))
          .execute();
      if (img.tags.length)
        await trx
          .insertInto("image_tag")
          .values(img.tags.map((value) => ({ image_id: img.id, value })))
          .execute();
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`Image with identifier ${img.id} already exists!`);
    throw e;
  }
}

/**
 * Write what a caller may change on an image: its metadata columns, and the custom properties and tags that differ
 * from `before` (the image as loaded), so concurrent changes to other properties or tags are not undone. Data
 * columns (status, size, checksums, location) only move with changeStatus. With `fromStatus`, only if the stored
 * status still is that (compare-and-set). Returns whether it was written.
 */
export async function saveImage(
  core: ImageCore,
  img: Image,
  before: Pick<Image, "properties" | "tags">,
  opts: { fromStatus?: ImageStatus } = {},
): Promise<boolean> {
  img.updated_at = nowIso();
  return imageDb(core)
    .transaction()
    .execute(async (trx) => {
      let q = trx
        .updateTable("image_image")
        .set({
          name: img.name,
          visibility: img.visibility,
          protected: img.protected ? 1 : 0,
          os_hidden: img.os_hidden ? 1 : 0,
          min_disk: img.min_disk,
          min_ram: img.min_ram,
          disk_format: img.disk_format,
          container_format: img.container_format,
          owner: img.owner,
          updated_at: img.updated_at,
        })
        .where("id", "=", img.id)
        .where("deleted", "=", 0);
      if (opts.fromStatus) q = q.where("status", "=", opts.fromStatus);
      const res = await q.executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return false;
      const has = (o: Record<string, string>, k: string) => Object.prototype.hasOwnProperty.call(o, k);
      for (const k of Object.keys(before.properties))
        if (!has(img.properties, k))
          await trx
            .deleteFrom("image_property")
            .where("image_id", "=", img.id)
            .where("name", "=", k)
            .execute();
      for (const [k, v] of Object.entries(img.properties)) {
        if (has(before.properties, k) && before.properties[k] === v) continue;
        await upsertProperty(core, trx, img.id, k, v);
      }
      const now = new Set(img.tags);
      const was = new Set(before.tags);
      const gone = [...was].filter((t) => !now.has(t));
      if (gone.length)
        await trx.deleteFrom("image_tag").where("image_id", "=", img.id).where("value", "in", gone).execute();
      for (const t of now) if (!was.has(t)) await insertTag(core, trx, img.id, t);
      return true;
    });
}

/** Set one property, whoever else sets it at the same time (no unique violation inside the transaction). */
async function upsertProperty(
  core: ImageCore,
  trx: Kysely<ImageTables>,
  id: string,
  name: string,
  value: string,
) {
  const row = { image_id: id, name, value };
  if (core.engine === "mysql")
    await trx.insertInto("image_property").values(row).onDuplicateKeyUpdate({ value }).execute();
  else
    await trx
      .insertInto("image_property")
      .values(row)
      .onConflict((oc) => oc.columns(["image_id", "name"]).doUpdateSet({ value }))
      .execute();
}

/** Add one tag unless it is there already. */
async function insertTag(core: ImageCore, trx: Kysely<ImageTables>, id: string, value: string) {
  const q = trx.insertInto("image_tag").values({ image_id: id, value });
  if (core.engine === "mysql") await q.ignore().execute();
  else await q.onConflict((oc) => oc.doNothing()).execute();
}

/** A snapshot of an image's properties and tags, to save changes against. */
export function snapshot(img: Image): Pick<Image, "properties" | "tags"> {
  return { properties: Object.assign(dict<string>(), img.properties), tags: [...img.tags] };
}

/** Columns a status change may set along with the status. */
export type StatusColumns = Partial<
  Pick<
    Row,
    | "size"
    | "virtual_size"
    | "checksum"
    | "os_hash_algo"
    | "os_hash_value"
    | "location"
    | "store"
    | "disk_format"
    | "container_format"
  >
>;

/** Move an image from one status to another if it still is in `from`; returns whether it moved. */
export async function changeStatus(
  core: ImageCore,
  id: string,
  from: ImageStatus | ImageStatus[],
  to: ImageStatus,
  cols: StatusColumns = {},
): Promise<boolean> {
  const froms = Array.isArray(from) ? from : [from];
  // Glance clears the size whenever an image goes back to queued.
  const extra: StatusColumns = to === "queued" ? { size: null, virtual_size: null, ...cols } : cols;
  const res = await imageDb(core)
    .updateTable("image_image")
    .set({ status: to, updated_at: nowIso(), ...extra })
    .where("id", "=", id)
    .where("deleted", "=", 0)
    .where("status", "in", froms)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Set (or, with null, remove) custom properties of an image without touching anything else. */
export async function setProperties(
  core: ImageCore,
  id: string,
  props: Record<string, string | null>,
): Promise<void> {
  const db = imageDb(core);
  await db.transaction().execute(async (trx) => {
    const live = await trx
      .selectFrom("image_image")
      .select("id")
      .where("id", "=", id)
      .where("deleted", "=", 0)
      .executeTakeFirst();
    if (!live) return;
    for (const [name, value] of Object.entries(props)) {
      await trx.deleteFrom("image_property").where("image_id", "=", id).where("name", "=", name).execute();
      if (value !== null)
        await trx.insertInto("image_property").values({ image_id: id, name, value }).execute();
    }
  });
}

/**
 * Mark an image deleted (the row stays so its id is never reused); its properties, tags and members go.
 * Returns where its data was (as stored at that moment), or undefined if the image was already gone.
 */
export async function markDeleted(
  core: ImageCore,
  id: string,
): Promise<{ location: string | null } | undefined> {
  return imageDb(core)
    .transaction()
    .execute(async (trx) => {
      let sel = trx
        .selectFrom("image_image")
        .select("location")
        .where("id", "=", id)
        .where("deleted", "=", 0);
      // Lock the row so an upload finishing right now cannot slip its location in between (SQLite serializes
      // transactions anyway and has no FOR UPDATE).
      if (core.engine !== "sqlite") sel = sel.forUpdate();
      const row = await sel.executeTakeFirst();
      if (!row) return undefined;
      const now = nowIso();
      const res = await trx
        .updateTable("image_image")
        .set({ status: "deleted", deleted: 1, deleted_at: now, updated_at: now, location: null })
        .where("id", "=", id)
        .where("deleted", "=", 0)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return undefined;
      await trx.deleteFrom("image_property").where("image_id", "=", id).execute();
      await trx.deleteFrom("image_tag").where("image_id", "=", id).execute();
      await trx.deleteFrom("image_member").where("image_id", "=", id).execute();
      return { location: row.location };
    });
}

/** Project usage the quotas are checked against. */
export interface Usage {
  /** Images owned (not deleted). */
  count: number;
  /** Images being uploaded, staged or imported. */
  uploading: number;
  /** Bytes of every owned image's data (including staged data). */
  size: number;
  /** Bytes in the staging area (images uploading or importing from staging). */
  staged: number;
}

/** Usage of a project. */
export async function projectUsage(core: ImageCore, owner: string): Promise<Usage> {
  const rows = await imageDb(core)
    .selectFrom("image_image")
    .select(["status", (eb) => eb.fn.countAll().as("n"), (eb) => eb.fn.sum("size").as("bytes")])
    .where("owner", "=", owner)
    .where("deleted", "=", 0)
    .groupBy("status")
    .execute();
  const u: Usage = { count: 0, uploading: 0, size: 0, staged: 0 };
  for (const r of rows) {
    const n = Number(r.n);
    const bytes = num(r.bytes) ?? 0;
    u.count += n;
    u.size += bytes;
    if (r.status === "saving" || r.status === "uploading" || r.status === "importing") u.uploading += n;
    if (r.status === "uploading" || r.status === "importing") u.staged += bytes;
  }
  return u;
}

// ---- listing -------------------------------------------------------------------------------------------------

/** Keys images can be sorted by (Glance's _available_sort_keys). */
export const SORT_KEYS = [
  "name",
  "status",
  "container_format",
  "disk_format",
  "size",
  "id",
  "created_at",
  "updated_at",
] as const;
export type SortKey = (typeof SORT_KEYS)[number];
const NUMERIC_SORT = new Set<string>(["size"]);

/** A comparison on a column. */
export type Cond =
  | { kind: "eq"; col: string; value: string | number | null }
  | { kind: "in"; col: string; values: string[] }
  | { kind: "cmp"; col: string; op: "<" | "<=" | ">" | ">=" | "=" | "<>"; value: string | number }
  | { kind: "prop"; name: string; value: string }
  | { kind: "tag"; value: string };

/** What a list asks for, already validated. */
export interface ListQuery {
  conds: Cond[];
  visibility: Visibility | "all" | undefined;
  memberStatus: "pending" | "accepted" | "rejected" | "all";
  sort: Array<{ key: SortKey; dir: "asc" | "desc" }>;
  limit: number;
  marker: string | undefined;
}

function colExpr(key: string): Expression<any> {
  return NUMERIC_SORT.has(key)
    ? sql`coalesce(${sql.ref(`i.${key}`)}, 0)`
    : sql`coalesce(${sql.ref(`i.${key}`)}, '')`;
}

function markerValue(img: Image, key: SortKey): string | number {
  const v = img[key];
  if (NUMERIC_SORT.has(key)) return typeof v === "number" ? v : 0;
  return typeof v === "string" ? v : "";
}

function condition(eb: Eb, c: Cond): Expression<SqlBool> {
  switch (c.kind) {
    case "eq":
      return c.value === null
        ? eb(sql.ref(`i.${c.col}`), "is", null)
        : eb(sql.ref(`i.${c.col}`), "=", c.value);
    case "in":
      return c.values.length ? eb(sql.ref(`i.${c.col}`), "in", c.values) : sql<SqlBool>`1 = 0`;
    case "cmp":
      return eb(sql.ref(`i.${c.col}`), c.op, c.value);
    case "prop":
      return eb.exists(
        eb
          .selectFrom("image_property as p")
          .select("p.image_id")
          .whereRef("p.image_id", "=", "i.id")
          .where("p.name", "=", c.name)
          .where("p.value", "=", c.value),
      );
    case "tag":
      return eb.exists(
        eb
          .selectFrom("image_tag as t")
          .select("t.image_id")
          .whereRef("t.image_id", "=", "i.id")
          .where("t.value", "=", c.value),
      );
  }
}

/**
 * List the images a caller may see, as Glance's DB layer does: public and community images, the caller's own,
 * and shared images the caller is a member of with `memberStatus`; admins see all. Community images of others
 * only appear when asked for by visibility. Sorted with created_at and id as tie-breakers, paged by marker.
 */
export async function listImages(core: ImageCore, caller: Caller, q: ListQuery): Promise<Image[]> {
  const db = imageDb(core);
  const sort = [...q.sort];
  const defaultDir = sort.length ? sort[sort.length - 1].dir : "desc";
  for (const key of ["created_at", "id"] as const)
    if (!sort.some((s) => s.key === key)) sort.push({ key, dir: q.sort.length ? defaultDir : "desc" });
  let marker: Image | null = null;
  if (q.marker !== undefined) {
    marker = await findImage(core, q.marker);
    if (!marker || !(await isVisible(core, marker, caller)))
      throw badRequest(`No image found with ID ${q.marker}`);
  }
  const P = caller.projectId;
  let query = db
    .selectFrom("image_image as i")
    .selectAll("i")
    .where("i.deleted", "=", 0)
    .where("i.status", "<>", "killed");
  if (q.conds.length)
    query = query.where((eb) => eb.and(q.conds.map((c) => condition(eb as unknown as Eb, c))));
  if (!caller.isAdmin)
    query = query.where((eb) => {
      const ors: Expression<SqlBool>[] = [eb("i.visibility", "in", ["public", "community"])];
      if (P !== null) {
        ors.push(eb("i.owner", "=", P));
        let members = eb
          .selectFrom("image_member as m")
          .select("m.image_id")
          .whereRef("m.image_id", "=", "i.id")
          .where("m.member", "=", P);
        if (q.memberStatus !== "all") members = members.where("m.status", "=", q.memberStatus);
        ors.push(eb.and([eb("i.visibility", "=", "shared"), eb.exists(members)]));
      }
      return eb.or(ors);
    });
  if (q.visibility !== undefined) {
    if (q.visibility !== "all") query = query.where("i.visibility", "=", q.visibility);
  } else if (P === null) query = query.where("i.visibility", "<>", "community");
  else query = query.where((eb) => eb.or([eb("i.owner", "=", P), eb("i.visibility", "<>", "community")]));
  if (marker) {
    const m = marker;
    query = query.where((eb) =>
      eb.or(
        sort.map((s, i) => {
          const ands: Expression<SqlBool>[] = [];
          for (let j = 0; j < i; j++) ands.push(eb(colExpr(sort[j].key), "=", markerValue(m, sort[j].key)));
          ands.push(eb(colExpr(s.key), s.dir === "desc" ? "<" : ">", markerValue(m, s.key)));
          return eb.and(ands);
        }),
      ),
    );
  }
  for (const s of sort) query = query.orderBy(colExpr(s.key), s.dir);
  const rows = (await query.limit(q.limit).execute()) as Row[];
  return hydrate(core, rows);
}

/** Ids of images that are staged or being imported (for cleanup after a restart). */
export async function imagesInStatus(core: ImageCore, statuses: ImageStatus[]): Promise<Image[]> {
  const rows = await imageDb(core)
    .selectFrom("image_image")
    .selectAll()
    .where("deleted", "=", 0)
    .where("status", "in", statuses)
    .execute();
  return hydrate(core, rows);
}

/** The number of custom properties of an image. */
export const propertyCount = (img: Image): number => Object.keys(img.properties).length;
