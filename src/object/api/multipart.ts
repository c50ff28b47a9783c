// A streaming multipart/form-data reader (for FormPOST): parts one after another, each with its headers (bounded)
// and its body as a stream of chunks, never holding more than a chunk and a delimiter in memory.

/** Raised on a malformed body (Swift answers 400). */
export class MultipartError extends Error {}

/** The most bytes of headers one part may have. */
const MAX_HEADERS = 8192;

/** One part: its lower-cased headers and its body (to be consumed before asking for the next part). */
export interface Part {
  headers: Map<string, string>;
  body: AsyncGenerator<Buffer>;
}

/** Read the parts of a multipart body with `boundary`. */
export async function* multipartParts(
  src: AsyncIterable<Uint8Array>,
  boundary: string,
): AsyncGenerator<Part> {
  const it = src[Symbol.asyncIterator]();
  const delim = Buffer.from(`\r\n--${boundary}`);
  // The stream is read as if preceded by CRLF, so the first boundary looks like every other delimiter.
  let buf = Buffer.from("\r\n");
  let ended = false;
  const fill = async (): Promise<boolean> => {
    if (ended) return false;
    const r = await it.next();
    if (r.done) {
      ended = true;
      return false;
    }
    buf = buf.length ? Buffer.concat([buf, Buffer.from(r.value)]) : Buffer.from(r.value);
    return true;
  };
  while (buf.length < delim.length) if (!(await fill())) break;
  if (!buf.subarray(0, delim.length).equals(delim)) throw new MultipartError("invalid starting boundary");
  buf = buf.subarray(delim.length);
  for (;;) {
    // After a delimiter: "--" ends the body, else optional whitespace then CRLF starts a part.
    while (buf.length < 2) if (!(await fill())) throw new MultipartError("unexpected end of body");
    if (buf[0] === 0x2d && buf[1] === 0x2d) return;
    let eol = buf.indexOf("\r\n");
    while (eol < 0) {
      if (buf.length > 256 || !(await fill())) throw new MultipartError("invalid boundary line");
      eol = buf.indexOf("\r\n");
    }
    buf = buf.subarray(eol + 2);
    let end = buf.indexOf("\r\n\r\n");
    while (end < 0 && !buf.subarray(0, 2).equals(Buffer.from("\r\n"))) {
      if (buf.length > MAX_HEADERS || !(await fill())) throw new MultipartError("invalid part headers");
      end = buf.indexOf("\r\n\r\n");
    }
    const headers = new Map<string, string>();
    const head = end < 0 ? "" : buf.subarray(0, end).toString("utf8");
    buf = end < 0 ? buf.subarray(2) : buf.subarray(end + 4);
    for (const line of head.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    let done = false;
    const body = async function* (): AsyncGenerator<Buffer> {
      for (;;) {
        const at = buf.indexOf(delim);
        if (at >= 0) {
          if (at > 0) yield buf.subarray(0, at);
          buf = buf.subarray(at + delim.length);
          done = true;
          return;
        }
        // Keep what could be the start of a delimiter.
        const safe = buf.length - delim.length + 1;
        if (safe > 0) {
          const out = buf.subarray(0, safe);
          buf = buf.subarray(safe);
          yield out;
        }
        if (!(await fill())) throw new MultipartError("unexpected end of body");
      }
    };
    const part = { headers, body: body() };
    yield part;
    if (!done) for await (const _chunk of part.body); // drain what the caller left
  }
}

/** A Content-Disposition (or Content-Type) value's main value and its parameters. */
export function parseDisposition(value: string): { value: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const [main, ...rest] = value.split(";");
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    params.set(p.slice(0, eq).trim().toLowerCase(), v);
  }
  return { value: main.trim().toLowerCase(), params };
}
