// OS-TRUST: a trustor delegates some of their roles on a project to a trustee, who can then get trust-scoped
// tokens. Deleted trusts are removed outright (Keystone soft-deletes them, but never shows deleted ones).
import { fromDbBool, nowIso, toDbBool } from "../../shared/db/index.js";
import { ApiError, badRequest } from "../../shared/http/errors.js";
import type { IdentityCore } from "../core.js";
import { json } from "../tables.js";
import { parseTime } from "../time.js";
import { userProjectRoleIds } from "./assignments.js";
import { findProject } from "./projects.js";
import { allRoles, expandImplied, impliedEdges } from "./roles.js";

/** A trust with the ids of its delegated roles. */
export interface Trust {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: boolean;
  /** UTC, microseconds: 2026-11-24T18:07:47.000000Z (Keystone's isotime with subsecond). */
  expires_at: string | null;
  remaining_uses: number | null;
  redelegated_trust_id: string | null;
  redelegation_count: number | null;
  role_ids: string[];
  extra: Record<string, unknown>;
}

type Row = {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: number;
  expires_at: string | null;
  remaining_uses: number | null;
  redelegated_trust_id: string | null;
  redelegation_count: number | null;
  extra: string | null;
};

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));
const fromRow = (r: Row, roleIds: string[]): Trust => ({
  id: r.id,
  trustor_user_id: r.trustor_user_id,
  trustee_user_id: r.trustee_user_id,
  project_id: r.project_id,
  impersonation: fromDbBool(r.impersonation),
  expires_at: r.expires_at,
  remaining_uses: num(r.remaining_uses),
  redelegated_trust_id: r.redelegated_trust_id,
  redelegation_count: num(r.redelegation_count),
  role_ids: roleIds,
  extra: json(r.extra, {}),
});

/** Keystone's TrustNotFound. */
export const trustNotFound = (id: string): ApiError => new ApiError(404, `Could not find trust: ${id}.`);

const ISO = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/i;

/** Parse a trust expiry like Keystone's parse_expiration_date: ISO 8601 (naive means UTC), not in the past.
 * Returns the stored form, UTC with microseconds. */
export function parseExpiry(input: string, now = Date.now()): string {
  const m = ISO.exec(input.trim());
  const ms = m ? parseTime(`${m[1]}T${m[2]}${m[3] ? `.${m[3].slice(0, 3)}` : ""}${m[4] ?? "Z"}`) : NaN;
  if (!m || Number.isNaN(ms))
    throw badRequest(
      "Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
  if (ms < now)
    throw badRequest(
      "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
  const seconds = new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
  return `${seconds}.${(m[3] ?? "").slice(0, 6).padEnd(6, "0")}Z`;
}

/** Whether a trust can still be used: not expired, uses left. */
export function isActive(t: Trust, now = Date.now()): boolean {
  if (t.expires_at && parseTime(t.expires_at) < now) return false;
  if (t.remaining_uses !== null && t.remaining_uses <= 0) return false;
  return true;
}

async function rolesOf(core: IdentityCore, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!ids.length) return out;
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await core.db
      .selectFrom("identity_trust_role")
      .selectAll()
      .where("trust_id", "in", ids.slice(i, i + 500))
      .orderBy("role_id")
      .execute();
    for (const r of rows) out.set(r.trust_id, [...(out.get(r.trust_id) ?? []), r.role_id]);
  }
  return out;
}

/** A trust by id, whether or not it is still usable; null when absent. */
export async function findTrustRecord(core: IdentityCore, id: string): Promise<Trust | null> {
  const r = await core.db.selectFrom("identity_trust").selectAll().where("id", "=", id).executeTakeFirst();
  if (!r) return null;
  return fromRow(r, (await rolesOf(core, [id])).get(id) ?? []);
}

/** Keystone deletes the trusts of a deleted user; here they are dropped when next met. */
async function withoutOrphans(core: IdentityCore, trusts: Trust[]): Promise<Trust[]> {
  const ids = [...new Set(trusts.flatMap((t) => [t.trustor_user_id, t.trustee_user_id]))];
  if (!ids.length) return trusts;
  const alive = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await core.db
      .selectFrom("identity_user")
      .select("id")
      .where("id", "in", ids.slice(i, i + 500))
      .execute();
    for (const r of rows) alive.add(r.id);
  }
  const out: Trust[] = [];
  for (const t of trusts)
    if (alive.has(t.trustor_user_id) && alive.has(t.trustee_user_id)) out.push(t);
    else await deleteTrust(core, t.id);
  return out;
}

/** A usable trust by id (Keystone's get_trust: expired or used-up trusts are not found), or null. */
export async function findTrust(core: IdentityCore, id: string): Promise<Trust | null> {
  const t = await findTrustRecord(core, id);
  if (!t || !isActive(t)) return null;
  return (await withoutOrphans(core, [t]))[0] ?? null;
}

/** A usable trust by id, or 404. */
export async function getTrust(core: IdentityCore, id: string): Promise<Trust> {
  const t = await findTrust(core, id);
  if (!t) throw trustNotFound(id);
  return t;
}

/** The trust and the trusts it was redelegated from, nearest first (Keystone's get_trust_pedigree). */
export async function trustPedigree(core: IdentityCore, t: Trust): Promise<Trust[]> {
  const chain = [t];
  const seen = new Set([t.id]);
  let cur = t;
  while (cur.redelegated_trust_id && !seen.has(cur.redelegated_trust_id)) {
    const parent = await findTrustRecord(core, cur.redelegated_trust_id);
    if (!parent) break;
    chain.push(parent);
    seen.add(parent.id);
    cur = parent;
  }
  return chain;
}

