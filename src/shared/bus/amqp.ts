// The AMQP 0-9-1 transport (RabbitMQ, through amqplib), for `--bus amqp://user:pass@host:port/vhost`.
//
// Topology, in the spirit of oslo.messaging's rabbit driver:
// - one durable direct exchange (default "stratus"); every work queue (`topic`, `topic.server`) is a durable
//   queue bound to it under its own name. Casts declare their queue before publishing, so a cast to a server
//   that is down waits for it; calls are published `mandatory` without declaring, so a call to a server that
//   never existed fails at once with Unroutable instead of timing out.
// - one durable fanout exchange per topic (`topic_fanout`); each server binds its own exclusive, auto-delete
//   queue to it, so a fanout reaches the servers listening at that moment.
// - one exclusive reply queue per client (`reply_<uuid>`, same name again after a reconnect), consumed without
//   acks; replies go through the default exchange and are matched to calls by correlation id.
//
// Reliability:
// - every publish goes through a confirm channel and resolves only on the broker's ack; casts are persistent.
//   Publishes not yet confirmed stay in an outbox and are sent again after a reconnect, so a cast accepted by
//   cast() is never lost to a broker restart (it may be delivered twice: delivery is at least once).
// - consumers use manual acks after the handler finishes and a prefetch window; a consumer that dies before
//   acking has its messages redelivered (flagged `redelivered`).
// - a lost connection is re-opened with exponential backoff and full jitter; the exchange, queues, bindings,
//   reply queue and consumers are declared again, then the outbox is flushed.
import { randomUUID } from "node:crypto";
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Options,
} from "amqplib";
import type { Logger } from "pino";
import { BusClosed, BusError, BusUnavailable, Unroutable } from "./errors.js";
import type {
  Consumer,
  ConsumeOptions,
  Destination,
  IncomingMessage,
  OutgoingMessage,
  PublishOptions,
  Source,
  Transport,
} from "./transport.js";

/** Settings of the AMQP transport (all optional). */
export interface AmqpOptions {
  /** Name of the durable direct exchange of the work queues (oslo's control_exchange). Default "stratus". */
  exchange?: string;
  /** Heartbeat interval in seconds, unless the URL sets `?heartbeat=`. Default 10. */
  heartbeatSec?: number;
  /** How long createBus() keeps trying to make the first connection before failing. Default 15 s. */
  connectTimeoutMs?: number;
  /** Reconnect backoff: first delay and ceiling. Defaults 100 ms and 5 s. */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** At most this many unconfirmed publishes are held (while the broker is away, say). Default 10,000. */
  maxUnconfirmed?: number;
  /** close() waits this long for handlers to finish and publishes to be confirmed. Default 5 s. */
  closeGraceMs?: number;
  /** A name shown in RabbitMQ's connection list. */
  connectionName?: string;
}

/** One live connection and what was set up on it. Replaced wholesale on reconnect. */
interface Session {
  readonly id: number;
  readonly conn: ChannelModel;
  pub: ConfirmChannel | null;
  /** A channel for declarations: a refused declaration closes it, not the publishing channel. */
  admin: Promise<Channel> | null;
  /** Declarations done (or under way) on this connection. */
  readonly declared: Map<string, Promise<void>>;
  /** Set while the publishing channel's buffer is full. */
  drain: Promise<void> | null;
  reply: Promise<void> | null;
  closed: boolean;
}

