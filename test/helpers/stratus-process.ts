// End-to-end test setup: `bin/stratus up` as a child process (on a free port, in a fresh data directory), the
// clouds.yaml it writes, running Debian's Python tools (/usr/bin/openstack, /usr/bin/python3) with a cleaned
// environment, and stopping the child.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { loadConfig } from "../../src/shared/config.js";
import { wipeVolumes } from "../../src/volume/drivers/configured.js";
import { until } from "./wait.js";

/** The repository root (this file runs as dist/test/helpers/stratus-process.js). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const OPENSTACK = "/usr/bin/openstack";

/** What a finished command printed and how it exited. */
export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The running cloud: its child process, data dir, clouds.yaml (path and parsed clouds), and what it printed. */
export interface StratusProcess {
  child: ChildProcess;
  dir: string;
  cloudsYaml: string;
  clouds: Record<string, any>;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** One `bin/stratus ARGS` child process (fast password hashing, plus `env`) and everything it printed. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private out = "";

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string> = {},
    /** Run it through this command and leading arguments instead of node (e.g. ip netns exec NS node). */
    wrap: [string, string[]] = [process.execPath, []],
  ) {
    this.child = spawn(wrap[0], [...wrap[1], join(ROOT, "bin", "stratus"), ...args], {
      cwd: ROOT,
      env: { ...process.env, STRATUS_PASSWORD_HASH_COST: "12", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on("data", (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((res) => this.child.on("exit", (code, signal) => res({ code, signal })));
  }

  /** Everything it printed so far (stdout and stderr). */
  get output(): string {
    return this.out;
  }

  /** Whether it has not exited yet. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wait until `ok()` holds (failing early, with the output, if the process exits or `timeoutMs` passes). */
  async waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
    try {
      await until(
        what,
        () => {
          if (ok()) return true;
          if (!this.running) throw new Error(`${this.name} exited before ${what}`);
          return false;
        },
        timeoutMs,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}:\n${this.out}`);
    }
  }

  /** Wait until the output matches `re` (failing early if the process exits). */
  waitFor(re: RegExp, timeoutMs: number): Promise<void> {
    return this.waitUntil(`${this.name} printing ${re}`, () => re.test(this.out), timeoutMs);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** More of `startStratus`: extra `stratus up` arguments, an existing data dir (a restart), a readiness bound. */
export interface StartStratusOptions {
  args?: string[];
  /** Reuse this data directory (its clouds.yaml is rewritten); default a new one. */
  dir?: string;
  /** stratus.yaml to write into the data directory first. */
  configYaml?: string;
  /** How long to wait for clouds.yaml (default 60 s). */
  readyTimeoutMs?: number;
}

/** Start `bin/stratus up` in a new data directory (named after `prefix`) and wait until it writes clouds.yaml. */
export async function startStratus(
  prefix = "stratus-e2e-",
  opts: StartStratusOptions = {},
): Promise<StratusProcess> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), prefix)));
  const cloudsYaml = join(dir, "clouds.yaml");
  await rm(cloudsYaml, { force: true });
  if (opts.configYaml !== undefined) await writeFile(join(dir, "stratus.yaml"), opts.configYaml);
  // --port 0: the kernel picks a free port; Stratus writes the bound one into clouds.yaml.
  const args = ["up", "--data-dir", dir, "--port", "0", "--host", "127.0.0.1", ...(opts.args ?? [])];
  // The noop network driver unless the test chooses one: functional tests make no kernel state.
  if (
    !args.includes("--network-driver") &&
    !/^\s*driver:/m.test(opts.configYaml?.split(/^network:/m)[1] ?? "")
  )
    args.push("--network-driver", "noop");
  const proc = new Proc("stratus up", args, {
    STRATUS_LOG_LEVEL: process.env.STRATUS_LOG_LEVEL ?? "warn",
  });
  try {
    await proc.waitUntil(
      `${cloudsYaml} written`,
      () => existsSync(cloudsYaml),
      opts.readyTimeoutMs ?? 60_000,
    );
  } catch (e) {
    proc.child.kill("SIGKILL");
    throw e;
  }
  const doc = parseYaml(await readFile(cloudsYaml, "utf8")) as { clouds: Record<string, any> };
  return {
    child: proc.child,
    dir,
    cloudsYaml,
    clouds: doc.clouds,
    output: () => proc.output,
    exited: proc.exited,
  };
}

/** Stop the volume daemons a killed cloud on `dir` left serving (they outlive a crash by design). */
export async function wipeVolumeDaemons(dir: string): Promise<void> {
  await wipeVolumes(loadConfig({ dataDir: dir }, {})).catch(() => undefined);
}

/**
 * Kill the child if it still runs, stop the volume daemons it left, and remove its data directory (for after()
 * hooks; `s` may be unset).
 */
export async function killStratus(s: StratusProcess | undefined): Promise<void> {
  if (!s) return;
  if (s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill("SIGKILL");
    await s.exited;
  }
  await wipeVolumeDaemons(s.dir);
  await rm(s.dir, { recursive: true, force: true });
}

/** Send SIGTERM (SIGKILL after `graceMs`) and wait for the child to exit. */
export async function terminateStratus(
  s: StratusProcess,
  graceMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.child.kill("SIGTERM");
  let killed = false;
  const timer = setTimeout(() => (killed = s.child.kill("SIGKILL")), graceMs);
  try {
    return await s.exited;
  } finally {
    clearTimeout(timer);
    if (killed) await wipeVolumeDaemons(s.dir);
  }
}

/** The environment for Debian's Python tools: no OS_* or Python settings of ours leak in (they run under /usr/bin/python3). */
export function pyEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("OS_") && !k.startsWith("PYTHON") && k !== "VIRTUAL_ENV") env[k] = v;
  env.PATH = `/usr/bin:/bin:${process.env.PATH ?? ""}`;
  return { ...env, ...extra };
}

/** Run a command to completion, collecting its output; `input`, when given, is its standard input. */
export function exec(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: Buffer,
): Promise<ExecResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env, stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", rej);
    child.on("close", (code) => res({ code, stdout, stderr }));
    if (input) child.stdin!.end(input);
  });
}

/** Run `openstack ARGS` as `cloud` of the clouds.yaml of `s`. */
export function openstack(s: StratusProcess, args: string[], cloud = "stratus-admin"): Promise<ExecResult> {
  return exec(OPENSTACK, args, pyEnv({ OS_CLIENT_CONFIG_FILE: s.cloudsYaml, OS_CLOUD: cloud }));
}

/** An S3 key pair of the demo user (`openstack ec2 credentials create`) and the S3 port `--listen s3=0` bound. */
export async function s3Access(s: StratusProcess): Promise<{ access: string; secret: string; port: string }> {
  const cred = await openstack(s, ["ec2", "credentials", "create", "-f", "json"], "stratus-demo");
  if (cred.code !== 0) throw new Error(`openstack ec2 credentials create: ${cred.stderr}\n${cred.stdout}`);
  // The CLI's JSON names the fields "Access"/"Secret" or "access"/"secret" depending on its version.
  const c = JSON.parse(cred.stdout) as Record<string, string>;
  const access = c.access ?? c.Access;
  const secret = c.secret ?? c.Secret;
  if (!access || !secret) throw new Error(`no key pair in: ${cred.stdout}`);
  let port = "";
  await until(
    "the S3 port in the banner",
    () => {
      port = /S3 \(path-style[^\n]*and http:\/\/127\.0\.0\.1:(\d+)\//.exec(s.output())?.[1] ?? "";
      return port !== "";
    },
    30_000,
  );
  return { access, secret, port };
}
