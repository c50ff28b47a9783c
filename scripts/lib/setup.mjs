// Shared steps of `npm start`, `npm test` and `npm run tempest`: install npm dependencies, build with tsc
// when dist/ is stale, install missing Debian packages. Only Node built-ins here: this runs before node_modules exists.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILD_PACKAGES, names } from "./packages.mjs";

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Directories tsc compiles (keep in step with tsconfig.json "include"). */
const TS_DIRS = ["src", "test", "bench"];
const STAMP = join(ROOT, "dist", ".build-stamp");

/** A step's progress line, on stderr so that stdout stays the tools' own. */
export function step(msg) {
  process.stderr.write(`==> ${msg}\n`);
}

/** A failure that ends the script with this message and exit code. */
export class SetupError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Run the script's main function; print a SetupError's message without a stack and exit with its code. */
export function main(fn) {
  fn().then(
    (code) => process.exit(typeof code === "number" ? code : 0),
    (e) => {
      if (e instanceof SetupError) {
        process.stderr.write(`\n${e.message}\n`);
        process.exit(e.exitCode);
      }
      process.stderr.write(`${e?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}

/** Run a command with inherited stdio; resolves with its exit code (signals count as failure). */
export function run(cmd, args, opts = {}) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: "inherit", ...opts });
    child.on("error", rej);
    child.on("exit", (code, signal) => res(signal ? 128 + (signalNumber(signal) ?? 1) : (code ?? 1)));
  });
}

/** Like run(), but throws a SetupError when the command fails. */
export async function runOrFail(what, cmd, args, opts = {}) {
  const code = await run(cmd, args, opts);
  if (code !== 0) throw new SetupError(`${what} failed (exit ${code}): ${[cmd, ...args].join(" ")}`, code);
}

function signalNumber(sig) {
  return { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[sig];
}

const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

/** Every file below dir (recursively) whose name passes the filter; skips node_modules and dot-directories. */
export function walk(dir, filter = () => true, out = []) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, filter, out);
    else if (filter(p)) out.push(p);
  }
  return out;
}

/** Why node_modules needs a (re)install, or null when it is current with package-lock.json. */
export function nodeDepsStaleness() {
  const lock = join(ROOT, "package-lock.json");
  // npm writes node_modules/.package-lock.json on every install: its mtime is the last install's.
  const marker = join(ROOT, "node_modules", ".package-lock.json");
  if (!existsSync(join(ROOT, "node_modules"))) return "node_modules is missing";
  if (!existsSync(marker)) return "node_modules was not installed by npm";
  if (!existsSync(lock)) return null;
  // The lock's content decides, not its mtime: a fresh checkout or worktree is newer than any install.
  const stamp = join(ROOT, "node_modules", LOCK_STAMP);
  if (existsSync(stamp)) {
    return readFileSync(stamp, "utf8").trim() === lockHash(lock)
      ? null
      : "package-lock.json changed since the last install";
  }
  if (mtime(lock) > mtime(marker)) return "package-lock.json changed since the last install";
  return null;
}

/** The file in node_modules recording which package-lock.json it was installed from. */
const LOCK_STAMP = ".stratus-lock-sha256";
const lockHash = (lock) => createHash("sha256").update(readFileSync(lock)).digest("hex");

/** Install npm dependencies when node_modules is missing or package-lock.json differs from the last install's. */
export async function ensureNodeDeps() {
  const why = nodeDepsStaleness();
  if (!why) return false;
  const marker = join(ROOT, "node_modules", ".package-lock.json");
  const args = existsSync(join(ROOT, "package-lock.json")) ? ["ci"] : ["install"];
  args.push("--no-audit", "--no-fund", "--foreground-scripts");
  if (!process.stdout.isTTY) args.push("--progress=false");
  const missingTools = await ensureBuildTools();
  step(`Installing npm dependencies (${why}): npm ${args.join(" ")}`);
  const t0 = Date.now();
  const [cmd, pre] = npmCommand();
  const code = await run(cmd, [...pre, ...args]);
  if (code !== 0) {
    const hint = missingTools.length
      ? `\nbetter-sqlite3 compiles from source when no prebuilt binary is reachable, which needs: ${missingTools.join(" ")}\nInstall them as root, then run this command again:\n  ${aptInstallCommand(missingTools)}`
      : "";
    throw new SetupError(
      `Installing npm dependencies failed (exit ${code}): npm ${args.join(" ")}${hint}`,
      code,
    );
  }
  if (existsSync(marker)) {
    const now = new Date();
    utimesSync(marker, now, now);
  }
  const lock = join(ROOT, "package-lock.json");
  if (existsSync(lock)) writeFileSync(join(ROOT, "node_modules", LOCK_STAMP), lockHash(lock) + "\n");
  step(`npm dependencies installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return true;
}

/**
 * Before `npm ci`: install the toolchain a native module needs to compile from source (BUILD_PACKAGES), when it can
 * (root or passwordless sudo). Without root it warns with the exact command and carries on, as a prebuilt binary may
 * make the toolchain unnecessary; returns the packages still missing, for the message should `npm ci` fail.
 */
async function ensureBuildTools() {
  const pkgs = names(BUILD_PACKAGES);
  if (spawnSync("dpkg", ["--version"], { stdio: "ignore" }).status !== 0) return [];
  const missing = pkgs.filter((p) => !debInstalled(p));
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0 && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status !== 0) {
    step(
      `Without root, cannot install what compiling better-sqlite3 may need; run: ${aptInstallCommand(missing)}`,
    );
    return missing;
  }
  await ensureDebianPackages(missing, "compiling native npm modules (better-sqlite3)");
  return [];
}

/** The one-line command that installs these Debian packages as a user with sudo. */
export function aptInstallCommand(pkgs) {
  return `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${pkgs.join(" ")}`;
}

/** The npm to run: under `npm run`, npm_execpath names the npm that started us, so use that one. */
function npmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.js$/.test(execPath) && existsSync(execPath))
    return [process.execPath, [execPath]];
  return ["npm", []];
}

