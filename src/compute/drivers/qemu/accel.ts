// Which accelerator guests get: KVM only when a real probe guest runs under it, else TCG. A /dev/kvm that opens,
// and a QEMU that reports KVM enabled, prove nothing (on nested hosts without VT-x, real-mode code runs but guests
// hang once they enable paging), so the probe boots a 64-bit payload: a 64 KiB firmware image whose reset vector
// jumps to code that builds identity page tables, enters long mode, spins a little, and writes to isa-debug-exit,
// which makes QEMU exit with status (0x2a << 1) | 1 = 85. Under TCG it takes ~0.1 s; a failing KVM hangs until the
// probe's timeout. The result is cached per host (kernel release + QEMU binary) in the data dir.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { hostname, release } from "node:os";
import { join } from "node:path";
import { findExecutable } from "../../../shared/qemu-img.js";

/** The accelerator a guest runs under. */
export type Accel = "kvm" | "tcg";

/** The operator's setting: force one, or probe ("auto", the default). */
export type AccelSetting = "auto" | Accel;

/** The decision, with why, for the start-up banner and `openstack hypervisor show`. */
export interface AccelDecision {
  accel: Accel;
  /** "operator" (forced), "probe" (probed now) or "cache" (an earlier probe on this host). */
  source: "operator" | "probe" | "cache";
  reason: string;
  /** How long the probe took (absent when forced). */
  probeMs?: number;
}

/** The outcome of one KVM probe boot. */
export interface KvmProbeResult {
  ok: boolean;
  reason: string;
  ms: number;
}

/**
 * The probe payload, assembled from (GNU as, .code16 at the ROM's start, physical 0xF0000):
 *   cli; xor ax,ax; mov ds/es/ss,ax; mov di,0x1000; mov cx,0x1800; cld; rep stosw      (zero 0x1000-0x3fff)
 *   movl $0x2003,0x1000; movl $0x3003,0x2000; movl $0x83,0x3000   (PML4 -> PDPT -> PD with one 2 MiB page)
 *   lgdtl cs:gdtr; cr4 |= PAE; cr3 = 0x1000; EFER |= LME (rdmsr/wrmsr 0xC0000080); cr0 |= PG|PE
 *   ljmpl $0x08, $long_entry;  .code64: mov ecx,100000; 1: dec ecx; jnz 1b; mov al,0x2a; out 0xf4,al; hlt; jmp
 *   gdt: null, 0x00AF9A000000FFFF (64-bit code); gdtr: limit 15, base 0xF0000+gdt
 * and at 0xFFF0 (the reset vector) `ljmp $0xF000, $0`.
 */
const PROBE_CODE =
  "fa31c08ed88ec08ed0bf0010b90018fcf3ab66c70600100320000066c70600200330000066c7060030830000002e660f01169000" +
  "0f20e06683c8200f22e066b8001000000f22d866b9800000c00f32660d000100000f300f20c0660d010000800f22c066ea6b000f" +
  "000800b9a0860100ffc975fcb02ae6f4f4ebfd8db40000900000000000000000ffff0000009aaf000f0080000f";
const RESET_VECTOR = "ea000000f0";
const PROBE_EXIT_CODE = (0x2a << 1) | 1;
const CACHE_FILE = "qemu-accel.json";

/** The 64 KiB probe firmware image. */
export function probeFirmware(): Buffer {
  const rom = Buffer.alloc(64 * 1024);
  Buffer.from(PROBE_CODE, "hex").copy(rom, 0);
  Buffer.from(RESET_VECTOR, "hex").copy(rom, 0xfff0);
  return rom;
}

/**
 * Boot the probe payload under `accel` and report whether it ran to its end within `timeoutMs` (default 2 s).
 * Never throws; the QEMU is killed and waited for on timeout.
 */
