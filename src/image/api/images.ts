import { nowIso } from "../../shared/db/index.js";
import { ApiError, badRequest, forbidden } from "../../shared/http/errors.js";
import { parseJsonBody } from "../../shared/http/json.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { ImageCore } from "../core.js";
import { deleteStagedData } from "../data.js";
import { enabledImportMethods } from "../import.js";
import { enforceImageCount, enforcePerImage, underQuota } from "../quotas.js";
import {
  SORT_KEYS,
  VISIBILITIES,
  changeStatus,
  insertImage,
  listImages,
  markDeleted,
  saveImage,
  snapshot,
  type Caller,
  type Cond,
  type Image,
  type ListQuery,
  type SortKey,
  type Visibility,
} from "../store/images.js";
import { dict } from "../store/tables.js";
import {
  callerOf,
  enforceImage,
  imageAllowed,
  imageTarget,
  loadImage,
  mediaType,
  policyForbidden,
  queryPairs,
} from "./common.js";
import { imageSchemaError } from "./schemas.js";
import { renderImage } from "./view.js";

type Ctx = RequestCtx<any, any, any>;

/** Attributes a create body may not carry at all (Glance's _disallowed_properties). */
const DISALLOWED = ["direct_url", "self", "file", "schema", "stores"];
/** Attributes only the service sets. */
const READONLY = [
  "created_at",
  "updated_at",
  "status",
  "checksum",
  "size",
  "virtual_size",
  "direct_url",
  "self",
  "file",
  "schema",
  "id",
  "os_hash_algo",
  "os_hash_value",
];
/** Custom property names nobody may use. */
const RESERVED = ["location", "deleted", "deleted_at"];
/** Properties in this namespace belong to Glance itself. */
const RESERVED_NS = "os_glance";
/** Keys of a create body that are image attributes rather than custom properties. */
const BASE = [
  "checksum",
  "created_at",
  "container_format",
  "disk_format",
  "id",
  "min_disk",
  "min_ram",
  "name",
  "size",
  "virtual_size",
  "status",
  "tags",
  "owner",
  "updated_at",
  "visibility",
  "protected",
  "os_hidden",
];
/** Attributes PATCH may set. */
const WRITABLE = new Set([
  "name",
  "visibility",
  "protected",
  "os_hidden",
  "min_disk",
  "min_ram",
  "owner",
  "disk_format",
  "container_format",
  "tags",
]);
/** Names of the domain object that are neither writable attributes nor custom properties. */
const INTERNAL = new Set(["image_id", "member", "extra_properties", "locations"]);

const PATCH_TYPES = new Map<string, 4 | 10>(
  Object.entries({
    "application/openstack-images-v2.0-json-patch": 4,
    "application/openstack-images-v2.1-json-patch": 10,
  }),
);

const isReserved = (key: string): boolean => RESERVED.includes(key) || key.startsWith(RESERVED_NS);

/** The JSON body of a request: parsed by the framework, or (any other media type) parsed here as Glance does. */
function jsonBody(ctx: Ctx): unknown {
  const b = ctx.body;
  if (Buffer.isBuffer(b)) {
    if (b.length === 0) return undefined;
    return parseJsonBody(b.toString("utf8"), "Malformed JSON in request body.");
  }
  return b;
}

/** Check visibility-changing rules (publicize_image, communitize_image) for a target. */
function enforceVisibility(ctx: Ctx, visibility: unknown, target: Record<string, unknown>): void {
  const rule =
    visibility === "public" ? "publicize_image" : visibility === "community" ? "communitize_image" : null;
  if (rule && !ctx.allowed(rule, target)) throw policyForbidden(rule);
}

const INT_MAX = 2 ** 31 - 1;

function checkNonNegative(name: string, v: unknown): void {
  if (typeof v === "number" && v < 0)
    throw badRequest(`Invalid value '${v}' for parameter '${name}': Cannot be a negative value.`);
  if (typeof v === "number" && v > INT_MAX)
    throw badRequest(`Invalid value '${v}' for parameter '${name}': Cannot be larger than ${INT_MAX}.`);
}

