import { ApiError, badRequest } from "../../shared/http/errors.js";
import { noContent } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { notFoundEntity } from "../errors.js";
import type { IdentityService } from "../service.js";
import {
  SYSTEM_TARGET,
  effectiveAssignments,
  grant,
  hasGrant,
  listAssignments,
  rawAssignments,
  revoke,
  type Assignment,
  type AssignmentView,
} from "../store/assignments.js";
import { getGroup, memberIds } from "../store/groups.js";
import { findProject, getDomain, getProject } from "../store/projects.js";
import { allRoles, getRole } from "../store/roles.js";
import { getUser, findUser } from "../store/users.js";
import type { AssignmentType } from "../tables.js";
import { queryBool } from "./common.js";
import { renderRole } from "./roles.js";

type Actor = "users" | "groups";
type TargetKind = "projects" | "domains" | "system";

const typeOf = (t: TargetKind, a: Actor): AssignmentType =>
  `${a === "users" ? "User" : "Group"}${t === "projects" ? "Project" : t === "domains" ? "Domain" : "System"}` as AssignmentType;

/** Routes for grants (/v3/{projects,domains,system}/.../roles, OS-INHERIT) and /v3/role_assignments. */
export function assignmentRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const out: Route[] = [];

  const checkActor = async (a: Actor, id: string) => (a === "users" ? getUser(core, id) : getGroup(core, id));
  const checkTarget = async (t: TargetKind, id: string) =>
    t === "projects" ? getProject(core, id) : t === "domains" ? getDomain(core, id) : null;
  const targetFor = async (t: TargetKind, id: string, a: Actor, actorId: string) => {
    let domainId: string | null = null;
    if (t === "domains") domainId = id;
    else if (t === "projects") domainId = (await findProject(core, id))?.domain_id ?? null;
    const actorDomain =
      a === "users"
        ? (await findUser(core, actorId))?.domain_id
        : (await getGroup(core, actorId).catch(() => null))?.domain_id;
    return {
      "target.domain_id": domainId,
      "target.project.id": t === "projects" ? id : null,
      "target.project.domain_id": domainId,
      "target.user.domain_id": actorDomain ?? null,
      "target.group.domain_id": actorDomain ?? null,
    };
  };
  // No escalation: besides cloud admins, a grantor must hold the role (directly or implied) in a token scoped at
  // least as widely as the assignment: the project itself, its domain, or the system.
  const checkGrantor = async (
    ctx: RequestCtx<any, any, any>,
    t: TargetKind,
    targetId: string,
    roleId: string,
  ) => {
    if (ctx.allowed("cloud_admin")) return;
    const a = ctx.auth;
    const covers =
      !!a &&
      (a.system ||
        (t === "domains" && a.domainId === targetId) ||
        (t === "projects" &&
          (a.projectId === targetId ||
            (a.domainId !== null && a.domainId === (await findProject(core, targetId))?.domain_id))));
    if (!covers || !a.roleIds.includes(roleId))
      throw new ApiError(
        403,
        "You are not authorized to perform the requested action: you may only grant or revoke roles you hold at that scope.",
      );
  };
  const revokeTokens = async (a: Actor, actorId: string, t: TargetKind, targetId: string) => {
    const users = a === "users" ? [actorId] : await memberIds(core, actorId);
    for (const u of users)
      await svc.revocations.add(
        t === "projects"
          ? { user_id: u, project_id: targetId }
          : t === "domains"
            ? { user_id: u }
            : { user_id: u },
      );
  };

  const variants: Array<{
    t: TargetKind;
    a: Actor;
    inherited: boolean;
    base: string;
    grantRule: (op: string) => string;
  }> = [];
  for (const a of ["users", "groups"] as Actor[]) {
    for (const t of ["projects", "domains"] as TargetKind[]) {
      variants.push({
        t,
        a,
        inherited: false,
        base: `/v3/${t}/:target_id/${a}/:actor_id/roles`,
        grantRule: (op) => `identity:${op}_grant${op === "list" ? "s" : ""}`,
      });
      variants.push({
        t,
        a,
        inherited: true,
        base: `/v3/OS-INHERIT/${t}/:target_id/${a}/:actor_id/roles`,
        grantRule: (op) => `identity:${op}_grant${op === "list" ? "s" : ""}`,
      });
    }
    const single = a === "users" ? "user" : "group";
    variants.push({
      t: "system",
      a,
      inherited: false,
      base: `/v3/system/${a}/:actor_id/roles`,
      grantRule: (op) =>
        ({
          list: `identity:list_system_grants_for_${single}`,
          check: `identity:check_system_grant_for_${single}`,
          create: `identity:create_system_grant_for_${single}`,
          revoke: `identity:revoke_system_grant_for_${single}`,
        })[op] as string,
    });
  }

  for (const v of variants) {
    const suffix = v.inherited ? "/inherited_to_projects" : "";
    const tid = (ctx: RequestCtx<any, any, any>) =>
      v.t === "system" ? SYSTEM_TARGET : (ctx.params.target_id as string);
    const assignment = (ctx: RequestCtx<any, any, any>): Assignment => ({
      type: typeOf(v.t, v.a),
      actorId: ctx.params.actor_id,
      targetId: tid(ctx),
      roleId: ctx.params.role_id,
      inherited: v.inherited,
    });
    const tgt = (ctx: RequestCtx<any, any, any>) => targetFor(v.t, tid(ctx), v.a, ctx.params.actor_id);
    out.push(
      route({
        method: "GET",
        path: `${v.base}${suffix}`,
        policy: v.grantRule("list"),
        target: tgt,
        handler: async (ctx) => {
          await checkActor(v.a, ctx.params.actor_id);
          await checkTarget(v.t, tid(ctx));
          const rows = await rawAssignments(core, {
            actorIds: [ctx.params.actor_id],
            targetIds: [tid(ctx)],
            types: [typeOf(v.t, v.a)],
            inherited: v.inherited,
          });
          const roles = await allRoles(core);
          return {
            roles: rows
              .map((r) => roles.get(r.roleId))
              .filter((r) => !!r)
              .map((r) => renderRole(ctx, r!)),
            links: { self: `${ctx.serviceUrl}${ctx.url.split("?")[0]}`, previous: null, next: null },
          };
        },
      }),
      route({
        method: ["HEAD", "GET"],
        path: `${v.base}/:role_id${suffix}`,
        policy: v.grantRule("check"),
        target: tgt,
        handler: async (ctx) => {
          await checkActor(v.a, ctx.params.actor_id);
          await checkTarget(v.t, tid(ctx));
          await getRole(core, ctx.params.role_id);
          if (!(await hasGrant(core, assignment(ctx))))
            throw notFoundEntity("role assignment", `${ctx.params.role_id}`);
          return noContent();
        },
      }),
      route({
        method: "PUT",
        path: `${v.base}/:role_id${suffix}`,
        policy: v.grantRule("create"),
        target: tgt,
        handler: async (ctx) => {
          await checkActor(v.a, ctx.params.actor_id);
          await checkTarget(v.t, tid(ctx));
          const role = await getRole(core, ctx.params.role_id);
          await checkGrantor(ctx, v.t, tid(ctx), role.id);
          if (role.domain_id && v.t !== "system") {
            const dom = v.t === "domains" ? tid(ctx) : (await getProject(core, tid(ctx))).domain_id;
            if (dom !== role.domain_id)
              throw new ApiError(
                403,
                `Project ${tid(ctx)} must be in the same domain as the role ${role.id} being assigned.`,
              );
          }
          await grant(core, assignment(ctx));
          return noContent();
        },
      }),
      route({
        method: "DELETE",
        path: `${v.base}/:role_id${suffix}`,
        policy: v.grantRule("revoke"),
        target: tgt,
        handler: async (ctx) => {
          await checkActor(v.a, ctx.params.actor_id);
          await checkTarget(v.t, tid(ctx));
          await getRole(core, ctx.params.role_id);
          await checkGrantor(ctx, v.t, tid(ctx), ctx.params.role_id);
          if (!(await revoke(core, assignment(ctx))))
            throw notFoundEntity("role assignment", `${ctx.params.role_id}`);
          await revokeTokens(v.a, ctx.params.actor_id, v.t, tid(ctx));
          return noContent();
        },
      }),
    );
  }

  out.push(
    route({
      method: "GET",
      path: "/v3/role_assignments",
      policy: "identity:list_role_assignments",
      // As in Keystone: a domain-scoped token is checked against its own domain and sees only that domain's entries.
      target: (ctx) => ({ "target.domain_id": ctx.auth?.domainId ?? null }),
      handler: async (ctx) => {
        const q = ctx.query as Record<string, string | undefined>;
        const effective = q.effective !== undefined && queryBool(q.effective, "effective") !== false;
        const includeNames =
          q.include_names !== undefined && queryBool(q.include_names, "include_names") !== false;
        const includeSubtree =
          q.include_subtree !== undefined && queryBool(q.include_subtree, "include_subtree") !== false;
        const inherited = q["scope.OS-INHERIT:inherited_to"] === "projects" ? true : undefined;
        // Keystone's parameter checks (keystone/api/role_assignments.py).
        if (q["scope.project.id"] && q["scope.domain.id"])
          throw badRequest("Specify a domain or project, not both.");
        if (q["scope.system"] && q["scope.domain.id"])
          throw badRequest("Specify system or domain, not both.");
        if (q["scope.system"] && q["scope.project.id"])
          throw badRequest("Specify system or project, not both.");
        if (q["user.id"] && q["group.id"]) throw badRequest("Specify a user or group, not both.");
        if (effective && q["scope.domain.id"] && inherited)
          throw badRequest(
            "Combining effective, domain and inherited filters will always result in an empty list.",
          );
        if (effective && q["group.id"])
          throw badRequest("Combining effective and group filter will always result in an empty list.");
        if (includeSubtree && !q["scope.project.id"])
          throw badRequest("include_subtree requires scope.project.id.");
        const f = {
          userId: q["user.id"],
          groupId: q["group.id"],
          roleId: q["role.id"],
          projectId: q["scope.project.id"],
          domainId: q["scope.domain.id"],
          system: q["scope.system"] !== undefined ? true : undefined,
          inherited,
          includeSubtree,
        };
        let views = effective
          ? await effectiveAssignments(core, { ...f, inherited: undefined })
          : await listAssignments(core, f);
        if (effective && includeSubtree && f.projectId) {
          const { descendantIds } = await import("../store/projects.js");
          const ids = new Set([f.projectId, ...(await descendantIds(core, f.projectId))]);
          views = (
            await effectiveAssignments(core, { ...f, projectId: undefined, inherited: undefined })
          ).filter((v) => v.scope.kind === "project" && ids.has(v.scope.id as string));
        }
        const scopeDomain = ctx.auth?.domainId;
        if (scopeDomain) {
          const domainOf = new Map<string, string | null>();
          for (const v of views)
            if (v.scope.kind === "project" && !domainOf.has(v.scope.id as string))
              domainOf.set(
                v.scope.id as string,
                (await findProject(core, v.scope.id as string))?.domain_id ?? null,
              );
          views = views.filter((v) =>
            v.scope.kind === "domain"
              ? v.scope.id === scopeDomain
              : v.scope.kind === "project" && domainOf.get(v.scope.id as string) === scopeDomain,
          );
        }
        return {
          role_assignments: await renderAssignments(ctx, svc, views, includeNames),
          links: { self: `${ctx.serviceUrl}${ctx.url}`, previous: null, next: null },
        };
      },
    }),
  );
  return out;
}

