// Request bodies of os-aggregates, validated as Nova's JSON schemas do (same checks, same order, same messages).
import { badRequest } from "../../errors.js";
import { objectBody, type Ctx } from "../common.js";
import { FQDN, fieldError, objectField, onlyKeys, required, stringField } from "./schema.js";
import { pyRepr } from "./util.js";

/**
 * Validate the body {key: {...}}: the member with `inner` first (jsonschema checks properties before required
 * and additionalProperties), then the top level.
 */
function member<T>(ctx: Ctx, key: string, inner: (v: Record<string, unknown>) => T): T {
  const body = objectBody(ctx);
  let out: T | undefined;
  if (body[key] !== undefined) out = inner(objectField(key, body[key]));
  required(body, [key]);
  onlyKeys(body, [key]);
  return out as T;
}

const NAME = /^(?!\p{Zs})[^\p{C}\p{Zl}\p{Zp}]*(?<!\p{Zs})$/u;
const AZ = /^(?!\p{Zs})[^\p{C}\p{Zl}\p{Zp}:]*(?<!\p{Zs})$/u;
const NAME_SPACES = /^[^\p{C}\p{Zl}\p{Zp}]*[^\p{C}\p{Z}][^\p{C}\p{Zl}\p{Zp}]*$/u;

/** A name as parameter_types.name (strict) or name_with_leading_trailing_spaces (loose, then stripped). */
function name(v: unknown, loose: boolean): string {
  if (typeof v !== "string") throw fieldError("name", v, `${pyRepr(v)} is not of type 'string'`);
  if (!(loose ? NAME_SPACES : NAME).test(v))
    throw badRequest(
      "An invalid 'name' value was provided. The name must be: " +
        (loose
          ? "printable characters with at least one non space character"
          : "printable characters. Can not start or end with whitespace."),
    );
  if (v.length < 1) throw fieldError("name", v, `${pyRepr(v)} is too short`);
  if (v.length > 255) throw fieldError("name", v, `${pyRepr(v)} is too long`);
  return v.trim();
}

/** An availability zone name or null (oneOf az_name / null). */
function zone(v: unknown): string | null {
  if (v === null) return null;
  if (typeof v !== "string" || v.length < 1 || v.length > 255 || !AZ.test(v))
    throw fieldError("availability_zone", v, `${pyRepr(v)} is not valid under any of the given schemas`);
  return v;
}

/** POST /os-aggregates: {"aggregate": {"name", "availability_zone"?}}. */
export function parseCreate(ctx: Ctx): { name: string; az: string | null } {
  return member(ctx, "aggregate", (a) => {
    const n = a.name === undefined ? undefined : name(a.name, false);
    const az = a.availability_zone === undefined ? null : zone(a.availability_zone);
    required(a, ["name"], "aggregate");
    onlyKeys(a, ["name", "availability_zone"], "aggregate");
    return { name: n as string, az: az ? az.trim() : null };
  });
}

/** PUT /os-aggregates/{id}: name and/or availability_zone. */
export function parseUpdate(ctx: Ctx): { name?: string; az?: string | null } {
  return member(ctx, "aggregate", (a) => {
    const out: { name?: string; az?: string | null } = {};
    if (a.name !== undefined) out.name = name(a.name, true);
    if (a.availability_zone !== undefined) out.az = zone(a.availability_zone);
    onlyKeys(a, ["name", "availability_zone"], "aggregate");
    if (a.name === undefined && a.availability_zone === undefined)
      throw fieldError("aggregate", a, `${pyRepr(a)} is not valid under any of the given schemas`);
    return out;
  });
}

/** The action of POST /os-aggregates/{id}/action and its argument, parsed for that action. */
export function parseAction(
  ctx: Ctx,
):
  | { action: "add_host" | "remove_host"; host: string }
  | { action: "set_metadata"; metadata: Record<string, string | null> } {
  const body = objectBody(ctx);
  const keys = Object.keys(body);
  if (keys.length !== 1) throw badRequest("Malformed request body");
  const action = keys[0];
  if (action === "add_host" || action === "remove_host")
    return { action, host: member(ctx, action, (a) => host(action, a)) };
  if (action === "set_metadata") return { action, metadata: member(ctx, action, metadata) };
  throw badRequest(`There is no such action: ${action}`);
}

/** The host of add_host/remove_host (parameter_types.fqdn). */
function host(action: string, arg: Record<string, unknown>): string {
  const h = stringField(arg, "host", FQDN);
  required(arg, ["host"], action);
  onlyKeys(arg, ["host"], action);
  return h as string;
}

const META_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

/** The metadata of set_metadata (parameter_types.metadata_with_null): null values delete keys. */
function metadata(arg: Record<string, unknown>): Record<string, string | null> {
  let meta: Record<string, unknown> = {};
  if (arg.metadata !== undefined) {
    meta = objectField("metadata", arg.metadata);
    for (const [k, v] of Object.entries(meta)) {
      if (!META_KEY.test(k)) continue;
      if (v !== null && typeof v !== "string")
        throw fieldError(k, v, `${pyRepr(v)} is not of type 'string', 'null'`);
      if (typeof v === "string" && v.length > 255) throw fieldError(k, v, `${pyRepr(v)} is too long`);
    }
    onlyKeys(
      meta,
      Object.keys(meta).filter((k) => META_KEY.test(k)),
      "metadata",
    );
  }
  required(arg, ["metadata"], "set_metadata");
  onlyKeys(arg, ["metadata"], "set_metadata");
  return meta as Record<string, string | null>;
}
