// Requests Node's HTTP parser refuses before fastify sees them (oversized headers or URL, a body shorter than its
// Content-Length, a request timeout): answered in the error format of the service the URL names, not fastify's own.
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { ApiError, STATUS_TITLES } from "./errors.js";
import { requestIdHeaders, type ServiceApi } from "./service.js";

/** The service mounted at a path (its prefix or below), if any. */
export function serviceFor(services: readonly ServiceApi[], path: string): ServiceApi | undefined {
  return services.find((s) => path === s.prefix || path.startsWith(`${s.prefix}/`));
}

/** The error body for a path no service owns (Keystone's shape, as the root's 404 uses). */
export function rootError(err: ApiError): { body: unknown; contentType?: string } {
  return {
    body: { error: { code: err.status, title: STATUS_TITLES[err.status] ?? "Error", message: err.message } },
  };
}

/** What the parser's error means to the client. */
function clientApiError(code: string | undefined): ApiError {
  if (code === "HPE_HEADER_OVERFLOW")
    return new ApiError(431, "The request's headers (or its URL) are larger than this server accepts.");
  if (code === "ERR_HTTP_REQUEST_TIMEOUT")
    return new ApiError(408, "The request was not received completely in time.");
  if (code === "HPE_INVALID_EOF_STATE")
    return new ApiError(400, "The request body is shorter than its Content-Length.");
  return new ApiError(400, "The request could not be parsed as HTTP.");
}

/** The request line's path: from the request Node already parsed, else from the bytes that failed to parse. */
function pathOf(err: { rawPacket?: unknown }, socket: Socket): string {
  const pending = (socket as unknown as { _httpMessage?: { req?: { url?: string } } })._httpMessage?.req?.url;
  if (typeof pending === "string") return pending.split("?")[0];
  const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, 4096).toString("latin1") : "";
  const line = raw.split("\r\n", 1)[0];
  return (line.split(" ")[1] ?? "").split("?")[0];
}

/** A fastify clientErrorHandler that renders each refusal through the owning service's error formatter. */
export function clientErrorHandler(
  services: readonly ServiceApi[],
): (err: Error & { code?: string; rawPacket?: unknown }, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    const pending = (socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (pending?.headersSent || !socket.writable) return void socket.destroy();
    const api = clientApiError(err.code);
    const svc = serviceFor(services, pathOf(err, socket));
    const id = `req-${randomUUID()}`;
    const { body, contentType } = svc ? svc.formatError(api, id, {}) : rootError(api);
    const text = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8");
    const head = [
      `HTTP/1.1 ${api.status} ${STATUS_TITLES[api.status] ?? "Error"}`,
      `Content-Type: ${contentType ?? "application/json"}`,
      `Content-Length: ${bytes.length}`,
      "Connection: close",
      ...requestIdHeaders(svc, id).map(([h, v]) => `${h}: ${v}`),
    ];
    socket.end(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"), bytes]));
  };
}
