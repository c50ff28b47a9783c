// The QEMU process supervisor: start one guest's qemu-system-x86_64 detached from the agent (-daemonize: its own
// session, reparented away from the agent, so killing or restarting the agent leaves guests running), connect its
// QMP socket while it is still paused, then `cont`; re-adopt a running one from its pidfile and QMP socket after an
// agent restart; stop it and wait (bounded) until the process is really gone, leaving no socket or pidfile behind.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildQemuArgs, type QemuSpec } from "./cmdline.js";
import { NotOurQemu, QemuStartFailed } from "./errors.js";
import { findExecutable } from "../../../shared/qemu-img.js";
import { QmpClient, type QmpRunState } from "./qmp.js";
import { powerStateFromRunState } from "./status.js";
import type { PowerState } from "../types.js";

const STDERR_CAP = 64 * 1024;

/** How to run qemu-system-x86_64. */
export interface QemuRunOptions {
  /** The emulator (default "qemu-system-x86_64" on PATH). */
  binary?: string;
  /** Bound on daemonizing plus QMP negotiation (default 30 s: TCG hosts are slow when busy). */
  timeoutMs?: number;
  /** Open-file limit for QEMU (default 4096); core dumps are always off (they would hold guest memory). */
  maxOpenFiles?: number;
}

/** The files that identify one running QEMU (all kept in the instance's directory by the driver). */
export interface QemuLocation {
  uuid: string;
  pidfile: string;
  qmpSocket: string;
  /** Other sockets QEMU made that must go when it does (serial, VNC). */
  extraSockets?: string[];
}

/** A supervised, running (or paused) QEMU with its QMP connection. */
export class QemuProcess {
  constructor(
    readonly location: QemuLocation,
    readonly pid: number,
    readonly qmp: QmpClient,
    /** Milliseconds from spawning QEMU to a negotiated QMP session (0 when adopted). */
    readonly startupMs: number,
  ) {}

  /** QEMU's run state (query-status). */
  async runState(): Promise<QmpRunState> {
    return (await this.qmp.execute("query-status")).status;
  }

  /** Nova power state from query-status. */
  async powerState(): Promise<PowerState> {
    return powerStateFromRunState(await this.runState());
  }

  /** Whether the process still exists (not a zombie). */
  isAlive(): boolean {
    return pidAlive(this.pid);
  }

  /** Ask QEMU to quit over QMP, then wait (bounded) for the process; SIGKILL if it lingers. Cleans up files. */
  async quit(timeoutMs = 10_000): Promise<void> {
    if (this.qmp.isOpen) {
      try {
        await this.qmp.execute("quit", undefined, { timeoutMs });
      } catch {
        // the connection may close before the reply: fine, we wait for the pid below
      }
    }
    if (!(await waitForExit(this.pid, timeoutMs))) await this.kill();
    this.qmp.close();
    await removeFiles(this.location);
  }

  /** SIGKILL the process, wait until it is gone, close QMP and remove the socket and pid files. */
  async kill(timeoutMs = 10_000): Promise<void> {
    await killPid(this.pid, timeoutMs);
    this.qmp.close();
    await removeFiles(this.location);
  }
}

/** Options of startQemu beyond how to run the binary. */
export interface StartQemuOptions extends QemuRunOptions {
  /** Leave the vCPUs stopped (state "prelaunch") instead of sending `cont`. */
  paused?: boolean;
  /** Runs while QEMU is still paused, before `cont` (attach the serial log here so no output is lost). */
  beforeCont?: (proc: QemuProcess) => Promise<void>;
  /** More sockets to remove when this QEMU goes. */
  extraSockets?: string[];
}

/**
 * Start the guest described by `spec`, paused; connect QMP; run `beforeCont`; then `cont` unless `paused` is asked
 * (or the spec waits for an incoming migration). On any failure nothing is left running and no socket or pidfile
 * remains; the error is QemuStartFailed with QEMU's stderr.
 */
export async function startQemu(spec: QemuSpec, opts: StartQemuOptions = {}): Promise<QemuProcess> {
  const args = buildQemuArgs(spec);
  const location: QemuLocation = {
    uuid: spec.uuid,
    pidfile: spec.pidfile,
    qmpSocket: spec.qmpSocket,
    extraSockets: [
      ...(spec.serialSocket ? [spec.serialSocket] : []),
      ...(spec.vnc && "unixSocket" in spec.vnc ? [spec.vnc.unixSocket] : []),
      ...(opts.extraSockets ?? []),
    ],
  };
  const existing = await readPidfile(spec.pidfile);
  if (existing !== null && isOurQemu(existing, spec.uuid)) {
    throw new QemuStartFailed(`QEMU for ${spec.uuid} is already running (pid ${existing})`);
  }
  await removeFiles(location); // stale leftovers of a QEMU that died hard
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const t0 = performance.now();
  const { code, stderr, timedOut } = await runDaemonizing(qemuCommand(args, opts), timeoutMs);
  let pid: number | null = await readPidfile(spec.pidfile);
  try {
    if (timedOut) throw new QemuStartFailed(`QEMU did not finish starting within ${timeoutMs} ms`, stderr);
    if (code !== 0) throw new QemuStartFailed(`QEMU exited with ${code}: ${firstLines(stderr)}`, stderr);
    if (pid === null) throw new QemuStartFailed(`QEMU started but wrote no pidfile`, stderr);
    const qmp = await QmpClient.connect(spec.qmpSocket, {
      timeoutMs: Math.max(1_000, timeoutMs - (performance.now() - t0)),
    });
    const startupMs = performance.now() - t0;
    const proc = new QemuProcess(location, pid, qmp, startupMs);
    pid = null; // owned by proc from here on
    try {
      await opts.beforeCont?.(proc);
      if (!opts.paused && spec.incoming === undefined) await qmp.execute("cont");
    } catch (err) {
      await proc.kill();
      throw new QemuStartFailed(`QEMU would not start its vCPUs: ${(err as Error).message}`, stderr, {
        cause: err,
      });
    }
    return proc;
  } catch (err) {
    if (pid !== null) await killPid(pid, 10_000);
    await removeFiles(location);
    if (err instanceof QemuStartFailed) throw err;
    throw new QemuStartFailed(`QEMU started but QMP failed: ${(err as Error).message}`, stderr, {
      cause: err,
    });
  }
}

