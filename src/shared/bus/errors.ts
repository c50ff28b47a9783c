// Errors the bus raises. RemoteError and its subclasses stand for an exception raised by a remote handler: their
// `name` is the remote error's name (e.g. "InstanceNotFound"), `message` its message and `data` whatever JSON the
// remote error carried in its own `data` property. Stacks never cross the wire.

/** Base class of every bus error. */
export class BusError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A call got no reply within its timeout. */
export class RpcTimeout extends BusError {
  constructor(
    readonly topic: string,
    readonly server: string | undefined,
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(
      `no reply from ${server === undefined ? topic : `${topic}.${server}`} to ${method} within ${timeoutMs} ms`,
    );
  }
}

/** The message could not be routed: no queue exists for that topic/server (nothing has ever served it). */
export class Unroutable extends BusError {
  constructor(readonly queue: string) {
    super(`no server listens on ${queue}: nothing is serving that topic/server`);
  }
}

/** The bus was closed while the operation was pending, or is used after close(). */
export class BusClosed extends BusError {
  constructor(what = "the bus is closed") {
    super(what);
  }
}

/** The transport cannot accept more messages now (its buffer of unconfirmed publishes is full). */
export class BusUnavailable extends BusError {}

/** The shape in which a handler's exception crosses the wire. */
export interface WireError {
  name: string;
  message: string;
  data?: unknown;
}

/** An exception raised by the remote handler of a call. */
export class RemoteError extends BusError {
  /** Always true: tells remote failures from local ones. */
  readonly remote = true;
  constructor(
    name: string,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = name;
  }
}

/** The server does not implement the version the message needs. */
export class UnsupportedVersion extends RemoteError {
  constructor(message: string, data?: unknown) {
    super("UnsupportedVersion", message, data);
  }
}

/** The server's contract has no such method (or it is a cast and was called, or the reverse). */
export class NoSuchMethod extends RemoteError {
  constructor(message: string, data?: unknown) {
    super("NoSuchMethod", message, data);
  }
}

/** The arguments fail the method's schema (raised locally before sending, or by the server). */
export class InvalidArguments extends RemoteError {
  constructor(message: string, data?: unknown) {
    super("InvalidArguments", message, data);
  }
}

const KNOWN: Record<string, new (message: string, data?: unknown) => RemoteError> = {
  UnsupportedVersion,
  NoSuchMethod,
  InvalidArguments,
};

/** An error as it is sent back to a caller: name, message and the error's own JSON `data`, nothing else. */
export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const out: WireError = { name: err.name || "Error", message: err.message };
    const data = (err as { data?: unknown }).data;
    if (data !== undefined) {
      try {
        out.data = JSON.parse(JSON.stringify(data));
      } catch {
        // Data that does not serialize is dropped; name and message still go.
      }
    }
    return out;
  }
  return { name: "Error", message: typeof err === "string" ? err : (JSON.stringify(err) ?? String(err)) };
}

/** Rebuild a remote error on the caller's side (the bus's own error names get their classes). */
export function fromWire(w: WireError): RemoteError {
  const name = typeof w?.name === "string" && w.name ? w.name : "Error";
  const message = typeof w?.message === "string" ? w.message : "remote error";
  const Known = Object.hasOwn(KNOWN, name) ? KNOWN[name] : undefined;
  return Known ? new Known(message, w.data) : new RemoteError(name, message, w.data);
}
