// Network benchmark: the control plane (the Networking API) of the all-in-one cloud, as users run it (`stratus up`
// in its own process, the network driver it is configured with: noop by default), over HTTP on loopback.
//
// Measured: port create (POST /v2.0/ports, an address allocated on a /16 subnet) and port delete (DELETE
// /v2.0/ports/{id}, the ports the create runs made), each with 1 and 20 requests in flight. Target ≥ 200 ports/s;
// Neutron (ML2/OVS, same machine class, issue 10) creates about 9.5 ports/s.
//
// Then the data-plane scenarios of bench/network-dataplane.ts: each runs only where its infrastructure is (root,
// the linux network driver, QEMU) and otherwise prints "skipped: <reason>".
//
// Options: --driver NAME (the cloud's network driver, default noop; env STRATUS_NETWORK_DRIVER), --no-data-plane.
// BENCH_SECONDS (default 10) sets the length of each create measurement.
import { measure, pool, printTable, startStratus, summarize, type Result } from "./lib.js";
import { runDataPlaneScenarios } from "./network-dataplane.js";
import { NetworkApi } from "./network-api.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const driver = opt("driver", process.env.STRATUS_NETWORK_DRIVER ?? "noop");
const CONCURRENCY = [1, 20];
/** What the port figures are held to: the target, and Neutron's on this machine class. */
const NOTE = "target ≥ 200/s; Neutron ≈ 9.5/s";

const cloud = await startStratus({ STRATUS_NETWORK_DRIVER: driver });
const http = pool(cloud.url, Math.max(...CONCURRENCY) + 4);
try {
  const api = await NetworkApi.connect(cloud, http);
  // Every created port must fit: no port quota for the admin project, and a /16 to allocate from.
  await api.call("PUT", `/quotas/${api.projectId}`, { quota: { port: -1 } }, 200);
  const net = await api.call("POST", "/networks", { network: { name: "bench-ports" } }, 201);
  await api.call(
    "POST",
    "/subnets",
    { subnet: { network_id: net.network.id, ip_version: 4, cidr: "10.200.0.0/16", name: "bench-ports" } },
    201,
  );
  const portBody = JSON.stringify({ port: { network_id: net.network.id } });
  const created: string[] = [];
  const results: Result[] = [];

  for (const c of CONCURRENCY)
    results.push(
      await measure(`port create, ${c} in flight`, c, seconds, async () => {
        const body = await api.request("POST", "/ports", portBody, 201);
        if (body?.port?.fixed_ips?.length !== 1) return false;
        created.push(body.port.id);
        return true;
      }),
    );

  // Delete what the creates made: half one at a time, the other half 20 at a time.
  const half = Math.floor(created.length / 2);
  const batches = [created.slice(0, half), created.slice(half)];
  for (const [i, c] of CONCURRENCY.entries()) {
    const ids = batches[i];
    results.push(
      await measureEach(`port delete, ${c} in flight`, c, ids, async (id) =>
        (await api.request("DELETE", `/ports/${id}`, undefined, 204)) !== null ? true : false,
      ),
    );
  }
  const left = await api.call("GET", `/ports?network_id=${net.network.id}&fields=id`, undefined, 200);
  console.log(`network driver: ${driver}; ports left on the bench network: ${left.ports.length} (want 0)`);
  printTable(results, Object.fromEntries(results.map((r) => [r.name, NOTE])));
  await api.call("DELETE", `/networks/${net.network.id}`, undefined, 204);

  if (!args.includes("--no-data-plane")) await runDataPlaneScenarios();
} finally {
  await http.close();
  await cloud.stop();
}

/** Run `fn` once for each item with `concurrency` in flight, recording each call's latency. */
async function measureEach<T>(
  name: string,
  concurrency: number,
  items: T[],
  fn: (item: T) => Promise<boolean>,
): Promise<Result> {
  const lat: number[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        const s = performance.now();
        const ok = await fn(item).catch(() => false);
        lat.push(performance.now() - s);
        if (!ok) errors++;
      }
    }),
  );
  return summarize(name, lat, errors, (performance.now() - t0) / 1000);
}
