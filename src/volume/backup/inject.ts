// Swift requests through the in-process listener (`app`), below /object-store/v1, with a service token: the shared
// stream client (which retries once with a fresh token when refused), with the answer read whole (chunks are
// bounded by the backup's chunk size).
import type { FastifyInstance } from "fastify";
import type { TokenSource } from "../../shared/client/service-client.js";
import { injectStreamClient } from "../../shared/client/stream-client.js";
import type { SwiftRequest } from "./swift.js";

/** A SwiftRequest over app.inject with `token`. */
export function injectSwift(app: () => FastifyInstance, token: TokenSource): SwiftRequest {
  const client = injectStreamClient(app, "/object-store/v1", token);
  return async (method, path, body) => {
    const r = await client.request(
      method,
      path,
      body ? { headers: { "content-type": "application/octet-stream" }, body } : {},
    );
    const parts: Buffer[] = [];
    for await (const c of r.body) parts.push(c as Buffer);
    return { status: r.status, body: Buffer.concat(parts) };
  };
}
