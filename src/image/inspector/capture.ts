// Bounded byte capture for the streaming inspector: the first HEAD_SIZE bytes, the last TAIL_SIZE bytes, and a few
// small regions at offsets discovered while parsing (VHDX metadata lives wherever its region table says). Nothing
// else of the stream is kept, so memory stays at a few MiB whatever the image size.
//
// Determinism: a chunk is processed in pieces split at every point where something completes (the head filling up,
// a requested region filling up), and the callbacks run exactly at those points. So the same stream gives the same
// captures and the same callbacks in the same order whether it arrives in 1-byte or 64 KiB chunks.

/** Bytes kept from the start of the stream: covers a VMDK sparse header plus its ≤1 MiB descriptor, the VHDX header
 *  section (region tables at 192 KiB/256 KiB), ISO volume descriptors from 32 KiB, and a qcow2 first cluster. */
export const HEAD_SIZE = 2 * 1024 * 1024;
/** Bytes kept from the end of the stream: a VHD footer (512) or a streamOptimized VMDK's footer marker, footer and
 *  end-of-stream marker (3 × 512). */
export const TAIL_SIZE = 1536;
/** Upper bound on everything captured outside the head (VHDX metadata table + items). */
export const CAPTURE_BUDGET = 1024 * 1024;

type Done = (data: Buffer) => void;

interface Pending {
  offset: number;
  data: Buffer;
  /** Bytes of `data` filled so far (always a prefix). */
  filled: number;
  done: Done;
  label: string;
}

export class StreamCapture {
  /** Bytes seen so far. */
  pos = 0;
  private head: Buffer | null = null;
  private headLen = 0;
  private headDone = false;
  private readonly tailRing = Buffer.alloc(TAIL_SIZE);
  /** Next write index into tailRing; the ring holds min(pos, TAIL_SIZE) valid bytes ending just before it. */
  private tailNext = 0;
  private pending: Pending[] = [];
  private readonly completed: Array<{ offset: number; data: Buffer }> = [];
  private budgetUsed = 0;
  /** Labels of regions that could not be captured (already streamed past, past EOF, or over budget). */
  readonly missed: string[] = [];

  /** Called once, when the head buffer first becomes full (never for streams shorter than HEAD_SIZE). */
  constructor(private readonly onHeadComplete: () => void) {}

  write(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      // Split the chunk at the next completion point so callbacks see the stream at the same position every time.
      let end = chunk.length;
      if (!this.headDone) end = Math.min(end, off + (HEAD_SIZE - this.pos));
      for (const p of this.pending) {
        const pEnd = p.offset + p.data.length;
        if (pEnd > this.pos) end = Math.min(end, off + (pEnd - this.pos));
      }
      const piece = chunk.subarray(off, end);
      this.feed(piece);
      off = end;
      if (!this.headDone && this.pos >= HEAD_SIZE) {
        this.headDone = true;
        this.onHeadComplete();
      }
      this.settle();
    }
  }

  /** The first min(pos, HEAD_SIZE) bytes. */
  headBytes(): Buffer {
    return this.head ? this.head.subarray(0, this.headLen) : Buffer.alloc(0);
  }

  /** The last min(pos, TAIL_SIZE) bytes, in order. */
  tailBytes(): Buffer {
    const n = Math.min(this.pos, TAIL_SIZE);
    const out = Buffer.alloc(n);
    // The valid bytes end at tailNext (exclusive) and wrap around the ring.
    const start = (this.tailNext - n + TAIL_SIZE) % TAIL_SIZE;
    if (start + n <= TAIL_SIZE) this.tailRing.copy(out, 0, start, start + n);
    else {
      const first = TAIL_SIZE - start;
      this.tailRing.copy(out, 0, start, TAIL_SIZE);
      this.tailRing.copy(out, first, 0, n - first);
    }
    return out;
  }

  /**
   * Ask for `length` bytes at `offset`; `done` runs with them once they are available (immediately when already
   * held, e.g. inside the head). Returns false, and records `label` in `missed`, when they can never be had: the
   * stream already went past them and they were not kept, or the capture budget is spent. Regions still incomplete
   * at EOF are reported by `finish()`.
   */
  capture(offset: number, length: number, label: string, done: Done): boolean {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0) {
      this.missed.push(label);
      return false;
    }
    const end = offset + length;
    const held = this.readHeld(offset, Math.min(end, this.pos));
    if (end <= this.pos) {
      if (!held) {
        this.missed.push(label);
        return false;
      }
      done(held);
      return true;
    }
    if (offset < this.pos && !held) {
      this.missed.push(label);
      return false;
    }
    if (this.budgetUsed + length > CAPTURE_BUDGET) {
      this.missed.push(label);
      return false;
    }
    this.budgetUsed += length;
    const data = Buffer.alloc(length);
    let filled = 0;
    if (held) {
      held.copy(data, 0);
      filled = held.length;
    }
    this.pending.push({ offset, data, filled, done, label });
    return true;
  }

  /** End of stream: regions still waiting for bytes are missed. */
  finish(): void {
    for (const p of this.pending) this.missed.push(p.label);
    this.pending = [];
  }

  /** Bytes [from, to) if the head or a finished capture holds all of them (an empty range is trivially held). */
  private readHeld(from: number, to: number): Buffer | null {
    if (to <= from) return Buffer.alloc(0);
    if (to <= this.headLen) return (this.head as Buffer).subarray(from, to);
    for (const c of this.completed) {
      if (from >= c.offset && to <= c.offset + c.data.length)
        return c.data.subarray(from - c.offset, to - c.offset);
    }
    return null;
  }

  private feed(piece: Uint8Array): void {
    const start = this.pos;
    const n = piece.length;
    if (n === 0) return;
    // Head.
    if (start < HEAD_SIZE) {
      if (!this.head) this.head = Buffer.alloc(HEAD_SIZE);
      const take = Math.min(n, HEAD_SIZE - start);
      this.head.set(piece.subarray(0, take), start);
      this.headLen = start + take;
    }
    // Tail ring: only the last TAIL_SIZE bytes of the piece matter.
    let src = piece;
    if (src.length > TAIL_SIZE) src = src.subarray(src.length - TAIL_SIZE);
    let i = 0;
    while (i < src.length) {
      const room = Math.min(src.length - i, TAIL_SIZE - this.tailNext);
      this.tailRing.set(src.subarray(i, i + room), this.tailNext);
      this.tailNext = (this.tailNext + room) % TAIL_SIZE;
      i += room;
    }
    // Pending regions.
    for (const p of this.pending) {
      const want = p.offset + p.filled; // next absolute offset the region needs
      const pEnd = p.offset + p.data.length;
      const from = Math.max(want, start);
      const to = Math.min(pEnd, start + n);
      if (from === want && to > from) {
        p.data.set(piece.subarray(from - start, to - start), p.filled);
        p.filled += to - from;
      }
    }
    this.pos = start + n;
  }

  private settle(): void {
    // Callbacks may add regions; loop until nothing else completes at this position.
    for (;;) {
      const idx = this.pending.findIndex((p) => p.filled === p.data.length);
      if (idx < 0) return;
      const [p] = this.pending.splice(idx, 1);
      this.completed.push({ offset: p.offset, data: p.data });
      p.done(p.data);
    }
  }
}
