// The host's cache of base images, as Nova's libvirt image cache: each image is fetched once (by a caller-supplied
// function streaming its bytes from the image service), hashed while it streams and checked against the image's
// os_hash_value, inspected (its declared format must be what the bytes are, with no backing or data file; then
// qemu-img info agrees, the second line of defence), converted once to qcow2 when QEMU should not run it in its
// own format, and only then published by rename. Concurrent requests for one image share one download. Entries
// no instance uses can be pruned by age or to a size budget (least recently used first).
//
// Layout in `dir`: `<id>` (the bytes) and `<id>.json` (their metadata, written before the bytes are renamed in),
// plus `.part-*` files while downloading.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile, readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  qemuImgInfo,
  qemuImgInfoProblems,
  runQemuImg,
  type QemuImgOptions,
} from "../../../shared/qemu-img.js";
import { checkDeclaredFormat, createInspector } from "../../../image/inspector/index.js";
import type { DiskFormat } from "../types.js";
import { ImageHashMismatch, ImageUnusable } from "./errors.js";

/** What the cache needs to know about an image (from the image service's record). */
export interface CacheableImage {
  id: string;
  diskFormat: DiskFormat;
  /** Glance's os_hash_algo (default sha512). */
  osHashAlgo?: string;
  /** Glance's os_hash_value: the hex digest the bytes must have. */
  osHashValue: string | null | undefined;
  /** The image's size, when known: a download that runs past it is aborted. */
  sizeBytes?: number | null;
}

/** Streams an image's bytes (e.g. GET /v2/images/{id}/file); aborting `signal` must end the stream. */
export type ImageFetcher = (
  imageId: string,
  signal: AbortSignal,
) => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;

/** A published cache entry. */
export interface CachedImage {
  id: string;
  path: string;
  /** The format QEMU opens it with (after any conversion). */
  format: "qcow2" | "raw";
  /** The Glance format it was uploaded as. */
  diskFormat: DiskFormat;
  virtualSize: number;
  /** Bytes on disk. */
  sizeBytes: number;
}

export interface ImageCacheOptions {
  dir: string;
  fetch: ImageFetcher;
  /** Largest image accepted, in bytes (default 20 GiB). */
  maxImageBytes?: number;
  /** Limits for qemu-img info (defaults of src/shared/qemu-img.ts). */
  qemuImg?: QemuImgOptions;
  /** Limits for qemu-img convert (default 10 min wall clock, 600 s CPU). */
  convert?: QemuImgOptions;
}

export interface PruneOptions {
  /** Image ids some instance's disk is based on: never removed. */
  inUse: ReadonlySet<string>;
  /** Remove unused entries not used for this long. */
  maxUnusedAgeMs?: number;
  /** Then remove unused entries, least recently used first, until the cache is at most this big. */
  maxTotalBytes?: number;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const HASHES: Readonly<Record<string, string>> = {
  sha512: "sha512",
  sha384: "sha384",
  sha256: "sha256",
  sha3_512: "sha3-512",
  sha3_384: "sha3-384",
  sha3_256: "sha3-256",
};
/** How each Glance disk_format is kept: as-is raw, as-is qcow2, or converted to qcow2. */
const STORAGE: Readonly<Record<string, { qemu: string; keep: "raw" | "qcow2" | "convert" }>> = {
  raw: { qemu: "raw", keep: "raw" },
  iso: { qemu: "raw", keep: "raw" },
  ami: { qemu: "raw", keep: "raw" },
  aki: { qemu: "raw", keep: "raw" },
  ari: { qemu: "raw", keep: "raw" },
  qcow2: { qemu: "qcow2", keep: "qcow2" },
  vmdk: { qemu: "vmdk", keep: "convert" },
  vdi: { qemu: "vdi", keep: "convert" },
  vhd: { qemu: "vpc", keep: "convert" },
  vhdx: { qemu: "vhdx", keep: "convert" },
  ploop: { qemu: "parallels", keep: "convert" },
};

/** The per-host base image cache. */
export class ImageCache {
  private readonly inflight = new Map<string, Promise<CachedImage>>();

  constructor(private readonly opts: ImageCacheOptions) {}

  /** The cached image, fetching, verifying and converting it first if needed (once, however many callers). */
  async get(image: CacheableImage): Promise<CachedImage> {
    if (typeof image.id !== "string" || !ID_RE.test(image.id)) {
      throw new ImageUnusable(String(image.id), "the image id is not a valid cache key");
    }
    const pending = this.inflight.get(image.id);
    if (pending) return pending;
    const p = this.lookup(image.id).then((hit) => hit ?? this.fill(image));
    this.inflight.set(image.id, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(image.id);
    }
  }

  /** The cached entry for `id` if there is one (touching it for LRU), else null; never fetches. */
  async lookup(id: string): Promise<CachedImage | null> {
    if (!ID_RE.test(id)) return null;
    const meta = await this.readMeta(id);
    if (!meta) return null;
    try {
      await stat(meta.path);
    } catch {
      return null;
    }
    const now = new Date();
    await utimes(this.metaPath(id), now, now).catch(() => {});
    return meta;
  }

  /** Every published entry. */
  async list(): Promise<CachedImage[]> {
    let names: string[];
    try {
      names = await readdir(this.opts.dir);
    } catch {
      return [];
    }
    const out: CachedImage[] = [];
    for (const n of names.filter((n) => n.endsWith(".json")).sort()) {
      const meta = await this.readMeta(n.slice(0, -5));
      if (meta) out.push(meta);
    }
    return out;
  }