/** A whole number as a query parameter: digits only, within the safe integer range; else undefined. */
function queryInt(v: string): number | undefined {
  if (!/^\s*[+-]?\d+\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

// ---- create -------------------------------------------------------------------------------------------------

async function createImage(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const body = jsonBody(ctx);
  if (body === undefined) throw badRequest("Body expected in request.");
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw badRequest("Provided object does not match schema 'image': the image must be a JSON object");
  for (const key of DISALLOWED)
    if (Object.prototype.hasOwnProperty.call(body, key)) throw forbidden(`Attribute '${key}' is read-only.`);
  const schemaError = imageSchemaError(body as Record<string, unknown>);
  if (schemaError) throw badRequest(schemaError);
  const b = body as Record<string, unknown>;
  const base: Record<string, unknown> = {};
  const extra = dict<string>();
  for (const [k, v] of Object.entries(b)) {
    if (BASE.includes(k)) base[k] = v;
    else {
      if (k.length > 255) throw badRequest("Custom property should not be greater than 255 characters.");
      if (isReserved(k)) throw forbidden(`Attribute '${k}' is reserved.`);
      extra[k] = v as string;
    }
  }
  const caller = callerOf(ctx);
  const owner = (base.owner as string | null | undefined) ?? caller.projectId;
  const visibility = (base.visibility as Visibility | undefined) ?? "shared";
  const target = { project_id: owner, owner, visibility: base.visibility ?? "private" };
  if (!ctx.allowed("add_image", target)) {
    if (owner !== caller.projectId)
      throw forbidden(`You are not permitted to create images owned by '${owner}'`);
    throw policyForbidden("add_image");
  }
  enforceVisibility(ctx, base.visibility, target);
  await enforceImageCount(core, caller.projectId);
  for (const key of READONLY)
    if (Object.prototype.hasOwnProperty.call(base, key)) {
      if (key === "id") continue;
      throw forbidden(`Attribute '${key}' is read-only.`);
    }
  if (Object.prototype.hasOwnProperty.call(extra, "locations"))
    throw forbidden("Attribute 'locations' is reserved.");
  checkNonNegative("min_disk", base.min_disk);
  checkNonNegative("min_ram", base.min_ram);
  const tags = [...new Set((base.tags as string[] | undefined) ?? [])];
  enforcePerImage(core, "imagePropertyQuota", 0, Object.keys(extra).length);
  enforcePerImage(core, "imageTagQuota", 0, tags.length);
  const now = nowIso();
  const img: Image = {
    id: (base.id as string | undefined) ?? core.newId(),
    name: (base.name as string | null | undefined) ?? null,
    status: "queued",
    visibility,
    protected: (base.protected as boolean | undefined) ?? false,
    os_hidden: (base.os_hidden as boolean | undefined) ?? false,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    size: null,
    virtual_size: null,
    min_disk: (base.min_disk as number | undefined) ?? 0,
    min_ram: (base.min_ram as number | undefined) ?? 0,
    disk_format: (base.disk_format as string | null | undefined) ?? null,
    container_format: (base.container_format as string | null | undefined) ?? null,
    owner,
    location: null,
    store: null,
    created_at: now,
    updated_at: now,
    properties: extra,
    tags,
  };
  // Count again and insert under the project's quota lock: atomic across API processes.
  await underQuota(core, caller.projectId, async (c) => {
    await enforceImageCount(c, caller.projectId);
    await insertImage(c, img);
  });
  return reply(201, renderImage(img), {
    location: `${ctx.serviceUrl}/v2/images/${img.id}`,
    "openstack-image-import-methods": enabledImportMethods(core).join(","),
    "openstack-image-store-ids": [...core.stores.keys()].join(","),
  });
}

// ---- list ---------------------------------------------------------------------------------------------------

/** Glance's split_filter_op: "op:value", or plain "value" (and an ISO time with colons) meaning eq. */
function splitOp(expr: string): [string, string] {
  const i = expr.indexOf(":");
  if (i < 0) return ["eq", expr];
  if (!Number.isNaN(parseIsoTime(expr))) return ["eq", expr];
  return [expr.slice(0, i), expr.slice(i + 1)];
}

/** An ISO 8601 time (as oslo's parse_isotime accepts it) in ms, or NaN. */
function parseIsoTime(s: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$/i.exec(
    s.trim(),
  );
  if (!m) return Number.NaN;
  const [, y, mo, d, h = "00", mi = "00", sec = "00", frac = "", zone = "Z"] = m;
  const z =
    zone.toUpperCase() === "Z" ? "Z" : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac.slice(0, 4)}${z}`);
}

/** Glance's split_filter_value_for_quotes: comma-separated values, double quotes protecting commas. */
function splitInValues(value: string): string[] {
  let open = false;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '"' || (i > 0 && value[i - 1] === "\\")) continue;
    if (!open && i > 0 && value[i - 1] !== ",")
      throw badRequest(`Invalid filter value ${value}. There is no comma before opening quotation mark.`);
    if (open && i + 1 !== value.length && value[i + 1] !== ",")
      throw badRequest(`Invalid filter value ${value}. There is no comma after closing quotation mark.`);
    open = !open;
  }
  if (open) throw badRequest(`Invalid filter value ${value}. The quote is not closed.`);
  const out: string[] = [];
  const re = /"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,/g;
  for (const m of value.matchAll(re)) out.push(m[1] ?? m[2] ?? "");
  return out;
}

const INT_COLUMNS = new Set(["size", "virtual_size", "min_disk", "min_ram"]);
const STRING_COLUMNS = new Set(["owner", "checksum", "os_hash_algo", "os_hash_value"]);
const OP_COLUMNS = new Set(["name", "id", "status", "container_format", "disk_format"]);
const CMP = new Map<string, "<" | "<=" | ">" | ">=" | "=" | "<>">(
  Object.entries({
    gt: ">",
    gte: ">=",
    lt: "<",
    lte: "<=",
    eq: "=",
    neq: "<>",
  }),
);

function parseSort(params: Map<string, string[]>): ListQuery["sort"] {
  const validKey = (k: string): SortKey => {
    if (!(SORT_KEYS as readonly string[]).includes(k))
      throw badRequest(`Invalid sort key: ${k}. It must be one of the following: ${SORT_KEYS.join(", ")}.`);
    return k as SortKey;
  };
  const validDir = (d: string): "asc" | "desc" => {
    if (d !== "asc" && d !== "desc") throw badRequest(`Invalid sort direction: ${d}`);
    return d;
  };
  const keys: SortKey[] = [];
  const dirs: Array<"asc" | "desc"> = [];
  if (params.has("sort")) {
    if (params.has("sort_key") || params.has("sort_dir"))
      throw badRequest("Old and new sorting syntax cannot be combined");
    for (const part of (params.get("sort")?.[0] ?? "").trim().split(",")) {
      const [k, d] = part.includes(":")
        ? [part.slice(0, part.indexOf(":")), part.slice(part.indexOf(":") + 1)]
        : [part, ""];
      keys.push(validKey(k.trim()));
      dirs.push(validDir(d.trim() || "desc"));
    }
  } else {
    for (const k of params.get("sort_key") ?? []) keys.push(validKey(k.trim()));
    for (const d of params.get("sort_dir") ?? []) dirs.push(validDir(d.trim()));
    if (dirs.length > 1 && dirs.length !== keys.length)
      throw badRequest("Number of sort dirs does not match the number of sort keys");
  }
  if (!keys.length) return [{ key: "created_at", dir: dirs[0] ?? "desc" }];
  return keys.map((key, i) => ({
    key,
    dir: dirs.length === 0 ? "desc" : dirs.length === 1 ? dirs[0] : dirs[i],
  }));
}

/** Turn GET /v2/images query parameters into a validated list query, as Glance's deserializer does. */
function parseListQuery(pairs: Array<[string, string]>): ListQuery {
  const params = new Map<string, string[]>();
  for (const [k, v] of pairs) params.set(k, [...(params.get(k) ?? []), v]);
  const first = (k: string): string | undefined => params.get(k)?.[0];
  let limit = 25;
  const rawLimit = first("limit");
  if (rawLimit !== undefined) {
    if (!/^\s*[+-]?\d+\s*$/.test(rawLimit)) throw badRequest("limit param must be an integer");
    const n = Number(rawLimit);
    if (n < 0) throw badRequest("limit param must be positive");
    limit = n;
  }
  limit = Math.min(limit, 1000);
  const memberStatus = first("member_status") ?? "accepted";
  if (!["pending", "accepted", "rejected", "all"].includes(memberStatus))
    throw badRequest(`Invalid status: ${memberStatus}`);
  const visibility = first("visibility");
  if (visibility && ![...VISIBILITIES, "all"].includes(visibility))
    throw badRequest(`Invalid visibility value: ${visibility}`);
  if (first("changes-since")) throw badRequest('The "changes-since" filter is no longer available on v2.');
  const sort = parseSort(params);
  const conds: Cond[] = [];
  for (const t of params.get("tag") ?? []) conds.push({ kind: "tag", value: t.trim() });
  const osHidden = (first("os_hidden") ?? "false").toLowerCase();
  if (osHidden !== "true" && osHidden !== "false")
    throw badRequest(
      `Invalid value '${osHidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`,
    );
  conds.push({ kind: "eq", col: "os_hidden", value: osHidden === "true" ? 1 : 0 });
  const prot = first("protected");
  if (prot !== undefined) {
    if (prot !== "true" && prot !== "false")
      throw badRequest(`Invalid value '${prot}' for 'protected' filter. Valid values are 'true' or 'false'.`);
    conds.push({ kind: "eq", col: "protected", value: prot === "true" ? 1 : 0 });
  }
  const skip = new Set([
    "limit",
    "marker",
    "member_status",
    "tag",
    "sort",
    "sort_key",
    "sort_dir",
    "visibility",
    "os_hidden",
    "protected",
    "deleted",
  ]);
  for (const [k, values] of params) {
    if (skip.has(k)) continue;
    const v = values[values.length - 1];
    if (k.endsWith("_min") || k.endsWith("_max")) {
      const col = k.slice(0, -4);
      if (!INT_COLUMNS.has(col)) throw badRequest(`Invalid filter: ${k}.`);
      if (!/^\s*[+-]?\d+\s*$/.test(v))
        throw badRequest("Unable to filter on a range with a non-numeric value.");
      conds.push({ kind: "cmp", col, op: k.endsWith("_min") ? ">=" : "<=", value: Number(v) });
    } else if (k === "created_at" || k === "updated_at") {
      const [op, time] = splitOp(v);
      const ms = parseIsoTime(time);
      if (Number.isNaN(ms))
        throw badRequest(`Bad "${k}" query filter format. Use ISO 8601 DateTime notation.`);
      const cmp = CMP.get(op);
      if (!cmp) throw badRequest("Unable to filter on a unknown operator.");
      conds.push({ kind: "cmp", col: k, op: cmp, value: new Date(ms).toISOString() });
    } else if (OP_COLUMNS.has(k)) {
      const [op, value] = splitOp(v);
      if (op === "in") conds.push({ kind: "in", col: k, values: splitInValues(value) });
      else if (op === "eq") conds.push({ kind: "eq", col: k, value });
      else throw badRequest(`Unable to filter by unknown operator '${op}'.`);
    } else if (INT_COLUMNS.has(k)) {
      const n = queryInt(v);
      if (n === undefined) throw badRequest(`Invalid value '${v}' for filter '${k}'.`);
      conds.push({ kind: "eq", col: k, value: n });
    } else if (STRING_COLUMNS.has(k)) conds.push({ kind: "eq", col: k, value: v });
    else conds.push({ kind: "prop", name: k, value: v });
  }
  return {
    conds,
    visibility: visibility ? (visibility as Visibility | "all") : undefined,
    memberStatus: memberStatus as ListQuery["memberStatus"],
    sort,
    limit,
    marker: first("marker"),
  };
}

