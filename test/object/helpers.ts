// An in-process cloud for object storage tests (file driver in the test's temporary data directory) and a small
// Swift client over fastify's inject.
import { syncOnce } from "../../src/object/sync/daemon.js";
import { bootCloud, type TestCloud } from "../helpers/cloud.js";
import { until } from "../helpers/wait.js";

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

/** A cloud for container sync tests: listening on loopback (the daemon pushes over HTTP), its own timer off. */
export interface SyncCloud {
  o: ObjectCloud;
  /** The listener's base URL. */
  base: string;
  /**
   * One sync pass, started after the previous pass's millisecond: a lease released in a millisecond can be claimed
   * again only after it.
   */
  pass(): Promise<{ pushed: number; failed: number }>;
}

/** Boot a SyncCloud with these container sync realms. */
export async function bootSyncCloud(realms: Record<string, unknown> = {}): Promise<SyncCloud> {
  // The daemon's own timer is off here (an hour): passes are run by the tests.
  const o = await bootObjectCloud({
    object: {
      driver: "file",
      maxFileSize: 5 * 1024 ** 3 + 2,
      reapInterval: 0.1,
      containerSync: { interval: 3600, allowFullUrls: true, allowedHosts: ["127.0.0.1"], realms },
    },
  });
  await o.t.cloud.app.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(o.t.cloud.app.server.address() as { port: number }).port}`;
  o.t.cloud.object.listening(base);
  let lastEnd = 0;
  const pass = async () => {
    await until("the clock to pass the last sync pass", () => Date.now() > lastEnd);
    const r = await syncOnce(o.t.cloud.object.core, "test-owner", base);
    lastEnd = Date.now();
    return r;
  };
  return { o, base, pass };
}
