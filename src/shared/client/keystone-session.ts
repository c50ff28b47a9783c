// A service user's session with a remote Keystone (what keystoneauth gives nova-compute): password authentication
// over HTTP for a project-scoped token, refreshed five minutes before it expires or when refused, and the endpoints
// of the token's service catalog. Used by processes that run apart from the control plane (`stratus agent compute`).
import type { TokenSource } from "./service-client.js";

/** Keystone password credentials, as nova.conf's keystoneauth options name them. */
export interface KeystoneCredentials {
  /** Identity's v3 base URL, e.g. http://controller:8080/identity/v3. */
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  /** Catalog region (default: any). */
  region?: string;
  /** Catalog interface (default public). */
  interface?: "public" | "internal" | "admin";
}

/** A failure to authenticate or to find an endpoint, in one line that says what to fix. */
export class KeystoneSessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeystoneSessionError";
  }
}

/** A token source and the catalog of its tokens. */
export interface KeystoneSession {
  token: TokenSource;
  /** The URL of the service of `type` in the catalog (no trailing slash); KeystoneSessionError when absent. */
  endpoint(type: string): Promise<string>;
}

/** One token's state: the token, when it expires (ms) and its catalog. */
interface Authenticated {
  token: string;
  expires: number;
  catalog: CatalogEntry[];
}

interface CatalogEntry {
  type?: string;
  endpoints?: Array<{ interface?: string; region?: string; region_id?: string; url?: string }>;
}

/** A session for `creds`; nothing is sent until a token or an endpoint is asked for. */
export function keystoneSession(creds: KeystoneCredentials): KeystoneSession {
  const authUrl = creds.authUrl.replace(/\/+$/, "");
  let cached: Authenticated | null = null;
  let pending: Promise<Authenticated> | null = null;
  const authenticate = async (): Promise<Authenticated> => {
    const body = {
      auth: {
        identity: {
          methods: ["password"],
          password: {
            user: { name: creds.username, domain: { name: creds.userDomainName }, password: creds.password },
          },
        },
        scope: { project: { name: creds.projectName, domain: { name: creds.projectDomainName } } },
      },
    };
    let res: Response;
    try {
      res = await fetch(`${authUrl}/auth/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      throw new KeystoneSessionError(`cannot reach identity at ${authUrl}: ${(e as Error).message}`);
    }
    const text = await res.text();
    const token = res.headers.get("x-subject-token");
    if (res.status !== 201 || !token)
      throw new KeystoneSessionError(
        `identity at ${authUrl} refused ${creds.username} (project ${creds.projectName}): HTTP ${res.status} ${text.slice(0, 200)}`,
      );
    const t = (JSON.parse(text) as { token: { expires_at: string; catalog?: CatalogEntry[] } }).token;
    const auth: Authenticated = { token, expires: Date.parse(t.expires_at), catalog: t.catalog ?? [] };
    cached = auth;
    return auth;
  };
  const current = async (): Promise<Authenticated> => {
    if (cached && cached.expires - Date.now() > 5 * 60_000) return cached;
    pending ??= authenticate().finally(() => (pending = null));
    return pending;
  };
  const token: TokenSource = async () => (await current()).token;
  token.reset = (tok) => {
    if (cached?.token === tok) cached = null;
  };
  const iface = creds.interface ?? "public";
  return {
    token,
    async endpoint(type) {
      const { catalog } = await current();
      const ep = catalog
        .find((c) => c.type === type)
        ?.endpoints?.find(
          (e) =>
            e.interface === iface &&
            typeof e.url === "string" &&
            (!creds.region || e.region_id === creds.region || e.region === creds.region),
        );
      if (!ep?.url)
        throw new KeystoneSessionError(
          `the service catalog at ${authUrl} lists no ${type} endpoint (interface ${iface}${creds.region ? `, region ${creds.region}` : ""})`,
        );
      return ep.url.replace(/\/+$/, "");
    },
  };
}
