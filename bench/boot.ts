// Boot benchmark: the built-in guest image from POST /servers to SSH-ready on a real `stratus up` with the qemu
// driver (compute.qemu.hostForwardSsh: each guest's SSH is forwarded to a loopback port), both boot styles:
// direct kernel boot (the -direct image: kernel_id/ramdisk_id) and disk boot (the -disk image: its own boot loader).
//
// Per style: --warmup cold boots (not counted: the first fetches the image into the host's cache), then --boots
// boots one at a time, each deleted before the next. Each boot is split into phases (bench/boot-phases.ts) from
// moments seen from outside (bench/boot-guest.ts): the POST's 202; the instance directory created (the agent starts
// the spawn); the serial log created with the driver's "starting QEMU" line (QEMU launched); the guest's first
// console byte; the SSH banner; and the first `ssh cirros@… true` with the bench's key pair that succeeds
// (SSH-ready). Files are polled every 10 ms; creation times are the files' birth times. The guest image's kernel
// command line has `quiet`, so its first console byte comes from its init scripts; to split that phase, a second
// `ssh` once SSH-ready (not timed) reads the guest's uptime (≈ when its kernel started) and dmesg's "Run /init".
//
// Then --concurrent boots at once (--concurrent-style): first POST → all SSH-ready, and the peak RSS of the
// all-in-one `stratus up` process (API, conductor and the compute agent share it: `stratus agent compute` cannot
// yet run the qemu driver with an image service) as VmHWM after resetting it (clear_refs), and the sum of the
// QEMUs' RSS. Everything is deleted at the end, and on Ctrl-C or an error any QEMU of this run is killed.
//
// Options: --boots N (5), --warmup N (1), --styles direct,disk, --concurrent N (10; 0: skip),
// --concurrent-style direct|disk (direct), --ram MB (256), --vcpus N (1), --timeout S (per boot, 900),
// --user NAME (the guest's, cirros). Example: npm run bench -- boot --boots 3 --concurrent 0
import { GUEST_IMAGE_NAMES } from "../src/cloud/guest-image.js";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { DriverLayout } from "../src/compute/drivers/qemu/driver-layout.js";
import { Session, parallel, unlimitedQuota } from "./compute-client.js";
import { BootWatch, type WatchContext } from "./boot-guest.js";
import {
  fmtMs,
  phasesOf,
  styleRows,
  summarize,
  summarizeBoots,
  targetsFor,
  type BootMarks,
  type BootStyle,
} from "./boot-phases.js";
import {
  accelOf,
  bootEpoch,
  killQemusUnder,
  now,
  qemuPidsUnder,
  resetPeakRss,
  statusBytes,
} from "./boot-procs.js";
import { printRows, startStratus, type BenchCloud } from "./lib.js";

const STYLE_NAME: Record<BootStyle, string> = { direct: "direct kernel boot", disk: "disk boot" };
const MIB = 1024 * 1024;
const fmtMiB = (b: number | null) => (b === null ? "?" : `${(b / MIB).toFixed(0)} MiB`);

function options() {
  const args = process.argv.slice(2);
  const known = [
    "boots",
    "warmup",
    "styles",
    "concurrent",
    "concurrent-style",
    "ram",
    "vcpus",
    "timeout",
    "user",
  ];
  for (const a of args)
    if (a.startsWith("--") && !known.includes(a.slice(2)))
      throw new Error(`unknown option ${a} (known: ${known.map((k) => `--${k}`).join(" ")})`);
  const flag = (name: string, dflt: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? (args[i + 1] ?? "") : dflt;
  };
  const num = (name: string, dflt: number, min: number) => {
    const v = Number(flag(name, String(dflt)));
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return v;
  };
  const style = (s: string): BootStyle => {
    if (s !== "direct" && s !== "disk") throw new Error(`a boot style is direct or disk, not ${s}`);
    return s;
  };
  return {
    boots: num("boots", 5, 1),
    warmup: num("warmup", 1, 0),
    styles: flag("styles", "direct,disk").split(",").filter(Boolean).map(style),
    concurrent: num("concurrent", 10, 0),
    concurrentStyle: style(flag("concurrent-style", "direct")),
    ramMb: num("ram", 256, 64),
    vcpus: num("vcpus", 1, 1),
    timeoutMs: num("timeout", 900, 10) * 1000,
    user: flag("user", "cirros"),
  };
}

