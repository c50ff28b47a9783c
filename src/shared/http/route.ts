import type { Static, TSchema } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { AuthContext } from "../auth/context.js";
import type { Target } from "../policy/index.js";
import type { Microversion } from "./microversion.js";

/** HTTP methods a route may declare. */
export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "COPY" | "OPTIONS";

type In<S> = S extends TSchema ? Static<S> : Record<string, string | undefined>;
type InP<S> = S extends TSchema ? Static<S> : Record<string, string>;

/** What a handler gets: parsed input, the caller, and helpers. */
export interface RequestCtx<B = unknown, Q = Record<string, string | undefined>, P = Record<string, string>> {
  body: B;
  query: Q;
  params: P;
  headers: Record<string, string | string[] | undefined>;
  auth: AuthContext | null;
  /** The caller of a valid X-Service-Token sent with the request (keystonemiddleware's service token), if any. */
  serviceAuth?: AuthContext | null;
  requestId: string;
  log: Logger;
  method: string;
  /** Path and query as received (after the service prefix was matched). */
  url: string;
  /** Scheme://host of the request as the client saw it (honours X-Forwarded-Proto/Host). */
  origin: string;
  /** The service's public base URL for this request, e.g. http://host:5000/identity. */
  serviceUrl: string;
  /** Requested microversion (services without microversions get 1.0). */
  microversion: Microversion;
  /** Enforce a policy rule against a target; throws 403 (or 401 when unauthenticated). */
  authorize(rule: string, target?: Target): void;
  /** Whether the caller passes a policy rule, without throwing. */
  allowed(rule: string, target?: Target): boolean;
  raw: FastifyRequest;
  rawReply: FastifyReply;
}

/** A route, declared as data: the framework validates input, checks policy, calls the handler and renders its value. */
export interface Route<
  BS extends TSchema | undefined = any,
  QS extends TSchema | undefined = any,
  PS extends TSchema | undefined = any,
> {
  method: Method | Method[];
  /** Path below the service prefix, fastify syntax (`/v3/users/:user_id`). */
  path: string;
  /** Policy rule checked before the handler with the default target (path params + caller), or null for public routes. */
  policy: string | null;
  /** Whether a token is required (default: true when policy is set). */
  auth?: "required" | "optional" | "none";
  /**
   * The default target also holds the caller's project_id and user_id (path params win): a rule on the caller's own
   * project is then enforced before the body is read, as rules on the path alone are (plugin routes).
   */
  callerTarget?: boolean;
  /** Build the policy target (for rules that need the resource's owner); default is path params. */
  target?: (ctx: RequestCtx<In<BS>, In<QS>, InP<PS>>) => Promise<Target> | Target;
  body?: BS;
  query?: QS;
  params?: PS;
  /** Response schema, for documentation and contract tests. */
  response?: TSchema;
  /** Status for plain returned values (default 200). */
  status?: number;
  /**
   * The body is the raw request stream, never buffered: `true` for application/octet-stream bodies (image data),
   * `"any"` for bodies of every media type, JSON included (object data; no body is `undefined`).
   */
  stream?: boolean | "any";
  /** Accept bodies of these content types besides application/json. */
  contentTypes?: string[];
  handler: (ctx: RequestCtx<In<BS>, In<QS>, InP<PS>>) => Promise<unknown> | unknown;
}

/** Declare a route with inferred input types. */
export function route<
  BS extends TSchema | undefined = undefined,
  QS extends TSchema | undefined = undefined,
  PS extends TSchema | undefined = undefined,
>(r: Route<BS, QS, PS>): Route {
  return r as Route;
}
