// A careful `qemu-img` wrapper (optional tooling: Stratus works without qemu-img installed), shared by the image
// service's inspector (`info`) and the qemu virt driver's disks (`create`, `resize`, `convert`).
//
// Safety rules (OpenStack's hard-won ones):
//  - always pass an explicit -f: letting qemu-img probe the format is how a raw upload carrying a qcow2 header gets
//    its backing file opened (OSSA-2016-012, OSSA-2024-002). The format is checked against a fixed list of driver
//    names before anything runs;
//  - the path is made absolute, so qemu never reads it as a protocol ("json:{...}", "nbd:...");
//  - the process runs under an address-space and CPU-time limit (prlimit from util-linux, else `ulimit` in sh), a
//    wall-clock timeout, and a cap on how much output is read: crafted headers have made qemu-img burn gigabytes
//    and minutes (OSSA-2015-014);
//  - no shell interpolation: every argument is passed as its own argv entry.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/** Parsed `qemu-img info --output=json`. */
export interface QemuImgInfo {
  "virtual-size": number;
  filename: string;
  format: string;
  "actual-size"?: number;
  "cluster-size"?: number;
  "dirty-flag"?: boolean;
  "backing-filename"?: string;
  "full-backing-filename"?: string;
  "backing-filename-format"?: string;
  "format-specific"?: { type: string; data?: Record<string, unknown> };
  [key: string]: unknown;
}

export interface QemuImgOptions {
  /** Wall-clock limit in milliseconds (default 60 000). */
  timeoutMs?: number;
  /** CPU-time limit in seconds (default 30). */
  cpuSeconds?: number;
  /** Address-space limit in bytes (default 1 GiB). */
  addressSpaceBytes?: number;
  /** Most stdout/stderr bytes read before the process is killed (default 1 MiB). */
  maxOutputBytes?: number;
  /** The qemu-img executable (default: "qemu-img" looked up on PATH). */
  qemuImg?: string;
  /** How limits are applied: prlimit(1) when installed ("auto", the default), or always `ulimit` in sh. */
  limiter?: "auto" | "ulimit";
}

export class QemuImgError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null = null,
    readonly signal: string | null = null,
    readonly stderr = "",
  ) {
    super(message);
    this.name = "QemuImgError";
  }
}

/** Glance disk_format (or qemu driver name) → the qemu block driver to force with -f. */
const DRIVERS: Readonly<Record<string, string>> = {
  raw: "raw",
  iso: "raw",
  ami: "raw",
  ari: "raw",
  aki: "raw",
  qcow2: "qcow2",
  vmdk: "vmdk",
  vhd: "vpc",
  vpc: "vpc",
  vhdx: "vhdx",
  vdi: "vdi",
  ploop: "parallels",
  parallels: "parallels",
};

/** The qemu driver name for a disk_format, or null when it is not one qemu-img may be asked about. */
export function qemuImgFormat(diskFormat: string): string | null {
  if (typeof diskFormat !== "string") return null;
  return Object.hasOwn(DRIVERS, diskFormat) ? DRIVERS[diskFormat] : null;
}

/** The absolute path of an executable named `name` on PATH (or `name` itself when it is a path), else null. */
export function findExecutable(name: string): string | null {
  const candidates = name.includes("/")
    ? [resolve(name)]
    : (process.env.PATH ?? "")
        .split(delimiter)
        .filter((d) => isAbsolute(d))
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** Whether qemu-img can be run (an executable is on PATH, or at `qemuImg`). */
export function qemuImgAvailable(qemuImg = "qemu-img"): boolean {
  return findExecutable(qemuImg) !== null;
}

/** The argv that runs `qemu-img info` with resource limits (exported for tests). */
export function qemuImgInfoCommand(
  path: string,
  format: string,
  options: QemuImgOptions = {},
): { command: string; args: string[] } {
  const driver = qemuImgFormat(format);
  if (driver === null) {
    throw new QemuImgError(
      `qemu-img info needs an explicit, known format (got ${format === "" || format == null ? "none" : JSON.stringify(format)})`,
    );
  }
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw new QemuImgError("qemu-img info needs a file path");
  }
  return qemuImgCommand(["info", "-f", driver, "--output=json", resolve(path)], options);
}

/**
 * The argv that runs `qemu-img <args>` under the address-space and CPU limits. The caller is responsible for the
 * arguments themselves: an explicit -f for every input, absolute file names.
 */
export function qemuImgCommand(
  qemuImgArgs: readonly string[],
  options: QemuImgOptions = {},
): { command: string; args: string[] } {
  const bin = findExecutable(options.qemuImg ?? "qemu-img");
  if (!bin) throw new QemuImgError("qemu-img is not installed");
  const as = options.addressSpaceBytes ?? 1024 * 1024 * 1024;
  const cpu = options.cpuSeconds ?? 30;
  if (!Number.isSafeInteger(as) || as <= 0 || !Number.isSafeInteger(cpu) || cpu <= 0) {
    throw new QemuImgError("qemu-img limits must be positive integers");
  }
  if (qemuImgArgs.some((a) => typeof a !== "string" || a.includes("\0"))) {
    throw new QemuImgError("qemu-img arguments must be strings without NUL");
  }
  const qemuArgs = [bin, ...qemuImgArgs];
  const prlimit = options.limiter === "ulimit" ? null : findExecutable("prlimit");
  if (prlimit) return { command: prlimit, args: [`--as=${as}`, `--cpu=${cpu}`, "--", ...qemuArgs] };
  // ulimit -v counts KiB. The values and the command travel as positional parameters, never inside the script.
  return {
    command: "/bin/sh",
    args: [
      "-c",
      'ulimit -v "$1" && ulimit -t "$2" && shift 2 && exec "$@"',
      "sh",
      String(Math.floor(as / 1024)),
      String(cpu),
      ...qemuArgs,
    ],
  };
}

