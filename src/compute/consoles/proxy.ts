// The console proxy on the public listener: websocket handshakes at /vnc (noVNC; also at / for noVNC pages that
// put the websocket at the root, as Nova's novncproxy does) and /serial. Each handshake must carry a console token
// (?token=), which it uses up, and an acceptable Origin; the proxy then connects to the endpoint the compute host
// named for that token (a VNC server or a serial port over TCP) and relays bytes both ways until either side closes.
import type { IncomingMessage, Server } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { originAllowed } from "./origin.js";
import { consumeConsoleToken, type ConsoleTarget } from "./tokens.js";

/** What the proxy needs from the cloud. */
export interface ConsoleProxyOptions {
  db: Kysely<any>;
  /** The cloud's public base URL (read per handshake: it is known only once the listener is bound). */
  publicUrl: () => string;
  allowedOrigins: readonly string[];
  log: Logger;
  /** Bound on connecting to the console endpoint (default 10 s). */
  connectTimeoutMs?: number;
}

/** Largest websocket message accepted from a client (RFB client messages are small). */
const MAX_PAYLOAD = 1024 * 1024;
/** Stop reading from the endpoint while this much is queued towards a slow client. */
const HIGH_WATER = 4 * 1024 * 1024;

/** The console type a handshake path asks for, or undefined when the path is not the proxy's. */
function consoleTypeOf(pathname: string): string | undefined {
  if (pathname === "/" || pathname === "/vnc" || pathname.startsWith("/vnc/")) return "novnc";
  if (pathname === "/serial" || pathname === "/serial/") return "serial";
  return undefined;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  if (socket.writable)
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
    );
  socket.destroy();
}

/** Relay between a client websocket and a TCP endpoint. */
function relay(ws: WebSocket, tcp: Socket): void {
  tcp.on("data", (b: Buffer) => {
    ws.send(b, { binary: true });
    if (ws.bufferedAmount > HIGH_WATER) {
      tcp.pause();
      const resume = (): void => {
        if (ws.bufferedAmount <= HIGH_WATER / 2 || ws.readyState !== ws.OPEN) tcp.resume();
        else setTimeout(resume, 10);
      };
      setTimeout(resume, 10);
    }
  });
  ws.on("message", (data: RawData) => {
    const parts = Array.isArray(data) ? data : [data];
    for (const p of parts) tcp.write(Buffer.isBuffer(p) ? p : Buffer.from(p as ArrayBuffer));
  });
  tcp.on("close", () => ws.close(1000));
  tcp.on("error", () => ws.close(1011));
  ws.on("close", () => tcp.destroy());
  ws.on("error", () => tcp.destroy());
}

/** Connect to a console endpoint within `timeoutMs`. */
function connectTo(target: ConsoleTarget, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`console endpoint ${target.host}:${target.port} did not answer`));
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Serve the console proxy on `server`'s websocket upgrades; returns a function that detaches it. */
export function attachConsoleProxy(server: Server, opts: ConsoleProxyOptions): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  const open = new Set<WebSocket>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    void handle(req, socket, head).catch((err: unknown) => {
      opts.log.warn({ err }, "console proxy: handshake failed");
      refuse(socket, 500, "Internal Server Error");
    });
  };

  async function handle(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    const type = consoleTypeOf(url.pathname);
    if (!type) return refuse(socket, 404, "Not Found");
    const origin = req.headers.origin;
    if (
      !originAllowed(origin, {
        publicUrl: opts.publicUrl(),
        hostHeader: req.headers.host,
        allowedOrigins: opts.allowedOrigins,
      })
    ) {
      opts.log.warn({ origin: String(origin).slice(0, 200) }, "console proxy: Origin refused");
      return refuse(socket, 403, "Forbidden: the Origin of this console request is not allowed");
    }
    const token = url.searchParams.get("token") ?? "";
    const target = await consumeConsoleToken(opts.db, token, type);
    if (!target) return refuse(socket, 401, "Unauthorized: the console token is invalid, used or expired");
    let tcp: Socket;
    try {
      tcp = await connectTo(target, opts.connectTimeoutMs ?? 10_000);
    } catch (err) {
      opts.log.warn({ err, instance: target.instanceUuid }, "console proxy: endpoint unreachable");
      return refuse(socket, 502, "Bad Gateway: the console is not reachable");
    }
    if (socket.destroyed) {
      tcp.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      open.add(ws);
      ws.on("close", () => open.delete(ws));
      opts.log.info({ instance: target.instanceUuid, type }, "console proxy: connected");
      relay(ws, tcp);
    });
  }

  server.on("upgrade", onUpgrade);
  return () => {
    server.off("upgrade", onUpgrade);
    for (const ws of open) ws.terminate();
    wss.close();
  };
}
