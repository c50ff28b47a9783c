// Nova's security group proxy (os-security-groups and os-security-group-rules to 2.35; a server's groups and the
// addSecurityGroup/removeSecurityGroup actions at every microversion) for a cloud with no network service yet:
// there are no groups, so lists are empty, lookups 404 as Nova's SecurityGroupNotFound, and creating a group
// says plainly that security groups need the network service. The networking service replaces this.
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import { ADMIN_OR_PROJECT, PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { authorizedServer, closedObject, type ActionTable } from "../server-actions/common.js";
import { proxyRoute } from "./networks.js";

const SG = "os_compute_api:os-security-groups";
const P = "/os-security-groups";
const R = "/os-security-group-rules";

/** Policy defaults of the security group proxy (Nova's Zed defaults, written out). */
export const securityGroupPolicies: RuleDefault[] = [
  policyRule(`${SG}:get`, ADMIN_OR_PROJECT, "List security groups.", "GET", P),
  policyRule(`${SG}:show`, ADMIN_OR_PROJECT, "Show a security group.", "GET", `${P}/{id}`),
  policyRule(`${SG}:create`, PROJECT_MEMBER, "Create a security group.", "POST", P),
  policyRule(`${SG}:update`, PROJECT_MEMBER, "Update a security group.", "PUT", `${P}/{id}`),
  policyRule(`${SG}:delete`, PROJECT_MEMBER, "Delete a security group.", "DELETE", `${P}/{id}`),
  policyRule(`${SG}:rule:create`, PROJECT_MEMBER, "Create a security group rule.", "POST", R),
  policyRule(`${SG}:rule:delete`, PROJECT_MEMBER, "Delete a security group rule.", "DELETE", `${R}/{id}`),
  policyRule(
    `${SG}:list`,
    ADMIN_OR_PROJECT,
    "List a server's security groups.",
    "GET",
    "/servers/{id}/os-security-groups",
  ),
  policyRule(
    `${SG}:add`,
    PROJECT_MEMBER,
    "Add a security group to a server.",
    "POST",
    "/servers/{id}/action",
  ),
  policyRule(
    `${SG}:remove`,
    PROJECT_MEMBER,
    "Remove a security group from a server.",
    "POST",
    "/servers/{id}/action",
  ),
];

/** What creating a security group (or a rule in one) answers while no network service runs. */
export const NO_NETWORK_SERVICE =
  "The requested functionality is not supported: security groups need the network service, which this cloud does not run yet.";

const groupNotFound = (id: string): never => {
  throw notFound(`Security group ${id} not found.`);
};

/** The named member of a body that must be an object (Nova's schema error otherwise). */
function member(value: unknown, name: string): Record<string, unknown> {
  return closedObject("body", value, [name], { required: [name] })![name] as Record<string, unknown>;
}

/** The proxy routes and GET /servers/{id}/os-security-groups. */
export function securityGroupRoutes(core: ComputeCore): Route[] {
  return [
    proxyRoute("GET", `/v2.1${P}`, `${SG}:get`, () => ({ security_groups: [] })),
    proxyRoute("GET", `/v2.1${P}/:id`, `${SG}:show`, (ctx) => groupNotFound(ctx.params.id)),
    proxyRoute("POST", `/v2.1${P}`, `${SG}:create`, (ctx) => {
      const sg = member(ctx.body, "security_group");
      closedObject("security_group", sg, ["name", "description"], { required: ["name", "description"] });
      throw badRequest(NO_NETWORK_SERVICE);
    }),
    proxyRoute("PUT", `/v2.1${P}/:id`, `${SG}:update`, (ctx) => groupNotFound(ctx.params.id)),
    proxyRoute("DELETE", `/v2.1${P}/:id`, `${SG}:delete`, (ctx) => groupNotFound(ctx.params.id)),
    proxyRoute("POST", `/v2.1${R}`, `${SG}:rule:create`, (ctx) => {
      const rule = member(ctx.body, "security_group_rule");
      const parent = closedObject(
        "security_group_rule",
        rule,
        ["parent_group_id", "ip_protocol", "from_port", "to_port", "cidr", "group_id"],
        { required: ["parent_group_id"] },
      )!.parent_group_id;
      return groupNotFound(String(parent));
    }),
    proxyRoute("DELETE", `/v2.1${R}/:id`, `${SG}:rule:delete`, (ctx) => {
      throw notFound(`Security group with rule ${ctx.params.id} not found.`);
    }),
    route({
      method: "GET",
      path: "/v2.1/servers/:id/os-security-groups",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        await authorizedServer(core, ctx, ctx.params.id, `${SG}:list`);
        return { security_groups: [] };
      },
    }),
  ];
}

/** The `name` of an addSecurityGroup/removeSecurityGroup body. */
function groupName(action: string, value: unknown): string {
  const body = closedObject(action, value, ["name"], { required: ["name"] })!;
  if (typeof body.name !== "string" || body.name.trim() === "")
    throw badRequest(`Invalid input for field/attribute name. Value: ${String(body.name)}.`);
  return body.name;
}

/** addSecurityGroup and removeSecurityGroup: no group exists to add or remove. */
export const securityGroupActions: ActionTable = {
  addSecurityGroup: {
    async run(core, ctx, id, value) {
      const name = groupName("addSecurityGroup", value);
      await authorizedServer(core, ctx, id, `${SG}:add`);
      groupNotFound(name);
    },
  },
  removeSecurityGroup: {
    async run(core, ctx, id, value) {
      const name = groupName("removeSecurityGroup", value);
      await authorizedServer(core, ctx, id, `${SG}:remove`);
      groupNotFound(name);
    },
  },
};