async function indexImages(ctx: Ctx, core: ImageCore): Promise<unknown> {
  // GET /v2/images/ is a show with an empty id, not the list (the router ignores trailing slashes): Glance says 404.
  if (ctx.url.split("?")[0].endsWith("/")) throw new ApiError(404, "The resource could not be found.");
  const pairs = queryPairs(ctx);
  const q = parseListQuery(pairs);
  const caller = callerOf(ctx);
  if (!ctx.allowed("get_images", { project_id: caller.projectId })) throw policyForbidden("get_images");
  const rows = await listImages(core, caller, q);
  const images = rows.filter((img) => imageAllowed(ctx, caller, img, "get_image"));
  const rest = pairs.filter(([k]) => k !== "marker");
  const query = new URLSearchParams(rest).toString();
  const body: Record<string, unknown> = {
    images: images.map(renderImage),
    first: query ? `/v2/images?${query}` : "/v2/images",
    schema: "/v2/schemas/images",
  };
  if (images.length !== 0 && rows.length === q.limit) {
    const next = new URLSearchParams(rest);
    next.append("marker", images[images.length - 1].id);
    body.next = `/v2/images?${next.toString()}`;
  }
  return body;
}

// ---- update (JSON patch) ------------------------------------------------------------------------------------

interface Change {
  op: "add" | "remove" | "replace";
  path: string[];
  value?: unknown;
  draft: 4 | 10;
}

