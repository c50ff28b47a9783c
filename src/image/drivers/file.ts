import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { rename, rm, statfs } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import { streamToFile } from "../../shared/stream/file-sink.js";
import { FileSource } from "../../shared/stream/file-source.js";
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
    // streamToFile removes the partial file itself on failure; only the rename can fail after it.
    const { size, digests } = await streamToFile(data, tmp, {
      algorithms: ["md5", "sha512"],
      maxBytes: opts.maxBytes,
      tooLarge: (limit) => new StoreTooLarge(limit),
      onData: opts.onChunk,
    });
    try {
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return { location: pathToFileURL(final).href, size, md5: digests[0], sha512: digests[1] };
  }

  get(location: string, range?: { start: number; end: number }): Readable {
    return new FileSource(fileURLToPath(location), range);
  }

  async delete(location: string): Promise<void> {
    await rm(fileURLToPath(location), { force: true });
  }

  async freeBytes(): Promise<number> {
    const s = await statfs(this.dir);
    return s.bavail * s.bsize;
  }
}
