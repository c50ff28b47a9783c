// `npm run tempest -- [SERVICE] [options]`: run OpenStack's tempest API tests for one service against Stratus.
//
// Starts Stratus on a fresh data dir and a free port (or uses a running one with --url), makes a tempest workspace
// with a tempest.conf for that cloud, runs `tempest run --regex SUITE --concurrency N` (Debian's tempest, under
// /usr/bin/python3, with stestr), then prints the pass/fail/skip counts and each failing test with a one-line reason.
// Everything stays in the workspace: tempest.conf, run.log (tempest's output), tempest.log (its HTTP log),
// failures.txt (full tracebacks), results.jsonl (one line per test), stratus.log and stratus-data/.
//
// Options:
//   SERVICE                 which API tests: identity (default); see SUITES below
//   --url URL               test a running Stratus (base URL, e.g. http://127.0.0.1:8080) instead of starting one
//   --clouds-yaml FILE      admin credentials for --url (default DATA_DIR/clouds.yaml: --data-dir, $STRATUS_DATA_DIR
//                           or ~/.stratus)
//   --regex R               run the tests matching R instead of the whole suite (e.g. 'identity.*test_users')
//   --exclude-regex R       skip tests matching R
//   --concurrency N         tempest workers (default 2)
//   --workspace DIR         where the workspace goes (default .data/tempest/SERVICE, recreated each run)
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { names, TEST_PACKAGES } from "./lib/packages.mjs";
import {
  ROOT,
  SetupError,
  ensureBuilt,
  ensureDebianPackages,
  ensureNodeDeps,
  main,
  step,
} from "./lib/setup.mjs";
import { readClouds, startStratus } from "./lib/stratus.mjs";

/** tempest's [service_available] switches: what Stratus serves today. Flip one when its service lands. */
const AVAILABLE = { nova: false, glance: false, neutron: false, cinder: false, swift: false, horizon: false };

/** Test suites by service: tempest's test-id regex and the [service_available] services they need. */
const SUITES = {
  identity: { regex: "^tempest\\.api\\.identity", needs: [] },
  image: { regex: "^tempest\\.api\\.image", needs: ["glance"] },
  compute: { regex: "^tempest\\.api\\.compute", needs: ["nova", "glance", "neutron"] },
  network: { regex: "^tempest\\.api\\.network", needs: ["neutron"] },
  volume: { regex: "^tempest\\.api\\.volume", needs: ["cinder"] },
  "object-storage": { regex: "^tempest\\.api\\.object_storage", needs: ["swift"] },
};

/** The [identity-feature-enabled] flags: what Stratus's identity API supports. */
const IDENTITY_FEATURES = {
  api_v2: false,
  api_v2_admin: false,
  api_v3: true,
  application_credentials: true,
  access_rules: true,
  project_tags: true,
  trust: true,
  // Stratus implements the rules (identity.securityCompliance), but test_user_update_own_password also needs
  // token-method auth with a revoked token to answer 404 (Keystone's TokenNotFound); Stratus answers 401.
  security_compliance: true,
  domain_specific_drivers: false,
  external_idp: false,
  immutable_user_source: false,
};

/** The security compliance rules (Keystone's [security_compliance]) the harness's own Stratus runs with when
 * security_compliance is enabled above; tempest's [identity] user_lockout_* and user_unique_last_password_count
 * must match them. Against --url they are unknown, so tempest's security_compliance tests are skipped there. */
const SECURITY_COMPLIANCE = { lockoutFailureAttempts: 2, lockoutDuration: 5, uniqueLastPasswordCount: 2 };

const TEMPEST = "/usr/bin/tempest";
const STESTR = "/usr/bin/stestr";

