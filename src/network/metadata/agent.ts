// The host-side metadata agent (Neutron's metadata agent): a listener on a unix socket that the in-namespace
// proxies (ns-proxy.ts) forward guests' requests to. It reads the caller the proxy added (network id and source
// address), finds the instance by that network and fixed IP (lookup.ts), and forwards the request to the metadata
// service signed as that instance (compute's forwardToMetadata: X-Instance-ID, X-Tenant-ID, the HMAC signature,
// X-Forwarded-For). A caller no instance owns gets the metadata service's 404, never anyone else's data. The socket
// is the trust boundary: it is reachable only by root and the proxies' group (mode 0660, in a directory of its
// own made 0750 for that group).
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { forwardToMetadata, type ProxyTarget } from "../../compute/metadata/proxy.js";
import { proxiedCaller } from "./headers.js";
import type { CallerLookup } from "./lookup.js";

/** The metadata service's base URL and shared secret (the shape of startMetadata's RunningMetadata). */
export interface MetadataServiceRef {
  url: string;
  secret: string;
}

/** Where the metadata service is: fixed, or asked per request (it may start after the network agent). */
export type MetadataTargetSource = MetadataServiceRef | (() => MetadataServiceRef | undefined);

/** What the agent needs. */
export interface MetadataAgentOptions {
  /** The unix socket to listen on (replaced if a stale one is there). */
  socketPath: string;
  /** Finds the calling instance (portCallerLookup over the network database). */
  lookup: CallerLookup;
  /** The metadata service's URL and shared secret (startMetadata's RunningMetadata is one). */
  target: MetadataTargetSource;
  log: Logger;
  /** The group the in-namespace proxies run as (given the socket); undefined: root only (mode 0600). */
  proxyGid?: number;
  /** Largest request body forwarded (default 64 KiB). */
  maxBodyBytes?: number;
}

/** A running metadata agent. */
export interface MetadataAgent {
  socketPath: string;
  close(): Promise<void>;
}

class AgentError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Answer in the metadata service's own style ("<status> <message>\n", text/plain). */
function send(res: ServerResponse, status: number, contentType: string, body: Buffer): void {
  res.writeHead(status, { "content-type": contentType, "content-length": body.length });
  res.end(body);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  if (Number(req.headers["content-length"] ?? 0) > max) throw new AgentError(413, "Request is too large.");
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new AgentError(413, "Request is too large.");
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** The agent's request handler (exported for tests). */
export function metadataAgentHandler(o: MetadataAgentOptions) {
  const maxBody = o.maxBodyBytes ?? 64 * 1024;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const caller = proxiedCaller(req.headersDistinct);
    if ("error" in caller) throw new AgentError(400, `${caller.error}.`);
    const who = await o.lookup(caller.networkId, caller.address);
    if (!who) {
      o.log.debug(
        { network: caller.networkId, address: caller.address },
        "metadata: no instance has this address",
      );
      throw new AgentError(404, "The resource could not be found.");
    }
    const service = typeof o.target === "function" ? o.target() : o.target;
    if (!service) throw new AgentError(503, "The metadata service is not available yet.");
    const target: ProxyTarget = { serviceUrl: service.url, secret: service.secret };
    const body = await readBody(req, maxBody);
    const ct = req.headers["content-type"];
    const r = await forwardToMetadata(
      target,
      { ...who, address: caller.address },
      {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        ...(ct ? { contentType: ct } : {}),
        ...(body.length ? { body } : {}),
      },
    ).catch((err: unknown) => {
      o.log.warn({ err, instance: who.instanceId }, "metadata: the metadata service did not answer");
      throw new AgentError(502, "The metadata service is unavailable.");
    });
    send(res, r.status, r.contentType, r.body);
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (!(e instanceof AgentError)) o.log.error({ err: e }, "metadata: request failed");
      const status = e instanceof AgentError ? e.status : 500;
      const msg = e instanceof AgentError ? e.message : "An unknown error has occurred.";
      send(res, status, "text/plain; charset=UTF-8", Buffer.from(`${status} ${msg}\n`));
    });
  };
}

/** Start the metadata agent on its unix socket. */
export async function startMetadataAgent(o: MetadataAgentOptions): Promise<MetadataAgent> {
  const dir = dirname(o.socketPath);
  mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
  const created = !existsSync(dir);
  if (created) mkdirSync(dir, { mode: 0o750 });
  // The socket's directory is handed to the proxies' group only when it is the agent's own (never a shared one).
  if (o.proxyGid !== undefined && (created || statSync(dir).gid === o.proxyGid)) {
    chownSync(dir, process.getuid?.() ?? 0, o.proxyGid);
    chmodSync(dir, 0o750);
  } else if (o.proxyGid !== undefined && (statSync(dir).mode & 0o001) === 0)
    o.log.warn({ dir }, "metadata: the proxies' group may not reach the agent's socket in this directory");
  rmSync(o.socketPath, { force: true });
  const server = createServer(
    { maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 60_000, keepAliveTimeout: 5_000 },
    metadataAgentHandler(o),
  );
  server.maxConnections = 1024;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.socketPath, () => resolve());
  });
  if (o.proxyGid !== undefined) {
    chownSync(o.socketPath, process.getuid?.() ?? 0, o.proxyGid);
    chmodSync(o.socketPath, 0o660);
  } else chmodSync(o.socketPath, 0o600);
  return {
    socketPath: o.socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(o.socketPath, { force: true });
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
