// A small QMP (QEMU Machine Protocol) client over node:net. QMP is line-delimited JSON on a unix socket: QEMU greets,
// the client negotiates with qmp_capabilities, then sends {"execute", "arguments", "id"} and reads {"return"} or
// {"error"} replies tagged with the same id, interleaved with {"event"} messages at any time.
//
// Commands are serialized (one in flight at a time, as QEMU's monitor handles them in order anyway), so a reply
// that lacks an id (QEMU's answer to a malformed request) still belongs to the command in flight. A command that
// times out rejects its caller but stays in flight until QEMU answers, so a late reply is never taken for the next
// command's. Nothing here knows about instances: the supervisor (process.ts) and the driver build on it.
import { connect, type Socket } from "node:net";

/** Longest line (one JSON message) accepted from QEMU; beyond it the connection is dropped. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/** QEMU's version, from the greeting. */
export interface QmpVersion {
  major: number;
  minor: number;
  micro: number;
  package: string;
}

/** One asynchronous event, as QEMU sent it. */
export interface QmpEvent<D = Record<string, unknown>> {
  event: string;
  data: D;
  timestamp: { seconds: number; microseconds: number };
}

/** Replies of the commands the driver uses, so callers get typed results (others are `unknown`). */
export interface QmpCommandMap {
  qmp_capabilities: { args: { enable?: string[] } | undefined; ret: Record<string, never> };
  "query-status": {
    args: undefined;
    ret: { status: QmpRunState; running: boolean; singlestep?: boolean };
  };
  "query-version": {
    args: undefined;
    ret: { qemu: { major: number; minor: number; micro: number }; package: string };
  };
  "query-name": { args: undefined; ret: { name?: string } };
  "query-uuid": { args: undefined; ret: { UUID: string } };
  "query-kvm": { args: undefined; ret: { enabled: boolean; present: boolean } };
  "query-block": { args: undefined; ret: Array<{ device: string; qdev?: string; inserted?: unknown }> };
  "query-chardev": {
    args: undefined;
    ret: Array<{ label: string; filename: string; "frontend-open": boolean }>;
  };
  "query-vnc": { args: undefined; ret: { enabled: boolean; host?: string; service?: string } };
  "query-migrate": { args: undefined; ret: { status?: string; [key: string]: unknown } };
  "query-pci": {
    args: undefined;
    ret: Array<{ bus: number; devices: Array<{ slot: number; qdev_id: string }> }>;
  };
  cont: { args: undefined; ret: Record<string, never> };
  stop: { args: undefined; ret: Record<string, never> };
  quit: { args: undefined; ret: Record<string, never> };
  system_powerdown: { args: undefined; ret: Record<string, never> };
  system_reset: { args: undefined; ret: Record<string, never> };
  "inject-nmi": { args: undefined; ret: Record<string, never> };
  device_add: { args: { driver: string; id: string; [prop: string]: unknown }; ret: Record<string, never> };
  device_del: { args: { id: string }; ret: Record<string, never> };
  "blockdev-add": {
    args: { driver: string; "node-name": string; [prop: string]: unknown };
    ret: Record<string, never>;
  };
  "blockdev-del": { args: { "node-name": string }; ret: Record<string, never> };
  netdev_add: { args: { type: string; id: string; [prop: string]: unknown }; ret: Record<string, never> };
  netdev_del: { args: { id: string }; ret: Record<string, never> };
  screendump: {
    args: { filename: string; device?: string; format?: "ppm" | "png" };
    ret: Record<string, never>;
  };
  "human-monitor-command": { args: { "command-line": string }; ret: string };
}

/** The run states query-status reports (QAPI RunState). */
export type QmpRunState =
  | "debug"
  | "inmigrate"
  | "internal-error"
  | "io-error"
  | "paused"
  | "postmigrate"
  | "prelaunch"
  | "finish-migrate"
  | "restore-vm"
  | "running"
  | "save-vm"
  | "shutdown"
  | "suspended"
  | "watchdog"
  | "guest-panicked"
  | "colo";

