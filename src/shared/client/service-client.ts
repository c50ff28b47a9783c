// How one service calls another's public REST API: the same requests a remote client would send, either over
// HTTP or, inside one process, through the shared listener without a socket (fastify inject). Either way the call
// passes the target service's auth, policy and validation.
import type { FastifyInstance } from "fastify";

/** A response as a service client sees it. */
export interface ClientResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the response is JSON, else the text. */
  body: any;
}

export interface ClientRequest {
  body?: unknown;
  headers?: Record<string, string>;
  /** Send as this user's token instead of the client's own (requests made on a user's behalf). */
  token?: string;
}

/** A client of one service's API below its base path (e.g. "/placement"). */
export interface ServiceClient {
  request(method: string, path: string, req?: ClientRequest): Promise<ClientResponse>;
}

/** Where a client gets its own token (a service user's, refreshed before expiry); `reset` drops a refused one. */
export type TokenSource = (() => Promise<string>) & { reset?: (token: string) => void };

/**
 * Send with the client's own token, and once more with a fresh one when it is refused (401): a service user's
 * token may have been revoked (a password change, a revocation recorded by another process) before it expired.
 */
async function withOwnToken(
  req: ClientRequest,
  token: TokenSource | undefined,
  send: (tok: string | undefined) => Promise<ClientResponse>,
): Promise<ClientResponse> {
  if (req.token !== undefined || !token) return send(req.token);
  const tok = await token();
  const res = await send(tok);
  if (res.status !== 401 || !token.reset) return res;
  token.reset(tok);
  return send(await token());
}

function parse(text: string, contentType: string | undefined): unknown {
  if (contentType?.includes("json") && text !== "") {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A client that calls `base` (a path prefix such as /placement) through a fastify app in this process. */
export function injectClient(app: () => FastifyInstance, base: string, token?: TokenSource): ServiceClient {
  return {
    request: (method, path, req = {}) =>
      withOwnToken(req, token, async (tok) => {
        const res = await app().inject({
          method: method as "GET",
          url: base + path,
          headers: headersFor(req, tok),
          payload: req.body === undefined ? undefined : JSON.stringify(req.body),
        });
        return {
          status: res.statusCode,
          headers: res.headers as Record<string, string | string[] | undefined>,
          body: parse(res.body, res.headers["content-type"] as string | undefined),
        };
      }),
  };
}

/** A client over HTTP to `baseUrl` (e.g. http://controller:8080/placement). */
export function httpClient(baseUrl: string, token?: TokenSource): ServiceClient {
  return {
    request: (method, path, req = {}) =>
      withOwnToken(req, token, async (tok) => {
        const res = await fetch(baseUrl + path, {
          method,
          headers: headersFor(req, tok),
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
        });
        const text = await res.text();
        const h: Record<string, string> = {};
        res.headers.forEach((v, k) => (h[k] = v));
        return { status: res.status, headers: h, body: parse(text, h["content-type"]) };
      }),
  };
}

function headersFor(req: ClientRequest, tok: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: "application/json", ...req.headers };
  if (tok) headers["x-auth-token"] = tok;
  if (req.body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  return headers;
}

/**
 * A token source for a user with a password, scoped to a project (Keystone password auth through `identity`,
 * a client of /identity). The token is reused until five minutes before it expires or until it is refused.
 */
export function passwordTokenSource(
  identity: ServiceClient,
  creds: { user: string; password: string; project: string; domain?: string; system?: boolean },
): TokenSource {
  let cached: { token: string; expires: number } | null = null;
  let pending: Promise<string> | null = null;
  const domain = { id: creds.domain ?? "default" };
  const fetchToken = async (): Promise<string> => {
    const res = await identity.request("POST", "/v3/auth/tokens?nocatalog", {
      body: {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: creds.user, domain, password: creds.password } },
          },
          scope: creds.system ? { system: { all: true } } : { project: { name: creds.project, domain } },
        },
      },
    });
    const token = res.headers["x-subject-token"];
    if (res.status !== 201 || typeof token !== "string")
      throw new Error(`service user ${creds.user} could not authenticate: HTTP ${res.status}`);
    const expires = Date.parse((res.body as { token: { expires_at: string } }).token.expires_at);
    cached = { token, expires };
    return token;
  };
  const source: TokenSource = async () => {
    if (cached && cached.expires - Date.now() > 5 * 60_000) return cached.token;
    pending ??= fetchToken().finally(() => (pending = null));
    return pending;
  };
  source.reset = (token) => {
    if (cached?.token === token) cached = null;
  };
  return source;
}

/** An error for an unexpected response from another service, naming the call and what came back. */
export class ServiceCallError extends Error {
  constructor(
    readonly service: string,
    readonly method: string,
    readonly path: string,
    readonly res: ClientResponse,
  ) {
    super(
      `${service} ${method} ${path} failed: HTTP ${res.status} ${typeof res.body === "string" ? res.body.slice(0, 300) : JSON.stringify(res.body).slice(0, 300)}`,
    );
  }
}
