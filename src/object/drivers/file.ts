import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync } from "node:fs";
import { mkdir, rename, rm, statfs } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { streamToFile } from "../../shared/stream/file-sink.js";
import { FileSource } from "../../shared/stream/file-source.js";
import { DataTooLarge, type ObjectDataStore, type PutResult } from "./store.js";

const KEY = /^[A-Za-z0-9_-]{8,64}$/;
const PARTIAL = ".partial-";

/**
 * Object data as files under a directory, `<dir>/<first two key characters>/<key>`: each written to a temporary
 * file beside its final name (fsynced, then renamed), so a crash leaves the whole file or none of it.
 */
export class FileDataStore implements ObjectDataStore {
  readonly id = "file";

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`invalid object data key: ${key}`);
    return join(this.dir, key.slice(0, 2), key);
  }

  async put(key: string, data: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult> {
    const final = this.path(key);
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true, mode: 0o700 });
    const tmp = `${final}${PARTIAL}${process.pid}-${randomBytes(4).toString("hex")}`;
    // streamToFile removes the partial file itself on failure; only the rename can fail after it.
    const { size, digests } = await streamToFile(data, tmp, {
      algorithms: ["md5"],
      maxBytes: opts.maxBytes,
      tooLarge: (limit) => new DataTooLarge(limit),
    });
    try {
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return { size, md5: digests[0] };
  }

  get(key: string, range?: { start: number; end: number }): Readable {
    return new FileSource(this.path(key), range);
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async freeBytes(): Promise<number> {
    const s = await statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /** Remove temporary files a crash left behind (call before serving). */
  removePartials(): number {
    let n = 0;
    for (const sub of readdirSync(this.dir, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      for (const f of readdirSync(join(this.dir, sub.name)))
        if (f.includes(PARTIAL)) {
          void rm(join(this.dir, sub.name, f), { force: true });
          n++;
        }
    }
    return n;
  }
}