/** Base class of QMP client errors. */
export class QmpError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** QEMU answered a command with {"error": {"class", "desc"}}. */
export class QmpCommandError extends QmpError {
  constructor(
    readonly command: string,
    /** QAPI error class: GenericError, CommandNotFound, DeviceNotFound, DeviceNotActive, KVMMissingCap. */
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command} failed: ${errorClass}: ${desc}`);
  }
}

/** The connection is closed (QEMU exited, the socket went away, or close() was called). */
export class QmpClosedError extends QmpError {}

/** A command's reply, or an awaited event, did not come within its timeout. */
export class QmpTimeoutError extends QmpError {}

/** QEMU sent something that is not QMP (bad JSON, no greeting, an over-long line). */
export class QmpProtocolError extends QmpError {}

export interface QmpConnectOptions {
  /** Bound on connecting plus the greeting and capabilities negotiation (default 5 s). */
  timeoutMs?: number;
  /** Default per-command reply timeout (default 30 s). */
  commandTimeoutMs?: number;
}

export interface ExecuteOptions {
  /** Reply timeout for this command; the client default when absent. */
  timeoutMs?: number;
}

export interface WaitForEventOptions<D> {
  /** Only an event for which this returns true resolves the wait. */
  match?: (event: QmpEvent<D>) => boolean;
  /** Bound on the wait (required: there is no unbounded wait). */
  timeoutMs: number;
  /** Gives up the wait early (rejecting with the signal's reason). */
  signal?: AbortSignal;
}

type EventListener = (event: QmpEvent) => void;

interface Pending {
  id: string;
  command: string;
  line: string;
  timeoutMs: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  settled: boolean;
  timer?: NodeJS.Timeout;
}

/** A connected, negotiated QMP session. Create with QmpClient.connect(path). */
export class QmpClient {
  private greeting: QmpVersion | null = null;
  private onGreeting: ((v: QmpVersion) => void) | null = null;
  private readonly queue: Pending[] = [];
  private inFlight: Pending | null = null;
  private nextId = 1;
  private readonly listeners = new Map<string, Set<EventListener>>();
  private closedError: QmpClosedError | null = null;
  private readonly closeListeners = new Set<(err: QmpClosedError) => void>();
  /** Settles when the connection closes, for whatever reason; never rejects. */
  readonly closed: Promise<QmpClosedError>;

  private constructor(
    private readonly socket: Socket,
    private readonly commandTimeoutMs: number,
  ) {
    let onClosed!: (e: QmpClosedError) => void;
    this.closed = new Promise((r) => (onClosed = r));
    this.closeListeners.add(onClosed);
    const reader = new LineReader(socket);
    reader.onMessage = (msg) => this.dispatch(msg);
    reader.onEnd = (err) => this.shutdown(err);
  }

  /** Connect to a QMP unix socket, read the greeting and negotiate capabilities. */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const client = new QmpClient(connect({ path }), opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    let offClose = () => {};
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new QmpTimeoutError(`QMP greeting from ${path} not received within ${timeoutMs} ms`)),
          timeoutMs,
        );
        client.onGreeting = () => resolve();
        offClose = client.onClose((err) => reject(err));
      });
      await client.execute("qmp_capabilities", undefined, { timeoutMs });
      return client;
    } catch (err) {
      client.close();
      throw err instanceof QmpError
        ? err
        : new QmpClosedError(`cannot connect to QMP at ${path}`, { cause: err });
    } finally {
      clearTimeout(timer);
      offClose();
    }
  }

  /** QEMU's version, from the greeting. */
  get version(): QmpVersion {
    return this.greeting ?? { major: 0, minor: 0, micro: 0, package: "" };
  }

  /** Whether the connection is still open. */
  get isOpen(): boolean {
    return this.closedError === null;
  }

  /** Run one command and return its typed "return" value; QEMU errors throw QmpCommandError. */
  execute<K extends keyof QmpCommandMap>(
    command: K,
    args?: QmpCommandMap[K]["args"],
    opts?: ExecuteOptions,
  ): Promise<QmpCommandMap[K]["ret"]>;
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts?: ExecuteOptions): Promise<T>;
  execute(command: string, args?: Record<string, unknown>, opts: ExecuteOptions = {}): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (typeof command !== "string" || command === "") {
      return Promise.reject(new QmpError("QMP command name must be a non-empty string"));
    }
    const id = `stratus-${this.nextId++}`;
    const msg: Record<string, unknown> = { execute: command, id };
    if (args !== undefined) msg.arguments = args;
    return new Promise((resolve, reject) => {
      this.queue.push({
        id,
        command,
        line: JSON.stringify(msg) + "\r\n",
        timeoutMs: opts.timeoutMs ?? this.commandTimeoutMs,
        resolve,
        reject,
        settled: false,
      });
      this.pump();
    });
  }

  /** Subscribe to an event by name ("*" for all); returns the unsubscribe function. */
  on(event: string, listener: EventListener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(event);
    };
  }

  /** Call `listener` once when the connection closes (at once if it already has); returns the unsubscribe. */
  onClose(listener: (err: QmpClosedError) => void): () => void {
    if (this.closedError) {
      listener(this.closedError);
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /**
   * The next `event` (matching `match`) within `timeoutMs`. Subscribes at once, so call it *before* the command
   * that causes the event; rejects with QmpTimeoutError, or QmpClosedError if the connection closes first.
   */
  waitForEvent<D = Record<string, unknown>>(
    event: string,
    opts: WaitForEventOptions<D>,
  ): Promise<QmpEvent<D>> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        off();
        offClose();
        opts.signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(opts.signal?.reason instanceof Error ? opts.signal.reason : new QmpError("wait aborted"));
      };
      const off = this.on(event, (e) => {
        let ok: boolean;
        try {
          ok = opts.match ? opts.match(e as QmpEvent<D>) : true;
        } catch (err) {
          done();
          reject(err as Error);
          return;
        }
        if (!ok) return;
        done();
        resolve(e as QmpEvent<D>);
      });
      const offClose = this.onClose((err) => {
        done();
        reject(err);
      });
      const timer = setTimeout(() => {
        done();
        reject(new QmpTimeoutError(`QMP event ${event} not received within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener("abort", onAbort);
    });
  }

  /** device_del, then wait (bounded) for DEVICE_DELETED naming that device: removal is asynchronous in QEMU. */
  async deviceDel(id: string, timeoutMs = 10_000): Promise<void> {
    const abort = new AbortController();
    const deleted = this.waitForEvent<{ device?: string }>("DEVICE_DELETED", {
      match: (e) => e.data.device === id,
      timeoutMs,
      signal: abort.signal,
    });
    deleted.catch(() => {}); // observed below; avoid an unhandled rejection if device_del throws first
    try {
      await this.execute("device_del", { id });
    } catch (err) {
      abort.abort();
      throw err;
    }
    await deleted;
  }

  /** Close the connection; pending commands and waits reject with QmpClosedError. */
  close(): void {
    this.shutdown(null);
    this.socket.destroy();
  }

  private pump(): void {
    if (this.inFlight || this.closedError) return;
    const next = this.queue.shift();
    if (!next) return;
    this.inFlight = next;
    next.timer = setTimeout(() => {
      next.settled = true;
      next.reject(new QmpTimeoutError(`QMP ${next.command} got no reply within ${next.timeoutMs} ms`));
    }, next.timeoutMs);
    this.socket.write(next.line);
  }

  private dispatch(msg: unknown): void {
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      this.fail(new QmpProtocolError(`unexpected QMP message ${preview(msg)}`));
      return;
    }
    const m = msg as Record<string, unknown>;
    if (this.greeting === null) {
      const qmp = m.QMP as { version?: { qemu?: Partial<QmpVersion>; package?: string } } | undefined;
      if (typeof qmp !== "object" || qmp === null) {
        this.fail(new QmpProtocolError(`expected a QMP greeting, got ${preview(msg)}`));
        return;
      }
      const v = qmp.version?.qemu ?? {};
      this.greeting = {
        major: Number(v.major ?? 0),
        minor: Number(v.minor ?? 0),
        micro: Number(v.micro ?? 0),
        package: String(qmp.version?.package ?? ""),
      };
      this.onGreeting?.(this.greeting);
      this.onGreeting = null;
      return;
    }
    if (typeof m.event === "string") {
      const event: QmpEvent = {
        event: m.event,
        data: (typeof m.data === "object" && m.data !== null ? m.data : {}) as Record<string, unknown>,
        timestamp: (m.timestamp as QmpEvent["timestamp"]) ?? { seconds: 0, microseconds: 0 },
      };
      for (const name of [m.event, "*"]) {
        for (const l of [...(this.listeners.get(name) ?? [])]) {
          try {
            l(event);
          } catch {
            // a listener's failure is its own business
          }
        }
      }
      return;
    }
    if (!("return" in m) && !("error" in m)) {
      this.fail(new QmpProtocolError(`unexpected QMP message ${preview(msg)}`));
      return;
    }
    const p = this.inFlight;
    // A reply to something else (e.g. a stale id) is ignored; one without an id belongs to the command in flight.
    if (!p || (m.id !== undefined && m.id !== p.id)) return;
    this.inFlight = null;
    clearTimeout(p.timer);
    if (!p.settled) {
      p.settled = true;
      if ("error" in m) {
        const e = (m.error ?? {}) as { class?: unknown; desc?: unknown };
        p.reject(new QmpCommandError(p.command, String(e.class ?? "GenericError"), String(e.desc ?? "")));
      } else p.resolve(m.return);
    }
    this.pump();
  }

  private fail(err: QmpError): void {
    this.shutdown(err);
    this.socket.destroy();
  }

  private shutdown(cause: Error | null): void {
    if (this.closedError) return;
    const err = new QmpClosedError(
      cause ? `QMP connection closed: ${cause.message}` : "QMP connection closed",
      cause ? { cause } : undefined,
    );
    this.closedError = err;
    const pending = this.inFlight ? [this.inFlight, ...this.queue] : [...this.queue];
    this.inFlight = null;
    this.queue.length = 0;
    for (const p of pending) {
      clearTimeout(p.timer);
      if (!p.settled) {
        p.settled = true;
        p.reject(err);
      }
    }
    for (const l of [...this.closeListeners]) l(err);
    this.closeListeners.clear();
  }
}

