// Typed calls for the Admin pages' identity side (Keystone v3): domains, projects, users, groups, roles, and role
// assignments with grant and revoke.
import type { Api } from "./client.js";

/** A domain (to choose where projects, users and groups are created). */
export interface Domain {
  id: string;
  name: string;
}

/** A project. */
export interface AdminProject {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  enabled: boolean;
}

/** A user. */
export interface AdminUser {
  id: string;
  name: string;
  domain_id: string;
  enabled: boolean;
  email?: string;
  default_project_id?: string;
}

/** A group. */
export interface AdminGroup {
  id: string;
  name: string;
  domain_id: string;
  description: string;
}

/** A role. */
export interface Role {
  id: string;
  name: string;
  domain_id?: string | null;
}

/** A named reference inside a role assignment. */
export interface NamedRef {
  id: string;
  name?: string;
}

/** One role assignment: a role, to a user or a group, on a project, a domain or the system. */
export interface RoleAssignment {
  role: NamedRef;
  user?: NamedRef;
  group?: NamedRef;
  scope: { project?: NamedRef; domain?: NamedRef; system?: { all: boolean } };
}

/** Who a grant is for. */
export type Actor = { kind: "users" | "groups"; id: string };

const q = (s: string) => encodeURIComponent(s);
const I = "identity";

/** The path of an assignment's grant (PUT to grant, DELETE to revoke); null for an inherited or odd scope. */
export function grantPath(a: RoleAssignment): string | null {
  const actor: Actor | null = a.user
    ? { kind: "users", id: a.user.id }
    : a.group
      ? { kind: "groups", id: a.group.id }
      : null;
  if (!actor) return null;
  const tail = `${actor.kind}/${q(actor.id)}/roles/${q(a.role.id)}`;
  if (a.scope.project) return `/projects/${q(a.scope.project.id)}/${tail}`;
  if (a.scope.domain) return `/domains/${q(a.scope.domain.id)}/${tail}`;
  if (a.scope.system) return `/system/${tail}`;
  return null;
}

/** The path of a v3 call below the catalog's identity URL (Keystone's catalog names it with or without "/v3"). */
export function identityV3(api: Api, path: string): string {
  return api.endpoint(I).endsWith("/v3") ? path : `/v3${path}`;
}

/** The admin identity calls, bound to one Api. */
export function adminIdentityCalls(api: Api) {
  const v3 = (path: string) => identityV3(api, path);
  return {
    domains: async (): Promise<Domain[]> => (await api.get(I, v3("/domains"))).domains,
    projects: async (): Promise<AdminProject[]> => (await api.get(I, v3("/projects"))).projects,
    createProject: async (p: {
      name: string;
      description: string;
      domain_id: string;
    }): Promise<AdminProject> =>
      (await api.post(I, v3("/projects"), { project: { ...p, enabled: true } })).project,
    /** Enable or disable a project (a disabled project's tokens stop working). */
    setProjectEnabled: async (id: string, enabled: boolean): Promise<AdminProject> =>
      (await api.call(I, v3(`/projects/${q(id)}`), { method: "PATCH", body: { project: { enabled } } }))
        .project,
    deleteProject: (id: string) => api.del(I, v3(`/projects/${q(id)}`)),
    users: async (): Promise<AdminUser[]> => (await api.get(I, v3("/users"))).users,
    createUser: async (u: {
      name: string;
      password: string;
      domain_id: string;
      email?: string;
      default_project_id?: string;
    }): Promise<AdminUser> => (await api.post(I, v3("/users"), { user: { ...u, enabled: true } })).user,
    setUserEnabled: async (id: string, enabled: boolean): Promise<AdminUser> =>
      (await api.call(I, v3(`/users/${q(id)}`), { method: "PATCH", body: { user: { enabled } } })).user,
    deleteUser: (id: string) => api.del(I, v3(`/users/${q(id)}`)),
    groups: async (): Promise<AdminGroup[]> => (await api.get(I, v3("/groups"))).groups,
    createGroup: async (g: { name: string; description: string; domain_id: string }): Promise<AdminGroup> =>
      (await api.post(I, v3("/groups"), { group: g })).group,
    deleteGroup: (id: string) => api.del(I, v3(`/groups/${q(id)}`)),
    groupUsers: async (id: string): Promise<AdminUser[]> =>
      (await api.get(I, v3(`/groups/${q(id)}/users`))).users,
    setGroupMember: (group: string, user: string, member: boolean): Promise<void> =>
      api.call(I, v3(`/groups/${q(group)}/users/${q(user)}`), {
        method: member ? "PUT" : "DELETE",
        raw: true,
      }),
    roles: async (): Promise<Role[]> => (await api.get(I, v3("/roles"))).roles,
    assignments: async (): Promise<RoleAssignment[]> =>
      (await api.get(I, v3("/role_assignments?include_names=true"))).role_assignments,
    /** Grant a role to a user or group on a project. */
    grant: (project: string, actor: Actor, role: string): Promise<void> =>
      api.call(I, v3(`/projects/${q(project)}/${actor.kind}/${q(actor.id)}/roles/${q(role)}`), {
        method: "PUT",
        raw: true,
      }),
    /** Revoke an assignment (whatever its scope). */
    revoke: async (a: RoleAssignment): Promise<void> => {
      const path = grantPath(a);
      if (!path) throw new Error("This assignment is inherited; revoke it where it is granted.");
      await api.del(I, v3(path));
    },
  };
}

/** The admin identity calls' type. */
export type AdminIdentityCalls = ReturnType<typeof adminIdentityCalls>;