/** Runs `qemu-img info -f <format> --output=json <path>` under limits and returns the parsed JSON. */
export async function qemuImgInfo(
  path: string,
  format: string,
  options: QemuImgOptions = {},
): Promise<QemuImgInfo> {
  const { command, args } = qemuImgInfoCommand(path, format, options);
  const { stdout, stderr } = await runLimited("info", command, args, options);
  let info: unknown;
  try {
    info = JSON.parse(stdout);
  } catch {
    throw new QemuImgError("qemu-img info printed invalid JSON", 0, null, stderr);
  }
  if (
    typeof info !== "object" ||
    info === null ||
    typeof (info as QemuImgInfo).format !== "string" ||
    typeof (info as QemuImgInfo)["virtual-size"] !== "number"
  ) {
    throw new QemuImgError("qemu-img info output lacks format/virtual-size", 0, null, stderr);
  }
  return info as QemuImgInfo;
}

/** Runs `qemu-img <args>` under limits (see qemuImgCommand); resolves with its output, throws QemuImgError. */
export async function runQemuImg(
  qemuImgArgs: readonly string[],
  options: QemuImgOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const { command, args } = qemuImgCommand(qemuImgArgs, options);
  return runLimited(qemuImgArgs[0] ?? "", command, args, options);
}

async function runLimited(
  sub: string,
  command: string,
  args: string[],
  options: QemuImgOptions,
): Promise<{ stdout: string; stderr: string }> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxOutput = options.maxOutputBytes ?? 1024 * 1024;

  const { code, signal, stdout, stderr, timedOut, overflow } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    timedOut: boolean;
    overflow: boolean;
  }>((resolvePromise, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      // glibc reserves 64 MiB of address space per malloc arena, up to 8 per core: qemu-img's I/O threads then
      // exhaust the address-space limit and abort (seen as a snapshot's convert killed by SIGABRT under load).
      env: { ...process.env, LC_ALL: "C", MALLOC_ARENA_MAX: "2" },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let total = 0;
    let timedOut = false;
    let overflow = false;
    const collect = (into: Buffer[]) => (b: Buffer) => {
      total += b.length;
      if (total > maxOutput) {
        overflow = true;
        child.kill("SIGKILL");
        return;
      }
      into.push(b);
    };
    child.stdout.on("data", collect(out));
    child.stderr.on("data", collect(err));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new QemuImgError(`could not run qemu-img: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
        overflow,
      });
    });
  });

  const name = `qemu-img ${sub}`;
  const errText = stderr.trim().split("\n").slice(0, 5).join("; ");
  if (timedOut) throw new QemuImgError(`${name} timed out after ${timeoutMs} ms`, code, signal, stderr);
  if (overflow) throw new QemuImgError(`${name} printed more than ${maxOutput} bytes`, code, signal, stderr);
  if (signal) {
    const why = signal === "SIGXCPU" ? " (CPU time limit)" : signal === "SIGKILL" ? " (resource limit)" : "";
    throw new QemuImgError(`${name} was killed by ${signal}${why}`, code, signal, stderr);
  }
  if (code !== 0) {
    throw new QemuImgError(
      `${name} failed (exit ${code}): ${errText || "no error output"}`,
      code,
      null,
      stderr,
    );
  }
  return { stdout, stderr };
}

/**
 * What qemu-img itself reports that makes an image unsafe (a second line of defence after the inspector, as in
 * Nova): a different format than forced, a backing file, an external data file, a VMDK create-type other than
 * monolithicSparse/streamOptimized, or VMDK extents that are other files.
 */
export function qemuImgInfoProblems(info: QemuImgInfo, format: string): string[] {
  const problems: string[] = [];
  const driver = qemuImgFormat(format);
  if (driver !== null && info.format !== driver)
    problems.push(`qemu-img reports ${info.format}, not ${driver}`);
  if (info["backing-filename"] !== undefined || info["full-backing-filename"] !== undefined) {
    problems.push(`image has a backing file ${JSON.stringify(info["backing-filename"] ?? "")}`);
  }
  const data = info["format-specific"]?.data ?? {};
  if (data["data-file"] !== undefined)
    problems.push(`image has an external data file ${JSON.stringify(data["data-file"])}`);
  if (info.format === "vmdk") {
    const createType = data["create-type"];
    if (createType !== "monolithicSparse" && createType !== "streamOptimized") {
      problems.push(`VMDK create-type ${JSON.stringify(createType ?? null)} is not allowed`);
    }
    const extents = Array.isArray(data.extents) ? (data.extents as Array<{ filename?: unknown }>) : [];
    for (const e of extents) {
      if (typeof e.filename === "string" && e.filename !== info.filename) {
        problems.push(`VMDK extent is another file ${JSON.stringify(e.filename)}`);
      }
    }
  }
  return problems;
}
