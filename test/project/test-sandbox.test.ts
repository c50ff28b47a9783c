// scripts/lib/test-sandbox.mjs: what a cut-off test file leaves running under the run's directory is killed.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { ROOT } from "../helpers/stratus-process.js";
import { eventually } from "../helpers/wait.js";

interface Sandbox {
  processesUnder(dir: string): Array<{ pid: number; cmd: string }>;
  reapRunTmp(dir: string): Array<{ pid: number; cmd: string }>;
}

test("processes naming a path under the run's directory are killed, others spared; the directory goes", async () => {
  const sb = (await import(pathToFileURL(join(ROOT, "scripts", "lib", "test-sandbox.mjs")).href)) as Sandbox;
  const run = mkdtempSync(join(tmpdir(), "sandbox-run-"));
  const other = mkdtempSync(join(tmpdir(), "sandbox-other-"));
  mkdirSync(join(run, "cloud"));
  writeFileSync(join(run, "cloud", "f"), "x");
  // A detached child, as QEMU is: it outlives whatever started it. It names the path in argv[0] and never forks
  // (a shell's fork-before-exec child would briefly name it too and be reaped as well).
  const opts = { detached: true, stdio: "ignore" } as const;
  const inside = spawn("sleep", ["300"], { ...opts, argv0: `${run}/cloud/disk` });
  const outside = spawn("sleep", ["300"], { ...opts, argv0: `${other}/disk` });
  inside.unref();
  outside.unref();
  try {
    await eventually(() => assert.ok(sb.processesUnder(run).some((p) => p.pid === inside.pid)));
    const killed = sb.reapRunTmp(run);
    assert.deepEqual(
      killed.map((p) => p.pid),
      [inside.pid],
    );
    assert.equal(existsSync(run), false);
    await eventually(() => assert.equal(inside.exitCode ?? inside.signalCode, "SIGKILL"));
    assert.equal(outside.exitCode, null, "a process of another directory is left alone");
  } finally {
    outside.kill("SIGKILL");
    inside.kill("SIGKILL");
  }
});
