// The console proxy's Origin check (OSSA-2015-005, cross-site websocket hijacking): a browser page from another
// site must not open a console with a token it got hold of. Browsers always send Origin on websocket handshakes;
// a request without one comes from a non-browser client and is allowed, as Nova's proxy allows it.

/** Whether a websocket handshake's Origin may open a console. */
export function originAllowed(
  origin: string | undefined,
  opts: {
    /** The cloud's public base URL. */
    publicUrl: string;
    /** The handshake's Host header (the page's own origin, when the browser reached the cloud by another name). */
    hostHeader?: string;
    /** Extra host names accepted (Nova's [console] allowed_origins). */
    allowedOrigins: readonly string[];
  },
): boolean {
  if (origin === undefined) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
  if (o.protocol !== "http:" && o.protocol !== "https:") return false;
  if (opts.allowedOrigins.some((a) => a.toLowerCase() === o.hostname.toLowerCase() || a === o.host))
    return true;
  const pub = new URL(opts.publicUrl);
  if (o.host === pub.host && o.protocol === pub.protocol) return true;
  return opts.hostHeader !== undefined && o.host === opts.hostHeader.toLowerCase();
}