function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== "string") throw badRequest("Pointer must be a string.");
  if (!pointer.startsWith("/")) throw badRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw badRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith("/")) throw badRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === "/")
    throw badRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith("~"))
    throw badRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  return pointer
    .replace(/^\/+/, "")
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~").trim());
}

/** Parse and validate a JSON-patch body as Glance's deserializer does (before the image is even looked up). */
function parseChanges(ctx: Ctx): Change[] {
  const type = mediaType(ctx);
  const draft = type ? PATCH_TYPES.get(type) : undefined;
  if (!draft) {
    const allowed = [...PATCH_TYPES.keys()].sort().join(", ");
    throw new ApiError(415, `Image PATCH expects Content-Type one of: ${allowed}`, {
      headers: { "accept-patch": allowed },
    });
  }
  const body = ctx.body;
  if (body === undefined) throw badRequest("Body expected in request.");
  if (!Array.isArray(body)) throw badRequest("Request body must be a JSON array of operation objects.");
  const ops = ["add", "remove", "replace"] as const;
  return body.map((raw): Change => {
    if (!raw || typeof raw !== "object" || Array.isArray(raw))
      throw badRequest("Operations must be JSON objects.");
    const r = raw as Record<string, unknown>;
    let op: Change["op"] | undefined;
    let pointer: unknown;
    if (draft === 10) {
      if (r.op === undefined)
        throw badRequest(
          `Unable to find \`op\` in JSON Schema change. It must be one of the following: ${ops.join(", ")}.`,
        );
      if (!ops.includes(r.op as Change["op"]))
        throw badRequest(
          `Invalid operation: \`${String(r.op)}\`. It must be one of the following: ${ops.join(", ")}.`,
        );
      op = r.op as Change["op"];
      if (!("path" in r)) throw badRequest("Unable to find 'path' in JSON Schema change");
      pointer = r.path;
    } else {
      for (const k of ops)
        if (k in r) {
          if (op)
            throw badRequest(
              'Operation objects must contain only one member named "add", "remove", or "replace".',
            );
          op = k;
        }
      if (!op)
        throw badRequest(
          'Operation objects must contain exactly one member named "add", "remove", or "replace".',
        );
      pointer = r[op];
    }
    const path = decodePointer(pointer);
    const depth = path[0] === "locations" ? (op === "replace" ? 1 : 2) : 1;
    if (path.length !== depth)
      throw badRequest(`Invalid JSON pointer for this resource: '/${path.join("/")}'`);
    const change: Change = { op, path, draft };
    if (op !== "remove") {
      if (!("value" in r)) throw badRequest(`Operation "${op}" requires a member named "value".`);
      change.value = r.value;
    }
    const root = path[0];
    if (READONLY.includes(root)) throw forbidden(`Attribute '${root}' is read-only.`);
    if (isReserved(root)) throw forbidden(`Attribute '${root}' is reserved.`);
    if (op !== "remove" && path.length === 1) {
      const err = imageSchemaError({ [root]: change.value });
      if (err) throw badRequest(err);
    }
    return change;
  });
}

