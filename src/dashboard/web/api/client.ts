// The dashboard's one HTTP client: finds each service in the session's catalog, sends the token and a pinned
// microversion per call, and throws ApiError with the service's own message when a call is refused.
import { ApiError, toApiError } from "./errors.js";
import type { Session, Transport } from "./session.js";

/** The microversions the dashboard is written against, pinned on every call to these services. */
export const MICROVERSIONS: ReadonlyMap<string, string> = new Map([
  ["compute", "compute 2.79"],
  ["placement", "placement 1.39"],
  ["block-storage", "volume 3.59"],
]);

/** Options of one call. */
export interface CallOptions {
  method?: string;
  /** Sent as JSON unless it is a Blob/ArrayBuffer/string (then as is, with `contentType`). */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Expect no JSON body (e.g. 202/204). */
  raw?: boolean;
}

/** The path part of a catalog URL (the dashboard calls its own origin, whatever public URL the catalog names). */
export function endpointPath(url: string): string {
  try {
    return new URL(url).pathname.replace(/\/+$/, "");
  } catch {
    return url.replace(/\/+$/, "");
  }
}

/** A typed client over one session. `onUnauthorized` runs when the token is refused (expired or revoked). */
export class Api {
  constructor(
    readonly session: Session,
    readonly transport: Transport,
    private readonly onUnauthorized: () => void = () => {},
  ) {}

  /** The base path of a service type in the catalog; throws when the cloud has no such service. */
  endpoint(type: string): string {
    const ep = this.session.catalog.find((e) => e.type === type);
    if (!ep) throw new ApiError(0, `The catalog has no ${type} service.`, type);
    return endpointPath(ep.url);
  }

  /** Whether the catalog lists this service type. */
  has(type: string): boolean {
    return this.session.catalog.some((e) => e.type === type);
  }

  /** The full URL of `path` on a service, and the headers a call to it carries (token, microversion). */
  prepare(
    service: string,
    path: string,
    extra: Record<string, string> = {},
  ): { url: string; headers: Record<string, string> } {
    const headers: Record<string, string> = {
      accept: "application/json",
      "x-auth-token": this.session.token,
      ...extra,
    };
    const mv = MICROVERSIONS.get(service);
    if (mv) headers["openstack-api-version"] = mv;
    return { url: `${this.transport.baseUrl}${this.endpoint(service)}${path}`, headers };
  }

  /** Call a service; resolves with the parsed JSON body (or undefined for empty/raw answers). */
  async call<T = any>(service: string, path: string, o: CallOptions = {}): Promise<T> {
    return (await this.withHeaders<T>(service, path, o)).body;
  }

  /** Call a service; resolves with the parsed JSON body and the answer's headers (e.g. Swift's counts). */
  async withHeaders<T = any>(
    service: string,
    path: string,
    o: CallOptions = {},
  ): Promise<{ body: T; headers: Headers }> {
    const { url, headers } = this.prepare(service, path, o.headers);
    let body: RequestInit["body"];
    if (o.body !== undefined) {
      const plain =
        typeof o.body === "string" ||
        o.body instanceof ArrayBuffer ||
        (typeof Blob !== "undefined" && o.body instanceof Blob);
      headers["content-type"] = o.contentType ?? (plain ? "application/octet-stream" : "application/json");
      body = plain ? (o.body as RequestInit["body"]) : JSON.stringify(o.body);
    }
    const res = await this.transport.fetch(url, { method: o.method ?? "GET", headers, body });
    if (res.status === 401) {
      this.onUnauthorized();
      throw await toApiError(res, service);
    }
    if (!res.ok) throw await toApiError(res, service);
    if (o.raw || res.status === 204) return { body: undefined as T, headers: res.headers };
    const text = await res.text();
    return { body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
  }

  /** GET a service path. */
  get<T = any>(service: string, path: string): Promise<T> {
    return this.call<T>(service, path);
  }

  /** POST JSON to a service path. */
  post<T = any>(service: string, path: string, body: unknown): Promise<T> {
    return this.call<T>(service, path, { method: "POST", body });
  }

  /** PUT JSON to a service path. */
  put<T = any>(service: string, path: string, body: unknown): Promise<T> {
    return this.call<T>(service, path, { method: "PUT", body });
  }

  /** DELETE a service path. */
  del(service: string, path: string): Promise<void> {
    return this.call<void>(service, path, { method: "DELETE", raw: true });
  }
}
