// What the real block storage tests need (root for tgtd, tgt, qemu-storage-daemon, and QEMU for guests), and a
// guest's instance record under a data dir. Outside CI a missing piece skips the test; under CI=true it fails.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { qemuAvailable } from "../../src/compute/drivers/qemu/process.js";

const has = (bin: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** Why the volume daemons (and, with `qemu`, guests) cannot run here, or null when they can. */
export function volumeInfraMissing(opts: { qemu?: boolean } = {}): string | null {
  if (process.getuid?.() !== 0) return "needs root (tgtd)";
  if (opts.qemu && !qemuAvailable()) return "qemu-system-x86_64 is not installed";
  if (!has("tgtd")) return "tgt is not installed";
  if (!has("qemu-storage-daemon")) return "qemu-storage-daemon is not installed";
  return null;
}

/** A describe's `skip`: the reason outside CI, false under CI=true (the tests then fail on what is missing). */
export function skipWithoutVolumeInfra(opts: { qemu?: boolean } = {}): string | false {
  const missing = volumeInfraMissing(opts);
  return missing && !process.env.CI ? missing : false;
}

/** The instance.json of guest `uuid` anywhere under `dir` (the qemu driver's state), if there is one. */
export function findInstanceRecord(dir: string, uuid: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    if (e.name === uuid && existsSync(join(p, "instance.json"))) return join(p, "instance.json");
    const r = findInstanceRecord(p, uuid);
    if (r) return r;
  }
  return undefined;
}
