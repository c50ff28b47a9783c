// Shared helpers of the qemu building-block tests: skip reasons, scratch directories, tiny firmware payloads, and
// a check that no QEMU a test started outlives it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { qemuAvailable, killPid } from "../../../../src/compute/drivers/qemu/process.js";
import { qemuImgAvailable } from "../../../../src/shared/qemu-img.js";

/** Skip reason when QEMU is missing outside CI (under CI it is installed, and a missing one must fail). */
export const SKIP_QEMU: string | false =
  qemuAvailable() || process.env.CI
    ? false
    : "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";

/** Skip reason when qemu-img is missing outside CI. */
export const SKIP_QEMU_IMG: string | false =
  qemuImgAvailable() || process.env.CI ? false : "qemu-img is not installed (apt-get install qemu-utils)";

/** A short scratch directory (unix socket paths must stay under 108 bytes). */
export async function scratchDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `stq-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A fresh uuid a test's QEMUs are named by, remembered so leftovers can be found. */
export function testUuid(): string {
  const u = randomUUID();
  started.add(u);
  return u;
}
const started = new Set<string>();

/** Pids of live qemu-system processes whose command line mentions `uuid`. */
export function qemuPidsFor(uuid: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.charAt(0);
      if (cmd.startsWith("qemu-system") || cmd.includes("/qemu-system")) {
        if (cmd.includes(uuid) && state !== "Z") pids.push(Number(name));
      }
    } catch {
      // raced with exit
    }
  }
  return pids;
}

/** Kill every QEMU of this file's uuids (so a failing test cannot leave orphans) and assert none was left. */
export async function reapAndAssertNoOrphans(): Promise<void> {
  const leftovers: number[] = [];
  for (const u of started) for (const pid of qemuPidsFor(u)) leftovers.push(pid);
  for (const pid of leftovers) await killPid(pid, 10_000);
  assert.deepEqual(leftovers, [], "QEMU processes left behind by tests");
}

/** A boot sector: xor ax,ax; mov ds,ax; mov si,msg; mov dx,0x3f8; print until NUL; hlt forever. */
export function bootSector(message = "stratus boot sector\r\n"): Buffer {
  const code = Buffer.from("31c08ed8be157cbaf803ac84c07403eeebf8f4ebfd", "hex");
  const sector = Buffer.alloc(512);
  code.copy(sector, 0);
  sector.write(message + "\0", code.length, "latin1");
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** A 64 KiB firmware whose reset vector prints "stratus serial test line\r\n" 2000 times to COM1 (polling LSR.THRE), then halts. */
export async function writeSerialFirmware(path: string): Promise<string> {
  const code =
    "fab800f08ed8bbd007be2900ac84c0741288c4bafd03eca82074fb88e0baf803eeebe94b75e3f4ebfd" +
    "737472617475732073657269616c2074657374206c696e650d0a";
  const rom = Buffer.alloc(64 * 1024);
  Buffer.from(code, "hex").copy(rom, 0);
  Buffer.from("ea000000f0", "hex").copy(rom, 0xfff0);
  await writeFile(path, rom);
  return path;
}

/** Bounded poll until `check` returns a truthy value. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
