// Placement benchmark: GET /allocation_candidates over 10,000 compute-node providers (VCPU 16, MEMORY_MB 65536,
// DISK_GB 1000), a share of them partly or fully allocated, measured over real HTTP on loopback.
//
// The cloud runs in this process (SQLite in a temp data dir). Setup goes through the HTTP API in-process
// (app.inject); the measurement uses a keep-alive undici pool against the listening socket, one request at a time
// for latency, then several at once for throughput. BENCH_PROVIDERS (default 10000) and BENCH_SECONDS (default 10)
// change the size and the length of each measurement; BENCH_DB=postgresql://... or mysql://... runs it on an
// (empty) server database instead of SQLite.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { startCloud } from "../src/cloud/start.js";
import { loadConfig } from "../src/shared/config.js";
import { measure, pool, printTable, type Result } from "./lib.js";

const PROVIDERS = Number(process.env.BENCH_PROVIDERS ?? 10_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const MV = "placement 1.36"; // what Nova's scheduler asks with in Zed

const dataDir = mkdtempSync(join(tmpdir(), "stratus-bench-placement-"));
const cfg = loadConfig(
  {
    dataDir,
    host: "127.0.0.1",
    port: 0,
    logLevel: "error",
    ...(process.env.BENCH_DB ? { db: process.env.BENCH_DB } : {}),
    identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
  } as any,
  {},
);
const cloud = await startCloud(cfg, { listen: true });

async function inject(method: string, url: string, token: string, body?: unknown): Promise<any> {
  const r = await cloud.app.inject({
    method: method as any,
    url,
    headers: {
      "x-auth-token": token,
      "openstack-api-version": "placement latest",
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.payload}`);
  return r.payload ? JSON.parse(r.payload) : undefined;
}

/** Run `fn` over 0..n-1 with `width` in flight. */
async function parallel(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const http = pool(cloud.url, 16);
try {
  const auth = await cloud.app.inject({
    method: "POST",
    url: "/identity/v3/auth/tokens?nocatalog",
    headers: { "content-type": "application/json" },
    payload: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "admin", domain: { id: "default" }, password: cloud.adminPassword } },
        },
        scope: { project: { name: "admin", domain: { id: "default" } } },
      },
    }),
  });
  const token = String(auth.headers["x-subject-token"]);

  const t0 = performance.now();
  const uuids: string[] = new Array(PROVIDERS);
  await parallel(PROVIDERS, 32, async (i) => {
    const rp = await inject("POST", "/placement/resource_providers", token, { name: `compute-${i}` });
    uuids[i] = rp.uuid;
    await inject("PUT", `/placement/resource_providers/${rp.uuid}/inventories`, token, {
      resource_provider_generation: 0,
      inventories: {
        VCPU: { total: 16, allocation_ratio: 1.0 },
        MEMORY_MB: { total: 65536, reserved: 512 },
        DISK_GB: { total: 1000 },
      },
    });
  });
  // Every 4th provider gets one instance; every 20th is full on VCPU (and so never a candidate).
  let consumers = 0;
  await parallel(PROVIDERS, 32, async (i) => {
    if (i % 4 !== 0) return;
    const vcpu = i % 20 === 0 ? 16 : 2;
    consumers++;
    await inject("PUT", `/placement/allocations/${randomUUID()}`, token, {
      allocations: { [uuids[i]]: { resources: { VCPU: vcpu, MEMORY_MB: 4096, DISK_GB: 20 } } },
      project_id: "bench",
      user_id: "bench",
      consumer_generation: null,
      consumer_type: "INSTANCE",
    });
  });
  // A server database has statistics in steady state (autovacuum / InnoDB); gather them now, as they would be.
  if (cloud.db.engine === "postgres") await sql`ANALYZE`.execute(cloud.db.kysely);
  if (cloud.db.engine === "mysql")
    await sql`ANALYZE TABLE placement_provider, placement_inventory, placement_allocation, placement_provider_trait, placement_provider_aggregate`.execute(
      cloud.db.kysely,
    );
  const setupS = (performance.now() - t0) / 1000;
  console.log(
    `setup: ${PROVIDERS} providers with 3 inventories each and ${consumers} consumers in ${setupS.toFixed(1)} s (in-process)`,
  );

  const query = (limit: number | null) =>
    `/placement/allocation_candidates?resources=VCPU:2,MEMORY_MB:4096${limit ? `&limit=${limit}` : ""}`;
  const expected = PROVIDERS - Math.ceil(PROVIDERS / 20);
  const get = async (path: string, check?: (body: any) => boolean): Promise<boolean> => {
    const r = await http.request({
      method: "GET",
      path,
      headers: { "x-auth-token": token, "openstack-api-version": MV, accept: "application/json" },
    });
    if (!check) {
      await r.body.dump();
      return r.statusCode === 200;
    }
    const body = await r.body.json();
    return r.statusCode === 200 && check(body);
  };
  // Sanity: the full answer has every provider with room, and no full one.
  const all = await get(query(null), (b) => b.allocation_requests.length === expected);
  if (!all) throw new Error(`unexpected candidate count (want ${expected})`);

  const results: Result[] = [];
  for (const limit of [1000, 50]) {
    const path = query(limit);
    await get(path);
    results.push(
      await measure(`GET allocation_candidates limit=${limit}`, 1, seconds, () =>
        get(path, (b) => b.allocation_requests.length === limit),
      ),
    );
  }
  results.push(
    await measure(`GET allocation_candidates (all ${expected})`, 1, seconds, () => get(query(null))),
  );
  results.push(await measure("limit=1000, 8 concurrent", 8, seconds, () => get(query(1000))));
  // One nested provider anywhere switches every request to the tree-aware path.
  const child = await inject("POST", "/placement/resource_providers", token, {
    name: "compute-1-pf0",
    parent_provider_uuid: uuids[1],
  });
  await inject("PUT", `/placement/resource_providers/${child.uuid}/inventories`, token, {
    resource_provider_generation: 0,
    inventories: { SRIOV_NET_VF: { total: 8 } },
  });
  results.push(
    await measure("limit=1000 with a provider tree", 1, seconds, () =>
      get(query(1000), (b) => b.allocation_requests.length === 1000),
    ),
  );
  printTable(results, {
    "GET allocation_candidates limit=1000": "target p50 < 100 ms (Nova asks with limit=1000)",
    "limit=1000 with a provider tree": "tree-aware path (one child provider exists)",
  });
} finally {
  await http.close();
  await cloud.close();
  rmSync(dataDir, { recursive: true, force: true });
}
