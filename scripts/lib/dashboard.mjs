// Builds the web dashboard (src/dashboard/web) with Vite into dist/dashboard, then writes .gz and .br copies of
// each text asset for the server to send as they are. Skipped when no source changed since the last build.
import { readFileSync, statSync, writeFileSync, existsSync, rmSync, utimesSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, gzipSync, constants as zc } from "node:zlib";
import { ROOT, SetupError, run, step, walk } from "./setup.mjs";

/** Where the browser app's sources are and where its build goes (src/dashboard/assets.ts reads the latter). */
export const WEB_SRC = join(ROOT, "src", "dashboard", "web");
export const WEB_OUT = join(ROOT, "dist", "dashboard");
const STAMP = join(WEB_OUT, ".build-stamp");

const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

/** Why dist/dashboard is out of date, or null when it is current. */
export function dashboardStaleness() {
  if (!existsSync(join(WEB_OUT, "index.html"))) return "dist/dashboard has not been built";
  const stamp = mtime(STAMP);
  if (stamp < 0) return "dist/dashboard has no build stamp";
  const inputs = [
    join(ROOT, "package-lock.json"),
    join(ROOT, "scripts", "lib", "dashboard.mjs"),
    ...walk(WEB_SRC),
  ];
  const newer = inputs.find((p) => mtime(p) > stamp);
  return newer ? `${relative(ROOT, newer)} changed since the last dashboard build` : null;
}

/** Typecheck the browser app with its own tsconfig (DOM and JSX); resolves with tsc's exit code. */
export function typecheckDashboard() {
  step("Typechecking the dashboard: tsc -p src/dashboard/web/tsconfig.json");
  return run(process.execPath, [
    join(ROOT, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    join(WEB_SRC, "tsconfig.json"),
  ]);
}

/** Build the dashboard when stale (or always); throws a SetupError when Vite fails. */
export async function ensureDashboardBuilt({ always = false } = {}) {
  const why = dashboardStaleness();
  if (!why && !always) return { ran: false };
  step(`Building the dashboard with Vite${why ? ` (${why})` : ""}`);
  const t0 = Date.now();
  const code = await run(process.execPath, [join(ROOT, "scripts", "lib", "dashboard-vite.mjs")]);
  if (code !== 0) throw new SetupError("The dashboard build (Vite) failed (errors above).", code);
  compressAssets();
  writeFileSync(STAMP, "");
  utimesSync(STAMP, new Date(t0), new Date(t0));
  step(`Dashboard built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { ran: true };
}

/** Write name.gz and name.br next to every compressible asset. */
function compressAssets() {
  for (const f of walk(WEB_OUT, (p) => /\.(js|css|html|svg|json|txt|map)$/.test(p))) {
    const body = readFileSync(f);
    rmSync(`${f}.gz`, { force: true });
    rmSync(`${f}.br`, { force: true });
    if (body.length < 256) continue;
    writeFileSync(`${f}.gz`, gzipSync(body, { level: 9 }));
    writeFileSync(
      `${f}.br`,
      brotliCompressSync(body, {
        params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: body.length },
      }),
    );
  }
}
