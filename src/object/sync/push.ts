// One container sync request to a target cluster over HTTP(S): redirects are not followed, the body (an object's
// data) streams from the store, the answer's body is drained, and a request that hangs is cut off.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";

/** What a sync request got back. */
export interface PushResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** Send `method` to `url` with `headers` (and a body stream); rejects on network errors and after `timeoutMs`. */
export function send(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Readable | undefined,
  timeoutMs: number,
): Promise<PushResult> {
  const u = new URL(url);
  const request = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { method, headers, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`container sync: ${method} ${u.host} timed out`)));
    req.on("error", (e) => {
      body?.destroy();
      reject(e);
    });
    if (!body) {
      req.end();
      return;
    }
    body.on("error", (e) => req.destroy(e));
    body.pipe(req);
  });
}
