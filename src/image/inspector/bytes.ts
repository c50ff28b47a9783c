// Bounds-checked little helpers for reading fixed-layout binary headers. Every reader returns null instead of
// throwing when the field lies outside the buffer, so a truncated or hostile image can never crash the inspector.

export function u16le(b: Buffer, off: number): number | null {
  return off >= 0 && off + 2 <= b.length ? b.readUInt16LE(off) : null;
}
export function u32le(b: Buffer, off: number): number | null {
  return off >= 0 && off + 4 <= b.length ? b.readUInt32LE(off) : null;
}
export function u32be(b: Buffer, off: number): number | null {
  return off >= 0 && off + 4 <= b.length ? b.readUInt32BE(off) : null;
}
export function u64le(b: Buffer, off: number): bigint | null {
  return off >= 0 && off + 8 <= b.length ? b.readBigUInt64LE(off) : null;
}
export function u64be(b: Buffer, off: number): bigint | null {
  return off >= 0 && off + 8 <= b.length ? b.readBigUInt64BE(off) : null;
}

/** A u64 as a JS number, or null when it does not fit exactly (above 2^53 - 1). */
export function toSafe(v: bigint | null): number | null {
  if (v === null || v > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(v);
}

/** `n` × `m` when the product is an exact JS number, else null. */
export function mulSafe(n: number | null, m: number | null): number | null {
  if (n === null || m === null) return null;
  const r = n * m;
  return Number.isSafeInteger(r) ? r : null;
}

/** True when `b` holds `sig` at `off`. */
export function hasAt(b: Buffer, off: number, sig: string | Buffer): boolean {
  const s = typeof sig === "string" ? Buffer.from(sig, "latin1") : sig;
  return off >= 0 && off + s.length <= b.length && b.compare(s, 0, s.length, off, off + s.length) === 0;
}

/** Attacker-controlled text made safe to quote in a message: printable ASCII only, at most `max` characters. */
export function quote(text: string, max = 120): string {
  let s = text.replace(/[^\x20-\x7e]/g, "?");
  if (s.length > max) s = `${s.slice(0, max)}…`;
  return JSON.stringify(s);
}

/** A Microsoft GUID (first three fields little-endian) in canonical upper-case form. */
export function guidAt(b: Buffer, off: number): string | null {
  if (off < 0 || off + 16 > b.length) return null;
  const hex = (buf: Buffer) => buf.toString("hex").toUpperCase();
  const le = (start: number, len: number) =>
    hex(Buffer.from(b.subarray(off + start, off + start + len)).reverse());
  return [
    le(0, 4),
    le(4, 2),
    le(6, 2),
    hex(b.subarray(off + 8, off + 10)),
    hex(b.subarray(off + 10, off + 16)),
  ].join("-");
}

/** Bytes up to (not including) the first NUL, or all of `b`. */
export function untilNul(b: Buffer): Buffer {
  const i = b.indexOf(0);
  return i < 0 ? b : b.subarray(0, i);
}
