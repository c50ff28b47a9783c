// The serial console endpoint of one instance: a loopback TCP port that carries the guest's serial port as raw
// bytes both ways, as libvirt's tcp chardev does for Nova's serial proxy. QEMU's serial socket has one reader, the
// driver's SerialLog (the ring log); this server hangs off it, so that consoles see the live output and type into
// the guest while the log keeps recording. The console proxy connects here with a token checked on its side.
import { createServer, type Server, type Socket } from "node:net";
import type { SerialLog } from "./serial-log.js";

/** A running serial console endpoint (what getSerialConsole returns, plus close). */
export interface SerialConsoleServer {
  host: string;
  port: number;
  /** Stop listening and drop connected consoles (the guest and its log are untouched). */
  close(): Promise<void>;
}

/** Serve `log`'s live bytes and keystrokes on `host`:`port` (default 127.0.0.1 and any free port). */
export async function serveSerialConsole(
  log: Pick<SerialLog, "onData" | "write">,
  opts: { host?: string; port?: number } = {},
): Promise<SerialConsoleServer> {
  const host = opts.host ?? "127.0.0.1";
  const clients = new Set<Socket>();
  const server: Server = createServer((sock) => {
    clients.add(sock);
    sock.setNoDelay(true);
    const off = log.onData((b) => {
      if (!sock.destroyed) sock.write(b);
    });
    sock.on("data", (b: Buffer) => log.write(b));
    sock.on("error", () => sock.destroy());
    sock.on("close", () => {
      off();
      clients.delete(sock);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  if (!addr || typeof addr !== "object") throw new Error("serial console: listener has no address");
  return {
    host,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.destroy();
        server.close(() => resolve());
      }),
  };
}