main(async () => {
  const { values: o, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string" },
      "clouds-yaml": { type: "string" },
      "data-dir": { type: "string" },
      regex: { type: "string" },
      "exclude-regex": { type: "string" },
      concurrency: { type: "string", default: "2" },
      workspace: { type: "string" },
    },
  });
  const service = positionals[0] ?? "identity";
  const suite = SUITES[service];
  if (!suite) throw new SetupError(`Unknown service ${service}: one of ${Object.keys(SUITES).join(", ")}`, 2);
  const missing = suite.needs.filter((s) => !AVAILABLE[s]);
  if (missing.length)
    throw new SetupError(
      `Stratus does not serve ${missing.join(", ")} yet, so the ${service} tests cannot run.`,
      2,
    );
  const ws = resolve(o.workspace ?? join(ROOT, ".data", "tempest", service));
  const wsFile = `${ws}.workspace.yaml`;
  const wsName = `stratus-${service}`;

  await ensureNodeDeps();
  if (!o.url) await ensureBuilt();
  await ensureDebianPackages(names(TEST_PACKAGES.filter((p) => p.pkg === "tempest")), "tempest");

  step(`Creating the tempest workspace ${ws}`);
  // Recreated each run; refuse to wipe a directory that is not an earlier workspace (a mistyped --workspace).
  if (existsSync(ws) && readdirSync(ws).length && !existsSync(join(ws, ".stestr.conf")))
    throw new SetupError(`${ws} exists and is not a tempest workspace: choose another --workspace`, 2);
  rmSync(ws, { recursive: true, force: true });
  rmSync(wsFile, { force: true });
  mkdirSync(dirname(ws), { recursive: true });
  const init = spawnSync(TEMPEST, ["init", "--workspace-path", wsFile, "--name", wsName, ws], {
    env: pyEnv(),
    encoding: "utf8",
  });
  if (init.status !== 0) throw new SetupError(`tempest init failed:\n${init.stdout}${init.stderr}`);

  let cloud = null;
  let authUrl;
  let admin;
  if (o.url) {
    const base = o.url.replace(/\/+$/, "");
    authUrl = /\/v3$/.test(base) ? base : /\/identity$/.test(base) ? `${base}/v3` : `${base}/identity/v3`;
    const dataDir = o["data-dir"] ?? (process.env.STRATUS_DATA_DIR || join(homedir(), ".stratus"));
    const file = o["clouds-yaml"] ?? join(dataDir, "clouds.yaml");
    admin = (
      await readClouds(file).catch((e) => {
        throw new SetupError(
          `Cannot read the admin credentials from ${file} (${e.message}); pass --clouds-yaml FILE`,
        );
      })
    )["stratus-admin"].auth;
    step(`Using the running cloud at ${authUrl} (admin credentials from ${file})`);
  } else {
    step("Starting Stratus on a fresh data dir and a free port");
    const dataDir = join(ws, "stratus-data");
    mkdirSync(dataDir, { recursive: true });
    // JSON is YAML: the data dir's stratus.yaml turns the security compliance rules on.
    if (IDENTITY_FEATURES.security_compliance)
      writeFileSync(
        join(dataDir, "stratus.yaml"),
        `${JSON.stringify({ identity: { securityCompliance: SECURITY_COMPLIANCE } }, null, 2)}\n`,
      );
    cloud = await startStratus({ dataDir, logFile: join(ws, "stratus.log") });
    authUrl = cloud.authUrl;
    admin = cloud.clouds["stratus-admin"].auth;
    step(`Stratus is up at ${cloud.url} (log: ${join(ws, "stratus.log")})`);
  }
  const stopCloud = async () => {
    if (!cloud) return null;
    const c = cloud;
    cloud = null;
    return c.stop();
  };
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => {
      void stopCloud().finally(() => process.exit(130));
    });

  try {
    writeFileSync(
      join(ws, "etc", "tempest.conf"),
      tempestConf({
        ws,
        authUrl,
        admin,
        securityCompliance: IDENTITY_FEATURES.security_compliance && !o.url,
      }),
    );
    const regex = o.regex ?? suite.regex;
    const args = [
      "run",
      "--workspace-path",
      wsFile,
      "--workspace",
      wsName,
      "--regex",
      regex,
      "--concurrency",
      o.concurrency,
    ];
    if (o["exclude-regex"]) args.push("--exclude-regex", o["exclude-regex"]);
    step(`tempest ${args.join(" ")}`);
    const t0 = Date.now();
    const code = await tee(TEMPEST, args, join(ws, "run.log"));
    const secs = ((Date.now() - t0) / 1000).toFixed(0);

    const results = collectResults(ws);
    const stopped = await stopCloud();
    if (results === null) {
      throw new SetupError(
        `tempest run exited ${code} after ${secs} s and left no results: see ${join(ws, "run.log")}`,
      );
    }
    return report({ results, ws, service, secs, code, stopped });
  } finally {
    await stopCloud();
  }
});

