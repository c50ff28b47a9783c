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
  let out = "";
  // --port 0: the kernel picks a free port; Stratus writes the bound one into clouds.yaml.
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "bin", "stratus"),
      "up",
      "--data-dir",
      dir,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      ...(opts.args ?? []),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        STRATUS_PASSWORD_HASH_COST: "12",
        STRATUS_LOG_LEVEL: process.env.STRATUS_LOG_LEVEL ?? "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on("exit", (code, signal) => res({ code, signal })),
  );
  const readyMs = opts.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyMs;
  while (!existsSync(cloudsYaml)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`stratus up exited early (${child.exitCode ?? child.signalCode}):\n${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`stratus up did not write ${cloudsYaml} within ${readyMs / 1000} s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const doc = parseYaml(await readFile(cloudsYaml, "utf8")) as { clouds: Record<string, any> };
  return { child, dir, cloudsYaml, clouds: doc.clouds, output: () => out, exited };
}

/** Kill the child if it still runs and remove its data directory (for after() hooks; `s` may be unset). */
export async function killStratus(s: StratusProcess | undefined): Promise<void> {
  if (s && s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
  if (s) await rm(s.dir, { recursive: true, force: true });
}

/** Send SIGTERM (SIGKILL after `graceMs`) and wait for the child to exit. */
export async function terminateStratus(
  s: StratusProcess,
  graceMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  s.child.kill("SIGTERM");
  const timer = setTimeout(() => s.child.kill("SIGKILL"), graceMs);
  try {
    return await s.exited;
  } finally {
    clearTimeout(timer);
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

/** Run a command to completion, collecting its output. */
export function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<ExecResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", rej);
    child.on("close", (code) => res({ code, stdout, stderr }));
  });
}

/** Run `openstack ARGS` as `cloud` of the clouds.yaml of `s`. */
export function openstack(s: StratusProcess, args: string[], cloud = "stratus-admin"): Promise<ExecResult> {
  return exec(OPENSTACK, args, pyEnv({ OS_CLIENT_CONFIG_FILE: s.cloudsYaml, OS_CLOUD: cloud }));
}
