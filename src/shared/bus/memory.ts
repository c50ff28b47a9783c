// The in-process transport (the default, `--bus memory`). It behaves like the broker it stands in for: publishing
// only enqueues, delivery happens on a later turn of the event loop, the consumers of a queue share it round
// robin within their prefetch, messages are acknowledged when the handler settles, queues outlive their
// consumers (a cast to a stopped server waits for it), per-message TTLs expire, and bodies are copied so no object
// is shared between sender and receiver. What it cannot do is survive the process.
//
// "memory" gives a private broker; "memory://NAME" joins the process-wide broker NAME, so several Bus objects (an
// API and an agent, say) can talk as separate processes would.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { BusClosed, Unroutable } from "./errors.js";
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

interface Stored {
  msg: OutgoingMessage;
  expiresAt: number;
  redelivered: boolean;
}

/** One consumer's attachment to one queue, with its own prefetch window (as an AMQP consumer has). */
interface Subscription {
  consumer: MemoryConsumer;
  queue: MemQueue;
  inflight: number;
}

class MemQueue {
  readonly messages: Stored[] = [];
  readonly subs: Subscription[] = [];
  next = 0;
  constructor(
    readonly name: string,
    /** Fanout queues belong to one consumer and go away with it. */
    readonly exclusive: boolean,
  ) {}
}

/** A broker shared by the transports that name it. */
class MemoryBroker {
  readonly queues = new Map<string, MemQueue>();
  readonly fanouts = new Map<string, Set<MemQueue>>();
  readonly replies = new Map<string, (msg: IncomingMessage) => void>();
  users = 0;
  private scheduled = false;

  enqueue(q: MemQueue, msg: OutgoingMessage): void {
    const expiresAt = msg.ttlMs === undefined ? Infinity : Date.now() + msg.ttlMs;
    q.messages.push({ msg: copy(msg), expiresAt, redelivered: false });
    this.schedule();
  }

  /** Deliver on a later turn of the event loop, never inside the caller's stack. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    const now = Date.now();
    for (const q of this.queues.values()) {
      while (q.messages.length && q.subs.length) {
        const sub = this.pick(q);
        if (!sub) break;
        const stored = q.messages.shift()!;
        if (stored.expiresAt <= now) continue;
        sub.consumer.deliver(sub, stored);
      }
    }
  }

  /** The next subscription of a queue, round robin, that has room in its prefetch window. */
  private pick(q: MemQueue): Subscription | null {
    for (let i = 0; i < q.subs.length; i++) {
      const sub = q.subs[(q.next + i) % q.subs.length];
      if (sub.consumer.active && sub.inflight < sub.consumer.prefetch) {
        q.next = (q.next + i + 1) % q.subs.length;
        return sub;
      }
    }
    return null;
  }
}

const named = new Map<string, MemoryBroker>();

function copy(msg: OutgoingMessage): OutgoingMessage {
  return { ...msg, body: Buffer.from(msg.body) };
}

function incoming(stored: Stored): IncomingMessage {
  const { msg } = stored;
  return {
    body: Buffer.from(msg.body),
    messageId: msg.messageId,
    correlationId: msg.correlationId,
    replyTo: msg.replyTo,
    redelivered: stored.redelivered,
  };
}

class MemoryConsumer implements Consumer {
  active = true;
  readonly subs: Subscription[] = [];
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly transport: MemoryTransport,
    private readonly broker: MemoryBroker,
    private readonly handler: (msg: IncomingMessage) => Promise<void>,
    readonly prefetch: number,
    private readonly log: Logger,
    readonly label: string,
  ) {}

  deliver(sub: Subscription, stored: Stored): void {
    sub.inflight++;
    const run = (async () => {
      try {
        await this.handler(incoming(stored));
      } catch (err) {
        this.log.error({ err, consumer: this.label }, "bus: message handler failed");
      }
    })().finally(() => {
      sub.inflight--; // the ack
      this.running.delete(run);
      this.broker.schedule();
    });
    this.running.add(run);
  }

  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.transport.consumers.delete(this);
    for (const sub of this.subs) {
      const i = sub.queue.subs.indexOf(sub);
      if (i >= 0) sub.queue.subs.splice(i, 1);
      if (sub.queue.exclusive) {
        this.broker.queues.delete(sub.queue.name);
        for (const set of this.broker.fanouts.values()) set.delete(sub.queue);
      }
    }
    while (this.running.size) await Promise.allSettled([...this.running]);
    this.broker.schedule();
  }
}

