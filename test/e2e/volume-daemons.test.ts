// The volume daemons' lifetime with `bin/stratus up` (fake compute, noop network, the file backend as root): a
// SIGTERM or SIGINT stops tgtd and qemu-storage-daemon and removes their run directory (also for a signal that
// comes while the cloud starts); a kill -9 leaves them serving, the next start adopts the same daemons, and
// `stratus wipe-volumes` stops what a crash left. Root, tgtd or qemu-storage-daemon missing fails under CI.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfig } from "../../src/shared/config.js";
import { volumeDriverFor, volumeRunDir } from "../../src/volume/drivers/configured.js";
import { NbdTransport } from "../../src/volume/drivers/nbd.js";
import { TgtTransport } from "../../src/volume/drivers/tgt.js";
import {
  exec,
  killStratus,
  Proc,
  ROOT,
  startStratus,
  type StratusProcess,
  wipeVolumeDaemons,
} from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";
import { skipWithoutVolumeInfra } from "../helpers/volume-infra.js";

const SKIP = skipWithoutVolumeInfra({ qemu: false });
const ARGS = ["--compute-driver", "fake"];

/** The pids of the volume daemons of the cloud on `dir` (null: not running). */
function daemons(dir: string): { tgtd: number | null; qsd: number | null } {
  const t = volumeDriverFor(loadConfig({ dataDir: dir }, {})).transports;
  const tgt = t.get("iscsi");
  const nbd = t.get("nbd");
  assert.ok(tgt instanceof TgtTransport && nbd instanceof NbdTransport, "the file backend's transports");
  return { tgtd: tgt.pid(), qsd: nbd.pid() };
}

/** Whether a process lives (a zombie does not: this machine's init reaps late). */
const alive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

/** Wait until both daemons of `dir` run (the agent starts them while it reconciles). */
const bothRunning = (dir: string) =>
  until("tgtd and qemu-storage-daemon to run", () => {
    const d = daemons(dir);
    return d.tgtd !== null && d.qsd !== null ? (d as { tgtd: number; qsd: number }) : undefined;
  });

/** Signal the cloud and wait for it to exit; returns its exit code. */
async function signal(s: StratusProcess, sig: NodeJS.Signals): Promise<number | null> {
  s.child.kill(sig);
  const { code } = await s.exited;
  return code;
}

describe("volume daemons: stopped with the cloud, kept through a crash", { skip: SKIP }, () => {
  const clouds: StratusProcess[] = [];
  const procs: Proc[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const p of procs) if (p.running) p.child.kill("SIGKILL");
    for (const s of clouds) await killStratus(s);
    for (const d of dirs) {
      await wipeVolumeDaemons(d);
      await rm(d, { recursive: true, force: true });
    }
  });

  for (const sig of ["SIGTERM", "SIGINT"] as const)
    test(`${sig} stops tgtd and qemu-storage-daemon and removes their run directory`, async () => {
      const s = await startStratus("stratus-voldaemons-", { args: ARGS });
      clouds.push(s);
      const pids = await bothRunning(s.dir);
      assert.equal(await signal(s, sig), 0, s.output());
      assert.ok(!alive(pids.tgtd), `tgtd ${pids.tgtd} still runs after ${sig}`);
      assert.ok(!alive(pids.qsd), `qemu-storage-daemon ${pids.qsd} still runs after ${sig}`);
      assert.deepEqual(daemons(s.dir), { tgtd: null, qsd: null });
      assert.ok(!existsSync(volumeRunDir(s.dir)), "the volume run directory is left");
    });

  test("a SIGTERM while the cloud starts stops it once started, daemons included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stratus-voldaemons-"));
    dirs.push(dir);
    // Signalled as soon as it says it starts its agents (the volume agent starts its daemons next).
    const p = new Proc("stratus up", [
      "up",
      ...["--data-dir", dir, "--port", "0", "--host", "127.0.0.1", "--network-driver", "noop", ...ARGS],
    ]);
    procs.push(p);
    await p.waitFor(/starting the compute conductor/, 60_000);
    p.child.kill("SIGTERM");
    const { code } = await p.exited;
    assert.equal(code, 0, p.output);
    assert.match(p.output, /SIGTERM received while starting/);
    assert.deepEqual(daemons(dir), { tgtd: null, qsd: null }, p.output);
    assert.ok(!existsSync(volumeRunDir(dir)));
  });

  test("kill -9 leaves the daemons serving; the next start adopts them; wipe-volumes stops them", async () => {
    const first = await startStratus("stratus-voldaemons-", { args: ARGS });
    clouds.push(first);
    const pids = await bothRunning(first.dir);
    first.child.kill("SIGKILL");
    await first.exited;
    assert.deepEqual(daemons(first.dir), pids, "the daemons outlive a crash");
    // The next cloud on the data directory adopts the same daemons (no second tgtd or qemu-storage-daemon).
    const second = await startStratus("stratus-voldaemons-", { dir: first.dir, args: ARGS });
    clouds.push(second);
    assert.deepEqual(daemons(first.dir), pids, "the restarted agent adopted the running daemons");
    const procs = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes(volumeRunDir(first.dir)));
    assert.equal(procs.filter((l) => l.startsWith("qemu-storage-daemon")).length, 1, procs.join("\n"));
    // tgtd forks once (two processes per daemon).
    assert.equal(procs.filter((l) => l.startsWith("tgtd")).length, 2, procs.join("\n"));
    second.child.kill("SIGKILL");
    await second.exited;
    assert.ok(alive(pids.tgtd) && alive(pids.qsd));
    const r = await exec(
      process.execPath,
      [join(ROOT, "bin", "stratus"), "wipe-volumes", "--data-dir", first.dir],
      process.env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /stopped the iscsi daemon/);
    assert.match(r.stdout, /stopped the nbd daemon/);
    await until("the daemons to exit", () => (!alive(pids.tgtd) && !alive(pids.qsd) ? true : undefined));
    assert.ok(!existsSync(volumeRunDir(first.dir)));
    const again = await exec(
      process.execPath,
      [join(ROOT, "bin", "stratus"), "wipe-volumes", "--data-dir", first.dir],
      process.env,
    );
    assert.equal(again.stdout.trim(), "nothing to stop");
    await rm(first.dir, { recursive: true, force: true });
  });
});
