// A tiny RFB 3.8 server (no authentication, Raw encoding, 32-bit true colour) for console tests: it answers a
// VNC client with a framebuffer of one solid colour, and records the keys the client sent.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";

/** A running fake VNC server. */
export interface FakeRfbServer {
  host: string;
  port: number;
  /** Keysyms received in KeyEvent messages (down events only). */
  keys: number[];
  /** Clients that completed the handshake. */
  sessions: number;
  close(): Promise<void>;
}

interface PixelFormat {
  bigEndian: boolean;
  redShift: number;
  greenShift: number;
  blueShift: number;
}

/** Start a fake VNC server whose whole `width`x`height` screen is `rgb`. */
export async function startFakeRfb(
  opts: { width?: number; height?: number; rgb?: [number, number, number]; name?: string } = {},
): Promise<FakeRfbServer> {
  const width = opts.width ?? 320;
  const height = opts.height ?? 200;
  const [r, g, b] = opts.rgb ?? [0, 160, 80];
  const name = Buffer.from(opts.name ?? "fake-guest");
  const sockets = new Set<Socket>();
  const state = { keys: [] as number[], sessions: 0 };

  const frame = (pf: PixelFormat): Buffer => {
    const head = Buffer.alloc(4 + 12);
    head.writeUInt8(0, 0); // FramebufferUpdate
    head.writeUInt16BE(1, 2);
    head.writeUInt16BE(0, 4);
    head.writeUInt16BE(0, 6);
    head.writeUInt16BE(width, 8);
    head.writeUInt16BE(height, 10);
    head.writeInt32BE(0, 12); // Raw
    const px = ((r << pf.redShift) | (g << pf.greenShift) | (b << pf.blueShift)) >>> 0;
    const one = Buffer.alloc(4);
    if (pf.bigEndian) one.writeUInt32BE(px);
    else one.writeUInt32LE(px);
    return Buffer.concat([head, Buffer.alloc(width * height * 4, one)]);
  };

  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => sock.destroy());
    let buf = Buffer.alloc(0);
    let phase: "version" | "security" | "init" | "normal" = "version";
    let pf: PixelFormat = { bigEndian: false, redShift: 16, greenShift: 8, blueShift: 0 };
    sock.write("RFB 003.008\n");
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (phase === "version") {
          if (buf.length < 12) return;
          buf = buf.subarray(12);
          sock.write(Buffer.from([1, 1])); // one security type: None
          phase = "security";
        } else if (phase === "security") {
          if (buf.length < 1) return;
          buf = buf.subarray(1);
          sock.write(Buffer.from([0, 0, 0, 0])); // SecurityResult OK
          phase = "init";
        } else if (phase === "init") {
          if (buf.length < 1) return;
          buf = buf.subarray(1);
          const init = Buffer.alloc(24);
          init.writeUInt16BE(width, 0);
          init.writeUInt16BE(height, 2);
          Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(init, 4);
          init.writeUInt32BE(name.length, 20);
          sock.write(Buffer.concat([init, name]));
          state.sessions++;
          phase = "normal";
        } else {
          if (buf.length < 1) return;
          const type = buf[0];
          let len: number;
          if (type === 0) len = 20;
          else if (type === 2) {
            if (buf.length < 4) return;
            len = 4 + 4 * buf.readUInt16BE(2);
          } else if (type === 3) len = 10;
          else if (type === 4) len = 8;
          else if (type === 5) len = 6;
          else if (type === 6) {
            if (buf.length < 8) return;
            len = 8 + Math.abs(buf.readInt32BE(4));
          } else return void sock.destroy(); // an extension this server does not speak
          if (buf.length < len) return;
          const msg = buf.subarray(0, len);
          buf = buf.subarray(len);
          if (type === 0)
            pf = {
              bigEndian: msg[6] !== 0,
              redShift: msg[14] as number,
              greenShift: msg[15] as number,
              blueShift: msg[16] as number,
            };
          else if (type === 3 && msg[1] === 0) sock.write(frame(pf));
          else if (type === 4 && msg[1] === 1) state.keys.push(msg.readUInt32BE(4));
        }
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  return {
    host: "127.0.0.1",
    port: (server.address() as AddressInfo).port,
    get keys() {
      return state.keys;
    },
    get sessions() {
      return state.sessions;
    },
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}
