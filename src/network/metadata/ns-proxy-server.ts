// The in-namespace metadata proxy's HTTP server (Neutron's ns-metadata-proxy): it answers guests on
// 169.254.169.254:80 inside a network's DHCP namespace and forwards each request to the host-side metadata agent
// over a unix socket (unix sockets cross network namespaces), adding the caller's address from the connection and
// the network id. It knows no secret and no instance: the agent does the lookup and the signing. Bounded: header
// and body size, concurrent connections, and time per request and upstream. Only node builtins and headers.ts are
// imported: the process loads everything before it drops its privileges.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { callerAddress, upstreamHeaders } from "./headers.js";

/** The proxy's bounds. */
export interface NsProxyLimits {
  /** Request line plus headers (Node answers 431 beyond it). */
  maxHeaderBytes: number;
  /** Request body (413 beyond it). */
  maxBodyBytes: number;
  /** Connections served at once (more are refused). */
  maxConnections: number;
  /** Time for the request's headers, and for the whole request. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Time the upstream may take to answer. */
  upstreamTimeoutMs: number;
}

/** The defaults: metadata requests are small GETs (a password POST is at most a few KiB). */
export const NS_PROXY_LIMITS: NsProxyLimits = {
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
  maxConnections: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  upstreamTimeoutMs: 30_000,
};

/** What the proxy of one network forwards to. */
export interface NsProxyOptions {
  networkId: string;
  /** The host-side metadata agent's unix socket. */
  socketPath: string;
  limits?: Partial<NsProxyLimits>;
}

/** Response headers not passed back to the guest (hop-by-hop: this proxy speaks its own connection). */
const DROP_RESPONSE = new Set(["connection", "keep-alive", "transfer-encoding", "trailer", "upgrade"]);

function reply(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy(); // an answer was under way: cut it rather than garble it
    return;
  }
  const body = Buffer.from(`${status} ${text}\n`);
  res.writeHead(status, {
    "content-type": "text/plain; charset=UTF-8",
    "content-length": body.length,
    connection: "close",
  });
  res.end(body);
}

/** Forward one guest request upstream, streaming both ways within the limits. */
function forward(o: NsProxyOptions, lim: NsProxyLimits, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "";
  // Origin-form only: an absolute URL ("http://elsewhere/") or "*" would make this an open proxy's request.
  if (!url.startsWith("/")) return reply(res, 400, "Bad Request");
  const address = callerAddress(req.socket.remoteAddress);
  if (!address) return reply(res, 400, "Bad Request");
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > lim.maxBodyBytes) {
    req.resume();
    return reply(res, 413, "Request Entity Too Large");
  }
  const headers: Record<string, string[]> = {};
  for (const [name, value] of upstreamHeaders(req.rawHeaders, { address, networkId: o.networkId }))
    (headers[name.toLowerCase()] ??= []).push(value);
  const up = request({
    socketPath: o.socketPath,
    method: req.method,
    path: url,
    headers,
    timeout: lim.upstreamTimeoutMs,
  });
  up.on("timeout", () => up.destroy(new Error("upstream timed out")));
  up.on("error", () => reply(res, 502, "Bad Gateway"));
  up.on("response", (ur) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(ur.headers)) if (v !== undefined && !DROP_RESPONSE.has(k)) out[k] = v;
    res.writeHead(ur.statusCode ?? 502, out);
    ur.pipe(res);
    ur.on("error", () => res.destroy());
  });
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    const over = received > lim.maxBodyBytes;
    received += chunk.length;
    if (over) return; // the rest is drained (within requestTimeout) so the guest reads the 413
    if (received > lim.maxBodyBytes) {
      up.destroy();
      reply(res, 413, "Request Entity Too Large");
      return;
    }
    up.write(chunk);
  });
  req.on("end", () => {
    if (received <= lim.maxBodyBytes) up.end();
  });
  req.on("error", () => up.destroy());
  res.on("close", () => {
    if (!res.writableFinished) up.destroy();
  });
}

/** The proxy's HTTP server for one network (not yet listening). */
export function createNsProxyServer(o: NsProxyOptions): Server {
  const lim = { ...NS_PROXY_LIMITS, ...o.limits };
  const server = createServer(
    {
      maxHeaderSize: lim.maxHeaderBytes,
      headersTimeout: lim.headersTimeoutMs,
      requestTimeout: lim.requestTimeoutMs,
      keepAliveTimeout: 5_000,
    },
    (req, res) => forward(o, lim, req, res),
  );
  server.maxConnections = lim.maxConnections;
  return server;
}
