import { Type } from "@sinclair/typebox";
import { ApiError, badRequest } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { DEFAULT_DOMAIN_ID } from "../core.js";
import { notFoundEntity } from "../errors.js";
import type { IdentityService } from "../service.js";
import { deleteAssignmentsOn, userProjectIds } from "../store/assignments.js";
import { deleteLimitsOf } from "../store/limits.js";
import {
  createProject,
  deleteProjectRow,
  descendantIds,
  ancestorIds,
  findProject,
  getProject,
  listProjects,
  updateProject,
  type Project,
} from "../store/projects.js";
import { Name64, NStr, OpenObject, Wrap, collectionLinks, extras, queryBool, selfLink } from "./common.js";

const KNOWN = [
  "id",
  "name",
  "domain_id",
  "parent_id",
  "is_domain",
  "description",
  "enabled",
  "tags",
  "options",
  "links",
];
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 80, uniqueItems: true });
const ProjectCreate = Wrap(
  "project",
  OpenObject({
    name: Name64,
    domain_id: Type.Optional(NStr()),
    parent_id: Type.Optional(NStr()),
    is_domain: Type.Optional(Type.Boolean()),
    description: Type.Optional(NStr()),
    enabled: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Tags),
    options: Type.Optional(Type.Object({}, { additionalProperties: true })),
  }),
);
const ProjectUpdate = Wrap(
  "project",
  OpenObject({
    name: Type.Optional(Name64),
    domain_id: Type.Optional(NStr()),
    parent_id: Type.Optional(NStr()),
    is_domain: Type.Optional(Type.Boolean()),
    description: Type.Optional(NStr()),
    enabled: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Tags),
    options: Type.Optional(Type.Object({}, { additionalProperties: true })),
  }),
);

/** Keystone's JSON view of a project. */
export function renderProject(ctx: RequestCtx<any, any, any>, p: Project): Record<string, unknown> {
  return {
    ...p.extra,
    id: p.id,
    name: p.name,
    domain_id: p.domain_id,
    description: p.description,
    enabled: p.enabled,
    parent_id: p.parent_id,
    is_domain: p.is_domain,
    tags: p.tags,
    options: p.options,
    links: selfLink(ctx, `projects/${p.id}`),
  };
}

const tagList = (q: unknown): string[] | undefined =>
  typeof q === "string" ? q.split(",").filter(Boolean) : undefined;

