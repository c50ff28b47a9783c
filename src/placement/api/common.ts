import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Method, RequestCtx, Route } from "../../shared/http/route.js";
import { route } from "../../shared/http/route.js";
import { GenerationConflict, badRequest, concurrentUpdate, notFound, perr } from "../errors.js";

export type Ctx = RequestCtx<any, any, any>;

/** Whether a string is a UUID as oslo's uuidutils.is_uuid_like sees it (dashes optional, any case, braces). */
export function isUuidLike(s: unknown): s is string {
  if (typeof s !== "string") return false;
  const t = s
    .replace(/^urn:uuid:/i, "")
    .replace(/[{}-]/g, "")
    .toLowerCase();
  return /^[0-9a-f]{32}$/.test(t);
}

/** The canonical (lower case, dashed) form of a UUID-like string. */
export function normalizeUuid(s: string): string {
  const t = s
    .replace(/^urn:uuid:/i, "")
    .replace(/[{}-]/g, "")
    .toLowerCase();
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}-${t.slice(16, 20)}-${t.slice(20)}`;
}

const ajv = new Ajv({ allErrors: false, coerceTypes: false, strict: false });
ajv.addFormat("uuid", { type: "string", validate: (s: string) => isUuidLike(s) });

const compiled = new WeakMap<object, ValidateFunction>();
/** Validators by schema content, for schemas rebuilt per request. */
const compiledByText = new Map<string, ValidateFunction>();

function describe(e: ErrorObject, data: unknown): string {
  const at = e.instancePath ? e.instancePath.slice(1).split("/") : [];
  let value: unknown = data;
  for (const k of at) value = (value as Record<string, unknown> | undefined)?.[k];
  const shown = JSON.stringify(value);
  switch (e.keyword) {
    case "required":
      return `'${String(e.params.missingProperty)}' is a required property`;
    case "additionalProperties":
      return `Additional properties are not allowed ('${String(e.params.additionalProperty)}' was unexpected)`;
    case "type":
      return `${shown} is not of type '${String(e.params.type)}'`;
    case "minimum":
      return `${shown} is less than the minimum of ${String(e.params.limit)}`;
    case "maximum":
      return `${shown} is greater than the maximum of ${String(e.params.limit)}`;
    case "minLength":
      return `${shown} is too short`;
    case "maxLength":
      return `${shown} is too long`;
    case "minProperties":
      return `${shown} does not have enough properties`;
    case "minItems":
      return `${shown} is too short`;
    case "pattern":
      return `${shown} does not match '${String(e.params.pattern)}'`;
    case "format":
      return `${shown} is not a '${String(e.params.format)}'`;
    case "uniqueItems":
      return `${shown} has non-unique elements`;
    case "enum":
      return `${shown} is not one of ${JSON.stringify(e.params.allowedValues)}`;
    default:
      return `${shown}: ${e.message ?? "is not valid"}`;
  }
}

/** Validate against a JSON schema; throws Placement's 400 "JSON does not validate: ...". */
export function validate<T>(data: unknown, schema: object): T {
  let v = compiled.get(schema);
  if (!v) {
    // Schemas built per request (per microversion) are equal in content: compile each content once, or ajv
    // would compile (about 2 ms) and keep a new validator on every request.
    const text = JSON.stringify(schema);
    v = compiledByText.get(text);
    if (!v) {
      v = ajv.compile(schema);
      compiledByText.set(text, v);
    }
    compiled.set(schema, v);
  }
  if (!v(data)) throw badRequest(`JSON does not validate: ${describe(v.errors![0], data)}`);
  return data as T;
}

function contentType(ctx: Ctx): string {
  const ct = ctx.headers["content-type"];
  return (Array.isArray(ct) ? ct[0] : (ct ?? "")).split(";")[0].trim().toLowerCase();
}

/** The JSON body validated against a schema; 415 unless the request says application/json. */
export function jsonBody<T>(ctx: Ctx, schema: object): T {
  const ct = contentType(ctx);
  if (ct !== "application/json")
    throw perr(415, `The media type ${ct || "None"} is not supported, use application/json`);
  if (ctx.body === undefined || Buffer.isBuffer(ctx.body))
    throw badRequest("Malformed JSON: Expecting value: line 1 column 1 (char 0)");
  return validate<T>(ctx.body, schema);
}

/** The raw query string as repeated parameters. */
export function queryOf(ctx: Ctx): URLSearchParams {
  const i = ctx.url.indexOf("?");
  return new URLSearchParams(i >= 0 ? ctx.url.slice(i + 1) : "");
}

/** 400 for a query parameter the microversion does not accept. */
export function allowOnly(q: URLSearchParams, allowed: (key: string) => boolean): void {
  for (const k of q.keys())
    if (!allowed(k))
      throw badRequest(
        `Invalid query string parameters: Additional properties are not allowed ('${k}' was unexpected)`,
      );
}

/** last-modified / cache-control headers, from 1.15. */
export function cacheHeaders(ctx: Ctx, modified?: string | Date | null): Record<string, string> {
  if (ctx.microversion.lt("1.15")) return {};
  const d = modified ? new Date(modified) : new Date();
  return {
    "last-modified": (Number.isNaN(d.getTime()) ? new Date() : d).toUTCString(),
    "cache-control": "no-cache",
  };
}

/** The latest of several timestamps (ISO strings). */
export function latest(times: Array<string | null | undefined>): string | null {
  let best: string | null = null;
  for (const t of times) if (t && (!best || t > best)) best = t;
  return best;
}

/** The path prefix under which placement is mounted ("/placement", or "" on its own listener). */
export function mount(ctx: Ctx): string {
  return ctx.serviceUrl.slice(ctx.origin.length);
}

/** Whether an Accept header admits application/json (no header admits everything), as webob matches offers. */
export function acceptsJson(accept: string | string[] | undefined): boolean {
  const value = Array.isArray(accept) ? accept.join(",") : accept;
  if (!value || !value.trim()) return true;
  return value.split(",").some((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((x) => x.trim()).find((x) => x.startsWith("q="));
    if (q && Number(q.slice(2)) <= 0) return false;
    return ["application/json", "application/*", "*/*"].includes(type.trim());
  });
}

/**
 * A placement route: version window (404 outside unless told otherwise), 406 for a GET whose Accept excludes
 * JSON, and generation conflicts mapped to 409.
 */
export function proute(r: {
  method: Method;
  path: string;
  policy: string;
  /** Lowest microversion that has this route. */
  min?: string;
  /** Highest microversion that has this route. */
  max?: string;
  /** Status outside the version window (404, or 405 for DELETE .../inventories). */
  outside?: number;
  target?: Route["target"];
  status?: number;
  handler: (ctx: Ctx) => Promise<unknown> | unknown;
}): Route {
  return route({
    method: r.method,
    path: r.path,
    policy: r.policy,
    ...(r.target ? { target: r.target } : {}),
    ...(r.status ? { status: r.status } : {}),
    handler: async (ctx: Ctx) => {
      if ((r.min && ctx.microversion.lt(r.min)) || (r.max && ctx.microversion.cmp(r.max) > 0)) {
        if (r.outside === 405) throw methodNotAllowed([]);
        throw notFound();
      }
      if (r.method === "GET" && !acceptsJson(ctx.headers.accept))
        throw perr(406, "Only application/json is provided");
      try {
        return await r.handler(ctx);
      } catch (e) {
        if (e instanceof GenerationConflict) throw concurrentUpdate(`Update conflict: ${e.message}`);
        throw e;
      }
    },
  });
}

function methodNotAllowed(allowed: string[]) {
  return perr(
    405,
    "The method specified is not allowed for this resource.",
    undefined,
    allowed.length ? { allow: allowed.join(", ") } : undefined,
  );
}

/** 405 routes (with Allow) for the methods a path does not have, as Placement's router answers. */
export function methodNotAllowedRoutes(routes: Route[]): Route[] {
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) {
    const set = byPath.get(r.path) ?? byPath.set(r.path, new Set()).get(r.path)!;
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) set.add(m);
  }
  const out: Route[] = [];
  for (const [path, methods] of byPath) {
    const missing = (["GET", "PUT", "POST", "DELETE", "PATCH"] as Method[]).filter((m) => !methods.has(m));
    if (!missing.length) continue;
    const allowed = [...methods];
    out.push(
      route({
        method: missing,
        path,
        policy: null,
        auth: path === "/" ? "none" : "required",
        handler: () => {
          throw methodNotAllowed(allowed);
        },
      }),
    );
  }
  return out;
}

/** Parse `resources=VCPU:2,MEMORY_MB:1024` into class -> amount; 400 on a malformed value. */
export function parseResources(value: string): Map<string, number> {
  const fmt = "Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024.";
  if (value.trim() === "") throw badRequest(`Badly formed resources parameter. ${fmt} Got: empty string.`);
  const out = new Map<string, number>();
  for (const part of value.split(",")) {
    const bits = part.split(":");
    if (bits.length !== 2) throw badRequest(`Badly formed resources parameter. ${fmt} Got: ${part}.`);
    const [rc, amountText] = bits;
    if (!/^\s*[+-]?\d+\s*$/.test(amountText))
      throw badRequest(`Requested resource ${rc} expected positive integer amount. Got: ${amountText}.`);
    const amount = Number(amountText);
    if (amount < 1) throw badRequest(`Requested resource ${rc} requires amount >= 1. Got: ${amount}.`);
    out.set(rc, amount);
  }
  return out;
}

/** Parsed `required` values: AND of any-sets, and forbidden traits. */
export interface TraitSpec {
  required: string[][];
  forbidden: string[];
}

/**
 * Parse the values of `required` (or `requiredN`, `root_required`): comma lists with `!` for forbidden traits
 * (1.22+), `in:A,B` for any-of (1.39+, where the parameter may also repeat; before, the last value counts).
 */
export function parseTraits(ctx: Ctx, values: string[], opts: { anyTraits?: boolean } = {}): TraitSpec {
  const allowForbidden = ctx.microversion.gte("1.22");
  const allowAny = opts.anyTraits ?? ctx.microversion.gte("1.39");
  const use = allowAny ? values : values.slice(-1);
  const out: TraitSpec = { required: [], forbidden: [] };
  for (const val of use) {
    if (val.startsWith("in:")) {
      if (!allowAny)
        throw badRequest(
          `Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: ${val}`,
        );
      const any = [
        ...new Set(
          val
            .slice(3)
            .split(",")
            .map((s) => s.trim()),
        ),
      ];
      if (any.some((t) => !t))
        throw badRequest(
          `Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ${val}`,
        );
      if (any.some((t) => t.startsWith("!")))
        throw badRequest(
          `Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: ${val}`,
        );
      out.required.push(any);
      continue;
    }
    const all = val.split(",").map((s) => s.trim());
    const forbidden = all.filter((t) => t.startsWith("!")).map((t) => t.replace(/^!+/, ""));
    if (all.some((t) => !t) || forbidden.some((t) => !t))
      throw badRequest(
        `Invalid query string parameters: Expected 'required' parameter value of the form: ${allowForbidden ? "HW_CPU_X86_VMX,!CUSTOM_MAGIC" : "HW_CPU_X86_VMX,CUSTOM_MAGIC"}. Got an empty trait in: ${val}`,
      );
    if (forbidden.length && !allowForbidden)
      throw badRequest(
        `Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${val}`,
      );
    for (const t of all)
      if (!t.startsWith("!") && !out.required.some((a) => a.length === 1 && a[0] === t))
        out.required.push([t]);
    for (const t of forbidden) if (!out.forbidden.includes(t)) out.forbidden.push(t);
  }
  return out;
}

/** Parsed `member_of` values: AND of any-sets, and forbidden aggregates. */
export interface AggSpec {
  required: string[][];
  forbidden: string[];
}

/** Parse `member_of` values (several from 1.24, `!` and `!in:` from 1.32). */
export function parseMemberOf(ctx: Ctx, values: string[], suffix = ""): AggSpec {
  if (ctx.microversion.lt("1.24") && values.length > 1)
    throw badRequest(`Multiple member_of${suffix} parameters are not supported`);
  const allowForbidden = ctx.microversion.gte("1.32");
  const out: AggSpec = { required: [], forbidden: [] };
  for (const value of values) {
    if (value.includes(",") && !(value.startsWith("in:") || value.startsWith("!in:")))
      throw badRequest(
        `Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: ${value}`,
      );
    let required: string[] = [];
    let forbidden: string[] = [];
    if (value.startsWith("!in:")) forbidden = value.slice(4).split(",");
    else if (value.startsWith("!")) forbidden = [value.slice(1)];
    else if (value.startsWith("in:")) required = value.slice(3).split(",");
    else required = [value];
    for (const a of [...required, ...forbidden])
      if (!isUuidLike(a))
        throw badRequest(
          `Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${a}`,
        );
    if (required.length) out.required.push([...new Set(required.map(normalizeUuid))]);
    if (forbidden.length) {
      if (!allowForbidden)
        throw badRequest(
          `Forbidden member_of${suffix} parameters are not supported in the specified microversion`,
        );
      for (const f of forbidden.map(normalizeUuid)) if (!out.forbidden.includes(f)) out.forbidden.push(f);
    }
  }
  return out;
}
