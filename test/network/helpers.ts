// Boots an in-process cloud (fake compute, noop network driver) and sends requests to /networking as the admin,
// the demo user or users made per test; helpers create networks, subnets and ports and check Neutron's errors.
import assert from "node:assert/strict";
import { bootCloud, type Res, type TestCloud } from "../helpers/cloud.js";

/** A booted cloud with network request helpers. */
export interface NetCloud {
  t: TestCloud;
  admin: string;
  demo: string;
  demoProject: string;
  adminProject: string;
  /** A request to /networking + path. */
  req(method: string, path: string, o?: { token?: string; body?: unknown }): Promise<Res>;
  /** The same, asserting the status; returns the body. */
  ok(method: string, path: string, status: number, o?: { token?: string; body?: unknown }): Promise<any>;
  /** A user with `role` in a new project (or the given one): its token and project id. */
  user(name: string, role?: string, project?: string): Promise<{ token: string; project: string }>;
  close(): Promise<void>;
}

/** Whether a body is Neutron's error with this type. */
export function neutronError(res: Res, status: number, type?: string): void {
  assert.equal(res.status, status, res.text);
  const e = res.body?.NeutronError;
  assert.ok(e && typeof e.message === "string" && typeof e.detail === "string", res.text);
  assert.deepEqual(Object.keys(res.body), ["NeutronError"]);
  if (type) assert.equal(e.type, type, res.text);
}

/** Boot a cloud for network tests (config overrides merged in). */
export async function bootNetwork(config: Record<string, unknown> = {}): Promise<NetCloud> {
  const t = await bootCloud({ config: { compute: { hostName: "compute1" }, ...config } });
  const admin = await t.adminToken();
  const demo = await t.demoToken();
  const req = async (
    method: string,
    path: string,
    o: { token?: string; body?: unknown } = {},
  ): Promise<Res> => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (o.token !== undefined) headers["x-auth-token"] = o.token;
    if (o.body !== undefined) headers["content-type"] = "application/json";
    const r = await t.cloud.app.inject({
      method: method as any,
      url: `/networking${path}`,
      headers,
      ...(o.body !== undefined
        ? { payload: typeof o.body === "string" ? o.body : JSON.stringify(o.body) }
        : {}),
    });
    let body: any;
    try {
      body = r.payload ? JSON.parse(r.payload) : undefined;
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body, text: r.payload };
  };
  const ok = async (
    method: string,
    path: string,
    status: number,
    o: { token?: string; body?: unknown } = {},
  ) => {
    const r = await req(method, path, { token: admin, ...o });
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    return r.body;
  };
  let n = 0;
  return {
    t,
    admin,
    demo,
    demoProject: await t.projectId("demo"),
    adminProject: await t.projectId("admin"),
    req,
    ok,
    async user(name, role = "member", project) {
      const pid = project ?? (await t.createProject(`${name}-p${++n}`)).id;
      const u = await t.createUser(`${name}-${n}-${Date.now()}`, "Passw0rd-net");
      const r = await t.req("PUT", `/v3/projects/${pid}/users/${u.id}/roles/${await t.roleId(role)}`, {
        token: admin,
      });
      assert.equal(r.status, 204, r.text);
      return { token: await t.token({ id: u.id }, "Passw0rd-net", { project: { id: pid } }), project: pid };
    },
    close: () => t.close(),
  };
}
