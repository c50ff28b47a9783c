// Compute benchmark: the Nova API with the fake driver and 100 simulated hosts in the one `stratus up` process
// (this process is only the client; the two share the machine).
//
//   1. create→ACTIVE: 1,000 servers through POST /compute/v2.1/servers at concurrency 50 (each worker creates one
//      and waits for it to be ACTIVE, like openstacksdk's create_server(wait=True)); p50/p99 latency from the POST
//      to the first GET that shows ACTIVE, and servers/s over the whole run (bench/compute-servers.ts says how
//      it polls);
//   2. fill the cloud to 10,000 servers with min_count/max_count batches of 100;
//   3. GET /servers/detail at 10,000: the default page (Nova caps pages at 1000), limit=100, the brief list, and a
//      walk over all of them with limit/marker;
//   4. GET /allocation_candidates over 10,000 providers in a second, fresh cloud (bench/compute-placement.ts);
//   and the server's RSS (VmRSS) before, after 1,000 and after 10,000 servers.
//
// Knobs (flags after the name, or environment): --servers N (BENCH_SERVERS, 1000), --total N (BENCH_TOTAL,
// 10 × servers), --hosts N (BENCH_HOSTS, 100), --concurrency N (BENCH_CONCURRENCY, 50), --poll list|each
// (BENCH_POLL, list), --poll-ms N (BENCH_POLL_MS, 10), --batch N (BENCH_BATCH, 100), --list-requests N (20),
// --walks N (3), --providers N (BENCH_PROVIDERS, total), --seconds N (BENCH_SECONDS, 5: each candidates query),
// --skip-placement, --cpu-prof DIR (BENCH_CPU_PROF: profile the server, print its hot spots per phase),
// --fake-persist true|false (BENCH_FAKE_PERSIST: compute.fake.persist; default: the cloud's own default).
// Example: npm run bench -- compute --servers 200 --hosts 20
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { Session, pct, unlimitedQuota, uploadImage, waitForHosts } from "./compute-client.js";
import { candidatesPhase, type CandidatesResult } from "./compute-placement.js";
import { monoMicros, printHotSpots, type Window } from "./compute-profile.js";
import { createAndWait, fill, timeList, timeWalk, type Timing } from "./compute-servers.js";
import { printRows, rssBytes, startStratus } from "./lib.js";

