import type { AuthContext } from "../../shared/auth/context.js";
import type { CatalogEntry } from "../store/catalog.js";
import type { TokenPayload } from "./codec.js";

/** A validated token: the payload, the caller context for other services, and the Keystone token body. */
export interface TokenView {
  id: string;
  payload: TokenPayload;
  ctx: AuthContext;
  /** The "token" object of Keystone's response, without the catalog. */
  body: Record<string, unknown>;
  /** Whether the token carries a catalog (scoped tokens do). */
  scoped: boolean;
}

const SUBST = /\$\((project_id|tenant_id|user_id)\)s|%\((project_id|tenant_id|user_id)\)s/g;

/** The catalog as this caller sees it: $(project_id)s substituted; endpoints that cannot be resolved are left out. */
export function catalogFor(
  catalog: CatalogEntry[],
  ctx: Pick<AuthContext, "projectId" | "userId">,
): CatalogEntry[] {
  return catalog.map((s) => ({
    ...s,
    endpoints: s.endpoints.flatMap((e) => {
      if (!e.url.includes("(")) return [e];
      let ok = true;
      const url = e.url.replace(SUBST, (_m, a: string | undefined, b: string | undefined) => {
        const key = a ?? b;
        const v = key === "user_id" ? ctx.userId : ctx.projectId;
        if (!v) ok = false;
        return v ?? "";
      });
      return ok ? [{ ...e, url }] : [];
    }),
  }));
}

/** Render a token view as Keystone's {"token": {...}} response. */
export function renderToken(
  v: TokenView,
  catalog: CatalogEntry[] | null,
): { token: Record<string, unknown> } {
  return { token: catalog && v.scoped ? { ...v.body, catalog: catalogFor(catalog, v.ctx) } : v.body };
}
