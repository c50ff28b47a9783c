// Keystone login: password authentication (unscoped, then project-scoped), the catalog, and the token's lifetime.
import { toApiError } from "./errors.js";

/** One endpoint of the catalog, as the dashboard uses it (the public interface). */
export interface Endpoint {
  type: string;
  name: string;
  url: string;
  region: string;
}

/** A project the user can switch to. */
export interface ProjectRef {
  id: string;
  name: string;
  domain_id: string;
}

/** A logged-in, project-scoped session: everything the API client needs. */
export interface Session {
  token: string;
  expiresAt: string;
  user: { id: string; name: string; domain: { id: string; name: string } };
  project: { id: string; name: string; domain: { id: string; name: string } };
  roles: string[];
  catalog: Endpoint[];
}

/** How to reach Keystone: base URL ("" for same origin) and the fetch to use. */
export interface Transport {
  baseUrl: string;
  fetch: typeof fetch;
}

/** The Keystone path below the base URL (the dashboard is served by the same listener). */
export const IDENTITY_PATH = "/identity/v3";

const json = { "content-type": "application/json", accept: "application/json" };

async function post(t: Transport, path: string, body: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = { ...json };
  if (token) headers["x-auth-token"] = token;
  const res = await t.fetch(`${t.baseUrl}${IDENTITY_PATH}${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await toApiError(res, "identity");
  return res;
}

/** Authenticate with a password, unscoped; returns the token. `domain` is a domain name (e.g. "Default"). */
export async function passwordLogin(
  t: Transport,
  domain: string,
  user: string,
  password: string,
): Promise<string> {
  const body = {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: user, password, domain: { name: domain } } },
      },
      scope: "unscoped",
    },
  };
  const res = await post(t, "/auth/tokens?nocatalog", body);
  return res.headers.get("x-subject-token") ?? "";
}

/** The projects a token's user may scope to (the switcher's list). */
export async function listMyProjects(t: Transport, token: string): Promise<ProjectRef[]> {
  const res = await t.fetch(`${t.baseUrl}${IDENTITY_PATH}/auth/projects`, {
    headers: { accept: "application/json", "x-auth-token": token },
  });
  if (!res.ok) throw await toApiError(res, "identity");
  const b = (await res.json()) as { projects: ProjectRef[] };
  return b.projects.sort((a, c) => a.name.localeCompare(c.name));
}

/** Exchange a token for one scoped to a project, with the catalog. */
export async function scopeToProject(t: Transport, token: string, projectId: string): Promise<Session> {
  const body = {
    auth: { identity: { methods: ["token"], token: { id: token } }, scope: { project: { id: projectId } } },
  };
  const res = await post(t, "/auth/tokens", body);
  const tok = ((await res.json()) as { token: Record<string, any> }).token;
  const catalog: Endpoint[] = [];
  for (const svc of (tok.catalog ?? []) as Array<Record<string, any>>)
    for (const ep of svc.endpoints ?? [])
      if (ep.interface === "public")
        catalog.push({
          type: svc.type,
          name: svc.name,
          url: ep.url,
          region: ep.region_id ?? ep.region ?? "",
        });
  return {
    token: res.headers.get("x-subject-token") ?? "",
    expiresAt: tok.expires_at,
    user: tok.user,
    project: tok.project,
    roles: ((tok.roles ?? []) as Array<{ name: string }>).map((r) => r.name),
    catalog,
  };
}

/** Log in with an unscoped token (e.g. from Horizon's form): the project list, then the first (or `preferred`). */
export async function loginWithToken(
  t: Transport,
  unscoped: string,
  preferred?: string,
): Promise<{ session: Session; projects: ProjectRef[]; unscoped: string }> {
  const projects = await listMyProjects(t, unscoped);
  if (projects.length === 0) throw new Error("This user has no role on any project.");
  const pick = projects.find((p) => p.id === preferred || p.name === preferred) ?? projects[0]!;
  return { session: await scopeToProject(t, unscoped, pick.id), projects, unscoped };
}

/** Take the token a Horizon-style form login left in a cookie (once); null when there is none. */
export async function takeFormLogin(t: Transport): Promise<string | null> {
  const res = await t.fetch(`${t.baseUrl}/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: "{}",
  });
  if (!res.ok) return null;
  return ((await res.json()) as { token?: string }).token ?? null;
}

/** Log in: password (unscoped), then the first project (or `preferred` by id or name); returns session and projects. */
export async function login(
  t: Transport,
  domain: string,
  user: string,
  password: string,
  preferred?: string,
): Promise<{ session: Session; projects: ProjectRef[]; unscoped: string }> {
  const unscoped = await passwordLogin(t, domain, user, password);
  const projects = await listMyProjects(t, unscoped);
  if (projects.length === 0) throw new Error("This user has no role on any project.");
  const pick = projects.find((p) => p.id === preferred || p.name === preferred) ?? projects[0]!;
  const session = await scopeToProject(t, unscoped, pick.id);
  return { session, projects, unscoped };
}

/** Revoke the session's token (logout); errors are ignored, the token is forgotten anyway. */
export async function logout(t: Transport, token: string): Promise<void> {
  await t
    .fetch(`${t.baseUrl}${IDENTITY_PATH}/auth/tokens`, {
      method: "DELETE",
      headers: { "x-auth-token": token, "x-subject-token": token },
    })
    .catch(() => undefined);
}

/** Whether the session's token has expired (or expires within `marginMs`). */
export function expired(s: Session, now = Date.now(), marginMs = 5000): boolean {
  return Date.parse(s.expiresAt) - marginMs <= now;
}
