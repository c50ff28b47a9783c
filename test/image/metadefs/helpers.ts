// Shared setup of the metadef tests: a booted cloud, admin and demo tokens, and requests to /image/v2/....
import { bootCloud, type Res, type TestCloud } from "../../helpers/cloud.js";

/** A cloud with request helpers for the Image API. */
export interface ImageTestCloud {
  c: TestCloud;
  admin: string;
  demo: string;
  adminProject: string;
  demoProject: string;
  /** A request to /image{path}; a body that is not a string is sent as JSON. */
  img(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<Res>;
  close(): Promise<void>;
}

/** Boot a cloud and get tokens for admin (project admin) and demo (project demo, member role). */
export async function bootImageCloud(): Promise<ImageTestCloud> {
  const c = await bootCloud();
  const admin = await c.adminToken();
  const demo = await c.demoToken();
  const adminProject = await c.projectId("admin");
  const demoProject = await c.projectId("demo");
  const img: ImageTestCloud["img"] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    headers.accept = "application/json"; // as openstacksdk and the CLI send
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["content-type"] = "application/json";
    }
    if (opts.token !== null) headers["x-auth-token"] = opts.token ?? admin;
    Object.assign(headers, opts.headers ?? {});
    const r = await c.cloud.app.inject({
      method: method as any,
      url: `/image${path}`,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    let body: any;
    try {
      body = r.payload ? JSON.parse(r.payload) : undefined;
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body, text: r.payload };
  };
  return { c, admin, demo, adminProject, demoProject, img, close: () => c.close() };
}

/** Whether a body is Glance's error shape for this status: {message, code: "404 Not Found", title}. */
export function isGlanceError(body: unknown, status: number): boolean {
  if (!body || typeof body !== "object") return false;
  const b = body as Record<string, unknown>;
  return (
    typeof b.message === "string" &&
    typeof b.title === "string" &&
    typeof b.code === "string" &&
    b.code.startsWith(`${status} `)
  );
}

/** A URL path segment for a namespace or entity name (colons kept, as clients send them). */
export const seg = (name: string): string => encodeURIComponent(name).replace(/%3A/g, ":");