/** Why dist/ is out of date with the TypeScript sources, or null when it is current. */
export function buildStaleness() {
  if (!existsSync(join(ROOT, "dist", "src", "cli", "main.js"))) return "dist/ has not been built";
  const stamp = mtime(STAMP);
  if (stamp < 0) return "dist/ has no build stamp";
  const inputs = [
    join(ROOT, "tsconfig.json"),
    ...TS_DIRS.flatMap((d) => walk(join(ROOT, d), (p) => p.endsWith(".ts"))),
  ];
  const newer = inputs.find((p) => mtime(p) > stamp);
  return newer ? `${relative(ROOT, newer)} changed since the last build` : null;
}

/**
 * Compile with tsc (incremental). Runs when dist/ is stale, or always with {always: true} (npm test: the build is
 * also the typecheck). Returns {ran, ok}; throws on failure unless {allowErrors: true} (tsc still emits JS then).
 */
export async function ensureBuilt({ always = false, allowErrors = false } = {}) {
  const why = buildStaleness();
  if (!why && !always) return { ran: false, ok: true };
  // Incremental state without its outputs (dist/src deleted by hand) would make tsc think it has nothing to do.
  if (!existsSync(join(ROOT, "dist", "src", "cli", "main.js")))
    rmSync(join(ROOT, "dist", ".tsbuildinfo"), { force: true });
  step(`Building with tsc${why ? ` (${why})` : ""}`);
  const t0 = Date.now();
  const code = await run(process.execPath, [
    join(ROOT, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    "tsconfig.json",
  ]);
  if (code !== 0) {
    if (allowErrors) return { ran: true, ok: false };
    throw new SetupError("The TypeScript build failed (errors above). Fix them, then run this again.", code);
  }
  writeFileSync(STAMP, "");
  // Stamp with the start time, so that a file saved during the build counts as changed next time.
  utimesSync(STAMP, new Date(t0), new Date(t0));
  step(`Built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { ran: true, ok: true };
}

/** Whether a Debian package is installed (dpkg -s says "install ok installed"). */
export function debInstalled(pkg) {
  const r = spawnSync("dpkg", ["-s", pkg], { encoding: "utf8" });
  return r.status === 0 && /^Status: install ok installed$/m.test(r.stdout);
}

/**
 * Install the Debian packages of this list that are missing, with apt-get as root (or via passwordless sudo).
 * `purpose` says who needs them, for the messages.
 */
export async function ensureDebianPackages(pkgs, purpose) {
  if (pkgs.length === 0) return false;
  if (spawnSync("dpkg", ["--version"], { stdio: "ignore" }).status !== 0) {
    step(`dpkg not found: not a Debian system, so check by hand that ${purpose} has: ${pkgs.join(" ")}`);
    return false;
  }
  const missing = pkgs.filter((p) => !debInstalled(p));
  if (missing.length === 0) return false;
  let sudo = [];
  if (process.getuid?.() !== 0) {
    if (spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0) sudo = ["sudo", "-n"];
    else
      throw new SetupError(
        [
          `Missing Debian packages for ${purpose}: ${missing.join(" ")}`,
          "Installing them needs root. Run:",
          `  ${aptInstallCommand(missing)}`,
          "then run this command again.",
        ].join("\n"),
      );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args) =>
    sudo.length
      ? run(sudo[0], [...sudo.slice(1), "apt-get", ...args], { env })
      : run("apt-get", args, { env });
  step(`Installing Debian packages for ${purpose}: ${missing.join(" ")}`);
  const t0 = Date.now();
  step("apt-get update");
  let code = await apt(["update"]);
  if (code !== 0) throw new SetupError(`apt-get update failed (exit ${code})`);
  step(`apt-get install -y --no-install-recommends ${missing.join(" ")}`);
  code = await apt(["install", "-y", "--no-install-recommends", ...missing]);
  if (code !== 0) throw new SetupError(`apt-get install failed (exit ${code}) for: ${missing.join(" ")}`);
  const still = missing.filter((p) => !debInstalled(p));
  if (still.length)
    throw new SetupError(`apt-get finished but these are still not installed: ${still.join(" ")}`);
  step(`Debian packages installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return true;
}
