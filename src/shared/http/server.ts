import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { Logger } from "pino";
import { stripIdentityHeaders } from "../auth/headers.js";
import { policyCredentials, type AuthContext, type TokenValidator } from "../auth/context.js";
import type { PolicyEnforcer, Target } from "../policy/index.js";
import type { Metrics } from "../metrics.js";
import { clientErrorHandler, rootError, serviceFor } from "./client-errors.js";
import { ApiError, forbidden, unauthorized } from "./errors.js";
import { NO_MICROVERSION, negotiate, responseHeaders } from "./microversion.js";
import { requestOrigin } from "./pagination.js";
import { Reply } from "./reply.js";
import type { RequestCtx, Route } from "./route.js";
import { requestIdHeaders, type ServiceApi } from "./service.js";
import { parseJsonBody } from "./json.js";
import { refusedMethods } from "./method-not-allowed.js";
import { compileValidator, describeValidationError } from "./validation.js";
import { matchesAccessRules } from "../auth/access-rules.js";

/** What the HTTP layer needs from the rest of the process. */
export interface HttpDeps {
  validator: TokenValidator;
  policy: PolicyEnforcer;
  log: Logger;
  metrics?: Metrics;
  /** Largest accepted JSON body in bytes (default 1 MiB, like oslo's max_request_body_size... of 112 KiB is too small for user_data). */
  bodyLimit?: number;
  /** Extra plain routes on the root (metrics, dashboard). */
  extra?: (app: FastifyInstance) => Promise<void> | void;
}

const METHOD_NOT_ALLOWED = "The method specified is not allowed for this resource.";
const INTERNAL = "The server has either erred or is incapable of performing the requested operation.";
const BAD_JSON =
  "The request body is not valid JSON. Send a JSON object with Content-Type: application/json.";

/** Translate framework errors (bad JSON, too large, validation) into ApiErrors. */
function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError & { validation?: unknown };
  if (fe && typeof fe === "object") {
    if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") return new ApiError(413, "Request is too large.");
    if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
      return new ApiError(415, "The request media type is not supported by this server.");
    if (
      fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY" ||
      fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" ||
      fe instanceof SyntaxError
    )
      return new ApiError(400, BAD_JSON);
    if (
      fe.statusCode === 400 ||
      fe.statusCode === 413 ||
      fe.statusCode === 415 ||
      fe.statusCode === 404 ||
      fe.statusCode === 405
    )
      return new ApiError(fe.statusCode, fe.message);
  }
  return null;
}

const mounted = new WeakMap<FastifyInstance, readonly ServiceApi[]>();

/** The services a listener built here serves (for tests that walk every route of every service). */
export function mountedServices(app: FastifyInstance): readonly ServiceApi[] {
  return mounted.get(app) ?? [];
}

/** Build the single HTTP listener that serves every service under its prefix. */
export async function buildHttpServer(services: ServiceApi[], deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    genReqId: () => `req-${randomUUID()}`,
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    return503OnClosing: true,
    clientErrorHandler: clientErrorHandler(services),
    // Router-level errors (undecodable URL, over-long path parameter) get the owning service's error format and
    // request id instead of fastify's own body (which also echoed the whole path back).
    frameworkErrors: (err, rawReq, rawRep) => {
      const req = rawReq as FastifyRequest;
      const rep = rawRep as FastifyReply;
      const api =
        err.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? new ApiError(404, "The resource could not be found.")
          : new ApiError(400, "The request URL is not valid.");
      const svc = serviceFor(services, req.url.split("?")[0]);
      if (!svc)
        return rep
          .code(api.status)
          .header("content-type", "application/json")
          .send(JSON.stringify(rootError(api).body));
      for (const [h, v] of requestIdHeaders(svc, req.id)) rep.header(h, v);
      return sendError(svc, api, req, rep);
    },
  });
  // Methods beyond fastify's defaults that a service declares (Swift's COPY, which may carry a body).
  const methods = new Set(services.flatMap((s) => s.routes.flatMap((r) => [r.method].flat())));
  if (methods.has("COPY")) app.addHttpMethod("COPY", { hasBody: true });
  // Callback-style hooks: an async one costs a promise and a microtask turn on every request.
  app.addHook("onRequest", (req, _rep, done) => {
    stripIdentityHeaders(req.headers as Record<string, unknown>);
    done();
  });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const v = compileValidator(schema, (httpPart ?? "body") as "body");
    return (data: unknown) =>
      v(data)
        ? { value: data }
        : {
            error: Object.assign(new Error(describeValidationError(v.errors, httpPart ?? "body")), {
              statusCode: 400,
            }),
          };
  });
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  // Clients (tempest among them) send Content-Type: application/json with an empty body on PUT/DELETE: that is no body, not bad JSON.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    if (body === "") return done(null, undefined);
    try {
      done(null, parseJsonBody(body as string, BAD_JSON));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  if (deps.metrics) {
    const m = deps.metrics;
    app.addHook("onResponse", (req, rep, done) => {
      m.observeRequest(
        (req.routeOptions?.config && (req.routeOptions.config as { service?: string }).service) || "root",
        req.method,
        rep.statusCode,
        rep.elapsedTime / 1000,
      );
      done();
    });
  }
  for (const svc of services)
    await app.register(async (scope) => mountService(scope, svc, deps), { prefix: svc.prefix });
  mounted.set(app, services);
  if (deps.extra) await deps.extra(app);
  // Outside every service prefix: say which services answer here instead of fastify's bare "Route not found".
  const prefixes = services.map((s) => s.prefix).filter((p) => p !== "");
  if (prefixes.length === services.length)
    app.setNotFoundHandler((req, rep) => {
      const message = `No Stratus service answers at ${req.url.split("?")[0]}. Services running here: ${prefixes.join(", ") || "none"}.`;
      return rep
        .code(404)
        .header("content-type", "application/json")
        .header("x-openstack-request-id", req.id)
        .send(JSON.stringify({ error: { code: 404, title: "Not Found", message } }));
    });
  return app;
}

