// Compact binary packing for token payloads: varints, 48-bit integers, strings and tagged ids.
// Ids that look like UUIDs (32 hex, 36 dashed), SHA-256 hex (64) or 16 random bytes in base64url (22)
// are stored as raw bytes; anything else is stored as UTF-8. The tag values are part of the format.

const enum Id {
  Utf8 = 0,
  Hex32 = 1,
  Dashed36 = 2,
  Hex64 = 3,
  B64url22 = 4,
}

const HEX32 = /^[0-9a-f]{32}$/;
const DASHED36 = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const B64URL22 = /^[A-Za-z0-9_-]{21}[AQgw]$/; // last char carries 2 data bits, low 4 bits zero

/** Thrown by Reader on truncated or malformed input. */
export class PackError extends Error {}

/** Appends packed values to a growable buffer. */
export class Writer {
  #buf = Buffer.allocUnsafe(160);
  #pos = 0;

  #room(n: number): number {
    if (this.#pos + n > this.#buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
      this.#buf.copy(bigger, 0, 0, this.#pos);
      this.#buf = bigger;
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** Appends one byte. */
  byte(b: number): void {
    const at = this.#room(1); // reserve first: #room may swap #buf
    this.#buf[at] = b;
  }

  /** Appends an unsigned LEB128 varint (any non-negative safe integer). */
  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot pack ${n} as a varint`);
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  /** Appends a 6-byte big-endian unsigned integer. */
  uint48(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 48)
      throw new RangeError(`cannot pack ${n} in 48 bits`);
    const at = this.#room(6);
    this.#buf.writeUIntBE(n, at, 6);
  }

  /** Appends a varint byte length and the UTF-8 bytes of `s`. */
  string(s: string): void {
    const len = Buffer.byteLength(s, "utf8");
    this.varint(len);
    const at = this.#room(len);
    this.#buf.write(s, at, len, "utf8");
  }

  /** Appends an id, as raw bytes when it has a recognised shape, else as a string. */
  id(s: string): void {
    if (HEX32.test(s)) this.#hex(Id.Hex32, s);
    else if (DASHED36.test(s)) this.#hex(Id.Dashed36, s.replaceAll("-", ""));
    else if (HEX64.test(s)) this.#hex(Id.Hex64, s);
    else if (B64URL22.test(s)) {
      this.byte(Id.B64url22);
      const at = this.#room(16);
      this.#buf.write(s, at, 16, "base64url");
    } else {
      this.byte(Id.Utf8);
      this.string(s);
    }
  }

  #hex(tag: Id, hex: string): void {
    this.byte(tag);
    const at = this.#room(hex.length / 2);
    this.#buf.write(hex, at, hex.length / 2, "hex");
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** Reads packed values, throwing PackError on truncated or malformed input. */
export class Reader {
  #pos = 0;

  /** Reads from `buf` starting at offset 0. */
  constructor(private readonly buf: Buffer) {}

  #take(n: number): number {
    if (this.#pos + n > this.buf.length) throw new PackError("truncated");
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** Reads one byte. */
  byte(): number {
    return this.buf[this.#take(1)];
  }

  /** Reads an unsigned LEB128 varint. */
  varint(): number {
    let n = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (!Number.isSafeInteger(n)) throw new PackError("varint overflow");
      if (b < 0x80) return n;
    }
  }

  /** Reads a 6-byte big-endian unsigned integer. */
  uint48(): number {
    return this.buf.readUIntBE(this.#take(6), 6);
  }

  /** Reads a length-prefixed UTF-8 string. */
  string(): string {
    const len = this.varint();
    const at = this.#take(len);
    return this.buf.toString("utf8", at, at + len);
  }

  /** Reads an id written by Writer.id. */
  id(): string {
    const tag = this.byte();
    switch (tag) {
      case Id.Utf8:
        return this.string();
      case Id.Hex32:
      case Id.Hex64:
        return this.#raw(tag === Id.Hex32 ? 16 : 32, "hex");
      case Id.Dashed36: {
        const h = this.#raw(16, "hex");
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }
      case Id.B64url22:
        return this.#raw(16, "base64url");
      default:
        throw new PackError(`unknown id tag ${tag}`);
    }
  }

  #raw(n: number, enc: BufferEncoding): string {
    const at = this.#take(n);
    return this.buf.toString(enc, at, at + n);
  }

  /** Throws unless every byte has been consumed. */
  end(): void {
    if (this.#pos !== this.buf.length) throw new PackError("trailing bytes");
  }
}
