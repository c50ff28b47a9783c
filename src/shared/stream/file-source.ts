// Reading a file (or a byte range of it) out to a socket without garbage: piped to a writable (as the HTTP layer
// pipes response bodies), it reads into a few 1 MiB buffers and reuses each one once the destination has flushed
// it, instead of allocating a fresh buffer per read. A new buffer per MiB is what made every download trigger a
// full garbage collection every few dozen MiB in a server with a real heap. Read any other way (for await, on
// "data"), it is an ordinary readable stream.
import { open, type FileHandle } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";

/** Bytes per read and per write to the destination. */
export const READ_SIZE = 1 << 20;
/** Buffers in flight per piped stream: its whole memory. */
export const READ_BUFFERS = 4;

/** A readable of `path`'s bytes [start, end] (inclusive, the whole file by default), fast when piped. */
export class FileSource extends Readable {
  private fh: FileHandle | null = null;
  private pos: number;
  private readonly end: number;
  private pumping = false;

  constructor(
    private readonly path: string,
    range?: { start: number; end: number },
  ) {
    super({ highWaterMark: READ_SIZE });
    this.pos = range?.start ?? 0;
    this.end = range?.end ?? Number.POSITIVE_INFINITY;
  }

  /** True until the file is open (as fs.ReadStream); "ready" is emitted once it is. */
  get pending(): boolean {
    return this.fh === null;
  }

  override _construct(cb: (err?: Error | null) => void): void {
    open(this.path, "r").then(
      (fh) => {
        this.fh = fh;
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
    this.fh = null;
    if (!fh) return cb(err);
    fh.close().then(
      () => cb(err),
      () => cb(err),
    );
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
    const free: Buffer[] = Array.from({ length: READ_BUFFERS }, () => Buffer.allocUnsafeSlow(READ_SIZE));
    let inFlight = 0;
    let failure: Error | null = null;
    try {
      await new Promise<void>((resolve, reject) => {
        if (!this.pending) return resolve();
        this.once("ready", resolve);
        this.once("error", reject);
      });
      for (;;) {
        while (!free.length && !gone && !failure && !this.destroyed)
          await new Promise<void>((r) => (wake = r));
        if (gone || failure || this.destroyed) break;
        const want = Math.min(READ_SIZE, this.end - this.pos + 1);
        if (want <= 0) break;
        const buf = free.pop() as Buffer;
        const { bytesRead } = await (this.fh as FileHandle).read(buf, 0, want, this.pos);
        if (bytesRead === 0 || this.destroyed) break;
        this.pos += bytesRead;
        inFlight++;
        dest.write(buf.subarray(0, bytesRead), (err) => {
          inFlight--;
          // A buffer is reused only once the destination is done with it; after an error it is left to the GC.
          if (err) failure ??= err;
          else free.push(buf);
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
    }
  }
}