/** The environment for Debian's Python tools: /usr/bin first, no pyenv or virtualenv settings, no OS_* variables. */
function pyEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("OS_") && !k.startsWith("PYTHON") && k !== "VIRTUAL_ENV") env[k] = v;
  env.PATH = `/usr/bin:/bin:/usr/sbin:/sbin:${process.env.PATH ?? ""}`;
  return env;
}

function tempestConf({ ws, authUrl, admin, securityCompliance }) {
  const sections = {
    DEFAULT: { log_dir: ws, log_file: "tempest.log", debug: true },
    auth: {
      use_dynamic_credentials: true,
      admin_username: admin.username,
      admin_password: admin.password,
      admin_project_name: admin.project_name,
      admin_domain_name: admin.user_domain_name ?? "Default",
      admin_user_domain_name: admin.user_domain_name ?? "Default",
      admin_project_domain_name: admin.project_domain_name ?? "Default",
      default_credentials_domain_name: "Default",
      create_isolated_networks: false,
    },
    identity: {
      uri_v3: authUrl,
      auth_version: "v3",
      region: "RegionOne",
      v3_endpoint_type: "public",
      catalog_type: "identity",
      admin_role: "admin",
      default_domain_id: "default",
      disable_ssl_certificate_validation: true,
      user_lockout_failure_attempts: SECURITY_COMPLIANCE.lockoutFailureAttempts,
      user_lockout_duration: SECURITY_COMPLIANCE.lockoutDuration,
      user_unique_last_password_count: SECURITY_COMPLIANCE.uniqueLastPasswordCount,
    },
    "identity-feature-enabled": { ...IDENTITY_FEATURES, security_compliance: securityCompliance },
    service_available: AVAILABLE,
    enforce_scope: { keystone: false, nova: false, neutron: false, glance: false, cinder: false },
    validation: { run_validation: false },
    "service-clients": { http_timeout: 60 },
  };
  const lines = ["# Written by scripts/tempest.mjs for Stratus; rewritten on every run."];
  for (const [name, opts] of Object.entries(sections)) {
    lines.push("", `[${name}]`);
    for (const [k, v] of Object.entries(opts))
      lines.push(`${k} = ${typeof v === "boolean" ? (v ? "True" : "False") : v}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Run a command, copying its stdout and stderr both to ours and to a log file; resolves with its exit code. */
function tee(cmd, args, logPath) {
  return new Promise((res, rej) => {
    const log = createWriteStream(logPath);
    const child = spawn(cmd, args, { env: pyEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d) => (process.stdout.write(d), log.write(d)));
    child.stderr.on("data", (d) => (process.stderr.write(d), log.write(d)));
    child.on("error", rej);
    child.on("close", (code, signal) => log.end(() => res(code ?? (signal ? 128 : 1))));
  });
}

/** The last run's results from the workspace's stestr repository, or null when there are none. */
function collectResults(ws) {
  const last = spawnSync(STESTR, ["last", "--subunit"], { cwd: ws, env: pyEnv(), maxBuffer: 1 << 30 });
  if (last.status !== 0 || last.stdout.length === 0) return null;
  const parsed = spawnSync("/usr/bin/python3", [join(ROOT, "scripts", "lib", "subunit-summary.py")], {
    input: last.stdout,
    env: pyEnv(),
    maxBuffer: 1 << 30,
    encoding: "utf8",
  });
  if (parsed.status !== 0) throw new SetupError(`Reading the subunit results failed:\n${parsed.stderr}`);
  writeFileSync(join(ws, "results.jsonl"), parsed.stdout);
  return parsed.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** A test id without tempest's [id-...,smoke] attributes. */
const shortId = (id) => id.replace(/\[[^\]]*\]$/, "");

/** The line of a traceback that says what went wrong: the last exception line, with the HTTP details kept short. */
function reasonOf(r) {
  const tb = (r.traceback ?? r.reason ?? "").trim();
  if (!tb) return r.status;
  const lines = tb.split("\n").map((l) => l.trim());
  // Tempest puts the response on lines after the exception ("Details: {...}"): keep them with it.
  let i = lines.length - 1;
  while (
    i > 0 &&
    !/^[\w.]+(Error|Exception|Failure|Conflict|NotFound|Forbidden|BadRequest|Unauthorized|Timeout|Mismatch|[A-Z]\w+):/.test(
      lines[i],
    )
  )
    i--;
  let msg = lines.slice(i).filter(Boolean).join(" ");
  if (msg.length > 300) msg = `${msg.slice(0, 297)}...`;
  // Which API call failed: the innermost frame in one of tempest's service clients.
  const frames = [...tb.matchAll(/tempest\/lib\/services\/(\S+?)\.py", line \d+, in (\w+)/g)];
  const call = frames.at(-1);
  return call ? `${msg} [${call[1].replace(/\//g, ".")}.${call[2]}]` : msg;
}

function report({ results, ws, service, secs, code, stopped }) {
  const by = (...st) => results.filter((r) => st.includes(r.status));
  const passed = by("success", "xfail");
  const failed = by("fail", "uxsuccess");
  const skipped = by("skip");
  const out = [];
  out.push("", `==> tempest ${service}: ${results.length} tests in ${secs} s (workspace ${ws})`);
  if (failed.length) {
    // Grouped by reason: one broken call (say, in credential setup) often fails whole classes the same way.
    const groups = new Map();
    for (const r of failed.sort((a, b) => a.id.localeCompare(b.id))) {
      const why = reasonOf(r);
      groups.set(why, [...(groups.get(why) ?? []), shortId(r.id)]);
    }
    out.push(`Failed (${failed.length}), by reason:`);
    for (const [why, ids] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
      out.push(`  ${ids.length > 1 ? `[${ids.length} tests] ` : ""}${why}`);
      for (const id of ids) out.push(`      ${id}`);
    }
    writeFileSync(
      join(ws, "failures.txt"),
      failed.map((r) => `=== ${r.id}\n${r.traceback ?? r.reason ?? r.status}\n`).join("\n"),
    );
    out.push(`Full tracebacks: ${join(ws, "failures.txt")}; tempest's HTTP log: ${join(ws, "tempest.log")}`);
  }
  if (skipped.length) {
    const reasons = new Map();
    for (const r of skipped) reasons.set(r.reason ?? "?", (reasons.get(r.reason ?? "?") ?? 0) + 1);
    out.push(`Skipped (${skipped.length}), by reason:`);
    for (const [why, n] of [...reasons].sort((a, b) => b[1] - a[1]))
      out.push(`  ${String(n).padStart(4)}  ${why}`);
  }
  if (stopped && (stopped.code !== 0 || stopped.signal))
    out.push(
      `Stratus did not stop cleanly: exit ${stopped.code ?? stopped.signal} (see ${join(ws, "stratus.log")})`,
    );
  out.push(`tempest: ${passed.length} passed, ${failed.length} failed, ${skipped.length} skipped`);
  process.stdout.write(`${out.join("\n")}\n`);
  return failed.length || code !== 0 ? 1 : 0;
}
