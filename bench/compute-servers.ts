// The server phases of the compute benchmark (bench/compute.ts): create→ACTIVE at a fixed concurrency, a fast
// fill with min_count/max_count batches, and the list measurements.
//
// Create→ACTIVE latency is the time from sending POST /servers to receiving the first GET that shows the server
// ACTIVE. By default one poller lists `GET /servers/detail?status=ACTIVE&changes-since=T` every few ms (T trails
// the previous poll by a margin), so the polling costs the server one small list per interval however many
// servers are in flight; a worker whose server the poller has not reported after a second also polls
// GET /servers/{id} itself (every 500 ms; that is how it sees ERROR) and the table says how many it saw first.
// `--poll each` makes every worker poll its own server every `--poll-ms` instead.
import { COMPUTE_MV, type Session, parallel, pct, sleep } from "./compute-client.js";

export interface CreateOptions {
  count: number;
  concurrency: number;
  poll: "list" | "each";
  pollMs: number;
  imageId: string;
  /** A progress line every this many ms (0: none). */
  progressMs: number;
  label: string;
}

export interface CreateResult {
  servers: number;
  errors: number;
  seconds: number;
  perSecond: number;
  /** Sorted create→ACTIVE latencies, ms. */
  latencies: number[];
  /** Sorted POST /servers latencies, ms. */
  postLatencies: number[];
  /** Servers whose worker's own GET (from a second on) saw them ACTIVE before the list poller did. */
  fallback: number;
  /** Requests the poller sent. */
  polls: number;
}

const serverBody = (imageId: string, name: string, extra: Record<string, unknown> = {}) => ({
  server: { name, imageRef: imageId, flavorRef: "42", networks: "none", ...extra },
});

/** Watches ACTIVE servers through changes-since lists; `seen(id)` resolves with the client time it was seen. */
class ActivePoller {
  private readonly at = new Map<string, number>();
  private readonly waiters = new Map<string, (t: number) => void>();
  private running = true;
  private loop: Promise<void>;
  polls = 0;

  constructor(
    private readonly s: Session,
    private readonly pollMs: number,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let since = Date.now() - 1000;
    // A row's updated_at is taken before its write commits; the busier the server, the longer that can take
    // (its queries queue), so the window reaches back 100 ms plus the last round trip.
    let margin = 100;
    while (this.running) {
      const started = Date.now();
      const path =
        `/compute/v2.1/servers/detail?status=ACTIVE&changes-since=` +
        encodeURIComponent(new Date(since - margin).toISOString());
      const r = await this.s.req("GET", path).catch(() => null);
      const t = performance.now();
      this.polls++;
      if (r && r.status === 200) {
        since = started;
        margin = 100 + r.ms;
        for (const srv of r.json().servers as Array<{ id: string }>) {
          if (this.at.has(srv.id)) continue;
          this.at.set(srv.id, t);
          this.waiters.get(srv.id)?.(t);
          this.waiters.delete(srv.id);
        }
      }
      await sleep(this.pollMs);
    }
  }

  /** When `id` was (or will be) first seen ACTIVE; never resolves if it is not. */
  seen(id: string): Promise<number> {
    const t = this.at.get(id);
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }

