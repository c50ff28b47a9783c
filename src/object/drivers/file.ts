import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fdatasync,
  fstat,
  mkdirSync,
  open as openFd,
  read as readFd,
  readdirSync,
  rmSync,
  write as writeFd,
  type Stats,
} from "node:fs";
import { mkdir, rename, rm, statfs, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { streamToFile } from "../../shared/stream/file-sink.js";
import { FileSource } from "../../shared/stream/file-source.js";
import { DataTooLarge, type ObjectDataStore, type PutResult } from "./store.js";

const KEY = /^[A-Za-z0-9_-]{8,64}$/;
const PARTIAL = ".partial-";
/** A new file opened for writes that return only once the data is on disk (one write does write + fdatasync). */
const CREATE_DSYNC = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC;
/** A callback-style fs call as a promise (plain descriptors: lighter than FileHandles, and closed synchronously). */
const fsCall = <T>(call: (cb: (e: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => call((e, v) => (e ? reject(e) : resolve(v))));
/**
 * Close a descriptor at once, ignoring errors: a regular file's close has nothing to flush (small writes are
 * O_DSYNC), so it costs less than a round trip through libuv's thread pool (a thread switch each way when busy).
 */
const closeNow = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {
    // On a failure path or after a read: the answer does not depend on it.
  }
};
/** Objects up to this size are written and read in one buffer, without the streaming ring's set-up. */
export const SMALL = 64 * 1024;

/**
 * Object data as files under a directory, `<dir>/<first two key characters>/<key>`: each written to a temporary
 * file beside its final name (fsynced, then renamed), so a crash leaves the whole file or none of it.
 */
export class FileDataStore implements ObjectDataStore {
  readonly id = "file";
  /** Subdirectories known to exist (made once, not on every write). */
  private readonly made = new Set<string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid object data key: ${key}`);
    return join(this.dir, key.slice(0, 2), key);
  }

  async put(key: string, data: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult> {
    const final = this.path(key);
    const sub = key.slice(0, 2);
    if (!this.made.has(sub)) {
      await mkdir(join(this.dir, sub), { recursive: true, mode: 0o700 });
      this.made.add(sub);
    }
    const tmp = `${final}${PARTIAL}${process.pid}-${randomBytes(4).toString("hex")}`;
    // A failed write or rename leaves no partial file behind.
    let written: { size: number; digests: string[] };
    try {
      if (opts.maxBytes <= SMALL) written = await smallToFile(data, tmp, final, opts.maxBytes);
      else {
        written = await streamToFile(data, tmp, {
          algorithms: ["md5"],
          maxBytes: opts.maxBytes,
          tooLarge: (limit) => new DataTooLarge(limit),
          // Kept out of the page cache, as Swift's object server drops what it writes.
          direct: true,
        });
        await rename(tmp, final);
      }
    } catch (e) {
      await rm(tmp, { force: true });
      // The subdirectory may have been removed under us: the next write makes it again.
      this.made.delete(sub);
      throw e;
    }
    const { size, digests } = written;
    return { size, md5: digests[0] };
  }

  get(key: string, range?: { start: number; end: number }): Readable {
    // Large objects are read around the page cache, as they were written.
    return new FileSource(this.path(key), range, { direct: true });
  }

  async getBuffer(key: string, range?: { start: number; end: number }): Promise<Buffer> {
    const fd = await fsCall<number>((cb) => openFd(this.path(key), "r", cb));
    try {
      const start = range?.start ?? 0;
      const end = range ? range.end + 1 : (await fsCall<Stats>((cb) => fstat(fd, cb))).size;
      const buf = Buffer.allocUnsafe(Math.max(0, end - start));
      let done = 0;
      while (done < buf.length) {
        const at = done;
        const n = await fsCall<number>((cb) => readFd(fd, buf, at, buf.length - at, start + at, cb));
        if (n === 0) break;
        done += n;
      }
      return buf.subarray(0, done);
    } finally {
      closeNow(fd);
    }
  }

  async delete(key: string): Promise<void> {
    // unlink alone (rm stats first); a file already gone is no error.
    await unlink(this.path(key)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }

  async freeBytes(): Promise<number> {
    const s = await statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /**
   * Remove temporary files a crash left behind (call before serving): those of processes that no longer run, so
   * that API processes sharing the directory keep each other's uploads in flight.
   */
  removePartials(): number {
    let n = 0;
    for (const sub of readdirSync(this.dir, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      for (const f of readdirSync(join(this.dir, sub.name))) {
        const at = f.indexOf(PARTIAL);
        if (at < 0) continue;
        const pid = Number(f.slice(at + PARTIAL.length).split("-")[0]);
        if (pid !== process.pid && alive(pid)) continue;
        rmSync(join(this.dir, sub.name, f), { force: true });
        n++;
      }
    }
    return n;
  }
}

/**
 * Write a small stream (at most `max` bytes) to a new file `path` in one synchronous-data write (O_DSYNC: on disk
 * when it returns, as write + fdatasync), with its MD5, then rename it to `final`.
 */
async function smallToFile(
  data: AsyncIterable<Uint8Array>,
  path: string,
  final: string,
  max: number,
): Promise<{ size: number; digests: string[] }> {
  const parts: Uint8Array[] = [];
  const md5 = createHash("md5");
  let size = 0;
  for await (const c of data) {
    size += c.length;
    if (size > max) throw new DataTooLarge(max);
    md5.update(c);
    parts.push(c);
  }
  const fd = await fsCall<number>((cb) => openFd(path, CREATE_DSYNC, 0o600, cb));
  try {
    const buf = Buffer.concat(parts, size);
    let done = 0;
    while (done < buf.length) {
      const at = done;
      done += await fsCall<number>((cb) => writeFd(fd, buf, at, buf.length - at, at, cb));
    }
    // An empty file has had no write: its creation is flushed as an fdatasync would.
    if (size === 0) await fsCall<void>((cb) => fdatasync(fd, cb));
  } catch (e) {
    closeNow(fd);
    await rm(path, { force: true });
    throw e;
  }
  closeSync(fd);
  await rename(path, final);
  return { size, digests: [md5.digest("hex")] };
}

/** Whether a process with this id runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
