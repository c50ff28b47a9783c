// The metadata proxy: the side that knows which instance is calling (from the network, or because the listener
// belongs to one instance) and forwards its requests to the metadata service with that identity signed in.
// Before networking exists, each guest reaches 169.254.169.254:80 through QEMU user networking's guestfwd to a
// per-instance chardev socket (metadataGuestfwd); slirp carries the guest's successive connections over that one
// stream without boundaries, so the stream is read as a sequence of HTTP requests, answered in order, each reply
// with "Connection: close" so the guest closes its side and the stream stays open for the next one. Limits of
// that transport: a guest's concurrent connections share the stream (guests fetch metadata one request at a
// time), and a request cut off mid-way spoils the next one (answered 400, then the stream resynchronises).
import { request } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import type { Logger } from "pino";
import { identityHeaders } from "./signing.js";

/** The address guests use for the metadata service. */
export const METADATA_ADDRESS = "169.254.169.254";
/**
 * The user-networking subnet: slirp forwards only addresses inside its own network, so the guest network is put
 * around the metadata address (the guest gets .15 by DHCP, the gateway is .2).
 */
export const SLIRP_NET = "169.254.169.0/24";
/** The address QEMU's user networking gives the guest (its X-Forwarded-For). */
export const SLIRP_GUEST_ADDRESS = "169.254.169.15";

/** Who is calling, as the network layer (or the per-instance listener) knows it. */
export interface CallerIdentity {
  instanceId: string;
  projectId: string;
  /** The guest's address (sent as X-Forwarded-For). */
  address?: string;
}

/** A guest's request, as the proxy received it. */
export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  path: string;
  contentType?: string;
  body?: Buffer;
}

/** The metadata service's answer. */
export interface ProxiedResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Where the proxy forwards to and with which secret. */
export interface ProxyTarget {
  /** The metadata service's base URL (startMetadataService's url). */
  serviceUrl: string;
  secret: string;
  /** Per-request timeout in ms (default 10 s). */
  timeoutMs?: number;
}

/** Forward one request with the caller's identity signed in; only method, path, body and content type pass. */
export function forwardToMetadata(
  target: ProxyTarget,
  who: CallerIdentity,
  req: ProxiedRequest,
): Promise<ProxiedResponse> {
  // The guest's path goes to the service verbatim: resolved as a URL, "//host/x" would name another host.
  const url = new URL(target.serviceUrl);
  const path = req.path.startsWith("/") ? req.path : `/${req.path}`;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...identityHeaders(target.secret, who) };
    if (req.body?.length) {
      headers["content-length"] = req.body.length;
      if (req.contentType) headers["content-type"] = req.contentType;
    }
    const opts = { method: req.method, path, headers, timeout: target.timeoutMs ?? 10_000 };
    const r = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 502,
          contentType: res.headers["content-type"] ?? "text/plain",
          body: Buffer.concat(chunks),
        }),
      );
      res.on("error", reject);
    });
    r.on("timeout", () => r.destroy(new Error("metadata service timed out")));
    r.on("error", reject);
    r.end(req.body);
  });
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

