// Boots a cloud (with in-process fake compute hosts) and sends requests to /compute with an optional
// microversion; helpers to upload a bootable image, create servers and wait for their status.
import { bootCloud, type Res, type TestCloud } from "../../helpers/cloud.js";
import { WAIT_MS } from "../../helpers/wait.js";

export interface ComputeCloud {
  t: TestCloud;
  admin: string;
  demo: string;
  /** An active public raw image (1 MiB of zeros). */
  imageId: string;
  req(method: string, path: string, o?: { token?: string; body?: unknown; mv?: string }): Promise<Res>;
  /** Create a server (networks "none" at 2.37+) and return its id once the API accepted it (202). */
  createServer(
    token: string,
    server?: Record<string, unknown>,
    o?: { mv?: string; hints?: unknown },
  ): Promise<string>;
  /** Poll GET /servers/{id} until its status is `status` (throws on ERROR unless that is awaited, or timeout). */
  waitStatus(token: string, id: string, status: string, timeoutMs?: number): Promise<any>;
  /** Poll until GET /servers/{id} is 404. */
  waitGone(token: string, id: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Options: compute config overrides (e.g. { hosts: 3 }) and other config sections. */
export interface BootComputeOptions {
  compute?: Record<string, unknown>;
  config?: Record<string, unknown>;
  /** Upload the test image (default true). */
  image?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function bootCompute(opts: BootComputeOptions = {}): Promise<ComputeCloud> {
  const t = await bootCloud({
    config: {
      ...(opts.config ?? {}),
      compute: { hostName: "compute1", ...((opts.config?.compute as object) ?? {}), ...(opts.compute ?? {}) },
    },
  });
  const admin = await t.adminToken();
  const demo = await t.demoToken();
  const inject = async (
    url: string,
    method: string,
    token: string | undefined,
    headers: Record<string, string>,
    payload?: string | Buffer,
  ) => {
    const h: Record<string, string> = { accept: "application/json", ...headers };
    if (token !== undefined) h["x-auth-token"] = token;
    const r = await t.cloud.app.inject({
      method: method as any,
      url,
      headers: h,
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
  const req = (method: string, path: string, o: { token?: string; body?: unknown; mv?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (o.mv) headers["openstack-api-version"] = `compute ${o.mv}`;
    if (o.body !== undefined) headers["content-type"] = "application/json";
    return inject(
      `/compute${path}`,
      method,
      o.token,
      headers,
      o.body !== undefined ? JSON.stringify(o.body) : undefined,
    );
  };
  let imageId = "";
  if (opts.image !== false) {
    const img = await inject(
      "/image/v2/images",
      "POST",
      admin,
      { "content-type": "application/json" },
      JSON.stringify({
        name: "test-image",
        disk_format: "raw",
        container_format: "bare",
        visibility: "public",
      }),
    );
    if (img.status !== 201) throw new Error(`image create: ${img.status} ${img.text}`);
    imageId = img.body.id;
    const up = await inject(
      `/image/v2/images/${imageId}/file`,
      "PUT",
      admin,
      { "content-type": "application/octet-stream" },
      Buffer.alloc(1024 * 1024),
    );
    if (up.status !== 204) throw new Error(`image upload: ${up.status} ${up.text}`);
  }
  const createServer = async (
    token: string,
    server: Record<string, unknown> = {},
    o: { mv?: string; hints?: unknown } = {},
  ) => {
    const mv = o.mv ?? "2.37";
    const body: Record<string, unknown> = {
      server: {
        name: "vm",
        imageRef: imageId,
        flavorRef: "42",
        ...(Number(mv.split(".")[1]) >= 37 ? { networks: "none" } : {}),
        ...server,
      },
    };
    if (o.hints) body["os:scheduler_hints"] = o.hints;
    const r = await req("POST", "/v2.1/servers", { token, body, mv });
    if (r.status !== 202) throw new Error(`server create: ${r.status} ${r.text}`);
    return r.body.server?.id ?? r.body.reservation_id;
  };
  const waitStatus = async (token: string, id: string, status: string, timeoutMs = WAIT_MS) => {
    const end = Date.now() + timeoutMs;
    let last: Res | undefined;
    while (Date.now() < end) {
      last = await req("GET", `/v2.1/servers/${id}`, { token, mv: "2.93" });
      if (last.status === 200 && last.body.server.status === status) return last.body.server;
      if (last.status === 200 && last.body.server.status === "ERROR" && status !== "ERROR")
        throw new Error(`server ${id} went to ERROR: ${JSON.stringify(last.body.server.fault)}`);
      await sleep(10);
    }
    throw new Error(
      `server ${id} did not reach ${status}: last ${last?.status} ${last?.body?.server?.status}`,
    );
  };
  const waitGone = async (token: string, id: string, timeoutMs = WAIT_MS) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const r = await req("GET", `/v2.1/servers/${id}`, { token });
      if (r.status === 404) return;
      await sleep(10);
    }
    throw new Error(`server ${id} was not deleted in time`);
  };
  return { t, admin, demo, imageId, req, createServer, waitStatus, waitGone, close: () => t.close() };
}
