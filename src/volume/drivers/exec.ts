// Runs the storage data path's tools (qemu-img, tgtadm, cp): an argv, never a shell, with a wall-clock bound and
// bounded output. qemu-img runs under the shared wrapper's resource limits, with limits sized for whole volumes.
import { readFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { runQemuImg } from "../../shared/qemu-img.js";

/** A tool that failed: its argv, exit code and stderr. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "ToolError";
  }
}

/** Run `cmd args` and resolve with stdout; throws ToolError on a non-zero exit or the timeout. */
export function run(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
      reject(
        new ToolError(`${cmd} ${args.join(" ")}: ${String(stderr).trim() || err.message}`, code, stderr),
      );
    });
  });
}

/** Limits for qemu-img on whole volumes (copies of many GiB): an hour, 4 GiB of address space. */
const VOLUME_LIMITS = { timeoutMs: 3_600_000, cpuSeconds: 3_600, addressSpaceBytes: 4 * 1024 ** 3 };

/** Run `qemu-img <args>` (explicit -f and absolute paths are the caller's) with volume-sized limits. */
export async function qemuImg(args: readonly string[]): Promise<string> {
  return (await runQemuImg(args, VOLUME_LIMITS)).stdout;
}

/** Whether a process (or its child, tgtd's fork, which shares its process group) is alive and not a zombie. */
export function running(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    try {
      return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  }
}
/** SIGKILL a daemon and the rest of its process group when it leads one (else the process alone). */
export function killDaemon(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}
