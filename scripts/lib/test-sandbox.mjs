// A temporary directory per `npm test` run (TMPDIR for the tests), and the sweep after it: QEMU guests outlive
// their cloud by design, so a test file the runner cuts off (its after() hooks never run) would leave guests and
// `stratus` processes behind. Everything a run's tests start names a path under its directory; kill what still does.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Make the run's temporary directory (short: QEMU's socket paths live under it and must stay under 108 bytes). */
export function makeRunTmp() {
  return mkdtempSync(join(tmpdir(), "st-run-"));
}

/** Pids of live processes (not this one) whose command line names a path under `dir`. */
export function processesUnder(dir) {
  const out = [];
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${n}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${n}/stat`, "utf8").split(") ")[1]?.charAt(0);
      if (state !== "Z" && cmd.includes(`${dir}/`)) out.push({ pid: Number(n), cmd: cmd.split("\0")[0] });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Kill what the run left running under `dir`, remove the directory, and return what was killed. */
export function reapRunTmp(dir) {
  const left = processesUnder(dir);
  for (const { pid } of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return left;
}
