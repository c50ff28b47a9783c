import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { ImageCore } from "../core.js";
import type { Caller } from "./images.js";
import { imageDb } from "./tables.js";

/** Statuses a membership can have. */
export const MEMBER_STATUSES = ["pending", "accepted", "rejected"] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/** One project an image is shared with. */
export interface Member {
  image_id: string;
  member_id: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

const fromRow = (r: {
  image_id: string;
  member: string;
  status: string;
  created_at: string;
  updated_at: string;
}): Member => ({
  image_id: r.image_id,
  member_id: r.member,
  status: r.status as MemberStatus,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/**
 * The memberships of an image the caller may see (Glance's image_member_find): all of them for admins and the
 * image's owner, only the caller's own otherwise.
 */
export async function listMembers(
  core: ImageCore,
  imageId: string,
  owner: string | null,
  caller: Caller,
): Promise<Member[]> {
  let q = imageDb(core).selectFrom("image_member").selectAll().where("image_id", "=", imageId);
  if (!caller.isAdmin && (caller.projectId === null || caller.projectId !== owner))
    q = q.where("member", "=", caller.projectId ?? "");
  return (await q.orderBy("created_at").orderBy("member").execute()).map(fromRow);
}

/** One membership the caller may see, or null. */
export async function findMember(
  core: ImageCore,
  imageId: string,
  memberId: string,
  owner: string | null,
  caller: Caller,
): Promise<Member | null> {
  const all = await listMembers(core, imageId, owner, caller);
  return all.find((m) => m.member_id === memberId) ?? null;
}

/** Number of members of an image. */
export async function countMembers(core: ImageCore, imageId: string): Promise<number> {
  const r = await imageDb(core)
    .selectFrom("image_member")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("image_id", "=", imageId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Add a pending membership; returns null if the project already is a member. */
export async function addMember(core: ImageCore, imageId: string, memberId: string): Promise<Member | null> {
  const now = nowIso();
  const row = { image_id: imageId, member: memberId, status: "pending", created_at: now, updated_at: now };
  try {
    await imageDb(core).insertInto("image_member").values(row).execute();
  } catch (e) {
    if (isUniqueViolation(e)) return null;
    throw e;
  }
  return fromRow(row);
}

/** Change a membership's status. */
export async function setMemberStatus(core: ImageCore, m: Member, status: MemberStatus): Promise<Member> {
  const now = nowIso();
  await imageDb(core)
    .updateTable("image_member")
    .set({ status, updated_at: now })
    .where("image_id", "=", m.image_id)
    .where("member", "=", m.member_id)
    .execute();
  return { ...m, status, updated_at: now };
}

/** Remove a membership. */
export async function removeMember(core: ImageCore, m: Member): Promise<void> {
  await imageDb(core)
    .deleteFrom("image_member")
    .where("image_id", "=", m.image_id)
    .where("member", "=", m.member_id)
    .execute();
}
