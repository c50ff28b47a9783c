import { createHash, randomBytes } from "node:crypto";
import { constants, mkdirSync, readdirSync, rmSync } from "node:fs";
import { mkdir, open, rename, rm, statfs, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { streamToFile } from "../../shared/stream/file-sink.js";
import { FileSource } from "../../shared/stream/file-source.js";
import { DataTooLarge, type ObjectDataStore, type PutResult } from "./store.js";

const KEY = /^[A-Za-z0-9_-]{8,64}$/;
const PARTIAL = ".partial-";
/** A new file opened for writes that return only once the data is on disk (one write does write + fdatasync). */
const CREATE_DSYNC = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC;
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
    return new FileSource(this.path(key), range);
  }

  async getBuffer(key: string, range?: { start: number; end: number }): Promise<Buffer> {
    const fh = await open(this.path(key), "r");
    let closing = false;
    try {
      const start = range?.start ?? 0;
      const end = range ? range.end + 1 : (await fh.stat()).size;
      const buf = Buffer.allocUnsafe(Math.max(0, end - start));
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await fh.read(buf, done, buf.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      // The data is read: the answer need not wait for the close (a read-only descriptor's close cannot fail it).
      closing = true;
      fh.close().catch(() => {});
      return buf.subarray(0, done);
    } finally {
      if (!closing) await fh.close();
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
 * when it returns, as write + fdatasync), with its MD5, then rename it to `final` while the descriptor closes.
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
  const fh = await open(path, CREATE_DSYNC, 0o600);
  try {
    const buf = Buffer.concat(parts, size);
    let done = 0;
    while (done < buf.length) done += (await fh.write(buf, done, buf.length - done, done)).bytesWritten;
    // An empty file has had no write: its creation is flushed as an fdatasync would.
    if (size === 0) await fh.datasync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(path, { force: true });
    throw e;
  }
  // The data is durable: the rename need not wait for the close.
  await Promise.all([fh.close(), rename(path, final)]);
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
