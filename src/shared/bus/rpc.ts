// The typed RPC layer over a Transport: call (request/reply), cast (one-way, durable), fanout (one-way to every
// server of a topic) and serve (handlers for a contract on one server). Messages are JSON envelopes carrying the
// method, the contract version they need and the arguments; replies carry the result or the handler's error.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import {
  argsProblem,
  checkName,
  defaultVersion,
  parseVersion,
  queueName,
  resolveTarget,
  versionAccepted,
  type AnyContract,
  type ArgsOf,
  type CallNames,
  type CastNames,
  type MethodSpec,
  type ResultOf,
  type Target,
} from "./contract.js";
import {
  BusClosed,
  InvalidArguments,
  NoSuchMethod,
  RpcTimeout,
  UnsupportedVersion,
  fromWire,
  toWire,
  type WireError,
} from "./errors.js";
import type { Consumer, IncomingMessage, Transport } from "./transport.js";

/** What transports' reply addresses look like (memory.ts and amqp.ts both use `reply_<uuid>`). */
const REPLY_ADDRESS = /^reply_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a message body holds. */
interface Envelope {
  /** Envelope format version. */
  stratus: 1;
  kind: "call" | "cast";
  method: string;
  /** The contract version the message needs. */
  version: string;
  args: unknown;
}

/** What a reply body holds. */
type ReplyBody = { ok: true; result: unknown } | { ok: false; error: WireError };

/** What a handler is told besides its arguments. */
export interface HandlerContext {
  topic: string;
  server: string;
  method: string;
  /** The version the message asked for. */
  version: string;
  /** The message's id (kept when a message is delivered again). */
  messageId: string;
  /** The broker delivered this message before (a consumer died before acknowledging it). */
  redelivered: boolean;
  log: Logger;
}

/** A server's handlers: one per method of the contract, typed by it. Casts return nothing. */
export type Handlers<C extends AnyContract> = {
  [K in keyof C["methods"] & string]: (
    args: ArgsOf<C, K>,
    ctx: HandlerContext,
  ) => Promise<ResultOf<C, K>> | ResultOf<C, K>;
};

export interface BusOptions {
  /** Default timeout of call() (oslo's rpc_response_timeout). Default 60 s. */
  callTimeoutMs?: number;
  /** Default prefetch of a server (unacknowledged messages per source at once). Default 32. */
  prefetch?: number;
}

export interface CallOptions {
  /** Give up with RpcTimeout after this long (default: the bus's callTimeoutMs). */
  timeoutMs?: number;
  /** Send this version instead of the method's `since` (for calls that use newer arguments). */
  version?: string;
}

export interface CastOptions {
  version?: string;
}

export interface ServeOptions {
  /**
   * The versions this server implements (default: the contract's version). A message of version X.Y is handled
   * when one of them is X.Z with Z >= Y; others are refused with UnsupportedVersion.
   */
  versions?: string[];
  /** Unacknowledged messages per source at once (default: the bus's prefetch). */
  prefetch?: number;
  /** Consume only the topic's fanout (no work queues are declared: for per-process listeners). */
  fanoutOnly?: boolean;
}

/** A running server. */
export interface ServerHandle {
  readonly topic: string;
  readonly server: string;
  /** Stop consuming; resolves once the handlers under way have finished. Messages left stay queued. */
  stop(): Promise<void>;
}

interface PendingCall {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  abort: AbortController;
}

/** The message bus: a typed RPC client and server over one transport. */
export class Bus {
  private readonly pending = new Map<string, PendingCall>();
  private replyTo: Promise<string> | null = null;
  private readonly servers = new Set<ServerHandle>();
  private closed = false;
  private readonly callTimeoutMs: number;
  private readonly prefetch: number;

  constructor(
    readonly transport: Transport,
    readonly log: Logger,
    opts: BusOptions = {},
  ) {
    this.callTimeoutMs = opts.callTimeoutMs ?? 60_000;
    this.prefetch = opts.prefetch ?? 32;
  }

