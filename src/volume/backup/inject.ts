// Swift requests through the in-process listener (`app`), below /object-store/v1, with a service token (retried
// once with a fresh token when refused, as the other service clients do).
import type { FastifyInstance } from "fastify";
import type { TokenSource } from "../../shared/client/service-client.js";
import type { SwiftRequest } from "./swift.js";

/** A SwiftRequest over app.inject with `token`. */
export function injectSwift(app: () => FastifyInstance, token: TokenSource): SwiftRequest {
  const send = async (method: string, path: string, tok: string, body?: Buffer) => {
    const r = await app().inject({
      method: method as "GET",
      url: `/object-store/v1${path}`,
      headers: {
        "x-auth-token": tok,
        ...(body ? { "content-type": "application/octet-stream" } : {}),
      },
      ...(body ? { payload: body } : {}),
    });
    return { status: r.statusCode, body: r.rawPayload };
  };
  return async (method, path, body) => {
    const tok = await token();
    const r = await send(method, path, tok, body);
    if (r.status !== 401 || !token.reset) return r;
    token.reset(tok);
    return send(method, path, await token(), body);
  };
}