/** Splits a socket's bytes into JSON messages, one per line, and reports the end of the stream once. */
class LineReader {
  onMessage: (msg: unknown) => void = () => {};
  onEnd: (err: Error | null) => void = () => {};
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;

  constructor(private readonly socket: Socket) {
    socket.on("data", (b: Buffer) => this.push(b));
    socket.on("error", (e) => this.end(e));
    socket.on("close", () => this.end(null));
  }

  private push(b: Buffer): void {
    let start = 0;
    for (let nl = b.indexOf(10); nl !== -1 && !this.ended; nl = b.indexOf(10, start)) {
      this.chunks.push(b.subarray(start, nl));
      const line = Buffer.concat(this.chunks).toString("utf8").trim();
      this.chunks = [];
      this.buffered = 0;
      start = nl + 1;
      if (line === "") continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        this.fail(new QmpProtocolError(`QEMU sent a line that is not JSON: ${line.slice(0, 120)}`));
        return;
      }
      this.onMessage(msg);
    }
    if (this.ended || start >= b.length) return;
    this.chunks.push(b.subarray(start));
    this.buffered += b.length - start;
    if (this.buffered > MAX_LINE_BYTES) this.fail(new QmpProtocolError("QMP message too long"));
  }

  private fail(err: Error): void {
    this.end(err);
    this.socket.destroy();
  }

  private end(err: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(err);
  }
}

function preview(msg: unknown): string {
  const s = JSON.stringify(msg) ?? String(msg);
  return s.length > 120 ? `${s.slice(0, 120)}...` : s;
}
