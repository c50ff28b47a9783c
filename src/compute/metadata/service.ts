// The metadata service (nova-api-metadata) on its own loopback listener in the control plane: the OpenStack
// (/openstack/...) and EC2 (/<version>/meta-data/...) trees and /openstack/<v>/password. The caller is named only
// by a proxy's signed X-Instance-ID (signing.ts), never by an id the guest could guess or forge.
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { lookup } from "./documents.js";
import { PASSWORD_MAX_BYTES, setPasswordOnce } from "./password.js";
import {
  FORWARDED_FOR_HEADER,
  INSTANCE_ID_HEADER,
  SIGNATURE_HEADER,
  TENANT_ID_HEADER,
  verifyInstanceId,
} from "./signing.js";
import { loadSource, type NetworkInfoProvider } from "./source.js";
import { DEFAULT_DHCP_DOMAIN, type MetadataOptions } from "./types.js";
import { EC2_VERSIONS } from "./versions.js";

/** What the metadata service needs. */
export interface MetadataServiceOptions {
  /** Compute's tables. */
  db: Kysely<any>;
  log: Logger;
  /** The secret shared with the metadata proxies (Neutron's metadata_proxy_shared_secret). */
  secret: string;
  /** Listen address (default 127.0.0.1) and port (default 0: any free one). */
  host?: string;
  port?: number;
  /** Nova's [api]dhcp_domain (default "novalocal"). */
  dhcpDomain?: string;
  /** Static vendor data (default {}). */
  vendorData?: Record<string, unknown>;
  networkInfo?: NetworkInfoProvider;
}

/** A running metadata service. */
export interface MetadataService {
  /** Base URL, e.g. http://127.0.0.1:40123. */
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = "text/plain", head = false) {
  const buf = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { "content-type": `${type}; charset=UTF-8`, "content-length": buf.length });
  res.end(head ? undefined : buf);
}

/** One header's single value; 400 when it is missing or repeated (Nova's checks, in its order). */
function oneHeader(req: IncomingMessage, name: string, label: string): string {
  const values = req.headersDistinct[name];
  if (!values || values.length === 0) throw new HttpError(400, `${label} header is missing from request.`);
  if (values.length > 1) throw new HttpError(400, `Multiple ${label} headers found within request.`);
  return values[0]!;
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > max) throw new HttpError(400, "Request is too large.");
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new HttpError(400, "Request is too large.");
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** The request handler of the metadata service (exported for tests and other listeners). */
export function metadataRequestHandler(o: MetadataServiceOptions): RequestListener {
  const base: MetadataOptions = {
    dhcpDomain: o.dhcpDomain ?? DEFAULT_DHCP_DOMAIN,
    vendorData: o.vendorData ?? {},
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === "HEAD";
    // The path as sent (not URL-parsed: "//latest/..." is a path here, not a host), percent-decoded as webob does.
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    } catch {
      throw new HttpError(400, "The request path is not valid.");
    }
    if (path.split("/").every((t) => t === "" || t === "."))
      return send(res, 200, [...EC2_VERSIONS, "latest"].join("\n"), "text/plain", head);
    const instanceId = oneHeader(req, INSTANCE_ID_HEADER, "X-Instance-ID");
    const signature = oneHeader(req, SIGNATURE_HEADER, "X-Instance-ID-Signature");
    const tenantId = oneHeader(req, TENANT_ID_HEADER, "X-Tenant-ID");
    if (!verifyInstanceId(o.secret, instanceId, signature)) {
      o.log.warn({ instance: instanceId.slice(0, 64) }, "metadata: X-Instance-ID-Signature does not match");
      throw new HttpError(403, "Invalid proxy request signature.");
    }
    const src = await loadSource(o.db, instanceId, o.networkInfo);
    if (!src || src.projectId !== tenantId) {
      if (src)
        o.log.warn({ instance: instanceId }, "metadata: X-Tenant-ID does not match the instance's project");
      throw new HttpError(404, "The resource could not be found.");
    }
    const forwarded = req.headers[FORWARDED_FOR_HEADER];
    const address = typeof forwarded === "string" ? forwarded.split(",")[0]!.trim() : null;
    const found = lookup(src, path, { ...base, address });
    if (found.kind === "not-found") throw new HttpError(404, "The resource could not be found.");
    if (found.kind === "data") return send(res, 200, found.body, found.contentType, head);
    if (req.method === "GET" || head) return send(res, 200, src.password ?? "", "text/plain", head);
    if (req.method !== "POST") throw new HttpError(400, "GET and POST only are supported.");
    if (src.password) throw new HttpError(409, "There was a conflict when trying to complete your request.");
    const body = await readBody(req, PASSWORD_MAX_BYTES);
    const result = await setPasswordOnce(o.db, src.uuid, body.toString("utf8"));
    if (result === "conflict")
      throw new HttpError(409, "There was a conflict when trying to complete your request.");
    if (result === "not-found") throw new HttpError(400, `Instance ${src.uuid} could not be found.`);
    return send(res, 200, "");
  };
  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof HttpError) return send(res, e.status, `${e.status} ${e.message}\n`);
      o.log.error({ err: e }, "metadata: request failed");
      send(res, 500, "An unknown error has occurred. Please try your request again.\n");
    });
  };
}

/** Start the metadata service on its own listener (loopback by default; not the public API listener). */
export async function startMetadataService(o: MetadataServiceOptions): Promise<MetadataService> {
  const server = createServer({ maxHeaderSize: 16 * 1024 }, metadataRequestHandler(o));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
