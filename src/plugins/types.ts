// The contract between Stratus and a plugin's server module (docs/plugins.md): what a plugin exports and the narrow
// API it is given. Plugins never see Stratus's internals (its database handle, cores, fastify): only this.

/** The services a plugin may add routes to (the `service` of plugin.json). */
export const EXTENSIBLE_SERVICES = [
  "identity",
  "image",
  "placement",
  "compute",
  "network",
  "object",
  "volume",
] as const;

/** One of EXTENSIBLE_SERVICES. */
export type ExtensibleService = (typeof EXTENSIBLE_SERVICES)[number];

/** HTTP methods a plugin route may declare. */
export type PluginMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A JSON Schema (draft 7, as ajv reads it) for a request part or the plugin's settings. */
export type JsonSchema = Record<string, unknown>;

/** plugin.json: who the plugin is, which service it extends and its dashboard panels. */
export interface PluginManifest {
  /** Lower-case name, also the prefix of its policy rules ("cost" → "cost:show"). */
  name: string;
  version: string;
  description?: string;
  /** The service whose API the routes are added to. */
  service: ExtensibleService;
  /** The server module, relative to the plugin folder (default "server.js"). */
  server?: string;
  /** Dashboard panels: prebuilt ES modules under the plugin's dashboard/ folder. */
  panels?: Array<{ id: string; title: string; module: string }>;
}

/** A plugin's policy rule: its name (prefixed "<plugin>:"), default check string and description. */
export interface PluginPolicy {
  name: string;
  check: string;
  description: string;
}

/** Answer of a call to another service's public API. */
export interface PluginCallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** What a route's handler gets: the validated input, the caller, and what it may do. */
export interface PluginRequest {
  body: unknown;
  query: Record<string, unknown>;
  params: Record<string, string>;
  /** The caller's user, project (null for a domain/system token) and roles. */
  userId: string;
  projectId: string | null;
  roles: string[];
  requestId: string;
  /** Whether the caller passes a policy rule (the plugin's own or any other) against a target. */
  allowed(rule: string, target?: Record<string, unknown>): boolean;
  /** Call a service's public API (path below its prefix) as the caller, with the caller's token. */
  call(
    service: ExtensibleService,
    method: string,
    path: string,
    opts?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<PluginCallResult>;
  /** An error to throw: answered with this status in the extended service's error format. */
  error(status: number, message: string): Error;
}

/** A route as a plugin declares it: the same route-as-data shape as Stratus's own. */
export interface PluginRoute {
  method: PluginMethod;
  /** Path below the service prefix, fastify syntax ("/v2.1/os-cost/:id"). */
  path: string;
  /** Checked before the handler against {project_id, user_id of the caller, ...path params}. */
  policy: PluginPolicy;
  body?: JsonSchema;
  query?: JsonSchema;
  params?: JsonSchema;
  /** Status of a successful answer (default 200). */
  status?: number;
  /** Returns the JSON answer (undefined: no body). */
  handler(req: PluginRequest): unknown;
}

/** A small key-value store of JSON values, the plugin's own (no other tables are reachable). */
export interface PluginKv {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Keys starting with `prefix`, in order (at most 1000). */
  list(prefix?: string): Promise<string[]>;
}

/** What the server module's `routes` function is given. */
export interface PluginHost {
  name: string;
  /** The operator's plugins.settings.<name>, validated against the module's `settings` schema (defaults filled). */
  settings: Record<string, unknown>;
  kv: PluginKv;
  log: { info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

/** The server module's exports. */
export interface PluginModule {
  /** JSON Schema of the plugin's settings (optional). */
  settings?: JsonSchema;
  routes(host: PluginHost): PluginRoute[] | Promise<PluginRoute[]>;
}
