// Account and container listings: prefix, delimiter, marker, end_marker, limit, reverse and path over a name-ordered
// scan, rendered as plain text, JSON or XML as Swift renders them.
import { swiftError, swiftText } from "../errors.js";
import { acceptMatch } from "./accept.js";
import { header, param, type Ctx } from "./request.js";

/** One listing row: an entry with a name, or a pseudo-directory. */
export type Row<T> = { kind: "item"; name: string; item: T } | { kind: "subdir"; name: string };

/** A page of the underlying name-ordered scan: names > after, >= from, < before. */
export type Scan<T> = (opts: {
  after?: string;
  from?: string;
  before?: string;
  limit: number;
  reverse: boolean;
}) => Promise<Array<{ name: string; item: T | null }>>;

/** The listing parameters of a request. */
export interface ListParams {
  prefix: string;
  delimiter: string;
  marker?: string;
  endMarker?: string;
  limit: number;
  reverse: boolean;
  /** `path=`: entries directly under this pseudo-directory, no subdirs. */
  path?: string;
  /** The listing's media type (listType). */
  format: ListType;
}

/** The media types a listing can be answered in, in Swift's order of preference. */
const LIST_TYPES = ["text/plain", "application/json", "application/xml", "text/xml"] as const;
/** A listing's media type. */
export type ListType = (typeof LIST_TYPES)[number];
/** What `format=` asks for, as Accept (anything else is plain text). */
const FORMAT_TYPES = new Map([
  ["plain", "text/plain"],
  ["json", "application/json"],
  ["xml", "application/xml"],
]);

const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);
/** Past the last character any valid name can continue with after a prefix. */
const TOP = "\u{10FFFF}";

/** Read and check listing parameters (Swift's 400s and 412s). */
export function listParams(ctx: Ctx, maxLimit: number): ListParams {
  const limitRaw = param(ctx, "limit");
  let limit = maxLimit;
  if (limitRaw !== undefined) {
    if (!/^\d+$/.test(limitRaw)) throw swiftText(400, "Value of limit must be a positive integer");
    limit = Number(limitRaw);
    if (limit > maxLimit) throw swiftText(412, `Maximum limit is ${maxLimit}`);
  }
  const delimiter = param(ctx, "delimiter") ?? "";
  if (delimiter.length > 1 && Buffer.byteLength(delimiter) > 1) throw swiftText(412, "Bad delimiter");
  for (const p of ["prefix", "delimiter", "marker", "end_marker", "path"]) {
    const v = param(ctx, p);
    if (v !== undefined && (v.includes("\0") || Buffer.byteLength(v) > 1024))
      throw swiftText(400, `Invalid ${p}`);
  }
  const pathRaw = param(ctx, "path");
  return {
    prefix: param(ctx, "prefix") ?? "",
    delimiter,
    marker: param(ctx, "marker") || undefined,
    endMarker: param(ctx, "end_marker") || undefined,
    limit,
    reverse: TRUE.has((param(ctx, "reverse") ?? "").toLowerCase()),
    path:
      pathRaw === undefined ? undefined : pathRaw === "" || pathRaw.endsWith("/") ? pathRaw : `${pathRaw}/`,
    format: listType(ctx),
  };
}

/**
 * A listing's media type, as Swift's listing_formats picks it: `format=` stands for the Accept header, which is
 * matched against the types listings come in; 400 when Accept is malformed, 406 when it takes none of them.
 */
export function listType(ctx: Ctx): ListType {
  const f = param(ctx, "format");
  const accept = f ? (FORMAT_TYPES.get(f.toLowerCase()) ?? "text/plain") : header(ctx, "accept");
  const m = acceptMatch(accept, LIST_TYPES);
  if (m === "invalid") throw swiftText(400, "Invalid Accept header");
  if (m === null) throw swiftError(406);
  return m;
}

