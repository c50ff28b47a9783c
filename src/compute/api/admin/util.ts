// Helpers shared by the operator APIs: Nova's timestamp format, its jsonschema-style query errors, paging
// links, availability zones of hosts, and a placement client that may not be wired yet.
import type { Config } from "../../../shared/config.js";
import { P } from "../../../shared/policy/personas.js";
import type { ComputeCore } from "../../core.js";
import { badRequest } from "../../errors.js";
import type { PlacementClient } from "../../placement-client.js";
import type { ServiceRow } from "../../servicegroup.js";
export { aggregateZonesByHost } from "../../zones.js";
import { MAX_LIMIT, type Ctx } from "../common.js";

/** Binaries Nova never lists (API services do not heartbeat). */
export const API_BINARIES = ["nova-osapi_compute", "nova-metadata"];
/** The zone of every service that is not nova-compute (Nova's internal_service_availability_zone). */
export const INTERNAL_AZ = "internal";

/** A value as Python's repr() prints it, for messages that quote jsonschema. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (typeof v === "object")
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(", ")}}`;
  return String(v);
}

/** A value as Python's str() prints it (strings bare). */
export const pyStr = (v: unknown): string => (typeof v === "string" ? v : pyRepr(v));

const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Microseconds since the epoch of an ISO 8601 timestamp (naive means UTC), or null when it is not one. */
export function toMicros(s: string | null | undefined): number | null {
  if (typeof s !== "string") return null;
  const m = ISO.exec(s.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return null;
  const ms = utcMs(y, mo, d, h, mi, sec);
  if (new Date(ms).getUTCDate() !== d) return null;
  const frac = Number(((m[7] ?? "") + "000000").slice(0, 6));
  let offset = 0;
  if (m[8] && m[8].toUpperCase() !== "Z") {
    const tz = m[8].replace(":", "");
    offset = (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5) || "0")) * (tz[0] === "-" ? -1 : 1);
  }
  return (ms - offset * 60000) * 1000 + frac;
}

