// The seam between the typed RPC layer (rpc.ts) and a message broker. A transport moves opaque message bodies
// between named work queues, per-topic fanouts and per-client reply addresses; it knows nothing of contracts,
// versions or errors. Two implementations: memory.ts (in-process, the default) and amqp.ts (RabbitMQ).
//
// What every transport guarantees, and what the shared test suite checks on both:
// - publish() resolves only once the broker has the message (AMQP: publisher confirm); it rejects with
//   Unroutable when `mustExist` is set and no such queue exists.
// - delivery is always asynchronous (never inside publish()), at least once, in no promised order;
// - a consumer holds at most `prefetch` unacknowledged messages per source; a message is acknowledged after the
//   handler's promise settles, so one whose consumer dies first is delivered again (with `redelivered` set);
// - the consumers of one queue share its messages (round robin); every consumer of a topic's fanout gets a copy.

/** Where a message is published. */
export type Destination =
  /** A durable work queue (`topic` or `topic.server`). `mustExist`: fail with Unroutable instead of creating it. */
  | { kind: "queue"; name: string; mustExist: boolean }
  /** Every consumer that currently listens on the topic's fanout. */
  | { kind: "fanout"; topic: string }
  /** A reply address returned by another client's replyQueue(). */
  | { kind: "reply"; address: string };

/** Where a consumer takes messages from. */
export type Source = { kind: "queue"; name: string } | { kind: "fanout"; topic: string };

/** A message as published. */
export interface OutgoingMessage {
  body: Buffer;
  /** Unique per message; kept when the transport resends it. */
  messageId: string;
  correlationId?: string;
  replyTo?: string;
  /** Kept across a broker restart (AMQP delivery mode 2). */
  persistent: boolean;
  /** Drop the message if nobody has taken it within this many ms (AMQP per-message expiration). */
  ttlMs?: number;
}

/** A message as delivered. */
export interface IncomingMessage {
  body: Buffer;
  messageId: string;
  correlationId?: string;
  replyTo?: string;
  /** The broker delivered this message before and it was not acknowledged. */
  redelivered: boolean;
}

export interface PublishOptions {
  /** Abort a publish that has not been confirmed yet (e.g. a call that timed out while the broker was down). */
  signal?: AbortSignal;
}

export interface ConsumeOptions {
  /** At most this many unacknowledged messages per source at once (AMQP basic.qos per consumer). */
  prefetch: number;
  /** A label for logs and connection names. */
  label: string;
}

/** A running consumer. */
export interface Consumer {
  /** Stop taking messages, wait for the handlers under way to finish (and be acknowledged), release the sources. */
  stop(): Promise<void>;
}

/** A message broker, reduced to what the RPC layer needs. */
export interface Transport {
  readonly kind: "memory" | "amqp";
  /** Publish; resolves once the broker holds the message (see the guarantees above). */
  publish(dest: Destination, msg: OutgoingMessage, opts?: PublishOptions): Promise<void>;
  /**
   * Consume from several sources into one handler. The message is acknowledged when the returned promise settles
   * (whether it resolves or rejects: the RPC layer reports handler errors itself).
   */
  consume(
    sources: Source[],
    handler: (msg: IncomingMessage) => Promise<void>,
    opts: ConsumeOptions,
  ): Promise<Consumer>;
  /** This client's reply address (`reply_<uuid>`), created on first use; replies sent there go to onReply. */
  replyQueue(onReply: (msg: IncomingMessage) => void): Promise<string>;
  /** Stop consumers, flush what can be flushed within the grace period, reject the rest with BusClosed. */
  close(): Promise<void>;
}