/** A publish that has not been confirmed yet. */
interface Pending {
  readonly dest: Destination;
  readonly msg: OutgoingMessage;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  /** The session it was last sent on (null: not sent on the current one yet). */
  session: Session | null;
  returned: boolean;
  nacks: number;
  cleanup: () => void;
  /** Resolves when the publish is settled either way. */
  readonly settled: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The URL with its password hidden, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** amqplib connect options from a URL (keeps its query settings; adds a heartbeat default). */
function connectOptions(url: string, heartbeatSec: number): Options.Connect {
  const u = new URL(url);
  const q = u.searchParams;
  const num = (k: string) => (q.has(k) ? Number(q.get(k)) : undefined);
  return {
    protocol: u.protocol.replace(/:$/, ""),
    hostname: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : u.protocol === "amqps:" ? 5671 : 5672,
    username: decodeURIComponent(u.username || "guest"),
    password: decodeURIComponent(u.password || "guest"),
    vhost: decodeURIComponent(u.pathname.replace(/^\//, "")) || "/",
    heartbeat: num("heartbeat") ?? heartbeatSec,
    frameMax: num("frameMax"),
    channelMax: num("channelMax"),
    locale: q.get("locale") ?? undefined,
  };
}

/** Errors that retrying cannot fix (bad credentials, no such vhost, no permission). */
function isPermanent(err: unknown): boolean {
  const msg = String((err as Error)?.message ?? err);
  return /ACCESS_REFUSED|NOT_ALLOWED|not allowed|access to vhost|Handshake terminated by server: 403|530/i.test(
    msg,
  );
}

export class AmqpTransport implements Transport {
  readonly kind = "amqp" as const;
  private readonly exchange: string;
  private readonly opts: Required<Omit<AmqpOptions, "exchange" | "connectionName">>;
  private readonly connOpts: Options.Connect;
  private readonly connectionName: string;
  private session: Session | null = null;
  private sessions = 0;
  private state: "new" | "open" | "closing" | "closed" = "new";
  private reconnecting = false;
  private wake: (() => void) | null = null;
  private readonly outbox = new Map<string, Pending>();
  readonly consumers = new Set<AmqpConsumer>();
  private replyName: string | null = null;
  private onReply: ((msg: IncomingMessage) => void) | null = null;
  private closing: Promise<void> | null = null;
  /** Waiters for the next session (consumers registered while disconnected). */
  private readonly sessionWaiters = new Set<{
    resolve: (s: Session) => void;
    reject: (e: unknown) => void;
  }>();

  constructor(
    private readonly url: string,
    readonly log: Logger,
    options: AmqpOptions = {},
  ) {
    this.exchange = options.exchange ?? "stratus";
    this.opts = {
      heartbeatSec: options.heartbeatSec ?? 10,
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      reconnectInitialDelayMs: options.reconnectInitialDelayMs ?? 100,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 5_000,
      maxUnconfirmed: options.maxUnconfirmed ?? 10_000,
      closeGraceMs: options.closeGraceMs ?? 5_000,
    };
    this.connOpts = connectOptions(url, this.opts.heartbeatSec);
    this.connectionName = options.connectionName ?? `stratus pid ${process.pid}`;
  }

  /** Whether a connection is up right now. */
  get connected(): boolean {
    return this.session !== null;
  }

  /** Make the first connection, retrying with backoff until connectTimeoutMs; fail fast on bad credentials. */
  async start(): Promise<void> {
    if (this.state !== "new") return;
    this.state = "open";
    const deadline = Date.now() + this.opts.connectTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.open();
        return;
      } catch (err) {
        const delay = this.backoff(attempt);
        if (isPermanent(err) || Date.now() + delay > deadline || this.state !== "open") {
          this.state = "closed";
          throw new BusUnavailable(
            `cannot connect to the message bus at ${redactUrl(this.url)}: ${(err as Error)?.message ?? err}`,
            { cause: err },
          );
        }
        this.log.warn(
          { err, attempt, delayMs: Math.round(delay) },
          "bus: connecting to AMQP failed; retrying",
        );
        await sleep(delay);
      }
    }
  }

  /** Exponential backoff with full jitter: a random delay in [0, min(max, initial * 2^(attempt-1))]. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(
      this.opts.reconnectMaxDelayMs,
      this.opts.reconnectInitialDelayMs * 2 ** Math.min(attempt - 1, 30),
    );
    return Math.max(10, Math.random() * ceiling);
  }

  /** Open a connection and set everything up on it; only then does it become the current session. */
  private async open(): Promise<void> {
    const conn = await connect(this.connOpts, {
      clientProperties: { connection_name: this.connectionName },
      timeout: 5_000,
    });
    const s: Session = {
      id: ++this.sessions,
      conn,
      pub: null,
      admin: null,
      declared: new Map(),
      drain: null,
      reply: null,
      closed: false,
    };
    conn.on("error", (err: Error) => this.log.warn({ err }, "bus: AMQP connection error"));
    conn.on("blocked", (reason: string) => this.log.warn({ reason }, "bus: broker blocked the connection"));
    conn.on("unblocked", () => this.log.info("bus: broker unblocked the connection"));
    conn.on("close", () => this.lost(s));
    try {
      await this.declareOnce(s, `x:${this.exchange}`, (ch) =>
        ch.assertExchange(this.exchange, "direct", { durable: true }),
      );
      const pub = await conn.createConfirmChannel();
      pub.on("error", (err: Error) => this.log.warn({ err }, "bus: AMQP publishing channel error"));
      pub.on("return", (m: ConsumeMessage) => {
        const p = this.outbox.get(String(m.properties.messageId));
        if (p && p.session === s) p.returned = true;
      });
      pub.on("close", () => {
        // Only a broker error closes it while the connection lives; start over on a fresh connection.
        if (!s.closed) conn.close().catch(() => {});
      });
      s.pub = pub;
      if (this.onReply) await this.attachReply(s);
      // Attach every consumer, including ones registered while this ran; then (synchronously) go live.
      for (;;) {
        const todo = [...this.consumers].filter((c) => !c.isAttachedTo(s));
        if (!todo.length) break;
        await Promise.all(todo.map((c) => c.attach(s)));
      }
      if (s.closed) throw new BusError("the connection closed while it was being set up");
      if (this.state !== "open") throw new BusClosed();
    } catch (err) {
      s.closed = true;
      void conn.close().catch(() => {}); // not awaited: a dead connection must not stall the reconnect loop
      throw err;
    }
    this.session = s;
    this.log.info({ session: s.id }, "bus: connected to AMQP broker");
    for (const w of this.sessionWaiters) w.resolve(s);
    this.sessionWaiters.clear();
    for (const p of this.outbox.values()) void this.send(s, p);
  }

  /** The connection `s` is gone: forget it and reconnect unless closing. */
  private lost(s: Session): void {
    s.closed = true;
    if (this.session !== s) return;
    this.session = null;
    if (this.state !== "open") return;
    this.log.warn(
      { session: s.id, unconfirmed: this.outbox.size },
      "bus: AMQP connection lost; reconnecting",
    );
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      for (let attempt = 1; this.state === "open" && !this.session; attempt++) {
        const delay = this.backoff(attempt);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
        if (this.state !== "open") return;
        try {
          await this.open();
        } catch (err) {
          this.log.warn({ err, attempt }, "bus: reconnecting to AMQP failed; retrying");
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /** Run a declaration once per connection, on the disposable admin channel. */
  declareOnce(s: Session, key: string, fn: (ch: Channel) => Promise<unknown>): Promise<void> {
    let done = s.declared.get(key);
    if (!done) {
      done = (async () => {
        if (!s.admin) {
          const admin = s.conn.createChannel().then((ch) => {
            ch.on("error", (err: Error) => this.log.warn({ err }, "bus: AMQP declaration refused"));
            ch.on("close", () => {
              if (s.admin === admin) s.admin = null;
            });
            return ch;
          });
          admin.catch(() => {
            if (s.admin === admin) s.admin = null;
          });
          s.admin = admin;
        }
        const ch = await s.admin;
        await fn(ch);
      })();
      s.declared.set(key, done);
      done.catch(() => s.declared.delete(key));
    }
    return done;
  }

  /** Declare and bind a durable work queue. */
  declareQueue(s: Session, name: string): Promise<void> {
    return this.declareOnce(s, `q:${name}`, async (ch) => {
      await ch.assertQueue(name, { durable: true });
      await ch.bindQueue(name, this.exchange, name);
    });
  }

  /** A topic's fanout exchange. */
  fanoutExchange(topic: string): string {
    return `${topic}_fanout`;
  }

  declareFanout(s: Session, topic: string): Promise<void> {
    const x = this.fanoutExchange(topic);
    return this.declareOnce(s, `x:${x}`, (ch) => ch.assertExchange(x, "fanout", { durable: true }));
  }

  publish(dest: Destination, msg: OutgoingMessage, opts: PublishOptions = {}): Promise<void> {
    // While closing, publishing still works: handlers finishing within the grace period send their replies.
    if (this.state === "closed") return Promise.reject(new BusClosed());
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.outbox.size >= this.opts.maxUnconfirmed)
      return Promise.reject(
        new BusUnavailable(
          `${this.outbox.size} messages are waiting for the broker's confirmation${this.session ? "" : " (not connected)"}; try again later`,
        ),
      );
    if (this.outbox.has(msg.messageId))
      return Promise.reject(new TypeError(`message id ${msg.messageId} is already being published`));
    return new Promise<void>((resolve, reject) => {
      const { signal } = opts;
      const onAbort = () => {
        if (this.outbox.get(msg.messageId) === p) this.finish(p, signal!.reason);
      };
      let settle!: () => void;
      const p: Pending = {
        dest,
        msg,
        resolve,
        reject,
        session: null,
        returned: false,
        nacks: 0,
        cleanup: () => {
          signal?.removeEventListener("abort", onAbort);
          settle();
        },
        settled: new Promise<void>((r) => (settle = r)),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.outbox.set(msg.messageId, p);
      if (this.session) void this.send(this.session, p);
    });
  }

  private finish(p: Pending, err?: unknown): void {
    if (this.outbox.get(p.msg.messageId) !== p) return;
    this.outbox.delete(p.msg.messageId);
    p.cleanup();
    if (err === undefined) p.resolve();
    else p.reject(err);
  }

  /** Send a pending publish on session `s` (declaring its destination first). Failures by loss are retried later. */
  private async send(s: Session, p: Pending): Promise<void> {
    p.session = s;
    p.returned = false;
    const { dest } = p;
    try {
      if (dest.kind === "queue" && !dest.mustExist) await this.declareQueue(s, dest.name);
      else if (dest.kind === "fanout") await this.declareFanout(s, dest.topic);
      while (s.drain) await s.drain;
    } catch (err) {
      // Connection lost: the next session sends it again. Otherwise the broker refused the declaration.
      if (!s.closed && this.session === s && p.session === s) this.finish(p, err);
      return;
    }
    if (s.closed || this.session !== s || p.session !== s || this.outbox.get(p.msg.messageId) !== p) return;
    const [exchange, key] =
      dest.kind === "queue"
        ? [this.exchange, dest.name]
        : dest.kind === "fanout"
          ? [this.fanoutExchange(dest.topic), ""]
          : ["", dest.address];
    const { msg } = p;
    const props: Options.Publish = {
      messageId: msg.messageId,
      correlationId: msg.correlationId,
      replyTo: msg.replyTo,
      persistent: msg.persistent,
      mandatory: dest.kind === "queue" && dest.mustExist,
      contentType: "application/json",
      timestamp: Math.floor(Date.now() / 1000),
    };
    if (msg.ttlMs !== undefined) props.expiration = String(Math.max(0, Math.ceil(msg.ttlMs)));
    try {
      const ok = s.pub!.publish(exchange, key, msg.body, props, (err: unknown) => this.confirmed(s, p, err));
      if (!ok && !s.drain)
        s.drain = new Promise<void>((resolve) => {
          const done = () => {
            s.drain = null;
            resolve();
          };
          s.pub!.once("drain", done);
          s.pub!.once("close", done);
        });
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) this.finish(p, err);
      // Otherwise the channel is closing: the message goes again on the next session.
    }
  }

  private confirmed(s: Session, p: Pending, err: unknown): void {
    if (p.session !== s || this.outbox.get(p.msg.messageId) !== p) return;
    if (err) {
      // The channel or connection went away before the confirm: the message is sent again after the reconnect.
      if (s.closed || this.session !== s || /channel closed/i.test(String((err as Error)?.message ?? err)))
        return;
      // A nack: the broker could not take the message. Try a few more times, then give up.
      if (++p.nacks <= 3) {
        p.session = null;
        setTimeout(() => {
          if (this.session && this.outbox.get(p.msg.messageId) === p && p.session === null)
            void this.send(this.session, p);
        }, 100 * p.nacks);
        return;
      }
      this.finish(p, new BusError(`the broker refused the message (nack): ${String(err)}`));
      return;
    }
    if (p.returned && p.dest.kind === "queue") this.finish(p, new Unroutable(p.dest.name));
    else this.finish(p);
  }

  /** The current session, or the next one (for consumers registered while disconnected). */
  private nextSession(): Promise<Session> {
    if (this.session) return Promise.resolve(this.session);
    return new Promise((resolve, reject) => this.sessionWaiters.add({ resolve, reject }));
  }

  async consume(
    sources: Source[],
    handler: (msg: IncomingMessage) => Promise<void>,
    opts: ConsumeOptions,
  ): Promise<Consumer> {
    if (this.state !== "open") throw new BusClosed();
    const c = new AmqpConsumer(this, sources, handler, opts);
    this.consumers.add(c);
    // Resolve once consuming (now, or after the next reconnect). A refusal by a live broker is the caller's error.
    for (;;) {
      const s = await this.nextSession().catch((err) => {
        this.consumers.delete(c);
        throw err;
      });
      try {
        await c.attach(s);
        return c;
      } catch (err) {
        if (!s.closed && this.session === s) {
          this.consumers.delete(c);
          throw err;
        }
        if (c.isAttachedTo(this.session)) return c;
      }
    }
  }

  private attachReply(s: Session): Promise<void> {
    s.reply ??= (async () => {
      const ch = await s.conn.createChannel();
      ch.on("error", (err: Error) => this.log.warn({ err }, "bus: AMQP reply channel error"));
      const name = this.replyName!;
      await ch.assertQueue(name, { exclusive: true, autoDelete: true, durable: false });
      await ch.consume(
        name,
        (m) => {
          if (!m) return;
          this.onReply?.(toIncoming(m));
        },
        { noAck: true },
      );
    })();
    s.reply.catch(() => (s.reply = null));
    return s.reply;
  }

  async replyQueue(onReply: (msg: IncomingMessage) => void): Promise<string> {
    if (this.state !== "open") throw new BusClosed();
    this.onReply = onReply;
    this.replyName ??= `reply_${randomUUID()}`;
    const s = this.session;
    if (s) {
      try {
        await this.attachReply(s);
      } catch (err) {
        if (!s.closed) throw err; // a lost connection re-declares it on reconnect
      }
    }
    return this.replyName;
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.state === "new" || this.state === "closed") {
      this.state = "closed";
      return;
    }
    this.state = "closing";
    this.wake?.();
    // Everything below is bounded by the grace period: a dead connection must not hang close().
    const deadline = Date.now() + this.opts.closeGraceMs;
    const bounded = <T>(p: Promise<T>, atLeastMs = 0) => {
      let timer: NodeJS.Timeout | undefined;
      const ms = Math.max(atLeastMs, deadline - Date.now());
      const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), ms)));
      return Promise.race([p, late]).finally(() => clearTimeout(timer));
    };
    await bounded(Promise.allSettled([...this.consumers].map((c) => c.stop())));
    // Give unconfirmed publishes (casts just made, replies) the rest of the grace period to be confirmed.
    if (this.session && this.outbox.size)
      await bounded(Promise.all([...this.outbox.values()].map((p) => p.settled)));
    const err = new BusClosed("the bus was closed before the broker confirmed the message");
    for (const p of [...this.outbox.values()]) this.finish(p, err);
    for (const w of this.sessionWaiters) w.reject(new BusClosed());
    this.sessionWaiters.clear();
    this.state = "closed";
    const s = this.session;
    this.session = null;
    if (s) {
      s.closed = true;
      const ok = await bounded(
        s.conn.close().then(
          () => "ok" as const,
          () => "ok" as const,
        ),
        1000,
      );
      if (ok === "late") this.destroySocket(s, new BusClosed("closing: the broker did not answer"));
    }
  }

  private destroySocket(s: Session, err: Error): void {
    const stream = (s.conn as unknown as { connection?: { stream?: { destroy(e?: Error): void } } })
      .connection?.stream;
    if (stream) stream.destroy(err);
  }

  /** Tear the connection down without any goodbye, as if the network or the process died (for tests). */
  destroyConnection(): void {
    if (this.session) this.destroySocket(this.session, new Error("connection destroyed (simulated failure)"));
  }
}

