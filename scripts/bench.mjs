// `npm run bench -- <name>`: builds if needed, then runs dist/bench/<name>.js (e.g. identity).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const names = process.argv.slice(2);
const available = existsSync("bench") ? readdirSync("bench").filter((f) => f.endsWith(".ts") && f !== "lib.ts").map((f) => f.slice(0, -3)) : [];
if (!names.length || names.some((n) => !available.includes(n))) {
  console.error(`usage: npm run bench -- <${available.join("|")}>`);
  process.exit(2);
}
if (!existsSync("node_modules")) spawnSync("npm", ["install"], { stdio: "inherit" });
const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
for (const n of names) {
  console.log(`== bench ${n} ==`);
  const r = spawnSync(process.execPath, [`dist/bench/${n}.js`], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