function options() {
  const args = process.argv.slice(2);
  const flag = (name: string, env: string, dflt: string | undefined): string | undefined => {
    const i = args.indexOf(`--${name}`);
    if (i >= 0) return args[i + 1];
    return process.env[env] ?? dflt;
  };
  const num = (name: string, env: string, dflt: number): number => {
    const v = Number(flag(name, env, String(dflt)));
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number`);
    return Math.floor(v);
  };
  const known = new Set([
    "servers",
    "total",
    "hosts",
    "concurrency",
    "poll",
    "poll-ms",
    "batch",
    "list-requests",
    "walks",
    "providers",
    "seconds",
    "skip-placement",
    "cpu-prof",
    "fake-persist",
  ]);
  for (const a of args)
    if (a.startsWith("--") && !known.has(a.slice(2)))
      throw new Error(`unknown option ${a} (known: ${[...known].map((k) => `--${k}`).join(" ")})`);
  const servers = num("servers", "BENCH_SERVERS", 1000);
  const total = Math.max(servers, num("total", "BENCH_TOTAL", servers * 10));
  const poll = flag("poll", "BENCH_POLL", "list");
  if (poll !== "list" && poll !== "each") throw new Error("--poll is list or each");
  const prof = flag("cpu-prof", "BENCH_CPU_PROF", undefined);
  const persist = flag("fake-persist", "BENCH_FAKE_PERSIST", undefined);
  if (persist !== undefined && persist !== "true" && persist !== "false")
    throw new Error("--fake-persist is true or false");
  return {
    servers,
    total,
    hosts: Math.max(1, num("hosts", "BENCH_HOSTS", 100)),
    concurrency: Math.max(1, num("concurrency", "BENCH_CONCURRENCY", 50)),
    poll: poll as "list" | "each",
    pollMs: num("poll-ms", "BENCH_POLL_MS", 10),
    batch: Math.max(1, num("batch", "BENCH_BATCH", 100)),
    listRequests: Math.max(1, num("list-requests", "BENCH_LIST_REQUESTS", 20)),
    walks: Math.max(1, num("walks", "BENCH_WALKS", 3)),
    providers: num("providers", "BENCH_PROVIDERS", total),
    seconds: num("seconds", "BENCH_SECONDS", 5),
    placement: !args.includes("--skip-placement") && process.env.BENCH_SKIP_PLACEMENT !== "1",
    cpuProf: prof ? resolve(prof) : undefined,
    /** compute.fake.persist (fake hosts save their guests to a state file); unset: the cloud's default. */
    persist: persist === undefined ? undefined : persist === "true",
  };
}

const o = options();
const WARMUP = Math.min(20, o.servers);
const PROGRESS_MS = 2000;
const MIB = 1024 * 1024;
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const fmtMiB = (b: number | null) => (b === null ? "?" : `${(b / MIB).toFixed(0)} MiB`);
const n = (x: number) => x.toLocaleString("en-US");

/** CPU seconds (user + system) a process has used, from /proc/PID/stat (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

// Each fake host must hold its share of m1.nano servers (1 VCPU at Nova's 4.0 ratio, 64 MB, 1 GB) with room.
const perHost = Math.ceil((o.total * 1.25) / o.hosts);
const fake = {
  vcpus: Math.max(32, Math.ceil(perHost / 4)),
  memoryMb: Math.max(131072, perHost * 64 + 512),
  diskGb: Math.max(2048, perHost),
  ...(o.persist === undefined ? {} : { persist: o.persist }),
};
const confDir = mkdtempSync(join(tmpdir(), "stratus-bench-compute-"));
const confFile = join(confDir, "stratus.yaml");
writeFileSync(confFile, stringify({ compute: { hosts: o.hosts, fake } }));
if (o.cpuProf) mkdirSync(o.cpuProf, { recursive: true });

console.log(
  `compute bench: ${n(o.servers)} servers at concurrency ${o.concurrency} (poll: ${o.poll}, ${o.pollMs} ms), ` +
    `then ${n(o.total)} in all; ${o.hosts} fake hosts (${fake.vcpus} VCPU, ${fake.memoryMb} MB, ` +
    `${fake.diskGb} GB each${o.persist === undefined ? "" : `, persist ${o.persist}`}); ${o.placement ? `allocation_candidates over ${n(o.providers)} providers` : "no placement phase"}`,
);

const windows: Window[] = [];
const t0 = monoMicros();
const cloud = await startStratus(
  { STRATUS_CONFIG: confFile },
  o.cpuProf ? ["--cpu-prof", "--cpu-prof-dir", o.cpuProf] : [],
);
const pid = cloud.child.pid!;
const s = await Session.open(cloud, o.concurrency + 8);
let stopped = false;
const stop = async () => {
  if (stopped) return;
  stopped = true;
  await s.close();
  await cloud.stop();
};

const figures: string[][] = [];
const lists: Timing[] = [];
let candidates: CandidatesResult | null = null;
try {
  const up = await waitForHosts(s, o.hosts);
  console.log(`${up} compute hosts in placement ${((monoMicros() - t0) / 1e6).toFixed(1)} s after start`);
  windows.push({ name: "start-up (hosts registering)", start: t0, end: monoMicros() });
  await unlimitedQuota(s);
  const imageId = await uploadImage(s);
  const rssStart = rssBytes(pid);

  const warm = await createAndWait(s, {
    count: WARMUP,
    concurrency: 1,
    poll: o.poll,
    pollMs: o.pollMs,
    imageId,
    progressMs: 0,
    label: "warm-up",
  });
  console.log(`warm-up: ${warm.servers} servers ACTIVE one at a time, p50 ${fmtMs(pct(warm.latencies, 50))}`);

  const rssBefore = rssBytes(pid);
  const cpu0 = cpuSeconds(pid);
  let w0 = monoMicros();
  console.log(`create→ACTIVE: ${n(o.servers)} servers at concurrency ${o.concurrency}`);
  const run = await createAndWait(s, {
    count: o.servers,
    concurrency: o.concurrency,
    poll: o.poll,
    pollMs: o.pollMs,
    imageId,
    progressMs: PROGRESS_MS,
    label: "create",
  });
  windows.push({
    name: `create→ACTIVE (${n(o.servers)} at concurrency ${o.concurrency})`,
    start: w0,
    end: monoMicros(),
  });
  const cpuCreate = (cpuSeconds(pid) - cpu0) / run.seconds;
  const rss1 = rssBytes(pid);
  console.log(
    `  ${run.servers} ACTIVE, ${run.errors} errors in ${run.seconds.toFixed(1)} s: ${run.perSecond.toFixed(1)} servers/s, ` +
      `p50 ${fmtMs(pct(run.latencies, 50))}, p99 ${fmtMs(pct(run.latencies, 99))}`,
  );

  const existing = warm.servers + warm.errors + run.servers + run.errors;
  const more = Math.max(0, o.total - existing);
  console.log(`fill: ${n(more)} more servers in batches of ${o.batch}`);
  const cpu1 = cpuSeconds(pid);
  w0 = monoMicros();
  const filled = await fill(s, {
    count: more,
    batch: o.batch,
    maxBuilding: 500,
    imageId,
    progressMs: PROGRESS_MS,
  });
  windows.push({ name: `fill (${n(more)} in batches of ${o.batch})`, start: w0, end: monoMicros() });
  const cpuFill = filled.seconds > 0 ? (cpuSeconds(pid) - cpu1) / filled.seconds : 0;
  console.log(
    `  ${filled.active} ACTIVE, ${filled.errors} errors in ${filled.seconds.toFixed(1)} s: ${filled.perSecond.toFixed(1)} servers/s`,
  );
  const rss2 = rssBytes(pid);
  const inCloud = existing + filled.requested;

  console.log(`lists with ${n(inCloud)} servers`);
  w0 = monoMicros();
  const page = Math.min(1000, inCloud);
  const detail = "/compute/v2.1/servers/detail";
  lists.push(await timeList(s, `GET /servers/detail (default page)`, detail, o.listRequests, page));
  lists.push(
    await timeList(
      s,
      `GET /servers/detail?limit=100`,
      `${detail}?limit=100`,
      o.listRequests,
      Math.min(100, inCloud),
    ),
  );
  lists.push(
    await timeList(s, `GET /servers (brief, default page)`, "/compute/v2.1/servers", o.listRequests, page),
  );
  const walk = await timeWalk(s, 1000, o.walks, inCloud);
  lists.push(walk.walk, walk.page);
  windows.push({ name: `lists at ${n(inCloud)} servers`, start: w0, end: monoMicros() });
  await stop();

  if (o.placement) {
    console.log(`allocation_candidates over ${n(o.providers)} providers (a second cloud)`);
    candidates = await candidatesPhase(o.providers, o.seconds, PROGRESS_MS);
  }

  // The table: measured figures with the issue's targets and the upstream reference numbers.
  const lat = run.latencies;
  figures.push(
    [
      `create→ACTIVE p50 (${n(o.servers)} servers, concurrency ${o.concurrency})`,
      fmtMs(pct(lat, 50)),
      "< 100 ms",
      "Nova 10.5 s (Zed, fake driver, concurrency 10)",
    ],
    [`create→ACTIVE p99`, fmtMs(pct(lat, 99)), "", ""],
    [
      `  create→ACTIVE p50 / p99 one at a time (${warm.servers} warm-up servers)`,
      `${fmtMs(pct(warm.latencies, 50))} / ${fmtMs(pct(warm.latencies, 99))}`,
      "",
      "",
    ],
    [
      `servers/s to ACTIVE (whole run, ${run.seconds.toFixed(1)} s)`,
      run.perSecond.toFixed(1),
      "≥ 100",
      "Nova 0.9",
    ],
    [`  errors / seen first by the worker's own GET`, `${run.errors} / ${run.fallback}`, "0", ""],
    [
      `  POST /servers p50 / p99`,
      `${fmtMs(pct(run.postLatencies, 50))} / ${fmtMs(pct(run.postLatencies, 99))}`,
      "",
      "",
    ],
    [
      `  server CPU during create (poller: ${run.polls} lists)`,
      `${(cpuCreate * 100).toFixed(0)}% of a core`,
      "",
      "",
    ],
  );
  if (more > 0)
    figures.push(
      [
        `fill to ${n(inCloud)}: batches of ${o.batch}, servers/s to ACTIVE`,
        `${filled.perSecond.toFixed(1)} (${filled.errors} errors)`,
        "",
        "",
      ],
      [
        `  POST (max_count=${o.batch}) p50; server CPU`,
        `${fmtMs(pct(filled.postLatencies, 50))}; ${(cpuFill * 100).toFixed(0)}%`,
        "",
        "",
      ],
    );
  const ref: Record<string, [string, string]> = {
    [lists[0].name]: ["< 500 ms", "Nova 294 ms for 100 servers"],
    [lists[1].name]: ["", "Nova 294 ms for 100 servers"],
    [lists[3].name]: ["< 500 ms", `Nova 14 s for 10,000`],
  };
  for (const l of lists)
    figures.push([
      `${l.name} p50 / p99 (${n(l.items)} servers${l.errors ? `, ${l.errors} wrong answers` : ""})`,
      `${fmtMs(l.p50)} / ${fmtMs(l.p99)}`,
      ...(ref[l.name] ?? ["", ""]),
    ]);
  if (candidates)
    for (const c of candidates.rows)
      figures.push([
        `${c.name} p50 / p99 over ${n(candidates.providers)} providers (${c.requests} req` +
          `${c.errors ? `, ${c.errors} wrong answers` : ""})`,
        `${fmtMs(c.p50)} / ${fmtMs(c.p99)}`,
        c === candidates.rows[0] ? "< 100 ms" : "",
        c === candidates.rows[0] ? "Placement 5.5 s at 6,000 providers" : "",
      ]);
  figures.push(
    [`RSS: ${o.hosts} hosts up, no servers`, fmtMiB(rssStart), "", ""],
    [`RSS: before the run (${warm.servers} warm-up servers)`, fmtMiB(rssBefore), "", ""],
    [`RSS: after ${n(existing)} servers`, fmtMiB(rss1), "", ""],
    [`RSS: after ${n(inCloud)} servers`, fmtMiB(rss2), "", ""],
  );
  if (candidates)
    figures.push([
      `RSS: placement cloud, ${n(candidates.providers)} providers`,
      fmtMiB(candidates.rssBytes),
      "",
      "",
    ]);
  console.log("");
  printRows(["figure", "measured", "target", "reference"], figures);
  if (o.cpuProf) printHotSpots(o.cpuProf, windows);
} finally {
  await stop();
  rmSync(confDir, { recursive: true, force: true });
}
