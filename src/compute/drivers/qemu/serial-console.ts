// A serial console endpoint: a loopback TCP port that carries a guest's serial port (the driver's live attachment,
// SerialConsole) as raw bytes both ways, as libvirt's tcp chardev does for Nova's serial proxy. The console proxy
// connects here after checking its token. A one-shot endpoint accepts a single connection and stops listening,
// and gives up when nobody connects in time, so that the port does not stay open to every local user.
import { createServer, type Server, type Socket } from "node:net";
import type { SerialConsole } from "../types.js";

/** A running serial console endpoint. */
export interface SerialConsoleServer {
  host: string;
  port: number;
  /** Settles once the endpoint has stopped listening and its connections have ended. */
  readonly closed: Promise<void>;
  /** Stop listening and drop connected consoles (the guest and its log are untouched). */
  close(): Promise<void>;
}

/** Options of serveSerialConsole. */
export interface SerialConsoleOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Port (default any free one). */
  port?: number;
  /** Accept one connection only, then stop listening. */
  once?: boolean;
  /** Close when no connection came within this many ms (default never). */
  acceptTimeoutMs?: number;
}

/** Serve `live`'s bytes and keystrokes over TCP. */
export async function serveSerialConsole(
  live: SerialConsole,
  opts: SerialConsoleOptions = {},
): Promise<SerialConsoleServer> {
  const host = opts.host ?? "127.0.0.1";
  const clients = new Set<Socket>();
  let listening = true;
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const settle = (): void => {
    if (!listening && clients.size === 0) done();
  };
  const stopListening = (): void => {
    if (!listening) return;
    listening = false;
    clearTimeout(timer);
    server.close(() => settle());
  };
  const server: Server = createServer((sock) => {
    clients.add(sock);
    if (opts.once) stopListening();
    clearTimeout(timer);
    sock.setNoDelay(true);
    const off = live.onData((b) => {
      if (!sock.destroyed) sock.write(b);
    });
    sock.on("data", (b: Buffer) => live.write(b));
    sock.on("error", () => sock.destroy());
    sock.on("close", () => {
      off();
      clients.delete(sock);
      settle();
    });
  });
  const timer =
    opts.acceptTimeoutMs !== undefined ? setTimeout(stopListening, opts.acceptTimeoutMs) : undefined;
  timer?.unref();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr !== "object") throw new Error("serial console: listener has no address");
  return {
    host,
    port: addr.port,
    closed,
    close: async () => {
      stopListening();
      for (const c of clients) c.destroy();
      await closed;
    },
  };
}
