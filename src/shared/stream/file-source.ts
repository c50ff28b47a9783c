// Reading a file (or a byte range of it) out to a socket without garbage: piped to a writable (as the HTTP layer
// pipes response bodies), it reads into a few 1 MiB buffers and reuses each one once the destination has flushed
// it, instead of allocating a fresh buffer per read. A new buffer per MiB is what made every download trigger a
// full garbage collection every few dozen MiB in a server with a real heap. Read any other way (for await, on
// "data"), it is an ordinary readable stream.
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { AlignedPool, DIRECT_BLOCK } from "./aligned.js";

/** Bytes per read and per write to the destination. */
export const READ_SIZE = 1 << 20;
/** Buffers in flight per piped stream: its whole memory. */
export const READ_BUFFERS = 4;

/** Direct reads running ahead of the destination (each in its own buffer). */
const READ_AHEAD = 2;
/** Files from this size on are read around the page cache when asked (Swift's keep_cache_size: 5 MiB). */
export const DIRECT_READ_MIN = 5 << 20;
/** Aligned read buffers shared by direct reads: 64 MiB at most (16 streams at once), then cached reads. */
const pool = new AlignedPool(READ_SIZE, 8 * READ_SIZE, 64);

/** How a FileSource reads. */
export interface SourceOptions {
  /**
   * Read a file of DIRECT_READ_MIN bytes or more around the page cache (O_DIRECT) when piped, as an object store
   * keeps large objects out of the cache; falls back to cached reads where that is not possible.
   */
  direct?: boolean;
}

/** A readable of `path`'s bytes [start, end] (inclusive, the whole file by default), fast when piped. */
export class FileSource extends Readable {
  private fh: FileHandle | null = null;
  /** A second descriptor opened with O_DIRECT, for a large file read with `direct`. */
  private directFh: FileHandle | null = null;
  private pos: number;
  private readonly end: number;
  /** The file's size, when it was looked at (for a direct read). */
  private size = Number.POSITIVE_INFINITY;
  private pumping = false;

  constructor(
    private readonly path: string,
    range?: { start: number; end: number },
    private readonly opts: SourceOptions = {},
  ) {
    super({ highWaterMark: READ_SIZE });
    this.pos = range?.start ?? 0;
    this.end = range?.end ?? Number.POSITIVE_INFINITY;
  }

  /** Whether the bytes are being read around the page cache (for tests). */
  get direct(): boolean {
    return this.directFh !== null;
  }

  /** True until the file is open (as fs.ReadStream); "ready" is emitted once it is. */
  get pending(): boolean {
    return this.fh === null;
  }

  override _construct(cb: (err?: Error | null) => void): void {
    open(this.path, "r").then(
      async (fh) => {
        this.fh = fh;
        if (this.opts.direct && constants.O_DIRECT) {
          this.size = (await fh.stat()).size;
          // Refused where the file system has no direct I/O: cached reads then.
          if (this.size >= DIRECT_READ_MIN)
            this.directFh = await open(this.path, constants.O_RDONLY | constants.O_DIRECT).catch(() => null);
        }
        cb();
        this.emit("ready");
      },
      (err: Error) => cb(err),
    );
  }

