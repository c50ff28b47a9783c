// Tar archives built byte by byte for the extract-archive tests: ustar members, GNU long names, and pax headers
// (per-file "x" and global "g") made as GNU tar writes them.

/** A member's options: its type flag (else "5" for a name ending in "/", "0"), a global pax header and pax records
 *  before it, and the size its header states (else its data's). */
export interface MemberOpts {
  type?: string;
  globalPax?: Record<string, string>;
  pax?: Record<string, string>;
  headerSize?: number;
}

/** Pax records ("<length> <key>=<value>\n", the length counting itself), values as UTF-8. */
function paxData(records: Record<string, string>): Buffer {
  return Buffer.from(
    Object.entries(records)
      .map(([k, v]) => {
        const rest = ` ${k}=${v}\n`;
        let len = Buffer.byteLength(rest) + 1;
        while (String(len).length + Buffer.byteLength(rest) !== len) len++;
        return `${len}${rest}`;
      })
      .join(""),
  );
}

/** A ustar archive of `entries` (a trailing "/" makes a directory); names may be raw bytes, and longer than 100
 *  bytes (then in a GNU long-name member first). */
export function tar(entries: Array<[string | Buffer, string | Buffer, MemberOpts?]>): Buffer {
  const blocks: Buffer[] = [];
  const member = (name: Buffer, type: string, data: Buffer, size = data.length) => {
    const h = Buffer.alloc(512);
    name.copy(h, 0, 0, 100);
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
    h.write("00000000000\0", 136);
    h.write(type, 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  };
  for (const [name, data, opts = {}] of entries) {
    const n = Buffer.from(name);
    if (opts.globalPax) member(Buffer.from("GlobalHead"), "g", paxData(opts.globalPax));
    if (n.length > 100) member(Buffer.from("././@LongLink"), "L", Buffer.concat([n, Buffer.alloc(1)]));
    if (opts.pax) member(Buffer.from("PaxHeader"), "x", paxData(opts.pax));
    const d = Buffer.from(data);
    member(n, opts.type ?? (n.at(-1) === 0x2f ? "5" : "0"), d, opts.headerSize ?? d.length);
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
