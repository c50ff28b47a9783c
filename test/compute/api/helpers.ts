// Boots a cloud and sends requests to /compute with an optional compute microversion.
import { bootCloud, type Res, type TestCloud } from "../../helpers/cloud.js";

export interface ComputeCloud {
  t: TestCloud;
  admin: string;
  demo: string;
  req(method: string, path: string, o?: { token?: string; body?: unknown; mv?: string }): Promise<Res>;
  close(): Promise<void>;
}

export async function bootCompute(): Promise<ComputeCloud> {
  const t = await bootCloud();
  const admin = await t.adminToken();
  const demo = await t.demoToken();
  const req = async (
    method: string,
    path: string,
    o: { token?: string; body?: unknown; mv?: string } = {},
  ) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (o.token !== undefined) headers["x-auth-token"] = o.token;
    if (o.mv) headers["openstack-api-version"] = `compute ${o.mv}`;
    if (o.body !== undefined) headers["content-type"] = "application/json";
    const r = await t.cloud.app.inject({
      method: method as any,
      url: `/compute${path}`,
      headers,
      ...(o.body !== undefined ? { payload: JSON.stringify(o.body) } : {}),
    });
    let body: any;
    try {
      body = r.payload ? JSON.parse(r.payload) : undefined;
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body, text: r.payload };
  };
  return { t, admin, demo, req, close: () => t.close() };
}
