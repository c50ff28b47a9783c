// A request to the network API of a compute test cloud (in process), as the compute networking tests send them.
import type { Res } from "../../helpers/cloud.js";
import type { ComputeCloud } from "../api/helpers.js";

/** `method` /networking/v2.0`path` with `token` (and a JSON body); the parsed answer. */
export async function netRequest(
  c: ComputeCloud,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Res> {
  const r = await c.t.cloud.app.inject({
    method: method as "GET",
    url: `/networking/v2.0${path}`,
    headers: { "x-auth-token": token, accept: "application/json", "content-type": "application/json" },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return {
    status: r.statusCode,
    headers: r.headers,
    body: r.payload ? JSON.parse(r.payload) : undefined,
    text: r.payload,
  };
}