function toIncoming(m: ConsumeMessage): IncomingMessage {
  const p = m.properties;
  return {
    body: m.content,
    messageId: p.messageId === undefined ? "" : String(p.messageId),
    correlationId: p.correlationId === undefined ? undefined : String(p.correlationId),
    replyTo: p.replyTo === undefined ? undefined : String(p.replyTo),
    redelivered: m.fields.redelivered,
  };
}

/** A consumer: one channel (per connection) with a prefetch window per source. */
class AmqpConsumer implements Consumer {
  private session: Session | null = null;
  private attaching: { session: Session; done: Promise<void> } | null = null;
  private ch: Channel | null = null;
  private tags: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly t: AmqpTransport,
    private readonly sources: Source[],
    private readonly handler: (msg: IncomingMessage) => Promise<void>,
    private readonly opts: ConsumeOptions,
  ) {}

  isAttachedTo(s: Session | null): boolean {
    return s !== null && this.session === s;
  }

  /** Set up the channel, queues, bindings and consumers on session `s` (once per session). */
  attach(s: Session): Promise<void> {
    if (this.session === s) return Promise.resolve();
    if (this.attaching?.session === s) return this.attaching.done;
    const done = this.doAttach(s);
    this.attaching = { session: s, done };
    done.then(
      () => {
        if (this.attaching?.done === done) this.attaching = null;
      },
      () => {
        if (this.attaching?.done === done) this.attaching = null;
      },
    );
    return done;
  }

  private async doAttach(s: Session): Promise<void> {
    if (this.stopped) return;
    const ch = await s.conn.createChannel();
    ch.on("error", (err: Error) =>
      this.t.log.warn({ err, consumer: this.opts.label }, "bus: consumer channel error"),
    );
    ch.on("close", () => {
      if (this.ch !== ch) return;
      this.ch = null;
      this.session = null;
      // Closed by the broker while the connection lives (e.g. its queue was deleted): start over.
      if (!s.closed && !this.stopped) s.conn.close().catch(() => {});
    });
    try {
      await ch.prefetch(this.opts.prefetch);
      const tags: string[] = [];
      for (const src of this.sources) {
        let queue: string;
        if (src.kind === "queue") {
          queue = src.name;
          await this.t.declareQueue(s, queue);
        } else {
          const x = this.t.fanoutExchange(src.topic);
          await this.t.declareFanout(s, src.topic);
          queue = `${src.topic}_fanout_${randomUUID()}`;
          await ch.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
          await ch.bindQueue(queue, x, "");
        }
        const { consumerTag } = await ch.consume(queue, (m) => this.onMessage(ch, m), { noAck: false });
        tags.push(consumerTag);
      }
      if (this.stopped || s.closed) throw new BusClosed();
      this.ch = ch;
      this.tags = tags;
      this.session = s;
    } catch (err) {
      await ch.close().catch(() => {});
      if (this.stopped) return;
      throw err;
    }
  }

  private onMessage(ch: Channel, m: ConsumeMessage | null): void {
    if (!m) {
      // The broker cancelled the consumer (its queue went away): re-attach on a fresh connection.
      this.t.log.warn({ consumer: this.opts.label }, "bus: the broker cancelled a consumer");
      if (this.ch === ch) void ch.close().catch(() => {});
      return;
    }
    const run = (async () => {
      try {
        await this.handler(toIncoming(m));
      } catch (err) {
        this.t.log.error({ err, consumer: this.opts.label }, "bus: message handler failed");
      }
      try {
        ch.ack(m);
      } catch {
        // The channel is gone: the broker will deliver the message again.
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    this.t.consumers.delete(this);
    await this.attaching?.done.catch(() => {});
    const ch = this.ch;
    if (ch) {
      // After cancel-ok no more deliveries arrive; the ones under way finish and are acked before the channel goes.
      await Promise.all(this.tags.map((tag) => ch.cancel(tag).catch(() => {})));
    }
    while (this.running.size) await Promise.allSettled([...this.running]);
    this.ch = null;
    this.session = null;
    if (ch) await ch.close().catch(() => {});
  }
}