/** Nova's rendering of a datetime: 2012-10-29T13:42:02.000000 (UTC, no zone). */
export function fmtMicros(us: number): string {
  const sec = Math.floor(Math.round(us) / 1e6);
  const frac = String(Math.round(us) - sec * 1e6).padStart(6, "0");
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${frac}`;
}

/** A stored timestamp in Nova's format (null stays null). */
export function novaTime(v: string | null | undefined): string | null {
  const us = toMicros(v);
  return us === null ? (v ?? null) : fmtMicros(us);
}

/** Now, in microseconds. */
export const nowMicros = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/** Whether a string is a UUID as oslo's is_uuid_like sees it (dashes and braces optional). */
export function isUuidLike(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(
    s
      .toLowerCase()
      .replace(/^urn:/, "")
      .replace(/^uuid:/, "")
      .replace(/[{}-]/g, ""),
  );
}

/** An integer path id, or Nova's 400 "Invalid input received: id must be an integer". */
export function validateInteger(raw: string, name = "id"): number {
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(raw))
    throw badRequest(`Invalid input received: ${name} must be an integer`);
  return Number(raw.replace(/_/g, ""));
}

/** Whether an id fits the integer columns of every engine (larger ones cannot name a row). */
export const fitsInt = (n: number): boolean => Number.isSafeInteger(n) && n >= -2147483648 && n <= 2147483647;

/** Date.UTC without its two-digit-year quirk. */
export function utcMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, 0);
  return t.getTime();
}

/** 400 for query parameters a strict (additionalProperties: false) schema does not allow. */
export function rejectUnknownQuery(ctx: Ctx, allowed: readonly string[]): void {
  const extra = Object.keys(ctx.query).filter((k) => !allowed.includes(k));
  if (extra.length === 0) return;
  throw badRequest(
    `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`,
  );
}

const queryError = (name: string, value: string, why: string) =>
  badRequest(`Invalid input for query parameters ${name}. Value: ${value}. ${why}`);

/** A non-negative integer query parameter (jsonschema's non_negative_integer), or undefined. */
export function queryNonNegInt(ctx: Ctx, name: string): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  if (raw === "") throw queryError(name, raw, "'' is too short");
  if (!/^[0-9]*$/.test(raw)) throw queryError(name, raw, `${pyRepr(raw)} does not match '^[0-9]*$'`);
  return Number(raw);
}

/** An ISO 8601 query parameter (jsonschema's date-time format), in microseconds, or undefined. */
export function queryDateTime(ctx: Ctx, name: string): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const us = toMicros(raw);
  if (us === null) throw queryError(name, raw, `${pyRepr(raw)} is not a 'date-time'`);
  return us;
}

/** The values Nova's parameter_types.boolean accepts. */
export const BOOL_ENUM: unknown[] = [
  true,
  "True",
  "TRUE",
  "true",
  "1",
  "ON",
  "On",
  "on",
  "YES",
  "Yes",
  "yes",
  false,
  "False",
  "FALSE",
  "false",
  "0",
  "OFF",
  "Off",
  "off",
  "NO",
  "No",
  "no",
];

/** A boolean query parameter (Nova's parameter_types.boolean), default false. */
export function queryBool(ctx: Ctx, name: string): boolean {
  const raw = ctx.query[name];
  if (raw === undefined) return false;
  if (!BOOL_ENUM.includes(raw))
    throw queryError(name, raw, `${pyRepr(raw)} is not one of ${pyRepr(BOOL_ENUM)}`);
  return boolValue(raw);
}

/** The boolean an accepted BOOL_ENUM value means. */
export const boolValue = (v: unknown): boolean =>
  v === true || (typeof v === "string" && ["1", "true", "on", "yes"].includes(v.toLowerCase()));

/** The changes-since/changes-before window (microseconds), refusing an inverted one as Nova does. */
export function changesWindow(ctx: Ctx, withBefore: boolean): { since?: number; before?: number } {
  const since = queryDateTime(ctx, "changes-since");
  const before = withBefore ? queryDateTime(ctx, "changes-before") : undefined;
  if (since !== undefined && before !== undefined && before < since)
    throw badRequest("The value of changes-since must be less than or equal to changes-before.");
  return { since, before };
}

/** Whether a row's updated_at falls in a changes-since/changes-before window. */
export function inWindow(updatedAt: string | null, w: { since?: number; before?: number }): boolean {
  if (w.since === undefined && w.before === undefined) return true;
  const t = toMicros(updatedAt);
  if (t === null) return false;
  return (w.since === undefined || t >= w.since) && (w.before === undefined || t <= w.before);
}

/** Nova's get_limit_and_marker: the page size (capped at max_limit) and the marker. */
export function limitAndMarker(ctx: Ctx): { limit: number; marker?: string } {
  const asked = ctx.query.limit;
  let limit = MAX_LIMIT;
  if (asked !== undefined) {
    if (!/^\s*[+-]?\d+\s*$/.test(asked)) throw badRequest("Invalid input received: limit must be an integer");
    const n = Number(asked);
    if (n < 0) throw badRequest("Invalid input received: limit must be >= 0");
    limit = Math.min(n, MAX_LIMIT);
  }
  return { limit, marker: ctx.query.marker };
}

/** The "next" link Nova adds when a page is full: the same query, sorted, with the marker replaced. */
export function collectionNext(
  ctx: Ctx,
  collection: string,
  items: unknown[],
  markerOf: (item: any) => string | number,
): Array<{ rel: string; href: string }> {
  const asked = ctx.query.limit !== undefined ? Number(ctx.query.limit) : MAX_LIMIT;
  const max = Math.min(Number.isFinite(asked) ? asked : MAX_LIMIT, MAX_LIMIT);
  if (!max || max !== items.length) return [];
  const params = new Map(Object.entries(ctx.query).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  params.set("marker", String(markerOf(items[items.length - 1])));
  const qs = new URLSearchParams([...params].map(([k, v]): [string, string] => [k, v ?? ""])).toString();
  return [{ rel: "next", href: `${ctx.serviceUrl}/v2.1/${collection}?${qs}` }];
}

/** Self and bookmark links of one resource. */
export function selfLinks(ctx: Ctx, collection: string, id: string | number) {
  return [
    { rel: "self", href: `${ctx.serviceUrl}/v2.1/${collection}/${id}` },
    { rel: "bookmark", href: `${ctx.serviceUrl}/${collection}/${id}` },
  ];
}

/** The placement client, or null while the service clients are not wired (callers log and go on). */
export function placementOrNull(core: ComputeCore): PlacementClient | null {
  try {
    return core.placement;
  } catch {
    return null;
  }
}

/** A service's zone as Nova's set_availability_zones computes it. */
export function serviceZone(
  s: Pick<ServiceRow, "binary" | "host">,
  byHost: Map<string, string[]>,
  cfg: Config,
) {
  if (s.binary !== "nova-compute") return INTERNAL_AZ;
  const zones = byHost.get(s.host);
  return zones && zones.length ? zones.join(",") : cfg.compute.defaultAvailabilityZone;
}

/** When a service last reported (its heartbeat if newer than the row's updated_at), in Nova's format. */
export function serviceUpdatedAt(s: ServiceRow): string | null {
  const updated = toMicros(s.updated_at);
  const seen = s.last_seen_up_ms === null ? null : s.last_seen_up_ms * 1000;
  const t = updated === null ? seen : seen === null ? updated : Math.max(updated, seen);
  return t === null ? null : fmtMicros(t);
}

/** Nova's instance name template (instance-%08x of the row id). */
export const instanceName = (id: number): string => `instance-${id.toString(16).padStart(8, "0")}`;

/** One policy default (project scope, one operation). */
export function policyRule(name: string, check: string, description: string, method: string, path: string) {
  return { name, check, description, scopeTypes: ["project" as const], operations: [{ method, path }] };
}

/** Nova's ADMIN for operator rules: a cloud admin (rule:cloud_admin), never an admin of some other project. */
export const ADMIN = P.ADMIN;
/** Nova's PROJECT_READER_OR_ADMIN: reads of the project's resources. */
export const ADMIN_OR_PROJECT = P.PROJECT_READER;
/** Nova's PROJECT_MEMBER_OR_ADMIN: changes to the project's resources. */
export const PROJECT_MEMBER = P.PROJECT_MEMBER;
