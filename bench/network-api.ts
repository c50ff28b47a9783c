// The network benchmark's client of the Networking API: an admin token of the bench cloud, its project id, and
// JSON calls on /networking/v2.0 through a keep-alive pool.
import type { Pool } from "undici";
import { adminToken, type BenchCloud } from "./lib.js";

/** Networking API calls as the bench cloud's admin. */
export class NetworkApi {
  private constructor(
    private readonly http: Pool,
    readonly token: string,
    readonly projectId: string,
  ) {}

  /** An admin session on `cloud`, calling through `http` (a pool on cloud.url). */
  static async connect(cloud: BenchCloud, http: Pool): Promise<NetworkApi> {
    const token = await adminToken(cloud);
    const r = await http.request({
      method: "GET",
      path: "/identity/v3/auth/tokens?nocatalog",
      headers: { "x-auth-token": token, "x-subject-token": token },
    });
    const body = (await r.body.json()) as { token?: { project?: { id?: string } } };
    const projectId = body.token?.project?.id;
    if (r.statusCode !== 200 || !projectId) throw new Error(`token validation failed: HTTP ${r.statusCode}`);
    return new NetworkApi(http, token, projectId);
  }

  /** One request with a JSON body already serialized; the parsed answer, or null when the status is not `want`. */
  async request(method: string, path: string, body: string | undefined, want: number): Promise<any> {
    const r = await this.http.request({
      method,
      path: `/networking/v2.0${path}`,
      headers: {
        "x-auth-token": this.token,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body,
    });
    if (r.statusCode !== want) {
      await r.body.dump();
      return null;
    }
    return r.statusCode === 204 ? {} : r.body.json();
  }

  /** One request that must answer `want`: the parsed answer, or an error naming the call and the answer. */
  async call(method: string, path: string, body: unknown, want: number): Promise<any> {
    const r = await this.http.request({
      method,
      path: `/networking/v2.0${path}`,
      headers: {
        "x-auth-token": this.token,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.body.text();
    if (r.statusCode !== want)
      throw new Error(`${method} ${path}: HTTP ${r.statusCode} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  }
}
