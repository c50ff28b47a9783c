// A service client for byte streams (object and image data): request and response bodies flow as streams with
// backpressure, so a service can move gigabytes through another's public API with constant memory. In one process
// it goes through the shared listener without a socket (fastify inject with a streamed payload and response).
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { TokenSource } from "./service-client.js";

/** A response whose body is a stream (always consume or destroy it). */
export interface StreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

/** What a streamed request carries. */
export interface StreamRequest {
  headers?: Record<string, string>;
  /** A stream is sent chunked; a buffer or string with its length. */
  body?: Readable | Buffer | string;
}

/** A client of one service's API below its base path whose bodies are streams. */
export interface StreamClient {
  request(method: string, path: string, req?: StreamRequest): Promise<StreamResponse>;
}

/** Read a (small) response body as text: for error messages and JSON answers. */
export async function bodyText(res: StreamResponse, max = 64 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    const b = c as Buffer;
    if (n < max) parts.push(b.subarray(0, max - n));
    n += b.length;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** A stream client calling `base` (e.g. /object-store/v1) through a fastify app in this process, with `token`. */
export function injectStreamClient(
  app: () => FastifyInstance,
  base: string,
  token: TokenSource,
): StreamClient {
  const send = async (method: string, path: string, req: StreamRequest, tok: string) => {
    const headers: Record<string, string> = { ...req.headers, "x-auth-token": tok };
    if (req.body instanceof Readable) headers["transfer-encoding"] = "chunked";
    else if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
    const res = await app().inject({
      method: method as "GET",
      url: base + path,
      headers,
      payloadAsStream: true,
      ...(req.body !== undefined ? { payload: req.body } : {}),
    });
    return {
      status: res.statusCode,
      headers: res.headers as Record<string, string | string[] | undefined>,
      body: res.stream(),
    };
  };
  return {
    async request(method, path, req = {}) {
      const tok = await token();
      const res = await send(method, path, req, tok);
      // A refused token (revoked before it expired) is replaced once, when the body can be sent again.
      if (res.status !== 401 || !token.reset || req.body instanceof Readable) return res;
      res.body.resume();
      token.reset(tok);
      return send(method, path, req, await token());
    },
  };
}
