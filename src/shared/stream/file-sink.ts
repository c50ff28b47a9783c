// Writing a stream to a file at disk speed with bounded memory: incoming chunks are copied into 2 MiB slots of a
// shared ring; each full slot is written with one positional write (on libuv's thread pool) and hashed by worker
// threads (hashing.ts), all in parallel. A slot is reused once every one of them is done with it, and the source
// is not read while no slot is free, so memory is the ring (8 MiB) whatever the stream's size. The file is flushed
// to disk as it grows (fdatasync every 64 MiB in the background) and fsynced at the end. The received chunks
// themselves are freed as the stream goes (reclaim.ts), so they do not pile up either. With `direct`, the slots
// are written around the page cache (O_DIRECT), as an object store keeps what it writes out of the cache.
import { constants } from "node:fs";
import { open, rm, type FileHandle } from "node:fs/promises";
import { alignedShared, DIRECT_BLOCK } from "./aligned.js";
import { openHashJob, type HashJob } from "./hashing.js";
import { noteReceived } from "./reclaim.js";

/** Bytes per ring slot: the size of each file write and of each hash update. */
export const SLOT_SIZE = 2 << 20;
/** Slots per ring. */
export const SLOTS = 4;
/** Written bytes between background fdatasyncs, so the final fsync has little left to flush. */
export const SYNC_EVERY = 64 << 20;

/** How to write a stream to a file. */
export interface SinkOptions {
  /** Hash algorithms (node:crypto names) to compute over the data, e.g. ["md5", "sha512"]. */
  algorithms: readonly string[];
  /** Refuse more bytes than this: the write fails with `tooLarge()`. */
  maxBytes?: number;
  /** The error for data over maxBytes. */
  tooLarge?: (limit: number) => Error;
  /** Sees the data in order, in pieces of up to SLOT_SIZE; a piece is only valid during the call. */
  onData?: (piece: Buffer) => void;
  /**
   * Write around the page cache (O_DIRECT) where the file system allows it, so a large write neither fills the
   * cache nor pays for fresh cache pages (Swift drops what it writes from the cache for the same reason). The end
   * of the data that does not fill a block goes through the cache. Falls back to cached writes silently.
   */
  direct?: boolean;
}

/** What writing a stream produced. */
export interface SinkResult {
  size: number;
  /** Hex digests, in the order of `algorithms`. */
  digests: string[];
  /** Whether whole blocks were written around the page cache (`direct` asked for and possible). */
  direct: boolean;
}

/**
 * A shared ring of slots; idle rings are kept for reuse so steady uploads do not fault in fresh memory. Its memory
 * is a WebAssembly memory's: page-aligned, so every slot can be handed to an O_DIRECT write.
 */
class Ring {
  readonly sab = alignedShared(SLOT_SIZE * SLOTS);
  readonly buf = Buffer.from(this.sab);
}
const idleRings: Ring[] = [];
const IDLE_RINGS = 2;

/** How the direct descriptor is opened (tests stand in a file system that refuses direct I/O). */
export const fileSinkHooks = {
  openDirect: (path: string): Promise<FileHandle> => open(path, constants.O_WRONLY | constants.O_DIRECT),
};

/** Write every byte of `buf` at `position`, however many writes it takes. */
async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
    done += bytesWritten;
  }
}

/**
 * Stream `source` into a new file at `path` (created exclusively, mode 0600), hashing it; resolves once the data is
 * on disk (fsynced). On any failure the file is removed, and the promise settles only after every write and hash
 * of the stream has finished, so nothing of it is left running.
 */