/** The in-process transport. */
export class MemoryTransport implements Transport {
  readonly kind = "memory" as const;
  readonly consumers = new Set<MemoryConsumer>();
  private readonly broker: MemoryBroker;
  private replyAddress: string | null = null;
  /** close() was called (consume and replyQueue refuse). */
  private closed = false;
  /** close() has finished (publish refuses too). */
  private closedAt: number | null = null;

  constructor(
    private readonly log: Logger,
    /** Join the process-wide broker of this name; empty = a private broker. */
    private readonly brokerName = "",
    /** close() waits at most this long for the handlers under way. */
    private readonly closeGraceMs = 5_000,
  ) {
    let broker = brokerName ? named.get(brokerName) : undefined;
    if (!broker) {
      broker = new MemoryBroker();
      if (brokerName) named.set(brokerName, broker);
    }
    broker.users++;
    this.broker = broker;
  }

  async publish(dest: Destination, msg: OutgoingMessage, opts: PublishOptions = {}): Promise<void> {
    // While closing, publishing still works: handlers finishing within the grace period send their replies.
    if (this.closed && this.closedAt !== null) throw new BusClosed();
    opts.signal?.throwIfAborted();
    const b = this.broker;
    if (dest.kind === "queue") {
      let q = b.queues.get(dest.name);
      if (!q) {
        if (dest.mustExist) throw new Unroutable(dest.name);
        q = new MemQueue(dest.name, false);
        b.queues.set(dest.name, q);
      }
      b.enqueue(q, msg);
    } else if (dest.kind === "fanout") {
      for (const q of b.fanouts.get(dest.topic) ?? []) b.enqueue(q, msg);
    } else {
      const onReply = b.replies.get(dest.address);
      if (onReply) {
        const stored: Stored = { msg: copy(msg), expiresAt: Infinity, redelivered: false };
        setImmediate(() => onReply(incoming(stored)));
      }
    }
  }

  async consume(
    sources: Source[],
    handler: (msg: IncomingMessage) => Promise<void>,
    opts: ConsumeOptions,
  ): Promise<Consumer> {
    if (this.closed) throw new BusClosed();
    const b = this.broker;
    const consumer = new MemoryConsumer(this, b, handler, opts.prefetch, this.log, opts.label);
    for (const src of sources) {
      let q: MemQueue;
      if (src.kind === "queue") {
        q = b.queues.get(src.name) ?? new MemQueue(src.name, false);
        b.queues.set(src.name, q);
      } else {
        q = new MemQueue(`${src.topic}_fanout_${randomUUID()}`, true);
        b.queues.set(q.name, q);
        let set = b.fanouts.get(src.topic);
        if (!set) b.fanouts.set(src.topic, (set = new Set()));
        set.add(q);
      }
      const sub: Subscription = { consumer, queue: q, inflight: 0 };
      q.subs.push(sub);
      consumer.subs.push(sub);
    }
    this.consumers.add(consumer);
    b.schedule();
    return consumer;
  }

  async replyQueue(onReply: (msg: IncomingMessage) => void): Promise<string> {
    if (this.closed) throw new BusClosed();
    this.replyAddress ??= `reply_${randomUUID()}`;
    this.broker.replies.set(this.replyAddress, onReply);
    return this.replyAddress;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Wait for the handlers under way, within the grace period (a handler that never ends must not hang close()).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.consumers].map((c) => c.stop())),
      new Promise((r) => (timer = setTimeout(r, this.closeGraceMs))),
    ]);
    clearTimeout(timer);
    if (this.replyAddress) this.broker.replies.delete(this.replyAddress);
    if (--this.broker.users === 0 && this.brokerName) named.delete(this.brokerName);
    this.closedAt = Date.now();
  }
}
