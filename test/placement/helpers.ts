// Shared setup of the Placement API tests: a booted cloud, an admin token, and in-process requests to
// /placement/... with an optional microversion.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { bootCloud, type Res, type TestCloud } from "../helpers/cloud.js";

/** Options of one placement request. */
export interface POpts {
  /** Microversion ("1.39", "latest"); none sends no header (1.0). */
  mv?: string;
  body?: unknown;
  token?: string | null;
  headers?: Record<string, string>;
}

/** A cloud with placement helpers. */
export interface PlacementCloud {
  c: TestCloud;
  admin: string;
  req(method: string, path: string, opts?: POpts): Promise<Res>;
  /** Request that must answer `status`; returns the body. */
  ok(method: string, path: string, status: number, opts?: POpts): Promise<any>;
  /** Create a provider (latest microversion); returns its representation. */
  provider(name?: string, extra?: Record<string, unknown>): Promise<any>;
  /** Set inventories of a provider (reads its generation first); returns the new generation. */
  inventory(uuid: string, inventories: Record<string, Record<string, unknown>>): Promise<number>;
  /** Put allocations for a new consumer at the latest microversion; returns the consumer uuid. */
  allocate(allocations: Record<string, Record<string, number>>, consumer?: string): Promise<string>;
  close(): Promise<void>;
}

/** Wrap a booted cloud with placement helpers. */
export async function withPlacement(c: TestCloud): Promise<PlacementCloud> {
  const admin = await c.adminToken();
  const req = async (method: string, path: string, o: POpts = {}): Promise<Res> => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (o.token !== null) headers["x-auth-token"] = o.token ?? admin;
    if (o.mv) headers["openstack-api-version"] = `placement ${o.mv}`;
    let payload: string | undefined;
    if (o.body !== undefined) {
      payload = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
      headers["content-type"] = "application/json";
    }
    Object.assign(headers, o.headers ?? {});
    const r = await c.cloud.app.inject({
      method: method as any,
      url: `/placement${path}`,
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
  const ok = async (method: string, path: string, status: number, o: POpts = {}) => {
    const r = await req(method, path, o);
    assert.equal(r.status, status, `${method} ${path} (${o.mv ?? "1.0"}): ${r.status} ${r.text}`);
    return r.body;
  };
  const self: PlacementCloud = {
    c,
    admin,
    req,
    ok,
    async provider(name = `rp-${randomUUID().slice(0, 8)}`, extra = {}) {
      return ok("POST", "/resource_providers", 200, { mv: "latest", body: { name, ...extra } });
    },
    async inventory(uuid, inventories) {
      const cur = await ok("GET", `/resource_providers/${uuid}/inventories`, 200, { mv: "latest" });
      const r = await ok("PUT", `/resource_providers/${uuid}/inventories`, 200, {
        mv: "latest",
        body: { resource_provider_generation: cur.resource_provider_generation, inventories },
      });
      return r.resource_provider_generation;
    },
    async allocate(allocations, consumer = randomUUID()) {
      await ok("PUT", `/allocations/${consumer}`, 204, {
        mv: "latest",
        body: {
          allocations: Object.fromEntries(
            Object.entries(allocations).map(([rp, res]) => [rp, { resources: res }]),
          ),
          project_id: "p1",
          user_id: "u1",
          consumer_generation: null,
          consumer_type: "INSTANCE",
        },
      });
      return consumer;
    },
    close: () => c.close(),
  };
  return self;
}

/** Boot a cloud and wrap it. */
export async function bootPlacement(): Promise<PlacementCloud> {
  return withPlacement(await bootCloud({ config: { compute: { hosts: 0 } } }));
}

/** Placement's error body: one error with status, title, detail, request_id (and code from 1.23). */
export function assertPlacementError(r: Res, status: number, code?: string): void {
  assert.equal(r.status, status, r.text);
  assert.ok(Array.isArray(r.body?.errors) && r.body.errors.length === 1, r.text);
  const e = r.body.errors[0];
  assert.equal(e.status, status);
  assert.equal(typeof e.title, "string");
  assert.equal(typeof e.detail, "string");
  assert.match(e.request_id, /^req-[0-9a-f-]{36}$/);
  assert.equal(e.request_id, r.headers["x-openstack-request-id"]);
  if (code !== undefined) assert.equal(e.code, code, r.text);
}
