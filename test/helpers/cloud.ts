// Boots an in-process Stratus cloud for functional tests and wraps fastify's inject in small helpers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { startCloud, type Cloud } from "../../src/cloud/start.js";
import { loadConfig } from "../../src/shared/config.js";

/** A response as the tests see it: status, lower-cased headers, and the parsed JSON body (undefined if none). */
export interface Res {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  text: string;
}

/** Options of one request. */
export interface ReqOpts {
  token?: string;
  /** A value is sent as JSON; a string is sent as is (with Content-Type: application/json unless overridden). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A user reference for token(): a name in the Default domain, or {id}, or {name, domain: {id|name}}. */
export type UserRef = string | { id: string } | { name: string; domain: { id?: string; name?: string } };

/** A scope for token(): a project name in Default, "unscoped", or a raw Keystone scope object; omitted = default. */
export type ScopeRef = string | Record<string, unknown> | undefined;

/** A booted cloud plus request helpers. */
export interface TestCloud {
  cloud: Cloud;
  dataDir: string;
  req(method: string, path: string, opts?: ReqOpts): Promise<Res>;
  /** Authenticate with a password and return X-Subject-Token; throws if the answer is not 201. */
  token(user: UserRef, password: string, scope?: ScopeRef): Promise<string>;
  /** Full POST /v3/auth/tokens response for a password authentication. */
  auth(user: UserRef, password: string, scope?: ScopeRef, query?: string): Promise<Res>;
  adminToken(): Promise<string>;
  demoToken(): Promise<string>;
  /** Admin-created helpers. */
  createUser(name: string, password: string, extra?: Record<string, unknown>): Promise<any>;
  createProject(name: string, extra?: Record<string, unknown>): Promise<any>;
  roleId(name: string): Promise<string>;
  userId(name: string): Promise<string>;
  projectId(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Build the `scope` member of an auth request. */
export function scopeBody(scope: ScopeRef): unknown {
  if (scope === undefined) return undefined;
  if (scope === "unscoped") return "unscoped";
  if (typeof scope === "string") return { project: { name: scope, domain: { id: "default" } } };
  return scope;
}

/** Build a password auth request body. */
export function passwordAuth(user: UserRef, password: string, scope?: ScopeRef): Record<string, unknown> {
  const u = typeof user === "string" ? { name: user, domain: { id: "default" } } : user;
  const auth: Record<string, unknown> = {
    identity: { methods: ["password"], password: { user: { ...u, password } } },
  };
  const s = scopeBody(scope);
  if (s !== undefined) auth.scope = s;
  return { auth };
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Boot a cloud in a fresh temporary data directory (fast password hashing, no listening socket). */
export async function bootCloud(
  opts: { log?: Logger; config?: Record<string, unknown> } = {},
): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), "stratus-test-"));
  const cfg = loadConfig(
    {
      dataDir,
      port: 0,
      logLevel: "silent",
      identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
      // The noop network driver (the default; said here so no test makes kernel state by accident).
      network: { driver: "noop" },
      // The in-memory volume backend (the default `file` one is wired by the cloud's driver registry).
      volume: { backend: "fake" },
      ...(opts.config ?? {}),
    } as any,
    {},
  );
  const cloud = await startCloud(cfg, { listen: false, ...(opts.log ? { log: opts.log } : {}) });

  const req = async (method: string, path: string, o: ReqOpts = {}): Promise<Res> => {
    const headers: Record<string, string> = {};
    headers.accept = "application/json"; // as openstacksdk and the CLI send
    let payload: string | undefined;
    if (o.body !== undefined) {
      payload = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
      headers["content-type"] = "application/json";
    }
    if (o.token !== undefined) headers["x-auth-token"] = o.token;
    Object.assign(headers, o.headers ?? {});
    const url =
      path.startsWith("/identity") || path.startsWith("/metrics") || path.startsWith("/healthcheck")
        ? path
        : `/identity${path}`;
    const r = await cloud.app.inject({
      method: method as any,
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    return { status: r.statusCode, headers: r.headers, body: parse(r.payload), text: r.payload };
  };

  const auth = (user: UserRef, password: string, scope?: ScopeRef, query = ""): Promise<Res> =>
    req("POST", `/v3/auth/tokens${query}`, { body: passwordAuth(user, password, scope) });

  const token = async (user: UserRef, password: string, scope?: ScopeRef): Promise<string> => {
    const r = await auth(user, password, scope, "?nocatalog");
    if (r.status !== 201) throw new Error(`auth as ${JSON.stringify(user)} failed: ${r.status} ${r.text}`);
    return r.headers["x-subject-token"] as string;
  };

  let admin: string | undefined;
  const adminToken = async (): Promise<string> => {
    admin ??= await token("admin", cloud.adminPassword, "admin");
    return admin;
  };
  const demoToken = (): Promise<string> => token("demo", cloud.demoPassword, "demo");

  const must = (r: Res, want: number, what: string): Res => {
    if (r.status !== want) throw new Error(`${what}: expected ${want}, got ${r.status} ${r.text}`);
    return r;
  };
  const firstId = async (path: string, key: string, what: string): Promise<string> => {
    const r = must(await req("GET", path, { token: await adminToken() }), 200, what);
    const item = r.body[key][0];
    if (!item) throw new Error(`${what}: not found`);
    return item.id;
  };

  return {
    cloud,
    dataDir,
    req,
    token,
    auth,
    adminToken,
    demoToken,
    async createUser(name, password, extra = {}) {
      const r = await req("POST", "/v3/users", {
        token: await adminToken(),
        body: { user: { name, password, domain_id: "default", ...extra } },
      });
      return must(r, 201, `create user ${name}`).body.user;
    },
    async createProject(name, extra = {}) {
      const r = await req("POST", "/v3/projects", {
        token: await adminToken(),
        body: { project: { name, domain_id: "default", ...extra } },
      });
      return must(r, 201, `create project ${name}`).body.project;
    },
    roleId: (name) => firstId(`/v3/roles?name=${encodeURIComponent(name)}`, "roles", `role ${name}`),
    userId: (name) => firstId(`/v3/users?name=${encodeURIComponent(name)}`, "users", `user ${name}`),
    projectId: (name) =>
      firstId(`/v3/projects?name=${encodeURIComponent(name)}`, "projects", `project ${name}`),
    async close() {
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Assert helper: the body is exactly Keystone's error shape with this code. */
export function isKeystoneError(body: unknown, code: number): boolean {
  if (!body || typeof body !== "object") return false;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== "error") return false;
  const e = (body as { error: Record<string, unknown> }).error;
  const ek = Object.keys(e).sort();
  return (
    ek.length === 3 &&
    ek[0] === "code" &&
    ek[1] === "message" &&
    ek[2] === "title" &&
    e.code === code &&
    typeof e.title === "string" &&
    typeof e.message === "string"
  );
}
