// What the boot benchmark (bench/boot.ts) reads from /proc: when a process started (on the epoch clock), the
// QEMUs whose command line names a directory of ours, their accelerator, and resident memory (VmRSS, VmHWM, and
// resetting VmHWM through clear_refs). Also the last-resort kill of our QEMUs.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat times. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Epoch ms now, sub-millisecond. */
export const now = (): number => performance.timeOrigin + performance.now();

const uptimeS = () => Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);

/** The epoch ms at which the machine booted, on the clock of /proc/uptime (read at a tick edge: ~1 ms error). */
export function bootEpoch(): number {
  const first = uptimeS();
  const end = performance.now() + 50;
  let u = uptimeS();
  while (u === first && performance.now() < end) u = uptimeS();
  return now() - u * 1000;
}

/** The epoch ms at which `pid` started (its starttime in /proc/PID/stat), or undefined when it is gone. */
export function startEpoch(pid: number, boot: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return boot + (Number(f[19]) / CLK_TCK) * 1000; // field 22 of the whole line
  } catch {
    return undefined;
  }
}

/** The CPU time (user + system, ms) that `pid` has used so far, or undefined when it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(f[11]) + Number(f[12])) / CLK_TCK) * 1000; // fields 14 and 15 of the whole line
  } catch {
    return undefined;
  }
}

function cmdline(pid: string | number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** Live qemu-system processes whose command line mentions `path` (our data directory). */
export function qemuPidsUnder(path: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    const argv = cmdline(n);
    if (!(argv[0] ?? "").includes("qemu-system") || !argv.some((a) => a.includes(path))) continue;
    try {
      const state = readFileSync(`/proc/${n}/stat`, "utf8").split(") ")[1]?.charAt(0);
      if (state !== "Z" && state !== "X") out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

/** The accelerator on a QEMU's command line (-accel kvm|tcg,...), or undefined. */
export function accelOf(pid: number): "kvm" | "tcg" | undefined {
  const argv = cmdline(pid);
  const a = argv[argv.indexOf("-accel") + 1] ?? "";
  return a.startsWith("kvm") ? "kvm" : a.startsWith("tcg") ? "tcg" : undefined;
}

/** A /proc/PID/status memory field (VmRSS, VmHWM) in bytes, or null when unreadable. */
export function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Reset a process's VmHWM to its current RSS (clear_refs 5); false when not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL our QEMUs (command line mentions `path`) and wait up to `timeoutMs` for them to go; returns how many. */
export async function killQemusUnder(path: string, timeoutMs = 10_000): Promise<number> {
  const pids = qemuPidsUnder(path);
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // gone already
    }
  }
  const end = Date.now() + timeoutMs;
  while (qemuPidsUnder(path).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return pids.length;
}