/** The rows of a listing, in order, at most `limit` (subdirs count as rows, as in Swift). */
export async function listRows<T>(scan: Scan<T>, p: ListParams): Promise<Row<T>[]> {
  const prefix = p.path ?? p.prefix;
  const delimiter = p.path !== undefined ? "/" : p.delimiter;
  const out: Row<T>[] = [];
  if (p.limit === 0) return out;
  // Forward: names > marker, < end_marker; reverse: names < marker, > end_marker.
  let after = p.reverse ? p.endMarker : p.marker;
  let before = p.reverse ? p.marker : p.endMarker;
  const from: string | undefined = !p.reverse && prefix ? prefix : undefined;
  let skipTo = from;
  if (p.reverse && prefix && (before === undefined || before > prefix + TOP)) before = prefix + TOP;
  for (;;) {
    // With a delimiter a page may end at its first row (a pseudo-directory is skipped with a new bound): read
    // small pages then, so that a container of many pseudo-directories is not read whole for each one.
    const size = delimiter
      ? Math.min(Math.max(p.limit - out.length, 1), 100)
      : Math.max(p.limit - out.length, 100);
    const page = await scan({ after, from: skipTo, before, limit: size, reverse: p.reverse });
    let jumped = false;
    for (const { name, item } of page) {
      // Names are in order: the first one outside the prefix ends the listing.
      if (prefix && !name.startsWith(prefix)) return out;
      if (p.reverse) before = name;
      else after = name;
      const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const sub = name.slice(0, cut + delimiter.length);
        // path= lists only what is directly under the path; elsewhere a pseudo-directory is one row.
        // (A pseudo-directory named by the marker itself was listed on the previous page.)
        if (p.path === undefined && sub !== p.marker) out.push({ kind: "subdir", name: sub });
        // Skip every other name under this pseudo-directory.
        if (p.reverse) before = sub;
        else skipTo = sub.slice(0, -1) + String.fromCharCode(sub.charCodeAt(sub.length - 1) + 1);
        if (out.length >= p.limit) return out;
        jumped = true;
        break;
      }
      if (item !== null) out.push({ kind: "item", name, item });
      if (out.length >= p.limit) return out;
    }
    if (!jumped && page.length < size) return out;
  }
}

const XML_ENTITIES: ReadonlyMap<string, string> = new Map([
  ["&", "&amp;"],
  ["<", "&lt;"],
  [">", "&gt;"],
  ['"', "&quot;"],
]);

/** Escape text for XML, dropping the control characters XML 1.0 cannot carry. */
function xmlEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 && ch !== "\t" && ch !== "\n" && ch !== "\r") continue;
    out += XML_ENTITIES.get(ch) ?? ch;
  }
  return out;
}

/**
 * Render a listing: its body and content type; null body (204) for an empty plain listing. XML rows show the fields
 * `xmlFields` names, in that order (all of toJson's by default).
 */
export function renderListing<T>(
  rows: Row<T>[],
  format: ListType,
  xmlRoot: { tag: "account" | "container"; name: string; itemTag: "container" | "object" },
  toJson: (name: string, item: T) => Record<string, string | number | boolean>,
  xmlFields?: string[],
): { body: string | null; contentType: string } {
  if (format === "application/json") {
    const list = rows.map((r) => (r.kind === "subdir" ? { subdir: r.name } : toJson(r.name, r.item)));
    return { body: JSON.stringify(list), contentType: "application/json; charset=utf-8" };
  }
  if (format.endsWith("/xml")) {
    const parts = rows.map((r) => {
      if (r.kind === "subdir")
        return `<subdir name="${xmlEscape(r.name)}"><name>${xmlEscape(r.name)}</name></subdir>`;
      const row = toJson(r.name, r.item);
      const fields = (xmlFields ?? Object.keys(row))
        .filter((k) => k in row)
        .map((k) => [k, row[k]] as const)
        .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
        .join("");
      return `<${xmlRoot.itemTag}>${fields}</${xmlRoot.itemTag}>`;
    });
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<${xmlRoot.tag} name="${xmlEscape(xmlRoot.name)}">${parts.join("")}</${xmlRoot.tag}>`;
    return { body, contentType: `${format}; charset=utf-8` };
  }
  if (rows.length === 0) return { body: null, contentType: "text/plain; charset=utf-8" };
  return { body: rows.map((r) => `${r.name}\n`).join(""), contentType: "text/plain; charset=utf-8" };
}