export async function probeAccel(
  accel: Accel,
  opts: { workDir: string; binary?: string; timeoutMs?: number },
): Promise<KvmProbeResult> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const bin = findExecutable(opts.binary ?? "qemu-system-x86_64");
  if (!bin) return { ok: false, reason: "qemu-system-x86_64 is not installed", ms: ms() };
  if (accel === "kvm") {
    try {
      await access("/dev/kvm", constants.R_OK | constants.W_OK);
    } catch {
      return { ok: false, reason: "/dev/kvm is not accessible", ms: ms() };
    }
  }
  const firmware = join(opts.workDir, "accel-probe.rom");
  await mkdir(opts.workDir, { recursive: true });
  await writeFile(firmware, probeFirmware());
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const args = [
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-machine",
    "pc",
    "-accel",
    accel,
    "-m",
    "16",
    "-bios",
    firmware,
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=0x04",
  ];
  const outcome = await new Promise<{
    code: number | null;
    stderr: string;
    timedOut: boolean;
    error?: string;
  }>((resolve) => {
    const child = spawn(bin, args, {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
    });
    let stderr = "";
    let timedOut = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: null, stderr, timedOut: false, error: e.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut });
    });
  });
  if (outcome.error) return { ok: false, reason: `could not run QEMU: ${outcome.error}`, ms: ms() };
  if (outcome.timedOut) {
    return {
      ok: false,
      reason: `a ${accel.toUpperCase()} probe guest did not finish within ${timeoutMs} ms`,
      ms: ms(),
    };
  }
  if (outcome.code !== PROBE_EXIT_CODE) {
    const err = outcome.stderr.trim().split("\n").slice(-2).join("; ");
    return {
      ok: false,
      reason: `the ${accel.toUpperCase()} probe guest failed (exit ${outcome.code}${err ? `: ${err}` : ""})`,
      ms: ms(),
    };
  }
  return { ok: true, reason: `a ${accel.toUpperCase()} probe guest ran in long mode`, ms: ms() };
}

interface CacheRecord {
  host: string;
  kernel: string;
  qemu: string;
  kvm: boolean;
  reason: string;
  probeMs: number;
  probedAt: string;
}

/** What the cached probe is valid for: this host, kernel and QEMU binary (path, size, mtime). */
async function hostKey(binary: string): Promise<{ host: string; kernel: string; qemu: string } | null> {
  const bin = findExecutable(binary);
  if (!bin) return null;
  const st = await stat(bin);
  return { host: hostname(), kernel: release(), qemu: `${bin}:${st.size}:${st.mtimeMs}` };
}

/**
 * The accelerator to use. "kvm"/"tcg" are the operator's word; "auto" probes KVM once per host and QEMU binary
 * (the result is kept in `<dataDir>/qemu-accel.json`) and falls back to TCG.
 */
export async function resolveAccel(
  setting: AccelSetting,
  opts: { dataDir: string; binary?: string; probeTimeoutMs?: number },
): Promise<AccelDecision> {
  if (setting === "kvm" || setting === "tcg") {
    return {
      accel: setting,
      source: "operator",
      reason: `forced to ${setting.toUpperCase()} by configuration`,
    };
  }
  if (setting !== "auto")
    throw new TypeError(`accel must be auto, kvm or tcg (got ${JSON.stringify(setting)})`);
  const binary = opts.binary ?? "qemu-system-x86_64";
  const key = await hostKey(binary);
  const cachePath = join(opts.dataDir, CACHE_FILE);
  if (key) {
    try {
      const rec = JSON.parse(await readFile(cachePath, "utf8")) as CacheRecord;
      if (rec.host === key.host && rec.kernel === key.kernel && rec.qemu === key.qemu) {
        return { accel: rec.kvm ? "kvm" : "tcg", source: "cache", reason: rec.reason, probeMs: rec.probeMs };
      }
    } catch {
      // no usable cache: probe
    }
  }
  const probe = await probeAccel("kvm", { workDir: opts.dataDir, binary, timeoutMs: opts.probeTimeoutMs });
  const reason = probe.ok ? probe.reason : `TCG: ${probe.reason}`;
  if (key) {
    const rec: CacheRecord = {
      ...key,
      kvm: probe.ok,
      reason,
      probeMs: probe.ms,
      probedAt: new Date().toISOString(),
    };
    const tmp = `${cachePath}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(rec, null, 2) + "\n");
    await rename(tmp, cachePath);
  }
  return { accel: probe.ok ? "kvm" : "tcg", source: "probe", reason, probeMs: probe.ms };
}
