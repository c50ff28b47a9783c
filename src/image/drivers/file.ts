import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, mkdirSync } from "node:fs";
import { rename, rm, statfs, open } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { StoreTooLarge, type ImageStore, type StoredData } from "./store.js";

/** Stores images as files under a directory: written to a temp file, fsynced, renamed into place. */
export class FileStore implements ImageStore {
  readonly id = "file";

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async put(
    imageId: string,
    data: Readable,
    opts: { maxBytes?: number; onChunk?: (chunk: Buffer) => void } = {},
  ): Promise<StoredData> {
    if (!/^[A-Za-z0-9-]+$/.test(imageId)) throw new Error(`invalid image id for the file store: ${imageId}`);
    const final = join(this.dir, imageId);
    const tmp = `${final}.partial-${process.pid}-${Date.now()}-${randomBytes(4).toString("hex")}`;
    const md5 = createHash("md5");
    const sha512 = createHash("sha512");
    let size = 0;
    const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > limit) return cb(new StoreTooLarge(limit));
        md5.update(chunk);
        sha512.update(chunk);
        opts.onChunk?.(chunk);
        cb(null, chunk);
      },
    });
    const out = createWriteStream(tmp, { mode: 0o600, highWaterMark: 1 << 20 });
    try {
      await pipeline(data, meter, out);
      const fh = await open(tmp, "r");
      await fh.sync();
      await fh.close();
      await rename(tmp, final);
    } catch (e) {
      // A write stream destroyed while still opening creates the file afterwards: wait until it is closed, so
      // that removing the partial file cannot run before the file exists.
      if (!out.closed) await once(out, "close").catch(() => {});
      await rm(tmp, { force: true });
      throw e;
    }
    return {
      location: pathToFileURL(final).href,
      size,
      md5: md5.digest("hex"),
      sha512: sha512.digest("hex"),
    };
  }

  get(location: string, range?: { start: number; end: number }): Readable {
    return createReadStream(fileURLToPath(location), { ...(range ?? {}), highWaterMark: 1 << 20 });
  }

  async delete(location: string): Promise<void> {
    await rm(fileURLToPath(location), { force: true });
  }

  async freeBytes(): Promise<number> {
    const s = await statfs(this.dir);
    return s.bavail * s.bsize;
  }
}
