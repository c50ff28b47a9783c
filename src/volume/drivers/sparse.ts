// A file writer that leaves holes for all-zero blocks (restored backups and raw images are mostly zeros), so a
// 1 GiB volume's bytes take only the space of its data on the way through a temporary file.
import { open, type FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";

const BLOCK = 64 * 1024;

const ZEROS = Buffer.alloc(BLOCK);
const zero = (b: Buffer): boolean => b.equals(ZEROS.subarray(0, b.length));

/** A Writable to a new file at `path` (mode 0600) that seeks over zero blocks and sets the length at the end. */
export function sparseFileWriter(path: string): Writable {
  let fh: FileHandle | null = null;
  let pos = 0;
  return new Writable({
    async construct(cb) {
      try {
        fh = await open(path, "w", 0o600);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    async write(chunk: Buffer, _enc, cb) {
      try {
        for (let off = 0; off < chunk.length; off += BLOCK) {
          const part = chunk.subarray(off, off + BLOCK);
          if (!zero(part)) await fh!.write(part, 0, part.length, pos);
          pos += part.length;
        }
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    async final(cb) {
      try {
        await fh!.truncate(pos);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    async destroy(err, cb) {
      await fh?.close().catch(() => {});
      fh = null;
      cb(err);
    },
  });
}