/** Set a writable attribute with the domain model's own checks. */
function setAttribute(img: Image, name: string, value: unknown): void {
  switch (name) {
    case "disk_format":
    case "container_format":
      if (img.status !== "queued" && img.status !== "importing")
        throw forbidden(`Attribute ${name} can be only replaced for a queued image.`);
      img[name] = value as string | null;
      return;
    case "min_disk":
    case "min_ram":
      checkNonNegative(name, value);
      img[name] = value as number;
      return;
    case "tags":
      img.tags = [...new Set(value as string[])];
      return;
    case "name":
      img.name = value as string | null;
      return;
    case "owner":
      img.owner = value as string | null;
      return;
    case "visibility":
      img.visibility = value as Visibility;
      return;
    case "protected":
    case "os_hidden":
      img[name] = value as boolean;
      return;
  }
}

function applyChange(ctx: Ctx, caller: Caller, img: Image, c: Change): void {
  const root = c.path[0];
  if (root === "locations" || INTERNAL.has(root)) throw forbidden(`Attribute '${root}' is reserved.`);
  if (root === "owner" && c.op !== "remove" && !caller.isAdmin)
    throw forbidden("Owner can't be updated by non admin.");
  // The visibility rules first (publicize/communitize), then modify_image, checked against the image as it is.
  const target = imageTarget(img, caller);
  if (root === "visibility") enforceVisibility(ctx, c.value, target);
  enforceImage(ctx, caller, img, "modify_image");
  const isBase = WRITABLE.has(root);
  const has = Object.prototype.hasOwnProperty.call(img.properties, root);
  switch (c.op) {
    case "replace":
      if (isBase) setAttribute(img, root, c.value);
      else if (has) img.properties[root] = c.value as string;
      else throw new ApiError(409, `Property ${root} does not exist.`);
      return;
    case "add":
      if (c.draft === 4 && (isBase || has)) throw new ApiError(409, `Property ${root} already present.`);
      if (isBase) setAttribute(img, root, c.value);
      else {
        if (root.length > 255) throw badRequest("Custom property should not be greater than 255 characters.");
        img.properties[root] = c.value as string;
      }
      return;
    case "remove":
      if (isBase) throw forbidden(`Property ${root} may not be removed.`);
      if (!has) throw new ApiError(409, `Property ${root} does not exist.`);
      delete img.properties[root];
      return;
  }
}

