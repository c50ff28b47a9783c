// Block storage benchmark (issue 11): create -> available latency (p50) and rate at concurrency 10 with the fake
// backend, over real HTTP on loopback: POST /volumes, then GET until the volume is available (polled every 2 ms), as
// a client waiting for its volume would. Cinder with its fake backend measured 0.17 s p50 here (target < 50 ms).
//
// The cloud runs in this process (SQLite in a temp data dir). BENCH_SECONDS (default 10) is the measurement's
// length; BENCH_CONCURRENCY (default 10) the clients at once; BENCH_VOLUME_BACKEND (default fake) the backend
// (`file`: qcow2 files under the data dir, the target). Then snapshot, volume from snapshot and clone
// (bench/volume-snapshot.ts), and backup and restore (bench/volume-backup.ts, with the cloud's default backup driver,
// swift), each of a 1 GiB volume with 512 MiB written.
//
// Guest rows (bench/volume-guest.ts), after the cloud's: as root with QEMU, tgt and qemu-storage-daemon installed,
// one TCG guest gets an iSCSI and an NBD volume hot-plugged: "attach -> visible in the guest" per transport, then
// sequential (1 MiB, direct) and 4 KiB random read/write throughput in the guest on each, the same dd script on a
// host file in the volume directory, and each guest figure over the host's (the ratio). Options: --guest (fail
// instead of skipping when they cannot run), --no-guest (skip them), --mib N (sequential size, default 64),
// --ops N (random operations of each kind, default 100). Without root or the tools a line says why they are skipped.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCloud } from "../src/cloud/start.js";
import { loadConfig } from "../src/shared/config.js";
import { measure, pool, printRows, printTable } from "./lib.js";
import { measureBackups } from "./volume-backup.js";
import { guestRows, guestSkipReason, measureGuestVolumes } from "./volume-guest.js";
import { measureSnapshots } from "./volume-snapshot.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);
const argv = process.argv.slice(2);
const opt = (n: string) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : undefined);
const io = { mib: opt("--mib") ?? 64, ops: opt("--ops") ?? 100 };
if (!Object.values(io).every((v) => Number.isInteger(v) && v > 0))
  throw new Error("--mib and --ops take positive integers");
const skipGuest = argv.includes("--no-guest") ? "--no-guest given" : guestSkipReason();
if (argv.includes("--guest") && skipGuest)
  throw new Error(`--guest: the guest rows cannot run: ${skipGuest}`);

const dataDir = mkdtempSync(join(tmpdir(), "stratus-bench-volume-"));
const cfg = loadConfig(
  {
    dataDir,
    host: "127.0.0.1",
    port: 0,
    logLevel: "error",
    identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
    network: { driver: "noop" },
    compute: { driver: "fake" },
    volume: { backend: process.env.BENCH_VOLUME_BACKEND ?? "fake", fakeCapacityGb: 10_000_000 },
  } as any,
  {},
);
const cloud = await startCloud(cfg, { listen: true });
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
  const project = JSON.parse(auth.payload).token.project.id as string;
  const base = `/volume/v3/${project}`;
  const headers = { "x-auth-token": token, "content-type": "application/json", accept: "application/json" };
  const q = await cloud.app.inject({
    method: "PUT",
    url: `${base}/os-quota-sets/${project}`,
    headers,
    payload: JSON.stringify({
      quota_set: { volumes: -1, gigabytes: -1, snapshots: -1, backups: -1, backup_gigabytes: -1 },
    }),
  });
  if (q.statusCode !== 200) throw new Error(`quota: ${q.statusCode} ${q.payload}`);
  const http = pool(cloud.url, concurrency * 2);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const createOne = async (): Promise<boolean> => {
    const r = await http.request({
      method: "POST",
      path: `${base}/volumes`,
      headers,
      body: JSON.stringify({ volume: { size: 1 } }),
    });
    if (r.statusCode !== 202) {
      await r.body.dump();
      return false;
    }
    const id = ((await r.body.json()) as any).volume.id as string;
    for (;;) {
      const g = await http.request({ method: "GET", path: `${base}/volumes/${id}`, headers });
      const status = ((await g.body.json()) as any).volume?.status;
      if (status === "available") return true;
      if (status !== "creating") return false;
      await sleep(2);
    }
  };
  const rows = [
    await measure("create -> available, 1 client", 1, Math.min(seconds, 5), createOne),
    await measure(`create -> available, ${concurrency} clients`, concurrency, seconds, createOne),
  ];
  rows.push(...(await measureSnapshots(cloud, base, headers)));
  rows.push(...(await measureBackups(cloud, base, headers)));
  printTable(rows, { [rows[1].name]: "target p50 < 50 ms (Cinder, fake backend: 170 ms)" });
  await http.close();
} finally {
  await cloud.close();
  rmSync(dataDir, { recursive: true, force: true });
}

if (skipGuest) console.log(`\nguest rows skipped: ${skipGuest}`);
else {
  const f = await measureGuestVolumes(io, (l) => process.stderr.write(`# ${l}\n`));
  console.log("");
  printRows(
    ["in a TCG guest (1 vCPU)", "attach -> visible ms"],
    [
      ["iSCSI (tgtd, CHAP)", f.attachMs.iscsi.toFixed(0)],
      ["NBD (qemu-storage-daemon)", f.attachMs.nbd.toFixed(0)],
    ],
  );
  console.log("");
  printRows(
    [
      `volume I/O (${io.mib} MiB seq, ${io.ops} x 4 KiB)`,
      "seq write MiB/s",
      "seq read MiB/s",
      "4k write IOPS",
      "4k read IOPS",
    ],
    guestRows(f),
  );
}
