// `npm start [-- FLAGS]`: install what is missing (npm dependencies, a fresh build, Debian packages), then run
// `bin/stratus up FLAGS` in the foreground. SIGINT/SIGTERM/SIGHUP are passed to it; its exit code is ours.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ensureDashboardBuilt } from "./lib/dashboard.mjs";
import { RUNTIME_PACKAGES, names } from "./lib/packages.mjs";
import { ROOT, ensureBuilt, ensureDebianPackages, ensureNodeDeps, main, step } from "./lib/setup.mjs";

main(async () => {
  await ensureNodeDeps();
  await ensureBuilt();
  await ensureDashboardBuilt();
  await ensureDebianPackages(names(RUNTIME_PACKAGES), "the cloud");

  const args = process.argv.slice(2);
  if (args[0] === "up") args.shift();
  step(`Starting: bin/stratus up ${args.join(" ")}`.trimEnd());
  const child = spawn(process.execPath, [join(ROOT, "bin", "stratus"), "up", ...args], {
    cwd: ROOT,
    stdio: "inherit",
  });

  // A terminal's Ctrl-C reaches the child too (same process group); stratus ignores the second copy while stopping.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = (sig) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  for (const sig of signals) process.on(sig, forward);

  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      for (const sig of signals) process.off(sig, forward);
      if (signal) {
        // Die of the same signal, so that our parent sees what happened to the cloud.
        process.kill(process.pid, signal);
        setTimeout(() => resolve(128 + 15), 1000).unref();
      } else resolve(code ?? 1);
    });
  });
});