/**
 * Re-adopt a QEMU started earlier (by this or a previous agent): the pidfile must name a live qemu-system process
 * whose command line carries our uuid; then its QMP socket is connected. Throws NotOurQemu when it is not running.
 */
export async function adoptQemu(
  location: QemuLocation,
  opts: { timeoutMs?: number } = {},
): Promise<QemuProcess> {
  const pid = await readPidfile(location.pidfile);
  if (pid === null) throw new NotOurQemu(`no pidfile for ${location.uuid} at ${location.pidfile}`);
  if (!isOurQemu(pid, location.uuid)) {
    throw new NotOurQemu(`pid ${pid} from ${location.pidfile} is not the QEMU of ${location.uuid}`);
  }
  const qmp = await QmpClient.connect(location.qmpSocket, { timeoutMs: opts.timeoutMs ?? 5_000 });
  return new QemuProcess(location, pid, qmp, 0);
}

/** The command (prlimit wrapper when available) that runs QEMU with `args`. */
export function qemuCommand(args: string[], opts: QemuRunOptions = {}): { command: string; args: string[] } {
  const bin = findExecutable(opts.binary ?? "qemu-system-x86_64");
  if (!bin) throw new QemuStartFailed(`${opts.binary ?? "qemu-system-x86_64"} is not installed`);
  const nofile = opts.maxOpenFiles ?? 4096;
  const prlimit = findExecutable("prlimit");
  if (prlimit) return { command: prlimit, args: ["--core=0", `--nofile=${nofile}`, "--", bin, ...args] };
  return {
    command: "/bin/sh",
    args: ["-c", 'ulimit -c 0 && ulimit -n "$1" && shift && exec "$@"', "sh", String(nofile), bin, ...args],
  };
}

/** Whether qemu-system-x86_64 (or `binary`) is installed. */
export function qemuAvailable(binary = "qemu-system-x86_64"): boolean {
  return findExecutable(binary) !== null;
}

/** Whether `pid` is a live qemu-system process started for `uuid` (its -name guest=<uuid>). */
export function isOurQemu(pid: number, uuid: string): boolean {
  if (!pidAlive(pid)) return false;
  const argv = readCmdline(pid);
  if (argv.length === 0 || !basename(argv[0]).startsWith("qemu-system")) return false;
  const i = argv.indexOf("-name");
  return i !== -1 && (argv[i + 1] ?? "").split(",").includes(`guest=${uuid}`);
}

/** Whether a process exists and is not a zombie (a daemonized QEMU may be reaped late by whatever adopted it). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const state = readProcStat(pid);
  return state !== null && state !== "Z" && state !== "X";
}

/** Poll (bounded) until `pid` is gone; true if it went. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** SIGKILL `pid` and wait until it is gone (bounded); true if it went. */
export async function killPid(pid: number, timeoutMs: number): Promise<boolean> {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
  return waitForExit(pid, timeoutMs);
}

/** The pid in a pidfile, or null when absent or unreadable. */
export async function readPidfile(path: string): Promise<number | null> {
  try {
    const n = Number.parseInt((await readFile(path, "utf8")).trim(), 10);
    return Number.isSafeInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
}

async function removeFiles(location: QemuLocation): Promise<void> {
  for (const p of [location.pidfile, location.qmpSocket, ...(location.extraSockets ?? [])]) {
    await rm(p, { force: true });
  }
}

function readCmdline(pid: number): string[] {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").filter((s, i, a) => i < a.length - 1 || s !== "");
  } catch {
    return [];
  }
}

function readProcStat(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": comm may contain spaces and parentheses, so split after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).charAt(0) || null;
  } catch {
    return null;
  }
}

function firstLines(s: string): string {
  return s.trim().split("\n").slice(0, 5).join("; ") || "no error output";
}

/**
 * Run the daemonizing parent: its exit code and stderr (capped). The daemon points its stderr at /dev/null before it
 * lets the parent exit, so "close" follows at once; on a timeout the parent's group is killed (the daemon, in its
 * own session, is found through the pidfile by the caller).
 */
async function runDaemonizing(
  cmd: { command: string; args: string[] },
  timeoutMs: number,
): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      if (stderr.length < STDERR_CAP) stderr += s.slice(0, STDERR_CAP - stderr.length);
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
      child.stderr.destroy();
      resolve({ code: null, stderr, timedOut: true });
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new QemuStartFailed(`could not run QEMU: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : null), stderr, timedOut: false });
    });
  });
}