async function updateImage(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const changes = parseChanges(ctx);
  const caller = callerOf(ctx);
  const img = await loadImage(ctx, core, ctx.params.image_id, caller);
  if (!changes.length) return renderImage(img);
  const before = snapshot(img);
  const propsBefore = Object.keys(img.properties).length;
  const tagsBefore = img.tags.length;
  const status = img.status;
  for (const c of changes) applyChange(ctx, caller, img, c);
  enforcePerImage(core, "imagePropertyQuota", propsBefore, Object.keys(img.properties).length);
  enforcePerImage(core, "imageTagQuota", tagsBefore, img.tags.length);
  if (!(await saveImage(core, img, before, { fromStatus: status })))
    throw new ApiError(409, `Image ${img.id} changed while it was being updated; retry the request.`);
  return renderImage(img);
}

// ---- delete, actions, tags ----------------------------------------------------------------------------------

async function deleteImage(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const caller = callerOf(ctx);
  const img = await loadImage(ctx, core, ctx.params.image_id, caller);
  enforceImage(ctx, caller, img, "delete_image");
  if (img.protected) throw forbidden(`Image ${img.id} is protected and cannot be deleted.`);
  const gone = await markDeleted(core, img.id);
  if (!gone) throw new ApiError(404, `Failed to find image ${img.id} to delete`);
  await deleteStagedData(core, img.id);
  if (gone.location) {
    const store = core.stores.get(img.store ?? "") ?? core.defaultStore;
    await store
      .delete(gone.location)
      .catch((e: unknown) => core.log.warn({ err: e, image: img.id }, "could not delete image data"));
  }
  return noContent();
}

