// Page-aligned buffers for direct I/O (O_DIRECT needs the memory, the offset and the length aligned to the device's
// block). JavaScript cannot ask for aligned memory, but a WebAssembly memory starts on a page boundary, so buffers
// carved from one at multiples of a page are aligned. A small bounded pool: when it is empty, callers fall back to
// cached I/O with ordinary buffers.

/** The part of WebAssembly's JavaScript API used here (TypeScript's ES libraries do not declare it). */
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number; shared?: boolean }) => { buffer: ArrayBufferLike };
};

/** The block size direct I/O is aligned to (memory, file offset and length): 4 KiB covers disks. */
export const DIRECT_BLOCK = 4096;

/** WebAssembly's page size: memories come in these. */
export const WASM_PAGE = 65536;

/** A page-aligned SharedArrayBuffer of `bytes` (a multiple of WASM_PAGE), e.g. to share with worker threads. */
export function alignedShared(bytes: number): SharedArrayBuffer {
  const pages = bytes / WASM_PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer as SharedArrayBuffer;
}

/** A bounded pool of page-aligned buffers of one size, handed out a few at a time. */
export class AlignedPool {
  private readonly free: Buffer[] = [];
  private made = 0;

  /** Buffers of `size` bytes (a divisor of `chunk`), carved `chunk` bytes at a time, at most `max` in all. */
  constructor(
    readonly size: number,
    private readonly chunk: number,
    private readonly max: number,
  ) {}

  /** `n` buffers, or null when the pool cannot give that many (then use ordinary ones). */
  take(n: number): Buffer[] | null {
    while (this.free.length < n && this.made < this.max) {
      const mem = Buffer.from(
        new WebAssembly.Memory({ initial: this.chunk / WASM_PAGE, maximum: this.chunk / WASM_PAGE }).buffer,
      );
      for (let at = 0; at < this.chunk && this.made < this.max; at += this.size, this.made++)
        this.free.push(mem.subarray(at, at + this.size));
    }
    return this.free.length >= n ? this.free.splice(this.free.length - n, n) : null;
  }

  /** Return buffers taken from this pool (once nothing refers to their bytes any more). */
  give(bufs: Buffer[]): void {
    this.free.push(...bufs);
  }

  /** Buffers free and made (for tests). */
  stats(): { free: number; made: number } {
    return { free: this.free.length, made: this.made };
  }
}
