// `npm run bench -- <name> [--option value...] ...`: install (npm and Debian packages) and build when needed, then run
// dist/bench/<name>.js (e.g. identity) with the options that follow its name (e.g. compute --servers 200).
// Benchmarks start their own Stratus on loopback; BENCH_SECONDS sets each measurement's length (default 10).
// bench/<name>-*.ts files are helpers of bench <name>, not benchmarks of their own.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureDashboardBuilt } from "./lib/dashboard.mjs";
import { RUNTIME_PACKAGES, names } from "./lib/packages.mjs";
import { ROOT, ensureBuilt, ensureDebianPackages, ensureNodeDeps, main, run, step } from "./lib/setup.mjs";

main(async () => {
  const args = process.argv.slice(2);
  const dir = join(ROOT, "bench");
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".ts") && f !== "lib.ts")
        .map((f) => f.slice(0, -3))
    : [];
  const available = files.filter((f) => !files.some((g) => f.startsWith(`${g}-`)));
  // Each name takes the options after it, up to the next name.
  const runs = [];
  for (const a of args) {
    if (!a.startsWith("-") && available.includes(a)) runs.push({ name: a, opts: [] });
    else if (runs.length) runs.at(-1).opts.push(a);
    else runs.push({ name: a, opts: [] });
  }
  if (!runs.length || runs.some((r) => !available.includes(r.name))) {
    process.stderr.write(`usage: npm run bench -- <${available.join("|")}> [--option value...]\n`);
    return 2;
  }
  await ensureNodeDeps();
  await ensureBuilt();
  if (runs.some((r) => r.name === "dashboard")) await ensureDashboardBuilt();
  // Benchmarks start a cloud as `npm start` does, so they need the same Debian packages.
  await ensureDebianPackages(names(RUNTIME_PACKAGES), "the benchmarks");
  for (const { name, opts } of runs) {
    step(`bench ${[name, ...opts].join(" ")}`);
    const code = await run(process.execPath, [join(ROOT, "dist", "bench", `${name}.js`), ...opts]);
    if (code !== 0) return code;
  }
  return 0;
});