export async function streamToFile(
  source: AsyncIterable<Uint8Array>,
  path: string,
  opts: SinkOptions,
): Promise<SinkResult> {
  const limit = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  const ring = idleRings.pop() ?? new Ring();
  const free = Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i);
  const refs = new Array<number>(SLOTS).fill(0);
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const release = (slot: number) => {
    if (--refs[slot] === 0) {
      free.push(slot);
      const w = wake;
      wake = null;
      w?.();
    }
  };
  const fail = (e: unknown) => {
    failure ??= e;
    const w = wake;
    wake = null;
    w?.();
  };
  /** Wait until `ok()` holds or something failed. */
  const until = async (ok: () => boolean) => {
    while (!ok() && !failure) await new Promise<void>((r) => (wake = r));
  };

  let fh: FileHandle | null = null;
  /** A second descriptor on the file opened with O_DIRECT (null: none, or given up after the device refused). */
  let direct: FileHandle | null = null;
  let wentDirect = false;
  let created = false;
  const jobs: HashJob[] = [];
  let syncing: Promise<void> | null = null;
  // (A function, so the compiler does not narrow `syncing`, which callbacks change.)
  const inFlightSync = (): Promise<void> | null => syncing;
  try {
    fh = await open(path, "wx", 0o600);
    created = true;
    const file = fh;
    // Refused where the file system has no direct I/O: the cache it is.
    if (opts.direct && constants.O_DIRECT) direct = await fileSinkHooks.openDirect(path).catch(() => null);
    /** Write a sealed slot: its whole blocks directly when possible, the rest through the cache. */
    const writePiece = async (piece: Buffer, position: number): Promise<void> => {
      const d = direct;
      if (d && position % DIRECT_BLOCK === 0) {
        const whole = piece.length - (piece.length % DIRECT_BLOCK);
        try {
          if (whole > 0) await writeAll(d, piece.subarray(0, whole), position);
          wentDirect ||= whole > 0;
          if (whole < piece.length) await writeAll(file, piece.subarray(whole), position + whole);
          return;
        } catch (e) {
          // The device wants another alignment: this write and the rest go through the cache.
          if ((e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
          direct = null;
          void d.close().catch(() => {});
        }
      }
      await writeAll(file, piece, position);
    };
    opts.algorithms.forEach((algo, lane) => jobs.push(openHashJob(algo, ring.sab, lane, release)));
    let size = 0;
    let written = 0;
    let synced = 0;
    let cur = -1;
    let fill = 0;
    const seal = () => {
      const slot = cur;
      const at = slot * SLOT_SIZE;
      const piece = ring.buf.subarray(at, at + fill);
      const position = written;
      written += fill;
      cur = -1;
      fill = 0;
      opts.onData?.(piece);
      refs[slot] = 1 + jobs.length;
      for (const j of jobs) j.update(slot, at, piece.length);
      writePiece(piece, position).then(
        () => release(slot),
        (e) => (fail(e), release(slot)),
      );
      if (!syncing && written - synced >= SYNC_EVERY) {
        const upTo = written;
        syncing = file
          .datasync()
          .then(() => void (synced = upTo), fail)
          .finally(() => (syncing = null));
      }
    };
    for await (const chunk of source) {
      size += chunk.length;
      noteReceived(chunk.length);
      if (size > limit) throw opts.tooLarge?.(limit) ?? new Error(`stream exceeds ${limit} bytes`);
      let off = 0;
      while (off < chunk.length) {
        if (cur < 0) {
          await until(() => free.length > 0);
          if (failure) throw failure;
          cur = free.pop() as number;
        }
        const n = Math.min(chunk.length - off, SLOT_SIZE - fill);
        ring.buf.set(n === chunk.length ? chunk : chunk.subarray(off, off + n), cur * SLOT_SIZE + fill);
        fill += n;
        off += n;
        if (fill === SLOT_SIZE) seal();
      }
    }
    if (cur >= 0) {
      if (fill > 0) seal();
      else free.push(cur);
      cur = -1;
    }
    const digests = Promise.all(jobs.map((j) => j.digest()));
    digests.catch(() => {});
    await until(() => free.length === SLOTS);
    if (failure) throw failure;
    const hex = await digests;
    jobs.length = 0;
    await inFlightSync();
    if (failure) throw failure;
    // One fdatasync covers both descriptors' writes (the direct ones may still sit in the device's cache).
    await file.sync();
    await direct?.close();
    direct = null;
    await file.close();
    fh = null;
    if (idleRings.length < IDLE_RINGS) idleRings.push(ring);
    return { size, digests: hex, direct: wentDirect };
  } catch (e) {
    for (const j of jobs) j.drop();
    // Every slot comes back once its write and hashes have finished; only then is nothing left touching the file.
    while (refs.some((r) => r > 0)) await new Promise<void>((r) => (wake = r));
    await inFlightSync()?.catch(() => {});
    await fh?.close().catch(() => {});
    await direct?.close().catch(() => {});
    if (created) await rm(path, { force: true });
    if (idleRings.length < IDLE_RINGS) idleRings.push(ring);
    throw e;
  }
}