  override _read(size: number): void {
    const fh = this.fh as FileHandle;
    const want = Math.min(Math.max(size, READ_SIZE), this.end - this.pos + 1);
    if (want <= 0) return void this.push(null);
    const buf = Buffer.allocUnsafe(want);
    fh.read(buf, 0, want, this.pos).then(
      ({ bytesRead }) => {
        this.pos += bytesRead;
        this.push(bytesRead ? buf.subarray(0, bytesRead) : null);
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fh = this.fh;
    const direct = this.directFh;
    this.fh = this.directFh = null;
    if (!fh) return cb(err);
    Promise.allSettled([fh.close(), direct?.close()]).then(() => cb(err));
  }

  /**
   * Read up to `want` bytes at `at` into `buf`: through the cache, or with the direct descriptor from the block
   * before it (the bytes before `at` are skipped). The bytes read, as a view of `buf`.
   */
  private async readAt(buf: Buffer, at: number, want: number, direct: boolean): Promise<Buffer> {
    const fh = this.directFh;
    if (!direct || !fh) {
      const { bytesRead } = await (this.fh as FileHandle).read(buf, 0, want, at);
      return buf.subarray(0, bytesRead);
    }
    const skip = at % DIRECT_BLOCK;
    const span = Math.min(buf.length, Math.ceil((skip + want) / DIRECT_BLOCK) * DIRECT_BLOCK);
    const { bytesRead } = await fh.read(buf, 0, span, at - skip);
    return buf.subarray(skip, Math.max(skip, Math.min(bytesRead, skip + want)));
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, opts?: { end?: boolean }): T {
    // Only a fresh stream piped once takes the pump; anything else gets the ordinary pipe.
    if (this.pumping || this.readableFlowing !== null || this.readableLength > 0 || opts?.end === false)
      return super.pipe(dest, opts);
    this.pumping = true;
    this.pump(dest as unknown as Writable).catch((err: Error) => this.destroy(err));
    return dest;
  }

  private async pump(dest: Writable): Promise<void> {
    let gone = false;
    const onClose = () => {
      gone = true;
      wake?.();
    };
    dest.once("close", onClose);
    let wake: (() => void) | null = null;
    let free: Buffer[] = [];
    /** Aligned buffers from the pool (a direct read), each given back once the destination is done with it. */
    let pooled: Buffer[] | null = null;
    let done = false;
    /** Reads started ahead of the destination, in file order. */
    const ahead: Array<{ buf: Buffer; want: number; data: Promise<Buffer> }> = [];
    let inFlight = 0;
    let failure: Error | null = null;
    try {
      await new Promise<void>((resolve, reject) => {
        if (!this.pending) return resolve();
        this.once("ready", resolve);
        this.once("error", reject);
      });
      pooled = this.directFh ? pool.take(READ_BUFFERS) : null;
      free = pooled
        ? [...pooled]
        : Array.from({ length: READ_BUFFERS }, () => Buffer.allocUnsafeSlow(READ_SIZE));
      // Direct reads wait for the disk: a few run ahead of the socket. Cached ones are read one at a time up to the
      // end of the file, whose size is not known beforehand.
      const direct = pooled !== null;
      const depth = direct ? READ_AHEAD : 1;
      const last = direct ? Math.min(this.end, this.size - 1) : this.end;
      let issued = this.pos;
      const stopped = () => gone || failure !== null || this.destroyed;
      for (;;) {
        while (ahead.length < depth && free.length && issued <= last && !stopped()) {
          // A direct read starts at the block before `issued` and fills at most its buffer.
          const room = direct ? READ_SIZE - (issued % DIRECT_BLOCK) : READ_SIZE;
          const want = Math.min(room, last - issued + 1);
          const buf = free.pop() as Buffer;
          ahead.push({ buf, want, data: this.readAt(buf, issued, want, direct) });
          issued += want;
        }
        if (stopped()) break;
        const head = ahead.shift();
        if (!head) {
          if (issued > last) break;
          // Every buffer is with the destination: wait for one.
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        const data = await head.data.catch((e: Error) => {
          free.push(head.buf);
          throw e;
        });
        // The file is shorter than its size said (it is never changed in place): an error, not a silent end.
        const short = direct && data.length < head.want;
        if (data.length === 0 || short || stopped()) {
          free.push(head.buf);
          if (short && !stopped()) throw new Error(`${this.path}: short read at ${this.pos}`);
          break;
        }
        this.pos += data.length;
        if (!direct) issued = this.pos;
        inFlight++;
        const buf = head.buf;
        dest.write(data, (err) => {
          inFlight--;
          // A buffer is reused only once the destination is done with it; after an error an ordinary one is left to
          // the GC (a pooled one goes back to the pool: the destination has let go of it either way).
          if (err) failure ??= err;
          if (pooled && done) pool.give([buf]);
          else if (!err || pooled) free.push(buf);
          const w = wake;
          wake = null;
          w?.();
        });
      }
      if (failure) throw failure;
      if (!gone && !this.destroyed) {
        while (inFlight > 0 && !gone && !failure) await new Promise<void>((r) => (wake = r));
        dest.end();
        // The stream as such ends too, so whoever waits for its end (the HTTP layer does) sees it.
        this.push(null);
        this.resume();
      }
    } finally {
      dest.off("close", onClose);
      // Reads still running fill their buffers: those are free once they end.
      await Promise.allSettled(ahead.map((a) => a.data));
      free.push(...ahead.splice(0).map((a) => a.buf));
      // Pooled buffers go back now, or as the destination lets go of them.
      done = true;
      if (pooled) pool.give(free.splice(0));
    }
  }
}

/** The direct-read buffer pool's state (for tests: every stream gives its buffers back). */
export const directPoolStats = () => pool.stats();
