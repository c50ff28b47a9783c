// Shared setup of the Image API tests: a booted cloud listening on a real port (for streaming), admin and demo
// tokens, in-process JSON requests to /image/..., and raw HTTP requests for data transfers.
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { bootCloud, type Res, type TestCloud } from "../../helpers/cloud.js";
import { WAIT_MS } from "../../helpers/wait.js";

/** A cloud with request helpers for the Image API. */
export interface ImageCloud {
  c: TestCloud;
  admin: string;
  demo: string;
  adminProject: string;
  demoProject: string;
  /** http://127.0.0.1:PORT of the listening cloud. */
  base: string;
  /** An in-process request to /image{path}; a body that is not a string is sent as JSON. */
  api: ImageRequest;
  /** Create an image as `token` (admin by default); asserts 201. */
  create(body?: Record<string, unknown>, token?: string): Promise<any>;
  /** Upload bytes over a real socket; returns the status and body. */
  upload(id: string, data: Buffer, token?: string, path?: "file" | "stage"): Promise<Raw>;
  /** Download over a real socket. */
  download(id: string, token?: string, headers?: Record<string, string>): Promise<Raw>;
  /** Wait until the image has one of these statuses (polling), returning it. */
  waitStatus(id: string, statuses: string[], token?: string, ms?: number): Promise<any>;
  close(): Promise<void>;
}

/** A raw HTTP response. */
export interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: any;
}

/** Send one HTTP request over a socket. */
export function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | Readable } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: opts.method ?? "GET", headers: { accept: "application/json", ...(opts.headers ?? {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          let json: unknown;
          try {
            json = body.length ? JSON.parse(body.toString("utf8")) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on("error", reject);
    const b = opts.body;
    if (b === undefined) req.end();
    else if (Buffer.isBuffer(b)) req.end(b);
    else b.pipe(req);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An in-process request to /image{path}; a body that is not a string is sent as JSON. */
export type ImageRequest = (
  method: string,
  path: string,
  opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
) => Promise<Res>;

/** In-process requests to /image{path} on this cloud, as `defaultToken` unless opts.token says otherwise (null: none). */
export function imageRequester(c: TestCloud, defaultToken: string): ImageRequest {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    headers.accept = "application/json"; // as openstacksdk and the CLI send
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["content-type"] = "application/json";
    }
    if (opts.token !== null) headers["x-auth-token"] = opts.token ?? defaultToken;
    Object.assign(headers, opts.headers ?? {});
    const r = await c.cloud.app.inject({
      method: method as any,
      url: `/image${path}`,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    let body: unknown;
    try {
      body = r.payload ? JSON.parse(r.payload) : undefined;
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body, text: r.payload };
  };
}

/** Boot a cloud (listening on 127.0.0.1, a free port) with image helpers. */
export async function bootImageCloud(config?: Record<string, unknown>): Promise<ImageCloud> {
  const c = await bootCloud(config ? { config } : {});
  const admin = await c.adminToken();
  const demo = await c.demoToken();
  const adminProject = await c.projectId("admin");
  const demoProject = await c.projectId("demo");
  await c.cloud.app.listen({ host: "127.0.0.1", port: 0 });
  const addr = c.cloud.app.server.address();
  const base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  const api = imageRequester(c, admin);
  const self: ImageCloud = {
    c,
    admin,
    demo,
    adminProject,
    demoProject,
    base,
    api,
    async create(body = {}, token = admin) {
      const r = await api("POST", "/v2/images", {
        token,
        body: { name: "img", disk_format: "raw", container_format: "bare", ...body },
      });
      if (r.status !== 201) throw new Error(`create image: ${r.status} ${r.text}`);
      return r.body;
    },
    upload(id, data, token = admin, path = "file") {
      return raw(`${base}/image/v2/images/${id}/${path}`, {
        method: "PUT",
        headers: { "x-auth-token": token, "content-type": "application/octet-stream" },
        body: data,
      });
    },
    download(id, token = admin, headers = {}) {
      return raw(`${base}/image/v2/images/${id}/file`, { headers: { "x-auth-token": token, ...headers } });
    },
    async waitStatus(id, statuses, token = admin, ms = WAIT_MS) {
      const end = Date.now() + ms;
      for (;;) {
        const r = await api("GET", `/v2/images/${id}`, { token });
        if (r.status === 200 && statuses.includes(r.body.status)) return r.body;
        if (Date.now() > end)
          throw new Error(`image ${id} never reached ${statuses.join("/")}: ${r.status} ${r.text}`);
        await sleep(25);
      }
    },
    async close() {
      await c.cloud.image.settled();
      await c.close();
    },
  };
  return self;
}

/** Glance's error body: {"message", "code": "404 Not Found", "title"}. */
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
