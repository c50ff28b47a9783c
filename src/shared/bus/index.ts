// The message bus: typed RPC between the control-plane services (API → conductor → scheduler → compute agent),
// in process by default or over RabbitMQ. See rpc.ts for the API, contract.ts for contracts, transport.ts for
// what a transport guarantees.
//
//   const bus = await createBus(config.bus, log);            // "memory", "memory://name" or "amqp://..."
//   const server = await bus.serve(compute, "host1", handlers);
//   await bus.cast(target(compute, "host1"), "build_instance", { instanceId });
//   const { url } = await bus.call(compute, "get_console", { instanceId }, { timeoutMs: 10_000 });
//   await bus.close();
import type { Logger } from "pino";
import type { AmqpOptions } from "./amqp.js";
import { MemoryTransport } from "./memory.js";
import { Bus, type BusOptions } from "./rpc.js";

export * from "./contract.js";
export * from "./errors.js";
export { Bus } from "./rpc.js";
export type {
  BusOptions,
  CallOptions,
  CastOptions,
  HandlerContext,
  Handlers,
  ServeOptions,
  ServerHandle,
} from "./rpc.js";
export type { AmqpOptions } from "./amqp.js";
export type { Transport } from "./transport.js";
export { MemoryTransport } from "./memory.js";

/** Options of createBus: the RPC layer's and, for amqp:// URLs, the AMQP transport's. */
export interface CreateBusOptions extends BusOptions {
  amqp?: AmqpOptions;
}

/**
 * Open the bus a URL names: "memory" (a private in-process broker), "memory://NAME" (the in-process broker NAME,
 * shared by every bus of this process that names it) or "amqp://user:pass@host:port/vhost" (RabbitMQ; "amqps://"
 * for TLS). For AMQP it resolves once connected (retrying for amqp.connectTimeoutMs) and rejects with
 * BusUnavailable otherwise.
 */
export async function createBus(url: string, log: Logger, opts: CreateBusOptions = {}): Promise<Bus> {
  if (url === "memory" || url === "memory:" || url === "memory://")
    return new Bus(new MemoryTransport(log), log, opts);
  const mem = /^memory:\/\/([A-Za-z0-9_.-]+)$/.exec(url);
  if (mem) return new Bus(new MemoryTransport(log, mem[1]), log, opts);
  if (/^amqps?:\/\//.test(url)) {
    // Loaded on demand: the default in-process bus never loads amqplib.
    const { AmqpTransport } = await import("./amqp.js");
    const transport = new AmqpTransport(url, log, opts.amqp);
    await transport.start();
    return new Bus(transport, log, opts);
  }
  throw new TypeError(
    `Unsupported bus URL "${url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")}": use memory, memory://NAME or amqp://user:pass@host:port/vhost`,
  );
}
