// An in-process cloud for object storage tests (file driver in the test's temporary data directory) and a small
// Swift client over fastify's inject.
import { bootCloud, type TestCloud } from "../helpers/cloud.js";

/** A Swift answer as tests see it. */
export interface SwiftRes {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Buffer;
  text: string;
  json: any;
}

/** A booted cloud with the demo project's account. */
export interface ObjectCloud {
  t: TestCloud;
  /** Demo's token (member of demo) and account (AUTH_<demo project id>). */
  demo: string;
  account: string;
  /** A Swift request; `path` below /object-store/v1/<account> unless it starts with "/object-store". */
  sw(
    method: string,
    path: string,
    opts?: {
      token?: string | null;
      headers?: Record<string, string>;
      body?: Buffer | string;
      account?: string;
    },
  ): Promise<SwiftRes>;
  close(): Promise<void>;
}

/** Boot a cloud for object tests; `config` is merged into the test configuration. */
export async function bootObjectCloud(config: Record<string, unknown> = {}): Promise<ObjectCloud> {
  const t = await bootCloud({
    config: { object: { driver: "file", maxFileSize: 5 * 1024 ** 3 + 2, reapInterval: 0.1 }, ...config },
  });
  const demo = await t.demoToken();
  const account = `AUTH_${await t.projectId("demo")}`;
  const sw: ObjectCloud["sw"] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? demo : opts.token;
    if (token) headers["x-auth-token"] = token;
    const url = path.startsWith("/object-store")
      ? path
      : `/object-store/v1/${opts.account ?? account}${path}`;
    const r = await t.cloud.app.inject({
      method: method as "GET",
      url,
      headers,
      ...(opts.body !== undefined ? { payload: opts.body } : {}),
    });
    const body = r.rawPayload;
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      json = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body, text: body.toString("utf8"), json };
  };
  return { t, demo, account, sw, close: () => t.close() };
}
