import { fromDbBool, isUniqueViolation, toDbBool } from "../../shared/db/index.js";
import type { IdentityCore } from "../core.js";
import type { AssignmentType } from "../tables.js";
import { groupIdsOf, memberIds } from "./groups.js";
import { ancestorIds, descendantIds, listProjects } from "./projects.js";
import { GLOBAL, expandImplied, impliedEdges } from "./roles.js";

/** Target id used for system assignments. */
export const SYSTEM_TARGET = "system";

/** A stored assignment: an actor (user/group) holds a role on a target (project/domain/system). */
export interface Assignment {
  type: AssignmentType;
  actorId: string;
  targetId: string;
  roleId: string;
  inherited: boolean;
}

/** Grant a role; idempotent. */
export async function grant(core: IdentityCore, a: Assignment): Promise<void> {
  try {
    await core.db
      .insertInto("identity_assignment")
      .values({
        type: a.type,
        actor_id: a.actorId,
        target_id: a.targetId,
        role_id: a.roleId,
        inherited: toDbBool(a.inherited),
      })
      .execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  core.changed();
}

/** Revoke a role; false if it was not granted. */
export async function revoke(core: IdentityCore, a: Assignment): Promise<boolean> {
  const r = await core.db
    .deleteFrom("identity_assignment")
    .where("type", "=", a.type)
    .where("actor_id", "=", a.actorId)
    .where("target_id", "=", a.targetId)
    .where("role_id", "=", a.roleId)
    .where("inherited", "=", toDbBool(a.inherited))
    .executeTakeFirst();
  core.changed();
  return Number(r.numDeletedRows) > 0;
}

/** Whether exactly this assignment exists. */
export async function hasGrant(core: IdentityCore, a: Assignment): Promise<boolean> {
  const r = await core.db
    .selectFrom("identity_assignment")
    .select("role_id")
    .where("type", "=", a.type)
    .where("actor_id", "=", a.actorId)
    .where("target_id", "=", a.targetId)
    .where("role_id", "=", a.roleId)
    .where("inherited", "=", toDbBool(a.inherited))
    .executeTakeFirst();
  return !!r;
}

/** Raw assignments filtered by actor ids, target ids, type and inheritance. */
export async function rawAssignments(
  core: IdentityCore,
  f: {
    actorIds?: string[];
    targetIds?: string[];
    types?: AssignmentType[];
    inherited?: boolean;
    roleId?: string;
  },
): Promise<Assignment[]> {
  let q = core.db.selectFrom("identity_assignment").selectAll();
  if (f.actorIds) {
    if (!f.actorIds.length) return [];
    q = q.where("actor_id", "in", f.actorIds);
  }
  if (f.targetIds) {
    if (!f.targetIds.length) return [];
    q = q.where("target_id", "in", f.targetIds);
  }
  if (f.types) q = q.where("type", "in", f.types);
  if (f.inherited !== undefined) q = q.where("inherited", "=", toDbBool(f.inherited));
  if (f.roleId !== undefined) q = q.where("role_id", "=", f.roleId);
  const rows = await q.execute();
  return rows.map((r) => ({
    type: r.type,
    actorId: r.actor_id,
    targetId: r.target_id,
    roleId: r.role_id,
    inherited: fromDbBool(r.inherited),
  }));
}

/** Ids among `ids` of domain-specific roles: like Keystone, those only infer other roles and never count as effective roles. */
async function domainRoleIds(core: IdentityCore, ids: Iterable<string>): Promise<Set<string>> {
  const list = [...ids];
  if (!list.length) return new Set();
  const rows = await core.db
    .selectFrom("identity_role")
    .select("id")
    .where("id", "in", list)
    .where("domain_id", "!=", GLOBAL)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** Expand implications, then drop domain-specific roles (Keystone's _strip_domain_roles). */
async function effectiveRoleIds(core: IdentityCore, ids: Set<string>): Promise<Set<string>> {
  if (!ids.size) return ids;
  const all = expandImplied(ids, await impliedEdges(core));
  for (const id of await domainRoleIds(core, all)) all.delete(id);
  return all;
}

/** Effective role ids of a user on a project: direct, via groups, inherited from ancestors/domain, plus implied roles. */
export async function userProjectRoleIds(
  core: IdentityCore,
  userId: string,
  projectId: string,
  domainId: string,
): Promise<Set<string>> {
  const actors = [userId, ...(await groupIdsOf(core, userId))];
  const ancestors = await ancestorIds(core, projectId);
  const rows = await rawAssignments(core, {
    actorIds: actors,
    targetIds: [projectId, ...ancestors, domainId],
  });
  const ids = new Set<string>();
  for (const r of rows) {
    if (r.targetId === projectId && !r.inherited && (r.type === "UserProject" || r.type === "GroupProject"))
      ids.add(r.roleId);
    else if (r.inherited && r.targetId !== projectId) ids.add(r.roleId);
  }
  return effectiveRoleIds(core, ids);
}

/** Effective role ids of a user on a domain (direct and via groups, plus implied). */
export async function userDomainRoleIds(
  core: IdentityCore,
  userId: string,
  domainId: string,
): Promise<Set<string>> {
  const actors = [userId, ...(await groupIdsOf(core, userId))];
  const rows = await rawAssignments(core, {
    actorIds: actors,
    targetIds: [domainId],
    types: ["UserDomain", "GroupDomain"],
    inherited: false,
  });
  const ids = new Set(rows.map((r) => r.roleId));
  return effectiveRoleIds(core, ids);
}

/** Effective role ids of a user on the system scope. */
export async function userSystemRoleIds(core: IdentityCore, userId: string): Promise<Set<string>> {
  const actors = [userId, ...(await groupIdsOf(core, userId))];
  const rows = await rawAssignments(core, {
    actorIds: actors,
    targetIds: [SYSTEM_TARGET],
    types: ["UserSystem", "GroupSystem"],
  });
  const ids = new Set(rows.map((r) => r.roleId));
  return effectiveRoleIds(core, ids);
}

/** Ids of projects where a user has any effective role. */
export async function userProjectIds(core: IdentityCore, userId: string): Promise<string[]> {
  const eff = await effectiveAssignments(core, { userId });
  return [...new Set(eff.filter((e) => e.scope.kind === "project").map((e) => e.scope.id as string))];
}

/** Ids of domains where a user has any effective role. */
export async function userDomainIds(core: IdentityCore, userId: string): Promise<string[]> {
  const eff = await effectiveAssignments(core, { userId });
  return [
    ...new Set(eff.filter((e) => e.scope.kind === "domain" && !e.inherited).map((e) => e.scope.id as string)),
  ];
}

/** One line of GET /v3/role_assignments, before rendering. */
export interface AssignmentView {
  userId?: string;
  groupId?: string;
  roleId: string;
  scope: { kind: "project" | "domain" | "system"; id?: string };
  inherited: boolean;
  /** Set on effective entries derived from a group membership. */
  viaGroup?: string;
  /** Set on effective entries derived from an inherited assignment (the target it was made on). */
  inheritedFrom?: { kind: "project" | "domain"; id: string };
  /** Set on effective entries produced by a role implication. */
  priorRoleId?: string;
}

const scopeOf = (a: Assignment): AssignmentView["scope"] =>
  a.type.endsWith("Project")
    ? { kind: "project", id: a.targetId }
    : a.type.endsWith("Domain")
      ? { kind: "domain", id: a.targetId }
      : { kind: "system" };

/** Filters of GET /v3/role_assignments. */
export interface AssignmentFilter {
  userId?: string;
  groupId?: string;
  roleId?: string;
  projectId?: string;
  domainId?: string;
  system?: boolean;
  inherited?: boolean;
  includeSubtree?: boolean;
}

/** The raw (non-effective) assignment list with Keystone's filters. */
export async function listAssignments(core: IdentityCore, f: AssignmentFilter): Promise<AssignmentView[]> {
  const actorIds = f.userId ? [f.userId] : f.groupId ? [f.groupId] : undefined;
  let targetIds: string[] | undefined;
  if (f.projectId)
    targetIds = f.includeSubtree ? [f.projectId, ...(await descendantIds(core, f.projectId))] : [f.projectId];
  else if (f.domainId) targetIds = [f.domainId];
  else if (f.system) targetIds = [SYSTEM_TARGET];
  const rows = await rawAssignments(core, { actorIds, targetIds, roleId: f.roleId, inherited: f.inherited });
  return rows
    .filter(
      (r) => (f.userId ? r.type.startsWith("User") : true) && (f.groupId ? r.type.startsWith("Group") : true),
    )
    .filter((r) =>
      f.projectId
        ? r.type.endsWith("Project")
        : f.domainId
          ? r.type.endsWith("Domain")
          : f.system
            ? r.type.endsWith("System")
            : true,
    )
    .map((r) => ({
      ...(r.type.startsWith("User") ? { userId: r.actorId } : { groupId: r.actorId }),
      roleId: r.roleId,
      scope: scopeOf(r),
      inherited: r.inherited,
    }));
}

/** The effective assignment list: groups expanded to members, inheritance applied, implied roles added. */
export async function effectiveAssignments(
  core: IdentityCore,
  f: AssignmentFilter,
): Promise<AssignmentView[]> {
  let actorIds: string[] | undefined;
  if (f.userId) actorIds = [f.userId, ...(await groupIdsOf(core, f.userId))];
  const raw = await rawAssignments(core, { actorIds });
  const out: AssignmentView[] = [];
  const memberCache = new Map<string, string[]>();
  const members = async (g: string): Promise<string[]> => {
    if (!memberCache.has(g)) memberCache.set(g, await memberIds(core, g));
    return memberCache.get(g) as string[];
  };
  for (const a of raw) {
    const users = a.type.startsWith("User")
      ? [{ userId: a.actorId }]
      : (await members(a.actorId)).map((u) => ({ userId: u, viaGroup: a.actorId }));
    if (f.userId)
      for (let i = users.length - 1; i >= 0; i--) if (users[i].userId !== f.userId) users.splice(i, 1);
    let scopes: Array<{ scope: AssignmentView["scope"]; inheritedFrom?: AssignmentView["inheritedFrom"] }>;
    if (!a.inherited) scopes = [{ scope: scopeOf(a) }];
    else if (a.type.endsWith("Domain")) {
      const projects = await listProjects(core, { domain_id: a.targetId });
      scopes = projects.map((p) => ({
        scope: { kind: "project", id: p.id },
        inheritedFrom: { kind: "domain", id: a.targetId },
      }));
    } else if (a.type.endsWith("Project")) {
      const below = await descendantIds(core, a.targetId);
      scopes = below.map((id) => ({
        scope: { kind: "project", id },
        inheritedFrom: { kind: "project", id: a.targetId },
      }));
    } else scopes = [{ scope: { kind: "system" } }];
    for (const u of users)
      for (const s of scopes)
        out.push({
          ...u,
          roleId: a.roleId,
          scope: s.scope,
          inherited: false,
          inheritedFrom: s.inheritedFrom,
        });
  }
  const edges = await impliedEdges(core);
  const withImplied: AssignmentView[] = [...out];
  for (const v of out) {
    const implied = expandImplied([v.roleId], edges);
    implied.delete(v.roleId);
    for (const r of implied) withImplied.push({ ...v, roleId: r, priorRoleId: v.roleId });
  }
  const domainRoles = await domainRoleIds(core, new Set(withImplied.map((v) => v.roleId)));
  const seen = new Set<string>();
  return withImplied.filter((v) => {
    if (domainRoles.has(v.roleId)) return false;
    if (f.roleId && v.roleId !== f.roleId) return false;
    if (f.projectId && !(v.scope.kind === "project" && v.scope.id === f.projectId)) return false;
    if (f.domainId && !(v.scope.kind === "domain" && v.scope.id === f.domainId)) return false;
    if (f.system && v.scope.kind !== "system") return false;
    const key = `${v.userId}|${v.roleId}|${v.scope.kind}|${v.scope.id}|${v.viaGroup}|${v.inheritedFrom?.id}|${v.priorRoleId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Delete every assignment on a target (project or domain being deleted). */
export async function deleteAssignmentsOn(core: IdentityCore, targetId: string): Promise<void> {
  await core.db.deleteFrom("identity_assignment").where("target_id", "=", targetId).execute();
  core.changed();
}