/** An HTTP/1.1 response in bytes, closing the guest's connection. */
export function encodeResponse(r: ProxiedResponse): Buffer {
  const head =
    `HTTP/1.1 ${r.status} ${REASONS[r.status] ?? "Status"}\r\n` +
    `Content-Type: ${r.contentType}\r\nContent-Length: ${r.body.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), r.body]);
}

/** Limits of what a guest may send through the stream. */
export const STREAM_LIMITS = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 } as const;

/** A request parsed from the stream, or a protocol error to answer with (the buffered bytes are dropped). */
export type StreamItem = { request: ProxiedRequest } | { error: number; message: string };

/**
 * Splits a byte stream into HTTP/1.x requests (request line, headers, a Content-Length body). Chunked bodies are
 * refused (411 would be right, 400 is what Nova's proxies answer to malformed requests).
 */
export class HttpRequestStream {
  private buf: Buffer = Buffer.alloc(0);

  /** Add bytes; returns the requests (and errors) they completed. */
  push(chunk: Buffer): StreamItem[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: StreamItem[] = [];
    for (;;) {
      // Stray CR/LF between requests (a client's trailing newline) is skipped, as HTTP allows.
      let skip = 0;
      while (skip < this.buf.length && (this.buf[skip] === 13 || this.buf[skip] === 10)) skip++;
      if (skip) this.buf = this.buf.subarray(skip);
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) {
        if (this.buf.length > STREAM_LIMITS.maxHeaderBytes) out.push(this.fail(431, "Header too large"));
        return out;
      }
      const lines = this.buf.subarray(0, end).toString("latin1").split("\r\n");
      const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(lines[0] ?? "");
      if (!m) {
        out.push(this.fail(400, "Bad request line"));
        continue;
      }
      let length = 0;
      let contentType: string | undefined;
      let bad = false;
      for (const line of lines.slice(1)) {
        const i = line.indexOf(":");
        if (i <= 0) bad = true;
        const name = line.slice(0, i).trim().toLowerCase();
        const value = line.slice(i + 1).trim();
        if (name === "content-length") {
          if (!/^\d{1,9}$/.test(value)) bad = true;
          length = Number(value);
        } else if (name === "transfer-encoding") bad = true;
        else if (name === "content-type") contentType = value;
      }
      if (bad || length > STREAM_LIMITS.maxBodyBytes) {
        out.push(this.fail(400, "Bad request headers"));
        continue;
      }
      if (this.buf.length < end + 4 + length) return out;
      const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + length));
      this.buf = this.buf.subarray(end + 4 + length);
      out.push({
        request: {
          method: m[1]!,
          path: m[2]!,
          ...(contentType ? { contentType } : {}),
          ...(length ? { body } : {}),
        },
      });
    }
  }

  private fail(error: number, message: string): StreamItem {
    this.buf = Buffer.alloc(0);
    return { error, message };
  }
}

/** Serve one stream (a chardev connection): parse requests, forward them in order, write the answers back. */
export function serveStream(socket: Socket, target: ProxyTarget, who: CallerIdentity, log?: Logger): void {
  const parser = new HttpRequestStream();
  let chain = Promise.resolve();
  socket.on("data", (chunk: Buffer) => {
    for (const item of parser.push(chunk))
      chain = chain.then(async () => {
        let res: ProxiedResponse;
        if ("error" in item)
          res = { status: item.error, contentType: "text/plain", body: Buffer.from(`${item.message}\n`) };
        else
          res = await forwardToMetadata(target, who, item.request).catch((e: unknown) => {
            log?.warn({ err: e, instance: who.instanceId }, "metadata proxy: forwarding failed");
            return {
              status: 502,
              contentType: "text/plain",
              body: Buffer.from("Metadata service unavailable\n"),
            };
          });
        if (!socket.destroyed) socket.write(encodeResponse(res));
      });
  });
  socket.on("error", () => socket.destroy());
}

/** Where a per-instance listener listens: a unix socket (for QEMU's chardev) or a loopback TCP port. */
export type ListenSpec = { path: string } | { host: string; port: number };

/** A per-instance listener. */
export interface InstanceListener {
  /** The bound address (the socket path, or host:port). */
  address: string;
  close(): Promise<void>;
}

/** Listen for one instance's metadata requests; every connection is served as that instance. */
export async function listenForInstance(
  target: ProxyTarget,
  who: CallerIdentity,
  spec: ListenSpec,
  log?: Logger,
): Promise<InstanceListener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    serveStream(s, target, { address: SLIRP_GUEST_ADDRESS, ...who }, log);
  });
  if ("path" in spec) rmSync(spec.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if ("path" in spec) server.listen(spec.path, () => resolve());
    else server.listen(spec.port, spec.host, () => resolve());
  });
  const addr = server.address();
  const address = typeof addr === "string" ? addr : `${addr!.address}:${addr!.port}`;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          if ("path" in spec) rmSync(spec.path, { force: true });
          resolve();
        });
      }),
  };
}

/**
 * The QEMU arguments that route a guest's 169.254.169.254:80 to a per-instance unix socket: `-chardev` connecting
 * to `socketPath` (reconnecting each second, so an agent restart heals it) and the options to append to
 * `-netdev user,id=...,restrict=on` (the slirp network around the metadata address, and the guestfwd rule).
 */
export function metadataGuestfwd(
  chardevId: string,
  socketPath: string,
): { chardev: string; netdevOptions: string } {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(chardevId)) throw new Error(`bad chardev id ${chardevId}`);
  if (/[,\s]/.test(socketPath))
    throw new Error(`socket path must not contain commas or spaces: ${socketPath}`);
  return {
    chardev: `socket,id=${chardevId},path=${socketPath},reconnect=1`,
    netdevOptions: `net=${SLIRP_NET},guestfwd=tcp:${METADATA_ADDRESS}:80-chardev:${chardevId}`,
  };
}