async function renderAssignments(
  ctx: RequestCtx<any, any, any>,
  svc: IdentityService,
  views: AssignmentView[],
  names: boolean,
): Promise<unknown[]> {
  const core = svc.core;
  const roles = await allRoles(core);
  const nameCache = new Map<
    string,
    { id: string; name: string; domain?: { id: string; name: string } } | null
  >();
  const domName = async (id: string) => (await findProject(core, id))?.name ?? "";
  const named = async (kind: string, id: string) => {
    const key = `${kind}:${id}`;
    if (!nameCache.has(key)) {
      let v: { id: string; name: string; domain?: { id: string; name: string } } | null = null;
      if (kind === "user") {
        const u = await findUser(core, id);
        if (u) v = { id, name: u.name, domain: { id: u.domain_id, name: await domName(u.domain_id) } };
      } else if (kind === "group") {
        const g = await getGroup(core, id).catch(() => null);
        if (g) v = { id, name: g.name, domain: { id: g.domain_id, name: await domName(g.domain_id) } };
      } else if (kind === "project") {
        const p = await findProject(core, id);
        if (p)
          v = {
            id,
            name: p.name,
            domain: { id: p.domain_id as string, name: await domName(p.domain_id as string) },
          };
      } else if (kind === "domain") {
        const d = await findProject(core, id);
        if (d) v = { id, name: d.name };
      }
      nameCache.set(key, v);
    }
    return nameCache.get(key) ?? { id };
  };
  const base = ctx.serviceUrl + "/v3";
  const out: unknown[] = [];
  for (const v of views) {
    const role = roles.get(v.roleId);
    const entry: Record<string, unknown> = {};
    entry.role =
      names && role
        ? {
            id: role.id,
            name: role.name,
            ...(role.domain_id
              ? { domain: { id: role.domain_id, name: await domName(role.domain_id) } }
              : {}),
          }
        : { id: v.roleId };
    const scopeKind = v.scope.kind;
    const scope: Record<string, unknown> =
      scopeKind === "system"
        ? { system: { all: true } }
        : { [scopeKind]: names ? await named(scopeKind, v.scope.id as string) : { id: v.scope.id } };
    if (v.inherited) scope["OS-INHERIT:inherited_to"] = "projects";
    entry.scope = scope;
    if (v.userId) entry.user = names ? await named("user", v.userId) : { id: v.userId };
    if (v.groupId) entry.group = names ? await named("group", v.groupId) : { id: v.groupId };
    const actorPath = v.viaGroup
      ? `groups/${v.viaGroup}`
      : v.userId
        ? `users/${v.userId}`
        : `groups/${v.groupId}`;
    let assignmentLink: string;
    if (v.inheritedFrom)
      assignmentLink = `${base}/OS-INHERIT/${v.inheritedFrom.kind}s/${v.inheritedFrom.id}/${actorPath}/roles/${v.priorRoleId ?? v.roleId}/inherited_to_projects`;
    else if (scopeKind === "system")
      assignmentLink = `${base}/system/${actorPath}/roles/${v.priorRoleId ?? v.roleId}`;
    else
      assignmentLink = `${base}/${v.inherited ? "OS-INHERIT/" : ""}${scopeKind}s/${v.scope.id}/${actorPath}/roles/${v.priorRoleId ?? v.roleId}${v.inherited ? "/inherited_to_projects" : ""}`;
    const links: Record<string, string> = { assignment: assignmentLink };
    if (v.viaGroup) links.membership = `${base}/groups/${v.viaGroup}/users/${v.userId}`;
    if (v.priorRoleId) links.prior_role = `${base}/roles/${v.priorRoleId}`;
    entry.links = links;
    out.push(entry);
  }
  return out;
}
