// A minimal ASN.1 DER encoder: just the types an X.509 certificate and a PKCS#12 file need (X.690).

/** One DER element: tag byte, definite length, contents. */
export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

/** SEQUENCE of the given elements. */
export const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));

/** SET of the given elements (callers pass them already in DER order). */
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));

/** [n] EXPLICIT context-specific wrapper. */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

/** NULL. */
export const nul = (): Buffer => Buffer.from([0x05, 0x00]);

/** OCTET STRING. */
export const octets = (b: Buffer): Buffer => tlv(0x04, b);

/** BIT STRING with no unused bits. */
export const bits = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));

/** UTF8String. */
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, "utf8"));

/** A non-negative INTEGER from a small number or big-endian magnitude bytes. */
export function int(v: number | Buffer): Buffer {
  const hex = typeof v === "number" ? v.toString(16) : "";
  let b = typeof v === "number" ? Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex") : v;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && !(b[i + 1] & 0x80)) i++;
  b = b.subarray(i);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5), to the second, in UTC. */
export function time(d: Date): Buffer {
  const iso = d
    .toISOString()
    .replace(/[-:T]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}