  /** Call a method and wait for its result. Rejects with RemoteError (the handler's error), RpcTimeout, Unroutable. */
  async call<C extends AnyContract, K extends CallNames<C>>(
    to: C | Target<C>,
    method: K,
    args: ArgsOf<C, K>,
    opts: CallOptions = {},
  ): Promise<ResultOf<C, K>> {
    const { contract, server } = resolveTarget(to);
    const envelope = this.envelope(contract, method, "call", args, opts.version);
    const timeoutMs = opts.timeoutMs ?? this.callTimeoutMs;
    if (!(timeoutMs > 0)) throw new TypeError(`bad timeoutMs ${timeoutMs}`);
    if (!this.replyTo) {
      const created = this.transport.replyQueue((m) => this.onReply(m));
      this.replyTo = created;
      created.catch(() => {
        if (this.replyTo === created) this.replyTo = null; // try again on the next call
      });
    }
    const replyTo = await this.replyTo;
    if (this.closed) throw new BusClosed();
    const id = randomUUID();
    const abort = new AbortController();
    return new Promise<ResultOf<C, K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        const err = new RpcTimeout(contract.topic, server, method, timeoutMs);
        abort.abort(err);
        reject(err);
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, abort });
      this.transport
        .publish(
          { kind: "queue", name: queueName(contract.topic, server), mustExist: true },
          {
            body: Buffer.from(JSON.stringify(envelope)),
            messageId: id,
            correlationId: id,
            replyTo,
            persistent: false,
            ttlMs: timeoutMs,
          },
          { signal: abort.signal },
        )
        .catch((err) => this.settle(id, err, true));
    });
  }

  /** Send a one-way message to one server of the topic (or the named server). Resolves once the bus holds it. */
  async cast<C extends AnyContract, K extends CastNames<C>>(
    to: C | Target<C>,
    method: K,
    args: ArgsOf<C, K>,
    opts: CastOptions = {},
  ): Promise<void> {
    const { contract, server } = resolveTarget(to);
    const envelope = this.envelope(contract, method, "cast", args, opts.version);
    await this.transport.publish(
      { kind: "queue", name: queueName(contract.topic, server), mustExist: false },
      { body: Buffer.from(JSON.stringify(envelope)), messageId: randomUUID(), persistent: true },
    );
  }

  /** Send a one-way message to every server of the topic listening now (e.g. all compute agents). */
  async fanout<C extends AnyContract, K extends CastNames<C>>(
    contract: C,
    method: K,
    args: ArgsOf<C, K>,
    opts: CastOptions = {},
  ): Promise<void> {
    const envelope = this.envelope(contract, method, "cast", args, opts.version);
    await this.transport.publish(
      { kind: "fanout", topic: contract.topic },
      { body: Buffer.from(JSON.stringify(envelope)), messageId: randomUUID(), persistent: false },
    );
  }

  /**
   * Serve a contract as `server` (a host name): consume the topic's shared queue, the server's own queue
   * (`topic.server`) and the topic's fanout. Resolves once consuming.
   */
  async serve<C extends AnyContract>(
    contract: C,
    server: string,
    handlers: Handlers<C>,
    opts: ServeOptions = {},
  ): Promise<ServerHandle> {
    if (this.closed) throw new BusClosed();
    checkName("server", server);
    const versions = opts.versions ?? [contract.version];
    for (const v of versions) parseVersion(v);
    for (const name of Object.keys(contract.methods))
      if (typeof (handlers as Record<string, unknown>)[name] !== "function")
        throw new TypeError(`serve ${contract.topic}: no handler for ${name}`);
    const topic = contract.topic;
    const label = `${topic}.${server}`;
    const log = this.log.child({ topic, server });
    const consumer: Consumer = await this.transport.consume(
      opts.fanoutOnly
        ? [{ kind: "fanout", topic }]
        : [
            { kind: "queue", name: topic },
            { kind: "queue", name: queueName(topic, server) },
            { kind: "fanout", topic },
          ],
      (msg) => this.dispatch(contract, server, versions, handlers, log, msg),
      { prefetch: opts.prefetch ?? this.prefetch, label },
    );
    let stopping: Promise<void> | null = null;
    const handle: ServerHandle = {
      topic,
      server,
      stop: () => {
        stopping ??= consumer.stop().finally(() => this.servers.delete(handle));
        return stopping;
      },
    };
    this.servers.add(handle);
    return handle;
  }

  /**
   * Fail pending calls with BusClosed, then close the transport: it stops every server (waiting for the handlers
   * under way and flushing unconfirmed publishes within its grace period) and disconnects.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, new BusClosed(), true);
    await this.transport.close();
    this.servers.clear();
  }

  private envelope(
    contract: AnyContract,
    method: string,
    kind: "call" | "cast",
    args: unknown,
    version: string | undefined,
  ): Envelope {
    if (this.closed) throw new BusClosed();
    const spec: MethodSpec | undefined = Object.hasOwn(contract.methods, method)
      ? contract.methods[method]
      : undefined;
    if (!spec || spec.kind !== kind)
      throw new TypeError(`${contract.topic} ${contract.version} has no ${kind} named ${method}`);
    const problem = argsProblem(spec, args);
    if (problem) throw new InvalidArguments(`${contract.topic}.${method}: ${problem}`);
    const v = version ?? defaultVersion(contract, method);
    parseVersion(v);
    return { stratus: 1, kind, method, version: v, args: args === undefined ? null : args };
  }

  private settle(id: string, err: unknown, isError: boolean, result?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (isError) {
      p.abort.abort(err);
      p.reject(err);
    } else p.resolve(result);
  }

  private onReply(m: IncomingMessage): void {
    const id = m.correlationId;
    if (!id || !this.pending.has(id)) {
      this.log.debug({ correlationId: id }, "bus: reply to no pending call (timed out?) dropped");
      return;
    }
    let body: ReplyBody;
    try {
      body = JSON.parse(m.body.toString("utf8")) as ReplyBody;
    } catch (err) {
      this.settle(id, new Error(`bad reply: ${(err as Error).message}`), true);
      return;
    }
    if (body.ok) this.settle(id, null, false, body.result);
    else this.settle(id, fromWire(body.error), true);
  }

  /** Handle one delivered message: check it, run the handler, reply to calls, log failed casts. Never throws. */
  private async dispatch(
    contract: AnyContract,
    server: string,
    versions: readonly string[],
    handlers: Record<string, (args: any, ctx: HandlerContext) => unknown>,
    log: Logger,
    msg: IncomingMessage,
  ): Promise<void> {
    let env: Envelope;
    try {
      env = JSON.parse(msg.body.toString("utf8")) as Envelope;
      if (env?.stratus !== 1 || typeof env.method !== "string" || typeof env.version !== "string")
        throw new Error("not a stratus bus envelope");
    } catch (err) {
      log.error({ err, messageId: msg.messageId }, "bus: undecodable message dropped");
      if (msg.replyTo && msg.correlationId)
        await this.reply(
          msg,
          { ok: false, error: toWire(new InvalidArguments(`undecodable message: ${err}`)) },
          log,
        );
      return;
    }
    const { method, version } = env;
    const isCall = env.kind === "call";
    let outcome: ReplyBody;
    try {
      const result = await this.run(contract, server, versions, handlers, log, msg, env);
      outcome = { ok: true, result: result === undefined ? null : result };
    } catch (err) {
      outcome = { ok: false, error: toWire(err) };
      if (isCall) log.info({ err, method, version }, "bus: call handler raised; sending the error back");
      else
        log.error(
          { err, method, version, messageId: msg.messageId, redelivered: msg.redelivered },
          "bus: cast handler failed; message dropped",
        );
    }
    if (isCall) await this.reply(msg, outcome, log);
  }

  private async run(
    contract: AnyContract,
    server: string,
    versions: readonly string[],
    handlers: Record<string, (args: any, ctx: HandlerContext) => unknown>,
    log: Logger,
    msg: IncomingMessage,
    env: Envelope,
  ): Promise<unknown> {
    const { method, version } = env;
    let ok = false;
    try {
      ok = versionAccepted(version, versions);
    } catch {
      ok = false;
    }
    if (!ok)
      throw new UnsupportedVersion(
        `${contract.topic} server ${server} implements version ${versions.join(", ")}; ${method} needs ${version}`,
        { topic: contract.topic, method, wanted: version, supported: versions },
      );
    const spec = Object.hasOwn(contract.methods, method) ? contract.methods[method] : undefined;
    if (!spec || spec.kind !== env.kind)
      throw new NoSuchMethod(
        `${contract.topic} server ${server} (version ${versions.join(", ")}) has no ${env.kind} named ${method}`,
      );
    const problem = argsProblem(spec, env.args);
    if (problem) throw new InvalidArguments(`${contract.topic}.${method}: ${problem}`);
    const ctx: HandlerContext = {
      topic: contract.topic,
      server,
      method,
      version,
      messageId: msg.messageId,
      redelivered: msg.redelivered,
      log,
    };
    return await handlers[method](env.args, ctx);
  }

  private async reply(msg: IncomingMessage, body: ReplyBody, log: Logger): Promise<void> {
    if (!msg.replyTo || !msg.correlationId || !REPLY_ADDRESS.test(msg.replyTo)) {
      // Only reply queues are reply addresses: a reply never lands in a work queue, whatever the caller says.
      log.warn(
        { messageId: msg.messageId, replyTo: msg.replyTo },
        "bus: call without a valid reply address; result dropped",
      );
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(body);
    } catch (err) {
      text = JSON.stringify({ ok: false, error: toWire(new Error(`result is not JSON: ${err}`)) });
    }
    try {
      await this.transport.publish(
        { kind: "reply", address: msg.replyTo },
        {
          body: Buffer.from(text),
          messageId: randomUUID(),
          correlationId: msg.correlationId,
          persistent: false,
        },
      );
    } catch (err) {
      log.warn({ err, correlationId: msg.correlationId }, "bus: sending a reply failed");
    }
  }
}