  forget(id: string): void {
    this.waiters.delete(id);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Poll GET /servers/{id} every `everyMs` (after `afterMs`) until ACTIVE (its time) or ERROR (throws). */
async function pollOwn(
  s: Session,
  id: string,
  afterMs: number,
  everyMs: number,
  cancelled: () => boolean,
): Promise<number | null> {
  await sleep(afterMs);
  const deadline = performance.now() + 300_000;
  while (!cancelled()) {
    const r = await s.req("GET", `/compute/v2.1/servers/${id}`);
    const t = performance.now();
    if (r.status === 200) {
      const srv = r.json().server as { status: string; fault?: { message?: string } };
      if (srv.status === "ACTIVE") return t;
      if (srv.status === "ERROR") throw new Error(`server ${id} went to ERROR: ${srv.fault?.message ?? "?"}`);
    }
    if (t > deadline) throw new Error(`server ${id} is not ACTIVE after 300 s`);
    await sleep(everyMs);
  }
  return null;
}

/** Create `count` servers with `concurrency` workers, each creating one and waiting for it to be ACTIVE. */
export async function createAndWait(s: Session, o: CreateOptions): Promise<CreateResult> {
  const poller = o.poll === "list" ? new ActivePoller(s, o.pollMs) : null;
  const latencies: number[] = [];
  const postLatencies: number[] = [];
  let errors = 0;
  let fallback = 0;
  let done = 0;
  let firstError = "";
  const t0 = performance.now();
  const progress =
    o.progressMs > 0
      ? setInterval(() => {
          const sec = (performance.now() - t0) / 1000;
          console.log(
            `  ${o.label}: ${done}/${o.count} ACTIVE in ${sec.toFixed(1)} s (${(done / sec).toFixed(1)} servers/s)` +
              (errors ? `, ${errors} errors` : ""),
          );
        }, o.progressMs)
      : null;
  try {
    await parallel(o.count, o.concurrency, async (i) => {
      const start = performance.now();
      try {
        const r = await s.ok("POST", "/compute/v2.1/servers", 202, serverBody(o.imageId, `bench-${i}`));
        postLatencies.push(r.ms);
        const id = r.json().server.id as string;
        let activeAt: number;
        if (poller) {
          let settled = false;
          const own = pollOwn(s, id, 1000, 500, () => settled).then((t) => {
            if (t !== null && !settled) fallback++;
            return t;
          });
          try {
            activeAt = (await Promise.race([poller.seen(id), own])) as number;
          } finally {
            settled = true;
            poller.forget(id);
          }
          own.catch(() => undefined);
        } else activeAt = (await pollOwn(s, id, o.pollMs, o.pollMs, () => false)) as number;
        latencies.push(activeAt - start);
        done++;
      } catch (e) {
        errors++;
        firstError ||= (e as Error).message;
      }
    });
  } finally {
    if (progress) clearInterval(progress);
    await poller?.stop();
  }
  if (firstError) console.log(`  ${o.label}: first error: ${firstError}`);
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  postLatencies.sort((a, b) => a - b);
  return {
    servers: done,
    errors,
    seconds,
    perSecond: done / seconds,
    latencies,
    postLatencies,
    fallback,
    polls: poller?.polls ?? 0,
  };
}

export interface FillResult {
  requested: number;
  active: number;
  errors: number;
  seconds: number;
  perSecond: number;
  /** Sorted POST latencies of the batches, ms. */
  postLatencies: number[];
}

/** Count the project's servers in `status` (brief list, one page: at most 1000). */
async function countStatus(s: Session, status: string): Promise<number> {
  const r = await s.req("GET", `/compute/v2.1/servers?status=${status}&limit=1000`);
  return r.status === 200 ? (r.json().servers as unknown[]).length : 0;
}

/**
 * Create `count` more servers in batches of `batch` (min_count = max_count), with at most `maxBuilding` in BUILD
 * at a time, and wait until none is building.
 */
export async function fill(
  s: Session,
  o: { count: number; batch: number; maxBuilding: number; imageId: string; progressMs: number },
): Promise<FillResult> {
  const postLatencies: number[] = [];
  let posted = 0;
  let inFlight = 0;
  let building = 0;
  let allPosted = false;
  let failed = false;
  const t0 = performance.now();
  let lastLine = t0;
  const monitor = (async () => {
    for (;;) {
      const b = await countStatus(s, "BUILD");
      building = b + inFlight;
      const now = performance.now();
      if (o.progressMs > 0 && now - lastLine >= o.progressMs) {
        lastLine = now;
        const sec = (now - t0) / 1000;
        const active = posted - b;
        console.log(
          `  fill: ${posted}/${o.count} requested, ${b} building, ~${active} ACTIVE in ${sec.toFixed(1)} s ` +
            `(${(active / sec).toFixed(1)} servers/s)`,
        );
      }
      if (failed || (allPosted && inFlight === 0 && b === 0)) return;
      await sleep(100);
    }
  })();
  const batches = parallel(Math.ceil(o.count / o.batch), 2, async (k) => {
    const n = Math.min(o.batch, o.count - k * o.batch);
    while (building + n > o.maxBuilding) await sleep(20);
    inFlight += n;
    building += n;
    try {
      const r = await s.ok(
        "POST",
        "/compute/v2.1/servers",
        202,
        serverBody(o.imageId, `fill-${k}`, { min_count: n, max_count: n }),
      );
      postLatencies.push(r.ms);
      posted += n;
    } finally {
      inFlight -= n;
    }
  });
  await batches.then(
    () => (allPosted = true),
    (e) => {
      failed = true;
      throw e;
    },
  );
  await monitor;
  const seconds = (performance.now() - t0) / 1000;
  const errors = await countStatus(s, "ERROR");
  postLatencies.sort((a, b) => a - b);
  return {
    requested: posted,
    active: posted - errors,
    errors,
    seconds,
    perSecond: (posted - errors) / seconds,
    postLatencies,
  };
}

export interface Timing {
  name: string;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  /** Servers per answer (or per walk). */
  items: number;
}

/** Send GET `path` `n` times one at a time; each answer must list `expect` servers. */
export async function timeList(s: Session, name: string, path: string, n: number, expect: number) {
  const ms: number[] = [];
  let errors = 0;
  let items = 0;
  await s.req("GET", path); // warm
  for (let i = 0; i < n; i++) {
    const r = await s.req("GET", path);
    ms.push(r.ms);
    items = r.status === 200 ? (r.json().servers as unknown[]).length : -1;
    if (items !== expect) errors++;
  }
  ms.sort((a, b) => a - b);
  return { name, requests: n, errors, p50: pct(ms, 50), p99: pct(ms, 99), items } satisfies Timing;
}

/** Walk every server with limit/marker pages, `n` times; the time of a whole walk, and of its pages. */
export async function timeWalk(s: Session, limit: number, n: number, expect: number) {
  const walks: number[] = [];
  const pages: number[] = [];
  let errors = 0;
  let items = 0;
  for (let w = 0; w < n; w++) {
    const t0 = performance.now();
    let marker: string | undefined;
    items = 0;
    for (;;) {
      const r = await s.req(
        "GET",
        `/compute/v2.1/servers/detail?limit=${limit}${marker ? `&marker=${marker}` : ""}`,
      );
      pages.push(r.ms);
      if (r.status !== 200) {
        errors++;
        break;
      }
      const page = r.json().servers as Array<{ id: string }>;
      items += page.length;
      if (page.length < limit) break;
      marker = page[page.length - 1].id;
    }
    walks.push(performance.now() - t0);
    if (items !== expect) errors++;
  }
  walks.sort((a, b) => a - b);
  pages.sort((a, b) => a - b);
  return {
    walk: {
      name: `walk all (limit=${limit} + marker)`,
      requests: n,
      errors,
      p50: pct(walks, 50),
      p99: pct(walks, 99),
      items,
    } satisfies Timing,
    page: {
      name: `  one page of that walk`,
      requests: pages.length,
      errors: 0,
      p50: pct(pages, 50),
      p99: pct(pages, 99),
      items: limit,
    } satisfies Timing,
  };
}

export { COMPUTE_MV };
