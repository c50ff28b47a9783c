// The built-in guest image (CirrOS-like): runs scripts/guest-image/build.sh, which builds it once per version into
// a cache directory, and reads back its manifest. The image boots two ways: disk.qcow2 from its own boot loader, or
// vmlinuz + initrd directly with the same disk attached (root found by root= or the filesystem label).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One built file: its size in bytes and sha256 (hex). */
export interface GuestImageFile {
  size: number;
  sha256: string;
}

/** manifest.json as build.sh writes it. */
export interface GuestImageManifest {
  /** Base version and a hash of the build's inputs (scripts, package list, passwords). */
  version: string;
  /** The Debian cloud kernel's release, e.g. 6.1.0-57-cloud-amd64. */
  kernel: string;
  /** The default login user (passwordless sudo). */
  user: string;
  /** The root filesystem's label: direct kernel boot may pass root=LABEL=<it> or the disk (root=/dev/vda). */
  rootLabel: string;
  /** The kernel command line the disk's boot loader uses; suggested for direct kernel boot too. */
  cmdline: string;
  /** disk.qcow2's virtual size in bytes (the guest grows its root to the disk it is given). */
  diskVirtualSize: number;
  files: { "disk.qcow2": GuestImageFile; vmlinuz: GuestImageFile; initrd: GuestImageFile };
}

/** A built guest image: its directory, the paths of its three files, and its manifest. */
export interface GuestImage {
  dir: string;
  disk: string;
  kernel: string;
  ramdisk: string;
  manifest: GuestImageManifest;
}

/** Options of ensureGuestImage. */
export interface GuestImageOptions {
  /** Cache root (default $STRATUS_CACHE or ~/.cache/stratus): the image goes to <root>/guest-image/<version>. */
  cacheRoot?: string;
  /** Called with each progress line of the build (and "cached: ..." when nothing had to be built). */
  onProgress?: (line: string) => void;
  /** Extra environment for the build, e.g. STRATUS_GUEST_PASSWORD or STRATUS_GUEST_ROOT_PASSWORD. */
  env?: Record<string, string>;
}

/** The default cache root for built artefacts. */
export const defaultCacheRoot = (): string =>
  process.env.STRATUS_CACHE || join(homedir(), ".cache", "stratus");

/** Path of the build script, found by walking up from this module (works from src/ and from dist/src/). */
export function guestImageScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "scripts", "guest-image", "build.sh");
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error("scripts/guest-image/build.sh not found above " + dirname(fileURLToPath(import.meta.url)));
}

/** Runs build.sh with args; resolves with its stdout, rejects with the tail of its stderr. */
function runScript(
  args: string[],
  env: Record<string, string>,
  onLine?: (line: string) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [guestImageScript(), ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let pending = "";
    const tail: string[] = [];
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      pending += d;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        const m = /^==> guest-image: (.*)$/.exec(line);
        if (m && onLine) onLine(m[1]);
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (pending) tail.push(pending);
      if (code === 0) resolve(out);
      else reject(new Error(`guest image build failed (${signal ?? `exit ${code}`}):\n${tail.join("\n")}`));
    });
  });
}

/** The version the build script would build now (a hash of its inputs; cheap). */
export async function guestImageVersion(env: Record<string, string> = {}): Promise<string> {
  return (await runScript(["--version"], env)).trim();
}

/** Reads a built image's manifest from its directory. */
export function readGuestImage(dir: string): GuestImage {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as GuestImageManifest;
  return {
    dir,
    disk: join(dir, "disk.qcow2"),
    kernel: join(dir, "vmlinuz"),
    ramdisk: join(dir, "initrd"),
    manifest,
  };
}

/** Builds the guest image unless this version is already in the cache; returns it. Needs root to build. */
export async function ensureGuestImage(opts: GuestImageOptions = {}): Promise<GuestImage> {
  const cacheRoot = opts.cacheRoot ?? defaultCacheRoot();
  const env = { ...opts.env, STRATUS_CACHE: cacheRoot };
  const dir = join(cacheRoot, "guest-image", await guestImageVersion(env));
  if (existsSync(join(dir, "manifest.json"))) {
    opts.onProgress?.(`cached: ${dir}`);
    return readGuestImage(dir);
  }
  await runScript([dir], env, opts.onProgress);
  return readGuestImage(dir);
}
