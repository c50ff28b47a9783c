import { badRequest } from "../../shared/http/errors.js";
import { route, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import { parseTime } from "../time.js";

/** Keystone's utils.isotime(subsecond=True): seconds precision, six zero fraction digits, Z. */
const isotime = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, ".000000Z");

/** Routes for /v3/OS-REVOKE. */
export function revokeRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  return [
    route({
      method: "GET",
      path: "/v3/OS-REVOKE/events",
      policy: "identity:list_revoke_events",
      handler: async (ctx) => {
        const since = ctx.query.since;
        let after: number | null = null;
        if (since !== undefined) {
          after = parseTime(since);
          if (Number.isNaN(after)) throw badRequest(`invalidate date format ${since}`);
        }
        let q = core.db.selectFrom("identity_revocation_event").selectAll();
        if (after !== null) q = q.where("revoked_at", ">", after);
        const rows = await q.orderBy("seq").execute();
        const events = rows.map((r) => {
          const e: Record<string, unknown> = {};
          for (const k of [
            "user_id",
            "role_id",
            "domain_id",
            "project_id",
            "audit_id",
            "audit_chain_id",
            "app_cred_id",
            "trust_id",
          ] as const)
            if (r[k] !== null) e[k] = r[k];
          e.issued_before = isotime(Number(r.issued_before));
          e.revoked_at = isotime(Number(r.revoked_at));
          return e;
        });
        return {
          events,
          links: { next: null, self: `${ctx.serviceUrl}/v3/OS-REVOKE/events`, previous: null },
        };
      },
    }),
  ];
}
