// The serial console's bounded ring log. QEMU serves the guest's serial port as a unix socket (server, nowait: with
// no client attached QEMU drops the bytes rather than blocking the guest); the driver attaches a SerialLog, which
// appends what the guest writes to a log file in the instance directory and compacts it to the last `maxBytes`
// whenever it grows past twice that. The file survives agent restarts (a new SerialLog appends to it) and QEMU
// restarts; output while no agent is attached is lost. Listeners (the serial websocket console) get the live bytes
// and may write keystrokes back.
import { open, readFile, rename, stat, type FileHandle } from "node:fs/promises";
import { connect, type Socket } from "node:net";

/** Default ring size: what os-getConsoleOutput can return. */
export const DEFAULT_SERIAL_LOG_BYTES = 256 * 1024;

export interface SerialLogOptions {
  /** Bytes kept (default 256 KiB); the file may reach twice this between compactions. */
  maxBytes?: number;
  /** Bound on connecting to the socket (default 5 s). */
  timeoutMs?: number;
}

/** A live attachment to one guest's serial socket, logging into a bounded file. */
export class SerialLog {
  private readonly listeners = new Set<(data: Buffer) => void>();
  private chain: Promise<void> = Promise.resolve();
  private size: number;
  /** Settles once the socket has closed (QEMU exited or close() was called) and the log is flushed. */
  readonly closed: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    private file: FileHandle,
    private readonly logPath: string,
    private readonly maxBytes: number,
    initialSize: number,
  ) {
    this.size = initialSize;
    let done!: () => void;
    this.closed = new Promise((r) => (done = r));
    socket.on("data", (b: Buffer) => {
      for (const l of [...this.listeners]) {
        try {
          l(b);
        } catch {
          // a listener's failure is its own business
        }
      }
      this.chain = this.chain.then(() => this.append(b)).catch(() => {});
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.chain = this.chain.then(() => this.file.close()).catch(() => {});
      void this.chain.then(done);
    });
  }

  /** Attach to the serial socket at `socketPath`, appending to the log at `logPath` (created if absent). */
  static async attach(socketPath: string, logPath: string, opts: SerialLogOptions = {}): Promise<SerialLog> {
    const maxBytes = opts.maxBytes ?? DEFAULT_SERIAL_LOG_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024) throw new RangeError("maxBytes must be >= 1024");
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ path: socketPath });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`serial socket ${socketPath} did not accept within ${opts.timeoutMs ?? 5_000} ms`));
      }, opts.timeoutMs ?? 5_000);
      s.once("connect", () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    try {
      const file = await open(logPath, "a");
      const size = (await file.stat()).size;
      return new SerialLog(socket, file, logPath, maxBytes, size);
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  /** Receive the guest's output as it arrives; returns the unsubscribe function. */
  onData(listener: (data: Buffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Send bytes to the guest's serial port (keystrokes from a console). */
  write(data: Uint8Array | string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Wait until everything received so far is in the log file. */
  async flush(): Promise<void> {
    await this.chain;
  }

  /** Detach (the guest keeps running; its output is dropped until someone attaches again). */
  async close(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  private async append(b: Buffer): Promise<void> {
    await this.file.write(b);
    this.size += b.length;
    if (this.size <= 2 * this.maxBytes) return;
    const tail = await readTail(this.logPath, this.maxBytes);
    const tmp = `${this.logPath}.compact`;
    const out = await open(tmp, "w");
    try {
      await out.write(tail);
    } finally {
      await out.close();
    }
    await rename(tmp, this.logPath);
    await this.file.close();
    this.file = await open(this.logPath, "a");
    this.size = tail.length;
  }
}

/** The last `maxBytes` (default the ring size) of a serial log, starting at a line boundary; "" when absent. */
export async function readSerialLog(logPath: string, maxBytes = DEFAULT_SERIAL_LOG_BYTES): Promise<string> {
  try {
    return (await readTail(logPath, maxBytes)).toString("utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

/** The file's last `maxBytes`, cut after the first newline when it had to be cut. */
async function readTail(path: string, maxBytes: number): Promise<Buffer> {
  const { size } = await stat(path);
  if (size <= maxBytes) return readFile(path);
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(maxBytes);
    const { bytesRead } = await fh.read(buf, 0, maxBytes, size - maxBytes);
    const data = buf.subarray(0, bytesRead);
    const nl = data.indexOf(10);
    return nl === -1 || nl === data.length - 1 ? data : data.subarray(nl + 1);
  } finally {
    await fh.close();
  }
}
