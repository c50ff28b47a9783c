// Boots a whole Stratus cloud in-process (no socket) for the catalog, app-cred, credential, limit, policy and revoke API tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCloud, type Cloud } from "../../../src/cloud/start.js";
import { loadConfig } from "../../../src/shared/config.js";

/** A response: status, headers and parsed JSON body (undefined when empty). */
export interface Res {
  status: number;
  headers: Record<string, unknown>;
  body: any;
}

/** A booted cloud with request helpers. */
export interface Env {
  cloud: Cloud;
  req(method: string, path: string, token?: string, payload?: unknown): Promise<Res>;
  /** POST /identity/v3/auth/tokens with any auth body; returns the response (token in x-subject-token). */
  auth(auth: unknown): Promise<Res>;
  /** Password token for a Default-domain user scoped to a Default-domain project (or unscoped). */
  token(user: string, password: string, project?: string | null): Promise<string>;
  admin: string;
  demo: string;
  adminId: string;
  demoId: string;
  close(): Promise<void>;
}

/** Start a cloud in a temporary data directory, with admin and demo tokens ready. */
export async function boot(): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), "stratus-test-"));
  const cfg = loadConfig(
    {
      dataDir: dir,
      port: 0,
      logLevel: "silent",
      identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
    } as any,
    {},
  );
  const cloud = await startCloud(cfg, { listen: false });
  const req = async (method: string, path: string, token?: string, payload?: unknown): Promise<Res> => {
    const headers: Record<string, string> = {};
    if (token) headers["x-auth-token"] = token;
    const r = await cloud.app.inject({
      method: method as any,
      url: `/identity${path}`,
      headers,
      ...(payload !== undefined ? { payload: payload as any } : {}),
    });
    let body: any;
    try {
      body = r.body ? JSON.parse(r.body) : undefined;
    } catch {
      body = r.body;
    }
    return { status: r.statusCode, headers: r.headers, body };
  };
  const auth = (a: unknown) => req("POST", "/v3/auth/tokens", undefined, { auth: a });
  const token = async (user: string, password: string, project: string | null = null): Promise<string> => {
    const r = await auth({
      identity: {
        methods: ["password"],
        password: { user: { name: user, domain: { id: "default" }, password } },
      },
      ...(project
        ? { scope: { project: { name: project, domain: { id: "default" } } } }
        : { scope: "unscoped" }),
    });
    if (r.status !== 201) throw new Error(`auth as ${user} failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.headers["x-subject-token"] as string;
  };
  // IdentityService.start does not await the token-key initialisation, so the very first logins can race it (500):
  // retry briefly until the keys are loaded.
  const login = async (name: string, password: string, project: string): Promise<Res> => {
    let r: Res | undefined;
    for (let i = 0; i < 100; i++) {
      r = await auth({
        identity: {
          methods: ["password"],
          password: { user: { name, domain: { name: "Default" }, password } },
        },
        scope: { project: { name: project, domain: { name: "Default" } } },
      });
      if (r.status !== 500) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    return r!;
  };
  const adminRes = await login("admin", cloud.adminPassword, "admin");
  const demoRes = await login("demo", cloud.demoPassword, "demo");
  for (const r of [adminRes, demoRes])
    if (r.status !== 201) throw new Error(`bootstrap login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return {
    cloud,
    req,
    auth,
    token,
    admin: adminRes.headers["x-subject-token"] as string,
    demo: demoRes.headers["x-subject-token"] as string,
    adminId: adminRes.body.token.user.id,
    demoId: demoRes.body.token.user.id,
    async close() {
      await cloud.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Keystone error body shape. */
export function isKeystoneError(body: any, code: number): boolean {
  return (
    !!body?.error &&
    body.error.code === code &&
    typeof body.error.title === "string" &&
    typeof body.error.message === "string"
  );
}