async function deactivate(ctx: Ctx, core: ImageCore, to: "deactivated" | "active"): Promise<unknown> {
  const caller = callerOf(ctx);
  const img = await loadImage(ctx, core, ctx.params.image_id, caller);
  const rule = to === "deactivated" ? "deactivate" : "reactivate";
  enforceImage(ctx, caller, img, rule);
  const from = to === "deactivated" ? "active" : "deactivated";
  if (img.status === to) return noContent();
  if (img.status !== from || !(await changeStatus(core, img.id, from, to)))
    throw forbidden(`Not allowed to ${rule} image in status '${img.status}'`);
  return noContent();
}

async function addTag(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const caller = callerOf(ctx);
  const img = await loadImage(ctx, core, ctx.params.image_id, caller);
  enforceImage(ctx, caller, img, "modify_image");
  const tag: string = ctx.params.tag;
  if (tag.length > 255)
    throw badRequest(`Could not update image: Tag '${tag.slice(0, 32)}...' is longer than 255 characters.`);
  if (!img.tags.includes(tag)) {
    const before = snapshot(img);
    img.tags.push(tag);
    enforcePerImage(core, "imageTagQuota", before.tags.length, img.tags.length);
    await saveImage(core, img, before);
  }
  return noContent();
}

async function deleteTag(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const caller = callerOf(ctx);
  const img = await loadImage(ctx, core, ctx.params.image_id, caller);
  enforceImage(ctx, caller, img, "modify_image");
  if (!img.tags.includes(ctx.params.tag)) throw new ApiError(404, "The resource could not be found.");
  const before = snapshot(img);
  img.tags = img.tags.filter((t) => t !== ctx.params.tag);
  await saveImage(core, img, before);
  return noContent();
}

/** Routes for /v2/images, one image, its tags and its actions. */
export function imageRoutes(core: ImageCore): Route[] {
  return [
    route({
      method: "POST",
      path: "/v2/images",
      policy: null,
      auth: "required",
      handler: (ctx) => createImage(ctx, core),
    }),
    route({
      method: "GET",
      path: "/v2/images",
      policy: null,
      auth: "required",
      handler: (ctx) => indexImages(ctx, core),
    }),
    route({
      method: "GET",
      path: "/v2/images/:image_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => renderImage(await loadImage(ctx, core, ctx.params.image_id)),
    }),
    route({
      method: "PATCH",
      path: "/v2/images/:image_id",
      policy: null,
      auth: "required",
      contentTypes: [...PATCH_TYPES.keys()],
      handler: (ctx) => updateImage(ctx, core),
    }),
    route({
      method: "DELETE",
      path: "/v2/images/:image_id",
      policy: null,
      auth: "required",
      handler: (ctx) => deleteImage(ctx, core),
    }),
    route({
      method: "POST",
      path: "/v2/images/:image_id/actions/deactivate",
      policy: null,
      auth: "required",
      handler: (ctx) => deactivate(ctx, core, "deactivated"),
    }),
    route({
      method: "POST",
      path: "/v2/images/:image_id/actions/reactivate",
      policy: null,
      auth: "required",
      handler: (ctx) => deactivate(ctx, core, "active"),
    }),
    route({
      method: "PUT",
      path: "/v2/images/:image_id/tags/:tag",
      policy: null,
      auth: "required",
      handler: (ctx) => addTag(ctx, core),
    }),
    route({
      method: "DELETE",
      path: "/v2/images/:image_id/tags/:tag",
      policy: null,
      auth: "required",
      handler: (ctx) => deleteTag(ctx, core),
    }),
  ];
}