  /** Remove unused entries (by age, then LRU down to a size budget) and stale partial downloads; returns ids. */
  async prune(opts: PruneOptions): Promise<string[]> {
    const removed: string[] = [];
    const entries: Array<{ image: CachedImage; usedAt: number }> = [];
    for (const image of await this.list()) {
      const usedAt = (await stat(this.metaPath(image.id))).mtimeMs;
      entries.push({ image, usedAt });
    }
    entries.sort((a, b) => a.usedAt - b.usedAt);
    const removable = (id: string) => !opts.inUse.has(id) && !this.inflight.has(id);
    let total = entries.reduce((n, e) => n + e.image.sizeBytes, 0);
    const now = Date.now();
    for (const e of entries) {
      if (!removable(e.image.id)) continue;
      const old = opts.maxUnusedAgeMs !== undefined && now - e.usedAt > opts.maxUnusedAgeMs;
      const over = opts.maxTotalBytes !== undefined && total > opts.maxTotalBytes;
      if (!old && !over) continue;
      await this.remove(e.image.id);
      total -= e.image.sizeBytes;
      removed.push(e.image.id);
    }
    for (const n of await readdir(this.opts.dir).catch(() => [] as string[])) {
      const m = /^\.part-([A-Za-z0-9-]+)-/.exec(n);
      if (m && !this.inflight.has(m[1])) await rm(join(this.opts.dir, n), { force: true });
    }
    return removed;
  }

  private async remove(id: string): Promise<void> {
    await rm(this.metaPath(id), { force: true });
    await rm(join(this.opts.dir, id), { force: true });
  }

  private metaPath(id: string): string {
    return join(this.opts.dir, `${id}.json`);
  }

  private async readMeta(id: string): Promise<CachedImage | null> {
    try {
      const m = JSON.parse(await readFile(this.metaPath(id), "utf8")) as CachedImage;
      if (m.id !== id || (m.format !== "raw" && m.format !== "qcow2")) return null;
      return { ...m, path: join(this.opts.dir, id) };
    } catch {
      return null;
    }
  }

  private async fill(image: CacheableImage): Promise<CachedImage> {
    const storage = Object.hasOwn(STORAGE, image.diskFormat) ? STORAGE[image.diskFormat] : undefined;
    if (!storage)
      throw new ImageUnusable(image.id, `disk_format ${JSON.stringify(image.diskFormat)} is not bootable`);
    const algoName = image.osHashAlgo ?? "sha512";
    const algo = Object.hasOwn(HASHES, algoName) ? HASHES[algoName] : undefined;
    if (!algo) throw new ImageUnusable(image.id, `os_hash_algo ${JSON.stringify(algoName)} is not supported`);
    if (typeof image.osHashValue !== "string" || !/^[0-9a-f]+$/i.test(image.osHashValue)) {
      throw new ImageUnusable(image.id, "it has no os_hash_value to verify its data against");
    }
    await mkdir(this.opts.dir, { recursive: true });
    const tag = `${image.id}-${randomBytes(6).toString("hex")}`;
    const part = join(this.opts.dir, `.part-${tag}`);
    const converted = join(this.opts.dir, `.part-${tag}.qcow2`);
    try {
      await this.download(image, algo, part);
      let file = part;
      let format: "raw" | "qcow2" = storage.keep === "raw" ? "raw" : "qcow2";
      const info = await qemuImgInfo(part, storage.qemu, this.opts.qemuImg);
      const problems = qemuImgInfoProblems(info, storage.qemu);
      if (problems.length) throw new ImageUnusable(image.id, problems.join("; "));
      let virtualSize = info["virtual-size"];
      if (storage.keep === "convert") {
        const limits = { timeoutMs: 600_000, cpuSeconds: 600, ...this.opts.convert };
        await runQemuImg(["convert", "-q", "-f", storage.qemu, "-O", "qcow2", part, converted], limits);
        await rm(part, { force: true });
        file = converted;
        format = "qcow2";
        virtualSize = (await qemuImgInfo(converted, "qcow2", this.opts.qemuImg))["virtual-size"];
      }
      const entry: CachedImage = {
        id: image.id,
        path: join(this.opts.dir, image.id),
        format,
        diskFormat: image.diskFormat,
        virtualSize,
        sizeBytes: (await stat(file)).size,
      };
      const metaTmp = join(this.opts.dir, `.part-${tag}.json`);
      await writeFile(metaTmp, JSON.stringify(entry, null, 2) + "\n");
      await rename(metaTmp, this.metaPath(image.id));
      await rename(file, entry.path);
      return entry;
    } catch (err) {
      await rm(part, { force: true });
      await rm(converted, { force: true });
      await rm(join(this.opts.dir, `.part-${tag}.json`), { force: true });
      throw err;
    }
  }

  /** Stream the image into `path`, hashing and inspecting as it goes; throws on a mismatch or oversize. */
  private async download(image: CacheableImage, algo: string, path: string): Promise<void> {
    const limit = Math.min(
      this.opts.maxImageBytes ?? 20 * 1024 ** 3,
      image.sizeBytes ?? Number.MAX_SAFE_INTEGER,
    );
    const hash = createHash(algo);
    const inspector = createInspector();
    const abort = new AbortController();
    const fh = await open(path, "wx");
    let total = 0;
    try {
      for await (const chunk of await this.opts.fetch(image.id, abort.signal)) {
        const b = Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        total += b.length;
        if (total > limit) {
          abort.abort();
          throw new ImageUnusable(image.id, `its data is larger than ${limit} bytes`);
        }
        hash.update(b);
        inspector.write(b);
        await fh.write(b);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (hash.digest("hex") !== image.osHashValue!.toLowerCase()) throw new ImageHashMismatch(image.id, algo);
    const problem = checkDeclaredFormat(image.diskFormat, inspector.finish());
    if (problem) throw new ImageUnusable(image.id, problem);
  }
}
