// Cross-origin requests as Swift's proxy answers them (strict_cors_mode): a container opts in with
// `X-Container-Meta-Access-Control-Allow-Origin` (space-separated origins, or *), `-Max-Age` and `-Expose-Headers`.
// Preflight OPTIONS is answered without a token; actual requests from an allowed origin get the CORS headers.
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftError } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { header, swiftPath, type Ctx, type SwiftPath } from "./request.js";

const ACCOUNT_METHODS = ["HEAD", "GET", "POST", "OPTIONS"];
const CONTAINER_METHODS = ["HEAD", "GET", "PUT", "POST", "DELETE", "OPTIONS"];
const OBJECT_METHODS = ["HEAD", "GET", "PUT", "POST", "DELETE", "COPY", "OPTIONS"];
/** Response headers every allowed origin may read (Swift's list). */
const EXPOSED = [
  "cache-control",
  "content-language",
  "content-type",
  "expires",
  "last-modified",
  "pragma",
  "etag",
  "x-timestamp",
  "x-trans-id",
  "x-openstack-request-id",
];

interface Cors {
  allowOrigin: string;
  maxAge?: string;
  exposeHeaders?: string;
}

/** A container's CORS settings, or null when it has none (or does not exist). */
async function containerCors(core: ObjectCore, path: SwiftPath): Promise<Cors | null> {
  if (path.container === undefined) return null;
  const c = await getContainer(core, path.account, path.container);
  const allowOrigin = c?.meta.get("x-container-meta-access-control-allow-origin")?.trim();
  if (!c || !allowOrigin) return null;
  return {
    allowOrigin,
    maxAge: c.meta.get("x-container-meta-access-control-max-age"),
    exposeHeaders: c.meta.get("x-container-meta-access-control-expose-headers"),
  };
}

const allows = (cors: Cors, origin: string): boolean =>
  cors.allowOrigin.split(/\s+/).some((o) => o === "*" || o === origin);

/** The Allow-Origin value: * when the container allows any origin, else the request's own. */
const allowOriginValue = (cors: Cors, origin: string): string => (cors.allowOrigin === "*" ? "*" : origin);

/** OPTIONS on an account, container or object: the Allow list, or a CORS preflight's answer (401 if refused). */
export async function preflight(ctx: Ctx, core: ObjectCore): Promise<Reply> {
  const path = swiftPath(ctx, core);
  const methods =
    path.object !== undefined
      ? OBJECT_METHODS
      : path.container !== undefined
        ? CONTAINER_METHODS
        : ACCOUNT_METHODS;
  const allow = methods.join(", ");
  const origin = header(ctx, "origin");
  const wanted = header(ctx, "access-control-request-method");
  if (!origin || !wanted) return new Reply(200, undefined, { allow, "content-length": "0" });
  const cors = await containerCors(core, path);
  if (!cors || !allows(cors, origin) || !methods.includes(wanted)) throw swiftError(401);
  const headers: Record<string, string> = {
    allow,
    "access-control-allow-origin": allowOriginValue(cors, origin),
    "access-control-allow-methods": allow,
    "content-length": "0",
  };
  if (cors.maxAge && /^\d+$/.test(cors.maxAge)) headers["access-control-max-age"] = cors.maxAge;
  const asked = header(ctx, "access-control-request-headers");
  if (asked) headers["access-control-allow-headers"] = asked;
  return new Reply(200, undefined, headers);
}

/** Add the CORS headers to a reply for a request from an origin the container allows. */
export async function withCors(ctx: Ctx, core: ObjectCore, path: SwiftPath, out: unknown): Promise<unknown> {
  const origin = header(ctx, "origin");
  if (!origin || !(out instanceof Reply)) return out;
  const cors = await containerCors(core, path);
  if (!cors || !allows(cors, origin)) return out;
  const shown = Object.keys(out.headers).filter((h) => /^x-(object|container)-meta-/i.test(h));
  const extra = (cors.exposeHeaders ?? "").split(/[\s,]+/).filter(Boolean);
  out.headers["access-control-allow-origin"] = allowOriginValue(cors, origin);
  out.headers["access-control-expose-headers"] = [...new Set([...EXPOSED, ...shown, ...extra])].join(", ");
  return out;
}
