// The placement phase of the compute benchmark (bench/compute.ts): GET /allocation_candidates over many compute
// node providers, the population of bench/placement.ts (VCPU 16, MEMORY_MB 65536 reserved 512, DISK_GB 1000;
// every 4th provider holds one instance, every 20th is full on VCPU), but built over HTTP against its own
// `stratus up` process (no compute hosts) and measured one request at a time, as Nova's scheduler asks.
import { randomUUID } from "node:crypto";
import { Session, parallel, pct } from "./compute-client.js";
import { rssBytes, startStratus } from "./lib.js";

const MV = { "openstack-api-version": "placement 1.36" };

export interface CandidatesResult {
  providers: number;
  setupSeconds: number;
  rows: Array<{ name: string; requests: number; errors: number; p50: number; p99: number; items: number }>;
  rssBytes: number | null;
}

/** Build `providers` providers in a fresh cloud, then time each query for `seconds`. */
export async function candidatesPhase(
  providers: number,
  seconds: number,
  progressMs: number,
): Promise<CandidatesResult> {
  const cloud = await startStratus({ STRATUS_COMPUTE_HOSTS: "0" });
  const s = await Session.open(cloud, 32);
  try {
    const t0 = performance.now();
    const uuids: string[] = new Array(providers);
    let made = 0;
    let last = t0;
    const tick = (what: string) => {
      const now = performance.now();
      if (progressMs > 0 && now - last >= progressMs) {
        last = now;
        console.log(`  placement setup: ${made}/${providers} ${what} in ${((now - t0) / 1000).toFixed(1)} s`);
      }
    };
    await parallel(providers, 32, async (i) => {
      const rp = await s.ok("POST", "/placement/resource_providers", 200, { name: `compute-${i}` }, MV);
      uuids[i] = rp.json().uuid;
      await s.ok(
        "PUT",
        `/placement/resource_providers/${uuids[i]}/inventories`,
        200,
        {
          resource_provider_generation: 0,
          inventories: {
            VCPU: { total: 16, allocation_ratio: 1.0 },
            MEMORY_MB: { total: 65536, reserved: 512 },
            DISK_GB: { total: 1000 },
          },
        },
        MV,
      );
      made++;
      tick("providers");
    });
    made = 0;
    await parallel(providers, 32, async (i) => {
      if (i % 4 !== 0) return;
      await s.ok(
        "PUT",
        `/placement/allocations/${randomUUID()}`,
        204,
        {
          allocations: {
            [uuids[i]]: { resources: { VCPU: i % 20 === 0 ? 16 : 2, MEMORY_MB: 4096, DISK_GB: 20 } },
          },
          project_id: "bench",
          user_id: "bench",
          consumer_generation: null,
        },
        MV,
      );
      made++;
      tick("consumers");
    });
    const setupSeconds = (performance.now() - t0) / 1000;
    console.log(`  placement setup: ${providers} providers in ${setupSeconds.toFixed(1)} s (over HTTP)`);
    const expected = providers - Math.ceil(providers / 20);
    const queries: Array<[string, string, number]> = [
      [
        "allocation_candidates limit=1000",
        "resources=VCPU:2,MEMORY_MB:4096&limit=1000",
        Math.min(1000, expected),
      ],
      [
        "  m1.nano as Nova asks (limit=1000)",
        "resources=VCPU:1,MEMORY_MB:64,DISK_GB:1&limit=1000",
        Math.min(1000, providers - Math.ceil(providers / 20)),
      ],
      [`  all candidates (${expected})`, "resources=VCPU:2,MEMORY_MB:4096", expected],
    ];
    const rows: CandidatesResult["rows"] = [];
    for (const [name, q, want] of queries) {
      const path = `/placement/allocation_candidates?${q}`;
      await s.req("GET", path, undefined, MV);
      const ms: number[] = [];
      let errors = 0;
      let items = 0;
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end || ms.length < 5) {
        const r = await s.req("GET", path, undefined, MV);
        ms.push(r.ms);
        items = r.status === 200 ? (r.json().allocation_requests as unknown[]).length : -1;
        if (items !== want) errors++;
      }
      ms.sort((a, b) => a - b);
      rows.push({ name, requests: ms.length, errors, p50: pct(ms, 50), p99: pct(ms, 99), items });
    }
    return { providers, setupSeconds, rows, rssBytes: rssBytes(cloud.child.pid!) };
  } finally {
    await s.close();
    await cloud.stop();
  }
}