/** Trusts (usable or not), optionally of one trustor and/or trustee. */
export async function listTrusts(
  core: IdentityCore,
  f: { trustor_user_id?: string; trustee_user_id?: string; redelegated_trust_id?: string } = {},
): Promise<Trust[]> {
  let q = core.db.selectFrom("identity_trust").selectAll();
  if (f.trustor_user_id !== undefined) q = q.where("trustor_user_id", "=", f.trustor_user_id);
  if (f.trustee_user_id !== undefined) q = q.where("trustee_user_id", "=", f.trustee_user_id);
  if (f.redelegated_trust_id !== undefined) q = q.where("redelegated_trust_id", "=", f.redelegated_trust_id);
  const rows = await q.orderBy("created_at").orderBy("id").execute();
  const roles = await rolesOf(
    core,
    rows.map((r) => r.id),
  );
  return withoutOrphans(
    core,
    rows.map((r) => fromRow(r, roles.get(r.id) ?? [])),
  );
}

/** Input to create a trust. */
export interface TrustInput {
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: boolean;
  expires_at: string | null;
  remaining_uses: number | null;
  redelegated_trust_id: string | null;
  redelegation_count: number;
  role_ids: string[];
  extra: Record<string, unknown>;
}

/** Store a new trust and its roles. */
export async function createTrust(core: IdentityCore, t: TrustInput): Promise<Trust> {
  const id = core.newId();
  await core.db.transaction().execute(async (tx) => {
    await tx
      .insertInto("identity_trust")
      .values({
        id,
        trustor_user_id: t.trustor_user_id,
        trustee_user_id: t.trustee_user_id,
        project_id: t.project_id,
        impersonation: toDbBool(t.impersonation),
        expires_at: t.expires_at,
        remaining_uses: t.remaining_uses,
        redelegated_trust_id: t.redelegated_trust_id,
        redelegation_count: t.redelegation_count,
        created_at: nowIso(),
        extra: JSON.stringify(t.extra),
      })
      .execute();
    for (const roleId of new Set(t.role_ids))
      await tx.insertInto("identity_trust_role").values({ trust_id: id, role_id: roleId }).execute();
  });
  core.changed();
  return (await findTrustRecord(core, id)) as Trust;
}

/** Delete a trust and, recursively, the trusts redelegated from it; returns the ids deleted. */
export async function deleteTrust(core: IdentityCore, id: string): Promise<string[]> {
  const ids: string[] = [];
  const queue = [id];
  while (queue.length) {
    const cur = queue.shift() as string;
    if (ids.includes(cur)) continue;
    ids.push(cur);
    const children = await core.db
      .selectFrom("identity_trust")
      .select("id")
      .where("redelegated_trust_id", "=", cur)
      .execute();
    queue.push(...children.map((c) => c.id));
  }
  await core.db.transaction().execute(async (tx) => {
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      await tx.deleteFrom("identity_trust_role").where("trust_id", "in", part).execute();
      await tx.deleteFrom("identity_trust").where("id", "in", part).execute();
    }
  });
  core.changed();
  return ids;
}

/** Use up one of a trust's remaining uses (no-op for unlimited trusts); 403 when none are left. */
export async function consumeTrustUse(core: IdentityCore, id: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await core.db
      .selectFrom("identity_trust")
      .select("remaining_uses")
      .where("id", "=", id)
      .executeTakeFirst();
    if (!r) throw trustNotFound(id);
    if (r.remaining_uses === null) return;
    const left = Number(r.remaining_uses);
    if (left <= 0) throw new ApiError(403, `No remaining uses for trust: ${id}.`);
    const u = await core.db
      .updateTable("identity_trust")
      .set({ remaining_uses: left - 1 })
      .where("id", "=", id)
      .where("remaining_uses", "=", left)
      .executeTakeFirst();
    if (Number(u.numUpdatedRows) === 1) {
      core.changed();
      return;
    }
  }
  throw new ApiError(500, `Failed to consume a use of trust ${id}: too many concurrent attempts.`);
}

/** The role ids a token scoped to this trust carries: the trust's roles and those they imply (global roles
 * only), or null when the (original) trustor no longer holds every one of them on the trust's project. */
export async function effectiveTrustRoles(core: IdentityCore, t: Trust): Promise<Set<string> | null> {
  if (!t.project_id) return new Set();
  const project = await core.memo(`project:${t.project_id}`, () => findProject(core, t.project_id as string));
  if (!project || project.is_domain) return null;
  const chain = t.redelegated_trust_id ? await trustPedigree(core, t) : [t];
  const trustorId = chain[chain.length - 1].trustor_user_id;
  const held = await core.memo(`roles:p:${trustorId}:${project.id}`, () =>
    userProjectRoleIds(core, trustorId, project.id, project.domain_id as string),
  );
  const roles = await core.memo("trusts:roles", () => allRoles(core));
  const edges = await core.memo("trusts:implied", () => impliedEdges(core));
  const wanted = [...expandImplied(t.role_ids, edges)].filter(
    (r) => roles.has(r) && !roles.get(r)?.domain_id,
  );
  for (const r of wanted) if (!held.has(r)) return null;
  return new Set(wanted);
}
