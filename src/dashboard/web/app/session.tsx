// The logged-in session: kept in sessionStorage, shared through React context, with login, project switch,
// logout, and the way back to the login page (remembering the page) when the token expires.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { Api } from "../api/client.js";
import {
  expired,
  login,
  loginWithToken,
  takeFormLogin,
  logout,
  scopeToProject,
  type ProjectRef,
  type Session,
  type Transport,
} from "../api/session.js";
import { resources, type Resources } from "../api/resources.js";
import { navigate } from "./router.js";

const KEY = "stratus.session";

/** What pages get from the session context. */
export interface SessionState {
  session: Session | null;
  projects: ProjectRef[];
  api: Api | null;
  r: Resources | null;
  login(domain: string, user: string, password: string): Promise<void>;
  switchProject(id: string): Promise<void>;
  logout(): Promise<void>;
}

const Ctx = createContext<SessionState | null>(null);

/** The transport of the browser: same origin, the window's fetch. */
export const transport: Transport = { baseUrl: "", fetch: (...a) => fetch(...a) };

function load(): { session: Session; projects: ProjectRef[]; unscoped: string } | null {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    if (v && v.session && !expired(v.session)) return v;
  } catch {
    // A corrupt entry is the same as none.
  }
  return null;
}

/** Send the browser to the login page, remembering where it was. */
export function toLogin(reason?: string): void {
  sessionStorage.removeItem(KEY);
  const here = location.pathname + location.search;
  const q = new URLSearchParams();
  if (here !== "/" && !here.startsWith("/login")) q.set("next", here);
  if (reason) q.set("reason", reason);
  navigate(`/login${q.size ? `?${q}` : ""}`, true);
}

/** Provides the session to the app. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState(load);
  const save = useCallback((v: { session: Session; projects: ProjectRef[]; unscoped: string } | null) => {
    if (v) sessionStorage.setItem(KEY, JSON.stringify(v));
    else sessionStorage.removeItem(KEY);
    setState(v);
  }, []);
  // A login through Horizon's form (index.html says so): take its token once and log in with it.
  useEffect(() => {
    if (state || !document.querySelector('meta[name="stratus-session"]')) return;
    void takeFormLogin(transport).then(async (token) => {
      if (!token) return;
      save(await loginWithToken(transport, token));
      navigate("/project/", true);
    });
  }, [state, save]);
  const value = useMemo<SessionState>(() => {
    const onUnauthorized = () => {
      save(null);
      toLogin("expired");
    };
    const api = state ? new Api(state.session, transport, onUnauthorized) : null;
    return {
      session: state?.session ?? null,
      projects: state?.projects ?? [],
      api,
      r: api ? resources(api) : null,
      async login(domain, user, password) {
        save(await login(transport, domain, user, password));
      },
      async switchProject(id) {
        if (!state) return;
        const session = await scopeToProject(transport, state.unscoped, id);
        save({ ...state, session });
      },
      async logout() {
        if (state)
          await Promise.all([logout(transport, state.session.token), logout(transport, state.unscoped)]);
        save(null);
        navigate("/login", true);
      },
    };
  }, [state, save]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** The session context (inside SessionProvider). */
export function useSession(): SessionState {
  const v = useContext(Ctx);
  if (!v) throw new Error("useSession outside SessionProvider");
  return v;
}

/** The resource calls of a logged-in session (pages under the shell only render with one). */
export function useApi(): { r: Resources; api: Api; session: Session } {
  const s = useSession();
  if (!s.r || !s.api || !s.session) throw new Error("not logged in");
  return { r: s.r, api: s.api, session: s.session };
}
