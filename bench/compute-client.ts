// HTTP helpers of the compute benchmark (bench/compute.ts): an admin session against a cloud started by
// startStratus, JSON requests through one keep-alive pool, cloud preparation (image, quotas, hosts in placement),
// and percentiles.
import type { Pool } from "undici";
import { pool, type BenchCloud } from "./lib.js";

/** The compute microversion every request asks for (networks "none" needs 2.37). */
export const COMPUTE_MV = "compute 2.93";

export interface Res {
  status: number;
  /** The body as text (parse with json()). */
  text: string;
  /** Milliseconds from sending the request to the end of the body. */
  ms: number;
  json(): any;
}

/** An admin session: token, project and a keep-alive pool. */
export class Session {
  private constructor(
    readonly http: Pool,
    readonly token: string,
    readonly projectId: string,
  ) {}

  /** Issue a project-scoped admin token (password auth) and open a pool of `connections`. */
  static async open(cloud: BenchCloud, connections: number): Promise<Session> {
    const http = pool(cloud.url, connections);
    const r = await http.request({
      method: "POST",
      path: "/identity/v3/auth/tokens?nocatalog",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "admin", domain: { id: "default" }, password: cloud.adminPassword } },
          },
          scope: { project: { name: "admin", domain: { id: "default" } } },
        },
      }),
    });
    const body = (await r.body.json()) as { token?: { project?: { id?: string } } };
    if (r.statusCode !== 201 || !body.token?.project?.id)
      throw new Error(`admin token: HTTP ${r.statusCode}`);
    return new Session(http, String(r.headers["x-subject-token"]), body.token.project.id);
  }

  /** One request; the body is read whole (latency includes it). JSON bodies are sent as JSON. */
  async req(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Res> {
    const h: Record<string, string> = {
      "x-auth-token": this.token,
      accept: "application/json",
      "openstack-api-version": COMPUTE_MV,
      ...headers,
    };
    let payload: string | Buffer | undefined;
    if (Buffer.isBuffer(body)) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h["content-type"] ??= "application/json";
    }
    const t0 = performance.now();
    const r = await this.http.request({ method: method as "GET", path, headers: h, body: payload });
    const text = await r.body.text();
    const ms = performance.now() - t0;
    let parsed: unknown;
    return {
      status: r.statusCode,
      text,
      ms,
      json: () => (parsed ??= text ? JSON.parse(text) : undefined),
    };
  }

  /** A request that must answer `want` (else throws with the body). */
  async ok(method: string, path: string, want: number, body?: unknown, headers?: Record<string, string>) {
    const r = await this.req(method, path, body, headers);
    if (r.status !== want)
      throw new Error(`${method} ${path}: HTTP ${r.status} (want ${want}) ${r.text.slice(0, 300)}`);
    return r;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

/** Upload a small public raw image (64 KiB of zeros) and return its id. */
export async function uploadImage(s: Session): Promise<string> {
  const img = await s.ok("POST", "/image/v2/images", 201, {
    name: "bench-image",
    disk_format: "raw",
    container_format: "bare",
    visibility: "public",
  });
  const id = img.json().id as string;
  await s.ok("PUT", `/image/v2/images/${id}/file`, 204, Buffer.alloc(64 * 1024), {
    "content-type": "application/octet-stream",
  });
  return id;
}

/** Lift the instance, core and RAM quotas of the session's project. */
export async function unlimitedQuota(s: Session): Promise<void> {
  await s.ok("PUT", `/compute/v2.1/os-quota-sets/${s.projectId}`, 200, {
    quota_set: { instances: -1, cores: -1, ram: -1 },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until placement has `hosts` resource providers with a VCPU inventory (the agents reported). */
export async function waitForHosts(s: Session, hosts: number, timeoutMs = 120_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < end) {
    const r = await s.req("GET", "/placement/resource_providers?resources=VCPU:1", undefined, {
      "openstack-api-version": "placement 1.36",
    });
    if (r.status === 200) seen = (r.json().resource_providers as unknown[]).length;
    if (seen >= hosts) return seen;
    await sleep(250);
  }
  throw new Error(`only ${seen} of ${hosts} compute hosts reported to placement in ${timeoutMs / 1000} s`);
}

/** The p-th percentile (0-100) of sorted values. */
export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** Run `fn` over 0..n-1 with `width` in flight. */
export async function parallel(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

export { sleep };
