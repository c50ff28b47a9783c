// `npm run bench -- <name>...`: install and build when needed, then run dist/bench/<name>.js (e.g. identity).
// Benchmarks start their own Stratus on loopback; BENCH_SECONDS sets each measurement's length (default 10).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensureBuilt, ensureNodeDeps, main, run, step } from "./lib/setup.mjs";

main(async () => {
  const names = process.argv.slice(2);
  const dir = join(ROOT, "bench");
  const available = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".ts") && f !== "lib.ts")
        .map((f) => f.slice(0, -3))
    : [];
  if (!names.length || names.some((n) => !available.includes(n))) {
    process.stderr.write(`usage: npm run bench -- <${available.join("|")}>\n`);
    return 2;
  }
  await ensureNodeDeps();
  await ensureBuilt();
  for (const n of names) {
    step(`bench ${n}`);
    const code = await run(process.execPath, [join(ROOT, "dist", "bench", `${n}.js`)]);
    if (code !== 0) return code;
  }
  return 0;
});