function sendError(svc: ServiceApi, err: ApiError, req: FastifyRequest, rep: FastifyReply): FastifyReply {
  const { body, contentType } = svc.formatError(err, req.id, req.headers);
  for (const [k, v] of Object.entries(err.extra.headers ?? {})) rep.header(k, v);
  rep.code(err.status).header("content-type", contentType ?? "application/json");
  if (err.status === 401)
    rep.header("www-authenticate", `Keystone uri="${req.protocol}://${req.host}/identity"`);
  return rep.send(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

async function mountService(scope: FastifyInstance, svc: ServiceApi, deps: HttpDeps): Promise<void> {
  scope.addHook("onSend", (req, rep, payload, done) => {
    for (const [h, v] of requestIdHeaders(svc, req.id)) rep.header(h, v);
    done(null, payload);
  });
  const jsonTypes = new Set<string>();
  for (const r of svc.routes) for (const t of r.contentTypes ?? []) jsonTypes.add(t);
  for (const t of jsonTypes)
    scope.addContentTypeParser(t, { parseAs: "string" }, (_req, body, done) => {
      try {
        done(null, body === "" ? undefined : parseJsonBody(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
  scope.setErrorHandler((err, req, rep) => {
    const api = toApiError(err);
    if (api) return sendError(svc, api, req, rep);
    req.log.error({ err, service: svc.name, requestId: req.id }, "unhandled error");
    return sendError(svc, new ApiError(500, INTERNAL), req, rep);
  });
  scope.setNotFoundHandler((req, rep) =>
    sendError(svc, new ApiError(404, "The resource could not be found."), req, rep),
  );
  const explicitHead = new Set(
    svc.routes
      .filter((r) => (Array.isArray(r.method) ? r.method : [r.method]).includes("HEAD"))
      .map((r) => r.path),
  );
  for (const r of svc.routes) if (!r.stream) mountRoute(scope, svc, r, deps, !explicitHead.has(r.path));
  // Streamed routes read the request themselves (nothing buffered or size-limited), in a scope of their own so that
  // every other route still gets an octet-stream body as a Buffer, never as a stream.
  const streamed = svc.routes.filter((r) => r.stream === true);
  if (streamed.length)
    await scope.register(async (raw) => {
      raw.addContentTypeParser("application/octet-stream", (_req, payload, done) => done(null, payload));
      for (const r of streamed) mountRoute(raw, svc, r, deps, !explicitHead.has(r.path));
    });
  // Routes that take any body as a stream get no parser but a pass-through, whatever the media type.
  const rawAny = svc.routes.filter((r) => r.stream === "any");
  if (rawAny.length)
    await scope.register(async (raw) => {
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
      for (const r of rawAny) mountRoute(raw, svc, r, deps, !explicitHead.has(r.path));
    });
  // A known path asked with a method it does not answer: 405 with an Allow header, in the service's format, before
  // any body is read or the caller authenticated (the answer depends on the URL alone).
  const refused = refusedMethods(svc.routes);
  if (refused.length)
    await scope.register(async (raw) => {
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
      for (const { path, methods, allow } of refused)
        raw.route({
          method: methods,
          url: path,
          exposeHeadRoute: false,
          handler: async (req, rep) =>
            sendError(
              svc,
              svc.trailingSlashNotFound && !path.endsWith("/") && req.url.split("?", 1)[0].endsWith("/")
                ? new ApiError(404, "The resource could not be found.")
                : new ApiError(405, METHOD_NOT_ALLOWED, { headers: { allow } }),
              req,
              rep,
            ),
        });
    });
}

/** Repeated query parameters collapse to their first value (as Flask's request.args.get does) for routes that
 * declare no query schema, so handlers typed for strings never get an array. */
function firstValues(q: unknown): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries((q ?? {}) as Record<string, unknown>).map(([k, v]) => [
      k,
      Array.isArray(v) ? (v[0] as string | undefined) : (v as string | undefined),
    ]),
  );
}

function mountRoute(
  scope: FastifyInstance,
  svc: ServiceApi,
  r: Route,
  deps: HttpDeps,
  autoHead: boolean,
): void {
  const needsAuth = r.auth ? r.auth !== "none" : r.policy !== null;
  const optionalAuth = r.auth === "optional";
  // The caller is established in onRequest, before the body is parsed or validated: an unauthenticated request
  // is a 401 whatever its body, and learns nothing about the schema.
  const callers = new WeakMap<FastifyRequest, AuthContext | null>();
  const serviceCallers = new WeakMap<FastifyRequest, AuthContext>();
  const schema: Record<string, unknown> = {};
  if (r.body) schema.body = r.body;
  if (r.query) schema.querystring = r.query;
  if (r.params) schema.params = r.params;
  scope.route({
    method: r.method,
    url: r.path,
    schema,
    config: { service: svc.name },
    exposeHeadRoute: autoHead,
    onRequest: async (req) => {
      let auth: AuthContext | null = null;
      const token = req.headers["x-auth-token"];
      if (needsAuth) {
        if (typeof token === "string" && token !== "") auth = await deps.validator.validate(token);
        else if (!optionalAuth) throw unauthorized();
        // A service token rides along a user's token (never alone); an invalid one is a 401, as keystonemiddleware.
        const serviceToken = req.headers["x-service-token"];
        if (auth && typeof serviceToken === "string" && serviceToken !== "")
          serviceCallers.set(req, await deps.validator.validate(serviceToken));
      }
      callers.set(req, auth);
      // A rule on the path alone is enforced before the body is parsed or validated (Keystone's order): a caller
      // the rule refuses gets 403 whatever it sent, and learns nothing about the schema.
      const target: Target = r.callerTarget
        ? { project_id: auth?.projectId ?? null, user_id: auth?.userId ?? null, ...(req.params as Target) }
        : (req.params as Target);
      if (r.policy && !r.target && !deps.policy.enforce(r.policy, target, policyCredentials(auth))) {
        if (!auth) throw unauthorized();
        throw forbidden(`You are not authorized to perform the requested action: ${r.policy}.`);
      }
    },
    // A body schema means JSON: any other media type would reach validation as a raw Buffer (which an open schema
    // accepts as an object), so refuse it here.
    ...(r.body
      ? {
          preValidation: async (req: FastifyRequest) => {
            if (Buffer.isBuffer(req.body))
              throw (
                svc.badMediaType?.() ??
                new ApiError(415, "The request media type is not supported by this server.")
              );
          },
        }
      : {}),
    handler: async (req, rep) => {
      const microversion = svc.microversions ? negotiate(svc.microversions, req.headers) : NO_MICROVERSION;
      if (svc.microversions) rep.headers(responseHeaders(svc.microversions, microversion));
      const auth = callers.get(req) ?? null;
      if (
        auth?.accessRules &&
        !matchesAccessRules(
          auth.accessRules,
          svc.serviceType,
          req.method,
          req.url.slice(svc.prefix.length).split("?")[0],
        )
      ) {
        throw forbidden(
          "You are not authorized to perform the requested action: the application credential's access rules do not allow this request.",
        );
      }
      const origin = requestOrigin(req.headers, req.host);
      const creds = policyCredentials(auth);
      const check = (rule: string, target: Target = req.params as Target): boolean =>
        deps.policy.enforce(rule, target, creds);
      const ctx: RequestCtx = {
        body: req.body,
        query: r.query ? (req.query as Record<string, string | undefined>) : firstValues(req.query),
        params: req.params as Record<string, string>,
        headers: req.headers,
        auth,
        serviceAuth: serviceCallers.get(req) ?? null,
        requestId: req.id,
        log: req.log as unknown as Logger,
        method: req.method,
        url: req.url.slice(svc.prefix.length),
        origin,
        serviceUrl: origin + svc.prefix,
        microversion,
        allowed: check,
        authorize: (rule, target) => {
          if (!check(rule, target)) {
            if (!auth) throw unauthorized();
            throw forbidden(`You are not authorized to perform the requested action: ${rule}.`);
          }
        },
        raw: req,
        rawReply: rep,
      };
      if (r.policy && r.target) ctx.authorize(r.policy, await r.target(ctx));
      const out = await r.handler(ctx);
      if (out instanceof Reply) {
        rep.code(out.status).headers(out.headers);
        if (out.body === undefined) return rep.send();
        if (out.body instanceof Readable || Buffer.isBuffer(out.body) || typeof out.body === "string")
          return rep.send(out.body);
        return rep.header("content-type", "application/json").send(JSON.stringify(out.body));
      }
      rep.code(r.status ?? 200);
      if (out === undefined) return rep.send();
      return rep.header("content-type", "application/json").send(JSON.stringify(out));
    },
  });
}
