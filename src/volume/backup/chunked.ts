// Chunked backups (Cinder's chunkeddriver): a volume's bytes cut into fixed-size chunks, each zlib-compressed in
// its own object (level 1: most of the gain at a fraction of the time), and one metadata object listing every
// chunk's sha256 and object. All-zero chunks are not stored.
// An incremental backup stores only the chunks whose sha256 differs from its parent's and points at the parent's
// objects for the others, so a restore needs only the newest backup's metadata (a parent with children cannot be
// deleted, so the objects it points at stay).
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { deflate, inflate } from "node:zlib";
import type { BackupDriver, BackupRef, ChunkStore } from "./types.js";

const zip = promisify(deflate);
const unzip = promisify(inflate);

/** One chunk of a backup: its hash, length and object (null: all zeros). */
interface ChunkEntry {
  sha256: string;
  length: number;
  object: string | null;
}

/** The metadata object of a backup. */
interface BackupMetadata {
  version: 1;
  backup_id: string;
  volume_id: string;
  parent_id: string | null;
  chunk_size: number;
  size: number;
  chunks: ChunkEntry[];
}

const prefixOf = (ref: BackupRef): string => `volume_${ref.volumeId}/backup_${ref.id}`;
const metaName = (ref: BackupRef): string => `${prefixOf(ref)}_metadata`;

/** Read a stream as chunks of exactly `size` bytes (the last one shorter). */
async function* fixedChunks(data: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of data) {
    let buf = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    while (buf.length > 0) {
      const take = Math.min(size - have, buf.length);
      parts.push(buf.subarray(0, take));
      have += take;
      buf = buf.subarray(take);
      if (have === size) {
        yield Buffer.concat(parts);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts);
}

const ZEROS = Buffer.alloc(1024 * 1024);

/** Whether a buffer is all zeros (memcmp against a zero buffer, a MiB at a time). */
export function isZero(b: Buffer): boolean {
  for (let off = 0; off < b.length; off += ZEROS.length) {
    const part = b.subarray(off, off + ZEROS.length);
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}

const zeroSha = new Map<number, string>();

/** sha256 of `n` zero bytes (cached: most chunks of a volume are zeros). */
function zeroDigest(n: number): string {
  let h = zeroSha.get(n);
  if (!h) {
    h = createHash("sha256").update(Buffer.alloc(n)).digest("hex");
    zeroSha.set(n, h);
  }
  return h;
}

/** A backup driver that stores chunks through a ChunkStore (swift, posix and fake differ only in the store). */
export class ChunkedBackupDriver implements BackupDriver {
  constructor(
    readonly name: string,
    private readonly store: ChunkStore,
    private readonly chunkSize: number,
  ) {}

  private async metadata(ref: BackupRef): Promise<BackupMetadata | null> {
    const raw = await this.store.get(ref.projectId, ref.container, metaName(ref));
    if (!raw) return null;
    const m = JSON.parse(raw.toString("utf8")) as BackupMetadata;
    if (m.version !== 1 || !Array.isArray(m.chunks)) throw new Error(`backup ${ref.id}: unknown metadata`);
    return m;
  }

  async backup(ref: BackupRef, data: Readable, parent: BackupRef | null): Promise<{ objectCount: number }> {
    const base = parent ? await this.metadata(parent) : null;
    if (parent && !base) throw new Error(`the parent backup ${parent.id} has no metadata`);
    const chunkSize = base?.chunk_size ?? this.chunkSize;
    const chunks: ChunkEntry[] = [];
    let written = 0;
    let size = 0;
    for await (const chunk of fixedChunks(data, chunkSize)) {
      const i = chunks.length;
      const zero = isZero(chunk);
      const sha256 = zero ? zeroDigest(chunk.length) : createHash("sha256").update(chunk).digest("hex");
      size += chunk.length;
      const before = base?.chunks[i];
      if (before && before.sha256 === sha256 && before.length === chunk.length) {
        chunks.push(before);
        continue;
      }
      if (zero) {
        chunks.push({ sha256, length: chunk.length, object: null });
        continue;
      }
      const object = `${prefixOf(ref)}/${String(i + 1).padStart(5, "0")}`;
      await this.store.put(ref.projectId, ref.container, object, await zip(chunk, { level: 1 }));
      written++;
      chunks.push({ sha256, length: chunk.length, object });
    }
    const meta: BackupMetadata = {
      version: 1,
      backup_id: ref.id,
      volume_id: ref.volumeId,
      parent_id: parent?.id ?? null,
      chunk_size: chunkSize,
      size,
      chunks,
    };
    await this.store.put(ref.projectId, ref.container, metaName(ref), Buffer.from(JSON.stringify(meta)));
    return { objectCount: written + 1 };
  }

  async restore(ref: BackupRef): Promise<Readable> {
    const meta = await this.metadata(ref);
    if (!meta) throw new Error(`backup ${ref.id} has no metadata in container ${ref.container}`);
    const { store } = this;
    const load = async (c: ChunkEntry): Promise<Buffer> => {
      if (c.object === null) return Buffer.alloc(c.length);
      const z = await store.get(ref.projectId, ref.container, c.object);
      if (!z) throw new Error(`backup ${ref.id}: object ${c.object} is missing`);
      const data = await unzip(z);
      if (createHash("sha256").update(data).digest("hex") !== c.sha256)
        throw new Error(`backup ${ref.id}: object ${c.object} is corrupt (sha256 mismatch)`);
      return data;
    };
    // One chunk ahead: the next one is fetched and checked while the volume writes this one.
    async function* chunks(): AsyncGenerator<Buffer> {
      const list = meta!.chunks;
      let next = list.length > 0 ? load(list[0]) : null;
      for (let i = 0; next; i++) {
        const cur = next;
        next = i + 1 < list.length ? load(list[i + 1]) : null;
        next?.catch(() => {});
        yield await cur;
      }
    }
    return Readable.from(chunks());
  }

  async delete(ref: BackupRef): Promise<void> {
    const meta = await this.metadata(ref);
    if (!meta) return;
    const own = `${prefixOf(ref)}/`;
    for (const c of meta.chunks)
      if (c.object?.startsWith(own)) await this.store.delete(ref.projectId, ref.container, c.object);
    await this.store.delete(ref.projectId, ref.container, metaName(ref));
  }
}