const o = options();
const host = `bench-boot-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), "stratus-bench-boot-"));
const key = join(work, "key");
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
const confFile = join(work, "stratus.yaml");
writeFileSync(
  confFile,
  stringify({
    compute: {
      driver: "qemu",
      hostName: host,
      // Placement must fit the concurrent boots (Nova's 4.0 VCPU allocation ratio).
      qemu: {
        hostForwardSsh: true,
        vcpus: Math.max(cpus().length, Math.ceil((o.concurrent * o.vcpus) / 4) + 1),
      },
    },
  }),
);
const otherQemus = qemuPidsUnder("").length;
console.log(
  `boot bench: the built-in guest (${o.vcpus} vCPU, ${o.ramMb} MB) to SSH-ready, ${o.styles.map((s) => STYLE_NAME[s]).join(" and ")}: ` +
    `${o.warmup} cold + ${o.boots} measured each; then ${o.concurrent || "no"} concurrent ${STYLE_NAME[o.concurrentStyle]}s. ` +
    `Machine: ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}, ${otherQemus} QEMUs of others running.`,
);
console.log(
  "starting stratus up --compute-driver qemu (the first run on a machine builds the guest image: minutes)",
);

let cloud: BenchCloud | undefined;
let session: Session | undefined;
let cleaning: Promise<void> | undefined;

/** Delete every server (bounded), stop the cloud, kill any QEMU of ours left, remove our files. Idempotent. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (session && cloud && cloud.child.exitCode === null) {
      const s = session;
      const list = await s.req("GET", "/compute/v2.1/servers?all_tenants=1").catch(() => null);
      const ids = list?.status === 200 ? (list.json().servers as Array<{ id: string }>).map((x) => x.id) : [];
      if (ids.length) console.log(`cleanup: deleting ${ids.length} servers`);
      await Promise.race([
        parallel(ids.length, 10, (i) => deleteServer(s, ids[i], 60_000).catch(() => {})),
        new Promise((r) => setTimeout(r, 90_000)),
      ]);
    }
    await session?.close().catch(() => {});
    const dataDir = cloud?.dataDir;
    await cloud?.stop().catch(() => {});
    if (dataDir) {
      const killed = await killQemusUnder(dataDir);
      if (killed) console.log(`cleanup: killed ${killed} QEMUs left behind`);
      rmSync(new DriverLayout(join(dataDir, "qemu", host)).runDir, { recursive: true, force: true });
    }
    rmSync(join(tmpdir(), "stratus-q-hosts", encodeURIComponent(host)), { force: true });
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    console.log(`\n${sig}: cleaning up (again to force)`);
    void cleanup().finally(() => process.exit(130));
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** DELETE a server and wait until it is gone and its QEMU too. */
async function deleteServer(s: Session, id: string, timeoutMs = 180_000): Promise<void> {
  const r = await s.req("DELETE", `/compute/v2.1/servers/${id}`);
  if (r.status !== 204 && r.status !== 404)
    throw new Error(`DELETE ${id}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  const end = Date.now() + timeoutMs;
  while ((await s.req("GET", `/compute/v2.1/servers/${id}`)).status !== 404 || qemuPidsUnder(id).length > 0) {
    if (Date.now() > end) throw new Error(`server ${id} not gone within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/** The moments of one boot of `imageId` named `name`; `onWatch` gets the watch (for progress). */
async function boot(
  s: Session,
  ctx: Omit<WatchContext, "fault">,
  imageId: string,
  flavorId: string,
  name: string,
  onWatch?: (w: BootWatch) => void,
): Promise<{ id: string; marks: BootMarks }> {
  const post = now();
  const r = await s.ok("POST", "/compute/v2.1/servers", 202, {
    server: { name, imageRef: imageId, flavorRef: flavorId, key_name: "bench", networks: "none" },
  });
  const accepted = now();
  const id = r.json().server.id as string;
  const fault = async () => {
    const g = await s.req("GET", `/compute/v2.1/servers/${id}`);
    const v = g.status === 200 ? g.json().server : undefined;
    return v?.status === "ERROR" ? String(v.fault?.message ?? "no fault message") : null;
  };
  const w = new BootWatch({ ...ctx, fault }, id, post, accepted);
  onWatch?.(w);
  try {
    return { id, marks: await w.run() };
  } catch (e) {
    (e as Error).message = `${name}: ${(e as Error).message}`;
    Object.assign(e as object, { serverId: id });
    throw e;
  }
}

/** One line of a boot's phases. */
function describe(m: BootMarks): string {
  const p = phasesOf(m);
  const f = (k: Parameters<typeof p.get>[0]) => (p.has(k) ? fmtMs(p.get(k)!) : "?");
  return `total ${f("total")} = POST ${f("api")} + control plane ${f("control")} + QEMU→console ${f("qemu")} + guest ${f("guest")}`;
}

try {
  cloud = await startStratus({ STRATUS_CONFIG: confFile }, [], { readyTimeoutMs: 45 * 60_000 });
  const s = (session = await Session.open(cloud, 32));
  const pid = cloud.child.pid!;
  await unlimitedQuota(s);
  const images = (await s.ok("GET", "/image/v2/images?limit=1000", 200)).json().images as Array<{
    id: string;
    name: string;
  }>;
  const imageOf = (style: BootStyle) => {
    const i = images.find((x) => x.name === GUEST_IMAGE_NAMES[style]);
    if (!i)
      throw new Error(`no ${style} guest image registered (images: ${images.map((x) => x.name).join(", ")})`);
    return i;
  };
  const flavor = await s.ok("POST", "/compute/v2.1/flavors", 200, {
    flavor: { name: "bench.boot", ram: o.ramMb, vcpus: o.vcpus, disk: 1 },
  });
  const flavorId = flavor.json().flavor.id as string;
  const kp = await s.req("POST", "/compute/v2.1/os-keypairs", {
    keypair: { name: "bench", public_key: readFileSync(`${key}.pub`, "utf8").trim() },
  });
  if (kp.status !== 200 && kp.status !== 201) throw new Error(`keypair: HTTP ${kp.status} ${kp.text}`);
  const ctx = {
    layout: new DriverLayout(join(cloud.dataDir, "qemu", host)),
    key,
    user: o.user,
    boot: bootEpoch(),
    timeoutMs: o.timeoutMs,
  };
  let accel: "kvm" | "tcg" | undefined;
  const results = new Map<BootStyle, { cold: BootMarks[]; runs: BootMarks[]; failed: string[] }>();

  for (const style of o.styles) {
    const img = imageOf(style);
    const res = { cold: [] as BootMarks[], runs: [] as BootMarks[], failed: [] as string[] };
    results.set(style, res);
    console.log(
      `${STYLE_NAME[style]} (${img.name}): ${o.warmup} cold, then ${o.boots} measured, one at a time`,
    );
    for (let i = 0; i < o.warmup + o.boots; i++) {
      const cold = i < o.warmup;
      const label = cold ? `cold ${i + 1}/${o.warmup}` : `${i - o.warmup + 1}/${o.boots}`;
      let watch: BootWatch | undefined;
      const t0 = Date.now();
      const tick = setInterval(
        () => console.log(`    … ${((Date.now() - t0) / 1000).toFixed(0)} s: ${watch?.stage ?? "POST"}`),
        15_000,
      );
      try {
        const b = await boot(s, ctx, img.id, flavorId, `boot-${style}-${i}`, (w) => (watch = w));
        accel ??= qemuPidsUnder(b.id).map(accelOf).find(Boolean);
        (cold ? res.cold : res.runs).push(b.marks);
        console.log(
          `  ${style} ${label}: ${describe(b.marks)}; first console line: ${JSON.stringify(watch?.firstLine)}`,
        );
        await deleteServer(s, b.id);
      } catch (e) {
        res.failed.push((e as Error).message);
        console.log(`  ${style} ${label}: FAILED: ${(e as Error).message}`);
        const id = (e as { serverId?: string }).serverId;
        if (id) await deleteServer(s, id).catch(() => {});
      } finally {
        clearInterval(tick);
      }
    }
  }

  // Concurrent boots: wall time and memory.
  let conc: {
    total: number;
    perGuest: number[];
    failed: string[];
    hwm: number | null;
    hwmReset: boolean;
    rssBefore: number | null;
    rssSampled: number;
    qemuSampled: number;
    qemuHwm: number;
  } | null = null;
  if (o.concurrent > 0) {
    const img = imageOf(o.concurrentStyle);
    console.log(`${o.concurrent} concurrent ${STYLE_NAME[o.concurrentStyle]}s`);
    const hwmReset = resetPeakRss(pid);
    const rssBefore = statusBytes(pid, "VmRSS");
    let rssSampled = rssBefore ?? 0;
    let qemuSampled = 0;
    const rssTimer = setInterval(
      () => (rssSampled = Math.max(rssSampled, statusBytes(pid, "VmRSS") ?? 0)),
      200,
    );
    const qemuSum = () =>
      qemuPidsUnder(cloud!.dataDir).reduce((a, q) => a + (statusBytes(q, "VmRSS") ?? 0), 0);
    const qemuTimer = setInterval(() => (qemuSampled = Math.max(qemuSampled, qemuSum())), 1000);
    const watches: BootWatch[] = [];
    const t0 = now();
    const tick = setInterval(() => {
      const ready = watches.filter((w) => w.marks.ssh !== undefined).length;
      console.log(
        `    … ${((now() - t0) / 1000).toFixed(0)} s: ${ready}/${o.concurrent} SSH-ready, ` +
          `${qemuPidsUnder(cloud!.dataDir).length} QEMUs, stratus RSS ${fmtMiB(statusBytes(pid, "VmRSS"))}, load ${loadavg()[0].toFixed(1)}`,
      );
    }, 10_000);
    const settled = await Promise.allSettled(
      Array.from({ length: o.concurrent }, (_, i) =>
        boot(s, ctx, img.id, flavorId, `boot-conc-${i}`, (w) => watches.push(w)),
      ),
    );
    clearInterval(tick);
    clearInterval(rssTimer);
    clearInterval(qemuTimer);
    const ok = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = settled.flatMap((r) =>
      r.status === "rejected" ? [String((r.reason as Error).message)] : [],
    );
    for (const f of failed) console.log(`  FAILED: ${f}`);
    const qemuHwm = qemuPidsUnder(cloud.dataDir).reduce((a, q) => a + (statusBytes(q, "VmHWM") ?? 0), 0);
    conc = {
      total: Math.max(...ok.map((b) => b.marks.ssh)) - t0,
      perGuest: ok.map((b) => b.marks.ssh - b.marks.post),
      failed,
      hwm: statusBytes(pid, "VmHWM"),
      hwmReset,
      rssBefore,
      rssSampled,
      qemuSampled: Math.max(qemuSampled, qemuSum()),
      qemuHwm,
    };
    console.log(
      `  ${ok.length}/${o.concurrent} SSH-ready ${fmtMs(conc.total)} after the first POST; deleting`,
    );
    await parallel(o.concurrent, o.concurrent, async (i) => {
      const r = settled[i];
      const id = r.status === "fulfilled" ? r.value.id : (r.reason as { serverId?: string }).serverId;
      if (id) await deleteServer(s, id).catch((e: Error) => console.log(`  delete ${id}: ${e.message}`));
    });
  }

  // The tables.
  const a = accel ?? "tcg";
  console.log("");
  console.log(
    `accelerator: ${accel ? a.toUpperCase() : "unknown (assumed TCG)"}; ${cpus().length} CPUs shared with other ` +
      `helpers' QEMU guests (${qemuPidsUnder("").length - qemuPidsUnder(cloud.dataDir).length} running now, load ${loadavg()[0].toFixed(2)})`,
  );
  const rows: string[][] = [];
  for (const [style, r] of results) {
    const n = r.runs.length;
    rows.push([
      `${STYLE_NAME[style]} (${n} boots${r.failed.length ? `, ${r.failed.length} failed` : ""})`,
      "",
      "",
      "",
      "",
      "",
    ]);
    rows.push(...styleRows(summarizeBoots(r.runs), targetsFor(style, a)));
    for (const c of r.cold) {
      const p = phasesOf(c);
      rows.push([
        "  cold boot (image fetched into the host's cache): total",
        fmtMs(p.get("total")!),
        "",
        "",
        `control plane ${p.has("control") ? fmtMs(p.get("control")!) : "?"}`,
        "",
      ]);
    }
  }
  printRows(["phase", "p50", "min", "max", "target", "met"], rows);
  if (conc) {
    const g = summarize(conc.perGuest);
    console.log("");
    printRows(
      [`${o.concurrent} concurrent ${STYLE_NAME[o.concurrentStyle]}s`, "measured"],
      [
        [
          `first POST → all SSH-ready${conc.failed.length ? ` (${conc.failed.length} failed)` : ""}`,
          fmtMs(conc.total),
        ],
        [
          "  per guest POST → SSH-ready p50 (min–max)",
          g ? `${fmtMs(g.p50)} (${fmtMs(g.min)}–${fmtMs(g.max)})` : "n/a",
        ],
        [
          `peak RSS of the all-in-one process (API+conductor+agent), VmHWM${conc.hwmReset ? " reset before" : " since start"}`,
          fmtMiB(conc.hwm),
        ],
        [
          "  its RSS before the boots / sampled peak (200 ms)",
          `${fmtMiB(conc.rssBefore)} / ${fmtMiB(conc.rssSampled)}`,
        ],
        [
          "sum of the QEMUs' RSS: sampled peak (1 s) / sum of their VmHWM",
          `${fmtMiB(conc.qemuSampled)} / ${fmtMiB(conc.qemuHwm)}`,
        ],
      ],
    );
  }
  const failures =
    [...results.values()].reduce((n, r) => n + r.failed.length, 0) + (conc?.failed.length ?? 0);
  if (failures) process.exitCode = 1;
} finally {
  await cleanup();
}
