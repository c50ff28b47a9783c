// Finding, importing and checking the configured plugins at start-up. A broken plugin fails start-up with an error
// naming the plugin and what is wrong: a half-loaded plugin could leave routes without their policy.
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import { compileValidator } from "../shared/http/validation.js";
import { parseRule } from "../shared/policy/index.js";
import { pluginKv } from "./kv.js";
import { firstError, MODULE_RE, readManifest } from "./manifest.js";
import type { PluginHost, PluginManifest, PluginModule, PluginRoute } from "./types.js";

/** A plugin ready to be mounted: its manifest, folder and checked routes. */
export interface LoadedPlugin {
  manifest: PluginManifest;
  dir: string;
  routes: PluginRoute[];
}

/** What loading needs from the cloud: its database (resolved when a store is used) and its logger. */
export interface PluginDeps {
  db: () => Kysely<any>;
  log: Logger;
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
/** Segments of safe characters (never "." or ".."), or :params. */
const PATH_RE = /^(\/(?!\.\.?(?:\/|$))[A-Za-z0-9_.-]+|\/:[A-Za-z_][A-Za-z0-9_]{0,63}){1,12}$/;
const MAX_ROUTES = 100;
const settingsAjv = new Ajv({ allErrors: false, strict: false, useDefaults: true });

/** The configured plugin folders: each sub-folder of plugins.dir (default DATA_DIR/plugins), then plugins.paths. */
export function pluginFolders(cfg: Config): string[] {
  const dir = resolve(cfg.plugins.dir || join(cfg.dataDir, "plugins"));
  // Symbolic links count as folders (a broken one then fails with its plugin.json missing); files are skipped.
  const found = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => !e.name.startsWith(".") && (e.isDirectory() || e.isSymbolicLink()))
        .map((e) => join(dir, e.name))
        .sort()
    : [];
  return [...found, ...cfg.plugins.paths.map((p) => resolve(p))];
}

/** Import and check every configured plugin; throws `plugin "NAME" (FOLDER): WHY` for the first broken one. */
export async function loadPlugins(cfg: Config, deps: PluginDeps): Promise<LoadedPlugin[]> {
  const out: LoadedPlugin[] = [];
  for (const dir of pluginFolders(cfg)) {
    let name = "?";
    try {
      const manifest = readManifest(dir);
      name = manifest.name;
      if (out.some((p) => p.manifest.name === name)) throw new Error("another plugin has this name");
      const settings = Object.hasOwn(cfg.plugins.settings, name) ? cfg.plugins.settings[name] : undefined;
      out.push(await loadOne(dir, manifest, settings, deps));
    } catch (e) {
      name = (e as { plugin?: string }).plugin ?? name;
      throw new Error(`plugin "${name}" (${dir}): ${(e as Error).message}`, { cause: e });
    }
  }
  const known = new Set(out.map((p) => p.manifest.name));
  for (const name of Object.keys(cfg.plugins.settings))
    if (!known.has(name)) throw new Error(`plugins.settings.${name}: no plugin "${name}" is loaded`);
  return out;
}

async function loadOne(
  dir: string,
  manifest: PluginManifest,
  given: Record<string, unknown> | undefined,
  deps: PluginDeps,
): Promise<LoadedPlugin> {
  const file = manifest.server ?? "server.js";
  if (!new RegExp(MODULE_RE).test(file) || !existsSync(join(dir, file)))
    throw new Error(`the server module ${file} is missing`);
  let mod: Partial<PluginModule>;
  try {
    mod = (await import(pathToFileURL(join(dir, file)).href)) as Partial<PluginModule>;
  } catch (e) {
    throw new Error(`${file} could not be imported: ${(e as Error).message}`);
  }
  if (typeof mod.routes !== "function") throw new Error(`${file} exports no routes() function`);
  const settings = checkSettings(mod.settings, given);
  const log = deps.log.child({ plugin: manifest.name });
  const host: PluginHost = {
    name: manifest.name,
    settings,
    kv: pluginKv(deps.db, manifest.name),
    log: {
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    },
  };
  const routes: unknown = await mod.routes(host);
  if (!Array.isArray(routes) || routes.length > MAX_ROUTES)
    throw new Error(`routes() must return an array of at most ${MAX_ROUTES} routes`);
  const seen = new Set<string>();
  routes.forEach((r, i) => {
    checkRoute(manifest.name, r, i);
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) throw new Error(`routes[${i}]: ${key} is declared twice`);
    seen.add(key);
  });
  return { manifest, dir, routes: routes as PluginRoute[] };
}

/** The settings filled from the schema's defaults, or an error naming the bad one. */
function checkSettings(schema: unknown, given: Record<string, unknown> | undefined): Record<string, unknown> {
  if (schema === undefined) {
    if (given && Object.keys(given).length) throw new Error("it takes no settings");
    return {};
  }
  if (!isObject(schema)) throw new Error("its settings export is not a JSON Schema object");
  let v: ValidateFunction;
  try {
    v = settingsAjv.compile(schema);
  } catch (e) {
    throw new Error(`its settings schema is invalid: ${(e as Error).message}`);
  }
  const value = structuredClone(given ?? {});
  if (!v(value)) throw new Error(`settings: ${firstError(v.errors)}`);
  return value;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Throws when a declared route is not well-formed (message: routes[i] and the field). */
function checkRoute(plugin: string, r: unknown, i: number): asserts r is PluginRoute {
  const at = `routes[${i}]`;
  if (!isObject(r)) throw new Error(`${at} is not an object`);
  if (typeof r.method !== "string" || !METHODS.has(r.method))
    throw new Error(`${at}.method must be one of ${[...METHODS].join(", ")}`);
  if (typeof r.path !== "string" || r.path.length > 200 || !PATH_RE.test(r.path))
    throw new Error(`${at}.path must be a path below the service prefix, such as /v2.1/os-things/:id`);
  const where = `${at} (${r.method} ${r.path})`;
  const p = r.policy;
  if (!isObject(p)) throw new Error(`${where}: policy {name, check, description} is required`);
  if (typeof p.name !== "string" || !new RegExp(`^${plugin}:[A-Za-z0-9_:.-]{1,100}$`).test(p.name))
    throw new Error(`${where}: policy.name must be "${plugin}:" followed by a name`);
  if (typeof p.description !== "string" || p.description === "")
    throw new Error(`${where}: policy.description is required`);
  if (typeof p.check !== "string") throw new Error(`${where}: policy.check must be a check string`);
  try {
    parseRule(p.name, p.check);
  } catch (e) {
    throw new Error(`${where}: policy.check "${p.check}" does not parse: ${(e as Error).message}`);
  }
  for (const part of ["body", "query", "params"] as const) {
    const s = r[part];
    if (s === undefined) continue;
    if (!isObject(s)) throw new Error(`${where}: ${part} must be a JSON Schema object`);
    try {
      compileValidator(s, part);
    } catch (e) {
      throw new Error(`${where}: the ${part} schema is invalid: ${(e as Error).message}`);
    }
  }
  if (r.body !== undefined && (r.method === "GET" || r.method === "DELETE"))
    throw new Error(`${where}: a ${r.method} route takes no body`);
  if (
    r.status !== undefined &&
    (!Number.isInteger(r.status) || (r.status as number) < 200 || (r.status as number) > 299)
  )
    throw new Error(`${where}: status must be a 2xx code`);
  if (typeof r.handler !== "function") throw new Error(`${where}: handler must be a function`);
}
