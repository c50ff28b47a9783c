// Mounting loaded plugins: their routes join the extended service's route table (the framework validates their
// input, enforces their policy rule and renders errors in the service's format), their rules join the policy.
import type { TSchema } from "@sinclair/typebox";
import { ApiError } from "../shared/http/errors.js";
import type { RequestCtx, Route } from "../shared/http/route.js";
import type { ServiceApi } from "../shared/http/service.js";
import type { PolicyEnforcer, RuleDefault } from "../shared/policy/index.js";
import type { ServiceClient } from "../shared/client/service-client.js";
import type { LoadedPlugin } from "./load.js";
import type { ExtensibleService, PluginRequest, PluginRoute } from "./types.js";

/** A client of a service's public API by service name (through the shared listener). */
export type ClientFor = (service: ExtensibleService) => ServiceClient;

/** The framework's request context, whatever the route's schemas. */
type Ctx = RequestCtx<any, any, any>;

const CALL_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);

/** The policy target of a plugin route: the caller's project and user, then the path parameters. */
const targetOf = (ctx: Ctx): Record<string, unknown> => ({
  project_id: ctx.auth?.projectId ?? null,
  user_id: ctx.auth?.userId ?? null,
  ...ctx.params,
});

/** The narrow request a plugin handler sees. */
function pluginRequest(ctx: Ctx, clients: ClientFor): PluginRequest {
  return {
    body: ctx.body,
    query: { ...(ctx.query as Record<string, unknown>) },
    params: { ...ctx.params },
    userId: ctx.auth?.userId ?? "",
    projectId: ctx.auth?.projectId ?? null,
    roles: [...(ctx.auth?.roles ?? [])],
    requestId: ctx.requestId,
    allowed: (rule, target) => ctx.allowed(rule, target ?? targetOf(ctx)),
    async call(service, method, path, opts = {}) {
      if (!CALL_METHODS.has(method) || !path.startsWith("/"))
        throw new Error(`call: bad request ${method} ${path}`);
      const res = await clients(service).request(method, path, {
        body: opts.body,
        headers: opts.headers,
        token: ctx.auth?.token ?? "",
      });
      return { status: res.status, headers: res.headers, body: res.body };
    },
    error: (status, message) =>
      new ApiError(Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500, message),
  };
}

/** A plugin route as a framework route. */
export function frameworkRoute(r: PluginRoute, clients: ClientFor): Route {
  return {
    method: r.method,
    path: r.path,
    policy: r.policy.name,
    auth: "required",
    callerTarget: true,
    body: r.body as TSchema | undefined,
    query: r.query as TSchema | undefined,
    params: r.params as TSchema | undefined,
    status: r.status,
    handler: (ctx: Ctx) => r.handler(pluginRequest(ctx, clients)),
  };
}

/** The policy defaults of a plugin's routes (a rule shared by several routes is registered once). */
export function pluginPolicies(p: LoadedPlugin): RuleDefault[] {
  const rules = new Map<string, RuleDefault>();
  for (const r of p.routes) {
    const had = rules.get(r.policy.name);
    if (had && had.check !== r.policy.check)
      throw new Error(`plugin "${p.manifest.name}": rule ${r.policy.name} has two different checks`);
    rules.set(r.policy.name, {
      name: r.policy.name,
      check: r.policy.check,
      description: r.policy.description,
      operations: [...(had?.operations ?? []), { method: r.method, path: r.path }],
    });
  }
  return [...rules.values()];
}

/** Add every plugin's routes to its service and its rules to the policy; throws on a clash with a route. */
export function mountPlugins(
  plugins: LoadedPlugin[],
  services: ServiceApi[],
  policy: PolicyEnforcer,
  clients: ClientFor,
): void {
  for (const p of plugins) {
    const name = p.manifest.name;
    const svc = services.find((s) => s.name === p.manifest.service);
    if (!svc) throw new Error(`plugin "${name}": service ${p.manifest.service} is not running here`);
    const taken = new Set(
      svc.routes.flatMap((r) =>
        (Array.isArray(r.method) ? r.method : [r.method]).map((m) => `${m} ${r.path}`),
      ),
    );
    for (const r of p.routes)
      if (taken.has(`${r.method} ${r.path}`))
        throw new Error(`plugin "${name}": ${r.method} ${r.path} is already a route of ${svc.name}`);
    try {
      policy.register(pluginPolicies(p));
    } catch (e) {
      throw new Error(`plugin "${name}": ${(e as Error).message}`, { cause: e });
    }
    svc.routes.push(...p.routes.map((r) => frameworkRoute(r, clients)));
  }
}