/** Routes for /v3/projects, their tags, and the project hierarchy. */
export function projectRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const target = async (ctx: RequestCtx<any, any, Record<string, string>>) => {
    const p = await findProject(core, ctx.params.project_id);
    return {
      "target.project.id": p?.id ?? ctx.params.project_id,
      "target.project.domain_id": p?.domain_id ?? null,
    };
  };
  const load = async (id: string): Promise<Project> => getProject(core, id);
  // Domains are projects too: GET/PATCH /v3/projects/{domain_id} works on is_domain projects, as in Keystone.
  const loadAny = async (id: string): Promise<Project> => {
    const p = await findProject(core, id);
    if (!p) throw notFoundEntity("project", id);
    return p;
  };
  return [
    route({
      method: "GET",
      path: "/v3/projects",
      policy: "identity:list_projects",
      // As in Keystone: a domain-scoped token is checked against its own domain and sees only that domain's entries.
      target: (ctx) => ({ "target.domain_id": ctx.auth?.domainId ?? null }),
      handler: async (ctx) => {
        const q = ctx.query as Record<string, string | undefined>;
        const all = await listProjects(core, {
          is_domain: queryBool(q.is_domain, "is_domain") ?? false,
          name: q.name,
          domain_id: q.domain_id,
          parent_id: q.parent_id,
          enabled: queryBool(q.enabled, "enabled"),
          tags: tagList(q.tags),
          tags_any: tagList(q["tags-any"]),
          not_tags: tagList(q["not-tags"]),
          not_tags_any: tagList(q["not-tags-any"]),
        });
        const projects = all.filter((p) => !ctx.auth?.domainId || p.domain_id === ctx.auth.domainId);
        return { projects: projects.map((p) => renderProject(ctx, p)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/projects",
      policy: "identity:create_project",
      body: ProjectCreate,
      target: (ctx) => ({
        "target.project.domain_id": ctx.body.project.domain_id ?? ctx.auth?.domainId ?? DEFAULT_DOMAIN_ID,
      }),
      status: 201,
      handler: async (ctx) => {
        const b = ctx.body.project;
        let domainId = b.domain_id ?? null;
        if (!domainId && !b.parent_id && !b.is_domain) domainId = ctx.auth?.domainId ?? DEFAULT_DOMAIN_ID;
        const p = await createProject(core, {
          name: b.name,
          domain_id: domainId,
          parent_id: b.parent_id ?? null,
          is_domain: b.is_domain ?? false,
          description: b.description ?? "",
          enabled: b.enabled ?? true,
          tags: b.tags,
          options: b.options,
          extra: extras(b, KNOWN),
        });
        return reply(201, { project: renderProject(ctx, p) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/projects/:project_id",
      policy: "identity:get_project",
      target,
      handler: async (ctx) => {
        // A domain is a project too (is_domain): Keystone shows it here as well.
        const p = await findProject(core, ctx.params.project_id);
        if (!p) throw notFoundEntity("project", ctx.params.project_id);
        const q = ctx.query as Record<string, string | undefined>;
        const out = renderProject(ctx, p);
        const parentsAsList = queryBool(q.parents_as_list, "parents_as_list");
        const subtreeAsList = queryBool(q.subtree_as_list, "subtree_as_list");
        if (parentsAsList && queryBool(q.parents_as_ids, "parents_as_ids"))
          throw badRequest("Cannot use parents_as_list and parents_as_ids query params at the same time.");
        if (subtreeAsList && queryBool(q.subtree_as_ids, "subtree_as_ids"))
          throw badRequest("Cannot use subtree_as_list and subtree_as_ids query params at the same time.");
        if (queryBool(q.parents_as_ids, "parents_as_ids")) out.parents = await parentsAsIds(core, p.id);
        if (queryBool(q.subtree_as_ids, "subtree_as_ids")) out.subtree = await subtreeAsIds(core, p.id);
        // The list forms show only the projects the caller has a role on, as Keystone's do.
        const visible =
          parentsAsList || subtreeAsList
            ? new Set(await userProjectIds(core, ctx.auth!.userId))
            : new Set<string>();
        if (parentsAsList)
          out.parents = await Promise.all(
            (await ancestorIds(core, p.id))
              .filter((id) => visible.has(id))
              .map(async (id) => ({ project: renderProject(ctx, await load(id)) })),
          );
        if (subtreeAsList)
          out.subtree = await Promise.all(
            (await descendantIds(core, p.id))
              .filter((id) => visible.has(id))
              .map(async (id) => ({ project: renderProject(ctx, await load(id)) })),
          );
        if (queryBool(q.include_limits, "include_limits")) out.limits = [];
        return { project: out };
      },
    }),
    route({
      method: "PATCH",
      path: "/v3/projects/:project_id",
      policy: "identity:update_project",
      target,
      body: ProjectUpdate,
      handler: async (ctx) => {
        const p = await loadAny(ctx.params.project_id);
        const b = ctx.body.project;
        if (b.domain_id !== undefined && b.domain_id !== p.domain_id)
          throw badRequest("Invalid input: a project's domain_id cannot be changed.");
        if (b.is_domain !== undefined && b.is_domain !== p.is_domain)
          throw badRequest("Invalid input: is_domain cannot be changed.");
        if (b.parent_id !== undefined && b.parent_id !== p.parent_id)
          throw new ApiError(403, "Update of `parent_id` is not allowed.");
        if (b.enabled === true && !p.enabled && !p.is_domain) {
          const parents = await listProjects(core, {
            ids: await ancestorIds(core, p.id),
            is_domain: false,
            enabled: false,
          });
          if (parents.length)
            throw new ApiError(403, `Cannot enable project ${p.id} since it has disabled parents.`);
        }
        if (b.enabled === false && p.enabled && !p.is_domain) {
          const below = await listProjects(core, { ids: await descendantIds(core, p.id), enabled: true });
          if (below.length)
            throw new ApiError(403, `Cannot disable project ${p.id}: its subtree contains enabled projects.`);
        }
        const updated = await updateProject(core, p, {
          name: b.name,
          description: b.description,
          enabled: b.enabled,
          tags: b.tags,
          options: b.options,
          extra: extras(b, KNOWN),
        });
        if (b.enabled === false && p.enabled)
          await svc.revocations.add(p.is_domain ? { domain_id: p.id } : { project_id: p.id });
        return { project: renderProject(ctx, updated) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/projects/:project_id",
      policy: "identity:delete_project",
      target,
      handler: async (ctx) => {
        const p = await load(ctx.params.project_id);
        if ((await descendantIds(core, p.id)).length)
          throw new ApiError(403, `Cannot delete project ${p.id}: it has child projects. Delete them first.`);
        await deleteAssignmentsOn(core, p.id);
        await deleteLimitsOf(core, p.id);
        await core.db.deleteFrom("identity_credential").where("project_id", "=", p.id).execute();
        await deleteProjectRow(core, p.id);
        await svc.revocations.add({ project_id: p.id });
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v3/projects/:project_id/tags",
      policy: "identity:list_project_tags",
      target,
      handler: async (ctx) => ({ tags: (await load(ctx.params.project_id)).tags }),
    }),
    route({
      method: "PUT",
      path: "/v3/projects/:project_id/tags",
      policy: "identity:update_project_tags",
      target,
      body: Type.Object({ tags: Tags }, { additionalProperties: false }),
      handler: async (ctx) => {
        const p = await updateProject(core, await load(ctx.params.project_id), { tags: ctx.body.tags });
        return { tags: p.tags, links: selfLink(ctx, `projects/${p.id}/tags`) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/projects/:project_id/tags",
      policy: "identity:update_project_tags",
      target,
      handler: async (ctx) => {
        await updateProject(core, await load(ctx.params.project_id), { tags: [] });
        return noContent();
      },
    }),
    route({
      method: ["GET", "HEAD"],
      path: "/v3/projects/:project_id/tags/:tag",
      policy: "identity:list_project_tags",
      target,
      handler: async (ctx) => {
        const p = await load(ctx.params.project_id);
        if (!p.tags.includes(ctx.params.tag)) throw notFoundEntity("project tag", ctx.params.tag);
        return noContent();
      },
    }),
    route({
      method: "PUT",
      path: "/v3/projects/:project_id/tags/:tag",
      policy: "identity:update_project_tags",
      target,
      handler: async (ctx) => {
        const p = await load(ctx.params.project_id);
        if (p.tags.includes(ctx.params.tag))
          throw badRequest(`Invalid input: project ${p.id} already has the tag '${ctx.params.tag}'.`);
        await updateProject(core, p, { tags: [...p.tags, ctx.params.tag] });
        return reply(201, undefined, {
          location: `${ctx.serviceUrl}/v3/projects/${p.id}/tags/${encodeURIComponent(ctx.params.tag)}`,
        });
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/projects/:project_id/tags/:tag",
      policy: "identity:update_project_tags",
      target,
      handler: async (ctx) => {
        const p = await load(ctx.params.project_id);
        if (!p.tags.includes(ctx.params.tag)) throw notFoundEntity("project tag", ctx.params.tag);
        await updateProject(core, p, { tags: p.tags.filter((t) => t !== ctx.params.tag) });
        return noContent();
      },
    }),
  ];
}

async function parentsAsIds(
  core: IdentityService["core"],
  id: string,
): Promise<Record<string, unknown> | null> {
  // Up to and including the project acting as the domain, as Keystone does.
  const chain = await ancestorIds(core, id);
  let out: Record<string, unknown> | null = null;
  for (const pid of chain.reverse()) out = { [pid]: out };
  return out;
}

async function subtreeAsIds(
  core: IdentityService["core"],
  id: string,
): Promise<Record<string, unknown> | null> {
  const kids = await core.db
    .selectFrom("identity_project")
    .select("id")
    .where("parent_id", "=", id)
    .where("is_domain", "=", 0)
    .execute();
  if (!kids.length) return null;
  const out: Record<string, unknown> = {};
  for (const k of kids) out[k.id] = await subtreeAsIds(core, k.id);
  return out;
}
