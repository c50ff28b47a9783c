import { Type } from "@sinclair/typebox";
import { badRequest } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import { getEndpoint } from "../store/catalog.js";
import {
  FILTER_KEYS,
  addGroupProject,
  addProjectEndpoint,
  assertGroupProject,
  assertProjectEndpoint,
  createEndpointGroup,
  deleteEndpointGroup,
  endpointsInGroup,
  endpointsOfProject,
  getEndpointGroup,
  groupsOfProject,
  listEndpointGroups,
  projectsOfEndpoint,
  projectsOfGroup,
  removeGroupProject,
  removeProjectEndpoint,
  updateEndpointGroup,
  type EndpointGroup,
} from "../store/endpoint-groups.js";
import { getProject, listProjects } from "../store/projects.js";
import { renderEndpoint } from "./catalog.js";
import { Name, NStr, collectionLinks, selfLink } from "./common.js";
import { renderProject } from "./projects.js";

// Keystone's endpoint group schema: closed objects; filters on an endpoint's interface, service or region.
const Filters = Type.Object(
  {
    interface: Type.Optional(
      Type.Union([Type.Literal("public"), Type.Literal("internal"), Type.Literal("admin")]),
    ),
    service_id: Type.Optional(Type.String()),
    region_id: Type.Optional(NStr()),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
const GroupProps = {
  name: Type.Optional(Name),
  description: Type.Optional(NStr()),
  filters: Type.Optional(Filters),
};
const GroupCreate = Type.Object(
  {
    endpoint_group: Type.Object(
      { ...GroupProps, name: Name, filters: Filters },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, required: ["endpoint_group"] },
);
const GroupUpdate = Type.Object(
  { endpoint_group: Type.Object(GroupProps, { additionalProperties: false, minProperties: 1 }) },
  { additionalProperties: false, required: ["endpoint_group"] },
);
const NameQuery = Type.Object({ name: Type.Optional(Type.String()) }, { additionalProperties: false });

/** Keystone's _require_valid_filter: only interface, service_id and region_id can be filtered on. */
function checkFilters(filters: Record<string, unknown>): void {
  for (const k of Object.keys(filters))
    if (!(FILTER_KEYS as readonly string[]).includes(k))
      throw badRequest(
        `Expecting to find ${FILTER_KEYS.join(" or ")} in endpoint_group. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
      );
}

/** Keystone's view of an endpoint group. */
export function renderEndpointGroup(
  ctx: RequestCtx<any, any, any>,
  g: EndpointGroup,
): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    filters: g.filters,
    links: selfLink(ctx, `OS-EP-FILTER/endpoint_groups/${g.id}`),
  };
}

/** Routes for /v3/OS-EP-FILTER: endpoint groups and project-endpoint associations. */
export function endpointGroupRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const P = "/v3/OS-EP-FILTER";

  const projectsById = async (ctx: RequestCtx<any, any, any>, ids: string[]) => ({
    projects: (await listProjects(core, { ids, is_domain: false })).map((p) => renderProject(ctx, p)),
    links: collectionLinks(ctx),
  });

  return [
    // Endpoint groups
    route({
      method: "GET",
      path: `${P}/endpoint_groups`,
      policy: "identity:list_endpoint_groups",
      query: NameQuery,
      handler: async (ctx) => ({
        endpoint_groups: (await listEndpointGroups(core, { name: ctx.query.name })).map((g) =>
          renderEndpointGroup(ctx, g),
        ),
        links: collectionLinks(ctx),
      }),
    }),
    route({
      method: "POST",
      path: `${P}/endpoint_groups`,
      policy: "identity:create_endpoint_group",
      body: GroupCreate,
      handler: async (ctx) => {
        const b = ctx.body.endpoint_group;
        if (!b.filters || !Object.keys(b.filters).length)
          throw badRequest("filters field is required and cannot be empty");
        checkFilters(b.filters);
        const g = await createEndpointGroup(core, {
          name: b.name,
          description: b.description ?? null,
          filters: b.filters,
        });
        return reply(201, { endpoint_group: renderEndpointGroup(ctx, g) });
      },
    }),
    route({
      method: ["GET", "HEAD"],
      path: `${P}/endpoint_groups/:endpoint_group_id`,
      policy: "identity:get_endpoint_group",
      handler: async (ctx) => ({
        endpoint_group: renderEndpointGroup(ctx, await getEndpointGroup(core, ctx.params.endpoint_group_id)),
      }),
    }),
    route({
      method: "PATCH",
      path: `${P}/endpoint_groups/:endpoint_group_id`,
      policy: "identity:update_endpoint_group",
      body: GroupUpdate,
      handler: async (ctx) => {
        const b = ctx.body.endpoint_group;
        if (b.filters !== undefined) checkFilters(b.filters);
        const g = await getEndpointGroup(core, ctx.params.endpoint_group_id);
        const updated = await updateEndpointGroup(core, g, {
          name: b.name,
          description: b.description,
          filters: b.filters,
        });
        return { endpoint_group: renderEndpointGroup(ctx, updated) };
      },
    }),
    route({
      method: "DELETE",
      path: `${P}/endpoint_groups/:endpoint_group_id`,
      policy: "identity:delete_endpoint_group",
      handler: async (ctx) => {
        await deleteEndpointGroup(core, ctx.params.endpoint_group_id);
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: `${P}/endpoint_groups/:endpoint_group_id/endpoints`,
      policy: "identity:list_endpoints_associated_with_endpoint_group",
      handler: async (ctx) => {
        const g = await getEndpointGroup(core, ctx.params.endpoint_group_id);
        return {
          endpoints: (await endpointsInGroup(core, g)).map((e) => renderEndpoint(ctx, e)),
          links: collectionLinks(ctx),
        };
      },
    }),
    route({
      method: "GET",
      path: `${P}/endpoint_groups/:endpoint_group_id/projects`,
      policy: "identity:list_projects_associated_with_endpoint_group",
      handler: async (ctx) => {
        const g = await getEndpointGroup(core, ctx.params.endpoint_group_id);
        return projectsById(ctx, await projectsOfGroup(core, g.id));
      },
    }),
    route({
      method: ["GET", "HEAD"],
      path: `${P}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
      policy: "identity:get_endpoint_group_in_project",
      handler: async (ctx) => {
        const { endpoint_group_id: gid, project_id: pid } = ctx.params;
        await getProject(core, pid);
        await getEndpointGroup(core, gid);
        await assertGroupProject(core, gid, pid);
        return {
          project_endpoint_group: {
            endpoint_group_id: gid,
            project_id: pid,
            links: selfLink(ctx, `OS-EP-FILTER/endpoint_groups/${gid}/projects/${pid}`),
          },
        };
      },
    }),
    route({
      method: "PUT",
      path: `${P}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
      policy: "identity:add_endpoint_group_to_project",
      handler: async (ctx) => {
        const { endpoint_group_id: gid, project_id: pid } = ctx.params;
        await getProject(core, pid);
        await getEndpointGroup(core, gid);
        await addGroupProject(core, gid, pid);
        return noContent();
      },
    }),
    route({
      method: "DELETE",
      path: `${P}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
      policy: "identity:remove_endpoint_group_from_project",
      handler: async (ctx) => {
        const { endpoint_group_id: gid, project_id: pid } = ctx.params;
        await getProject(core, pid);
        await getEndpointGroup(core, gid);
        await removeGroupProject(core, gid, pid);
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: `${P}/projects/:project_id/endpoint_groups`,
      policy: "identity:list_endpoint_groups_for_project",
      handler: async (ctx) => {
        await getProject(core, ctx.params.project_id);
        return {
          endpoint_groups: (await groupsOfProject(core, ctx.params.project_id)).map((g) =>
            renderEndpointGroup(ctx, g),
          ),
          links: collectionLinks(ctx),
        };
      },
    }),

    // Project ↔ endpoint
    route({
      method: ["GET", "HEAD"],
      path: `${P}/projects/:project_id/endpoints/:endpoint_id`,
      policy: "identity:check_endpoint_in_project",
      handler: async (ctx) => {
        await getEndpoint(core, ctx.params.endpoint_id);
        await getProject(core, ctx.params.project_id);
        await assertProjectEndpoint(core, ctx.params.project_id, ctx.params.endpoint_id);
        return noContent();
      },
    }),
    route({
      method: "PUT",
      path: `${P}/projects/:project_id/endpoints/:endpoint_id`,
      policy: "identity:add_endpoint_to_project",
      handler: async (ctx) => {
        await getEndpoint(core, ctx.params.endpoint_id);
        await getProject(core, ctx.params.project_id);
        await addProjectEndpoint(core, ctx.params.project_id, ctx.params.endpoint_id);
        return noContent();
      },
    }),
    route({
      method: "DELETE",
      path: `${P}/projects/:project_id/endpoints/:endpoint_id`,
      policy: "identity:remove_endpoint_from_project",
      handler: async (ctx) => {
        await removeProjectEndpoint(core, ctx.params.project_id, ctx.params.endpoint_id);
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: `${P}/projects/:project_id/endpoints`,
      policy: "identity:list_endpoints_for_project",
      handler: async (ctx) => {
        await getProject(core, ctx.params.project_id);
        return {
          endpoints: (await endpointsOfProject(core, ctx.params.project_id)).map((e) =>
            renderEndpoint(ctx, e),
          ),
          links: collectionLinks(ctx),
        };
      },
    }),
    route({
      method: "GET",
      path: `${P}/endpoints/:endpoint_id/projects`,
      policy: "identity:list_projects_for_endpoint",
      handler: async (ctx) => {
        await getEndpoint(core, ctx.params.endpoint_id);
        return projectsById(ctx, await projectsOfEndpoint(core, ctx.params.endpoint_id));
      },
    }),
  ];
}
