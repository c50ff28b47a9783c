import type { IdentityCore } from "../core.js";
import { notFoundEntity } from "../errors.js";
import { json } from "../tables.js";

/** A policy blob stored for a service (the deprecated /v3/policies API). */
export interface PolicyBlob {
  id: string;
  type: string;
  blob: string;
  extra: Record<string, unknown>;
}

const fromRow = (r: { id: string; type: string; blob: string; extra: string | null }): PolicyBlob => ({
  id: r.id,
  type: r.type,
  blob: r.blob,
  extra: json(r.extra, {}),
});

/** Policy blobs, optionally of one type. */
export async function listPolicies(core: IdentityCore, f: { type?: string } = {}): Promise<PolicyBlob[]> {
  let q = core.db.selectFrom("identity_policy").selectAll();
  if (f.type !== undefined) q = q.where("type", "=", f.type);
  return (await q.orderBy("id").execute()).map(fromRow);
}

/** A policy blob, or 404. */
export async function getPolicy(core: IdentityCore, id: string): Promise<PolicyBlob> {
  const r = await core.db.selectFrom("identity_policy").selectAll().where("id", "=", id).executeTakeFirst();
  if (!r) throw notFoundEntity("policy", id);
  return fromRow(r);
}

/** Store a policy blob. */
export async function createPolicy(
  core: IdentityCore,
  p: { type: string; blob: string; extra?: Record<string, unknown> },
): Promise<PolicyBlob> {
  const id = core.newId();
  await core.db
    .insertInto("identity_policy")
    .values({ id, type: p.type, blob: p.blob, extra: JSON.stringify(p.extra ?? {}) })
    .execute();
  core.changed();
  return getPolicy(core, id);
}

/** Update a policy blob's type, blob or extra attributes. */
export async function updatePolicy(
  core: IdentityCore,
  p: PolicyBlob,
  patch: { type?: string; blob?: string; extra?: Record<string, unknown> },
): Promise<PolicyBlob> {
  await core.db
    .updateTable("identity_policy")
    .set({
      type: patch.type ?? p.type,
      blob: patch.blob ?? p.blob,
      extra: JSON.stringify({ ...p.extra, ...(patch.extra ?? {}) }),
    })
    .where("id", "=", p.id)
    .execute();
  core.changed();
  return getPolicy(core, p.id);
}

/** Delete a policy blob. */
export async function deletePolicy(core: IdentityCore, id: string): Promise<void> {
  await core.db.deleteFrom("identity_policy").where("id", "=", id).execute();
  core.changed();
}
