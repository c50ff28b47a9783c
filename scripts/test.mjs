// `npm test [-- FILTER...]`: install what is missing (npm dependencies, Debian packages for the e2e tests), check
// formatting (prettier) and lint (eslint), build and typecheck (tsc; the dashboard: tsc and Vite), then run every dist/test/**/*.test.js with
// node's test runner. With FILTERs, runs only the test files whose path contains one of them, and skips prettier
// and eslint. Exits non-zero when any step fails; when all pass, the runner's summary (# pass N / # fail N) is last.
//
// Environment: STRATUS_TEST_CONCURRENCY (default 2: test files run at once, one per core),
// STRATUS_TEST_TIMEOUT_MS (default 900000; Node 20 applies --test-timeout to each test and also to each test file's
// run as a whole, so it is sized for the slowest file, the e2e suite), STRATUS_TEST_REPORTER (default tap),
// STRATUS_TEST_DBS (passed through to the tests, which read it to choose database back ends).
import { existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { dashboardStaleness, ensureDashboardBuilt, typecheckDashboard } from "./lib/dashboard.mjs";
import { TEST_PACKAGES, names } from "./lib/packages.mjs";
import { makeRunTmp, reapRunTmp } from "./lib/test-sandbox.mjs";
import {
  ROOT,
  ensureBuilt,
  ensureDebianPackages,
  ensureNodeDeps,
  main,
  run,
  step,
  walk,
} from "./lib/setup.mjs";

const bin = (pkg, file) => join(ROOT, "node_modules", pkg, "bin", file);

main(async () => {
  const t0 = Date.now();
  const filters = process.argv.slice(2).filter((a) => a !== "--");
  const failed = [];

  await ensureNodeDeps();
  await ensureDebianPackages(names(TEST_PACKAGES), "the tests");

  if (filters.length === 0) {
    step("Checking formatting: prettier --check .");
    if (
      (await run(process.execPath, [bin("prettier", "prettier.cjs"), "--check", "--log-level=warn", "."])) !==
      0
    ) {
      failed.push("prettier (run `npm run format` to fix)");
      step("prettier: FAILED (files listed above)");
    }
    step("Linting: eslint .");
    if ((await run(process.execPath, [bin("eslint", "eslint.js"), "."])) !== 0) failed.push("eslint");
  } else step(`Filter ${filters.map((f) => JSON.stringify(f)).join(", ")}: skipping prettier and eslint`);

  // Always run tsc: it is the typecheck as well as the build (incremental, so quick when little changed).
  const build = await ensureBuilt({ always: true, allowErrors: true });
  if (!build.ok) failed.push("tsc (typecheck)");
  // The browser app has its own tsconfig (DOM, JSX) and its own build (Vite, skipped when nothing changed). Its
  // typecheck runs on full runs, when its sources changed, or when a dashboard test is selected.
  const dashboardTests = filters.some(
    (f) => "test/dashboard/".includes(f.toLowerCase()) || f.toLowerCase().includes("dashboard"),
  );
  if ((filters.length === 0 || dashboardStaleness() || dashboardTests) && (await typecheckDashboard()) !== 0)
    failed.push("tsc (dashboard typecheck)");
  try {
    await ensureDashboardBuilt();
  } catch (e) {
    failed.push(`dashboard build: ${e.message}`);
  }

  // Collect from the TypeScript sources, not from dist/: a deleted test must not live on as stale JS.
  const sources = walk(join(ROOT, "test"), (p) => p.endsWith(".test.ts")).sort();
  const selected = sources.filter((p) => {
    const rel = relative(ROOT, p).split(sep).join("/");
    return filters.length === 0 || filters.some((f) => rel.toLowerCase().includes(f.toLowerCase()));
  });
  const files = selected.map((p) => join(ROOT, "dist", relative(ROOT, p)).replace(/\.ts$/, ".js"));
  const unbuilt = files.filter((f) => !existsSync(f));
  if (unbuilt.length) failed.push(`not built: ${unbuilt.map((f) => relative(ROOT, f)).join(", ")}`);
  const runnable = files.filter((f) => existsSync(f));
  if (runnable.length === 0) {
    failed.push(filters.length ? `no test file matches ${filters.join(" ")}` : "no test files found");
    return finish(failed, t0);
  }

  // `stratus up` boots real guests (qemu) when QEMU is installed; the suite's clouds use the fake driver unless a
  // test asks for qemu itself (the qemu driver's own test files pass --compute-driver qemu or build the driver).
  process.env.STRATUS_COMPUTE_DRIVER ||= "fake";
  const concurrency = process.env.STRATUS_TEST_CONCURRENCY || "2";
  const timeout = process.env.STRATUS_TEST_TIMEOUT_MS || "900000";
  const reporter = process.env.STRATUS_TEST_REPORTER || "tap";
  if (process.env.STRATUS_TEST_DBS)
    step(`STRATUS_TEST_DBS=${process.env.STRATUS_TEST_DBS} (passed to the tests)`);
  step(
    `Running ${runnable.length} test file(s): node --test (concurrency ${concurrency}, ${timeout} ms per test)`,
  );
  // The tests' temporary files go under one directory per run, swept afterwards (processes of cut-off files too).
  const runTmp = makeRunTmp();
  process.env.TMPDIR = runTmp;
  const code = await run(process.execPath, [
    "--enable-source-maps",
    "--test",
    `--test-reporter=${reporter}`,
    "--test-reporter-destination=stdout",
    `--test-reporter=${join(ROOT, "scripts", "lib", "slowest-reporter.mjs")}`,
    "--test-reporter-destination=stdout",
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${timeout}`,
    ...runnable.map((f) => relative(ROOT, f)),
  ]);
  if (code !== 0) failed.push(`tests (node --test exit ${code})`);
  const left = reapRunTmp(runTmp);
  if (left.length)
    step(`Killed ${left.length} process(es) that tests left running: ${left.map((p) => p.cmd).join(", ")}`);
  return finish(failed, t0);
});

function finish(failed, t0) {
  if (failed.length === 0) return 0;
  process.stderr.write(
    `\nnpm test FAILED after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${failed.join("; ")}\n`,
  );
  return 1;
}
