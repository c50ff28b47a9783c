// Nova's security group proxy (os-security-groups and os-security-group-rules to 2.35; a server's groups and the
// addSecurityGroup/removeSecurityGroup actions at every microversion) for a cloud with no network service yet:
// there are no groups, so lists are empty, lookups 404 as Nova's SecurityGroupNotFound, and creating a group
// says plainly that security groups need the network service. When the cloud runs the network service, the
// proxy answers from it (security-groups-neutron.ts), as Nova does over Neutron.
import type { ServiceClient } from "../../../shared/client/service-client.js";
import { reply } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { casUpdate, type Instance } from "../../instances/store.js";
import type { Ctx } from "../common.js";
import { ADMIN_OR_PROJECT, PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { authorizedServer, closedObject, type ActionTable } from "../server-actions/common.js";
import { proxyRoute } from "./proxy.js";
import {
  changeServerGroups,
  groupsById,
  neutron,
  neutronRule,
  novaGroup,
  novaRule,
} from "./security-groups-neutron.js";

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

/** The proxy routes and GET /servers/{id}/os-security-groups (over the network service when the cloud runs it). */
export function securityGroupRoutes(core: ComputeCore): Route[] {
  const missing = (id: string) => () => notFound(`Security group ${id} not found.`);
  const groupBody = (ctx: Ctx) => {
    const sg = member(ctx.body, "security_group");
    return closedObject("security_group", sg, ["name", "description"], {
      required: ["name", "description"],
    })!;
  };
  const show = async (net: ServiceClient, ctx: Ctx, id: string) => {
    const g = (await neutron(net, ctx, "GET", `/security-groups/${encodeURIComponent(id)}`, missing(id)))
      .security_group;
    return { security_group: novaGroup(g, await groupsById(net, ctx)) };
  };
  return [
    proxyRoute("GET", `/v2.1${P}`, `${SG}:get`, async (ctx) => {
      const net = core.network;
      if (!net) return { security_groups: [] };
      const all = new URLSearchParams(ctx.url.split("?")[1] ?? "").get("all_tenants");
      const everyone = all !== null && all !== "0" && all.toLowerCase() !== "false";
      const names = await groupsById(net, ctx);
      const own = [...names.values()].filter((g) => everyone || g.tenant_id === ctx.auth?.projectId);
      return { security_groups: own.map((g) => novaGroup(g, names)) };
    }),
    proxyRoute("GET", `/v2.1${P}/:id`, `${SG}:show`, async (ctx) => {
      const net = core.network;
      return net ? show(net, ctx, ctx.params.id) : groupNotFound(ctx.params.id);
    }),
    proxyRoute("POST", `/v2.1${P}`, `${SG}:create`, async (ctx) => {
      const body = groupBody(ctx);
      const net = core.network;
      if (!net) throw badRequest(NO_NETWORK_SERVICE);
      const g = (
        await neutron(net, ctx, "POST", "/security-groups", missing(""), {
          security_group: { name: body.name, description: body.description },
        })
      ).security_group;
      return { security_group: novaGroup(g, new Map()) };
    }),
    proxyRoute("PUT", `/v2.1${P}/:id`, `${SG}:update`, async (ctx) => {
      const net = core.network;
      if (!net) return groupNotFound(ctx.params.id);
      const body = groupBody(ctx);
      const id = ctx.params.id;
      await neutron(net, ctx, "PUT", `/security-groups/${encodeURIComponent(id)}`, missing(id), {
        security_group: { name: body.name, description: body.description },
      });
      return show(net, ctx, id);
    }),
    proxyRoute("DELETE", `/v2.1${P}/:id`, `${SG}:delete`, async (ctx) => {
      const net = core.network;
      if (!net) return groupNotFound(ctx.params.id);
      const id = ctx.params.id;
      await neutron(net, ctx, "DELETE", `/security-groups/${encodeURIComponent(id)}`, missing(id));
      return reply(202, undefined);
    }),
    proxyRoute("POST", `/v2.1${R}`, `${SG}:rule:create`, async (ctx) => {
      const rule = closedObject(
        "security_group_rule",
        member(ctx.body, "security_group_rule"),
        ["parent_group_id", "ip_protocol", "from_port", "to_port", "cidr", "group_id"],
        { required: ["parent_group_id"] },
      )!;
      const net = core.network;
      if (!net) return groupNotFound(String(rule.parent_group_id));
      const body = { security_group_rule: neutronRule(rule) };
      const parent = String(rule.parent_group_id);
      const created = (await neutron(net, ctx, "POST", "/security-group-rules", missing(parent), body))
        .security_group_rule;
      return { security_group_rule: novaRule(created, await groupsById(net, ctx)) };
    }),
    proxyRoute("DELETE", `/v2.1${R}/:id`, `${SG}:rule:delete`, async (ctx) => {
      const id = ctx.params.id;
      const gone = () => notFound(`Security group with rule ${id} not found.`);
      const net = core.network;
      if (!net) throw gone();
      await neutron(net, ctx, "DELETE", `/security-group-rules/${encodeURIComponent(id)}`, gone);
      return reply(202, undefined);
    }),
    route({
      method: "GET",
      path: "/v2.1/servers/:id/os-security-groups",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        await authorizedServer(core, ctx, ctx.params.id, `${SG}:list`);
        const net = core.network;
        if (!net) return { security_groups: [] };
        const ports = (
          await neutron(net, ctx, "GET", `/ports?device_id=${encodeURIComponent(ctx.params.id)}`, missing(""))
        ).ports as Array<{ security_groups: string[] }>;
        const ids = new Set(ports.flatMap((p) => p.security_groups));
        const names = await groupsById(net, ctx);
        return {
          security_groups: [...ids].flatMap((id) => {
            const g = names.get(id);
            return g ? [novaGroup(g, names)] : [];
          }),
        };
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

/**
 * The server's recorded groups (server show's `security_groups`) after `group` was added to or removed from its
 * ports, as Nova shows the groups of the ports: tempest waits for an added group to appear there.
 */
async function recordGroup(
  core: ComputeCore,
  inst: Instance,
  group: { id: string; name: string },
  add: boolean,
) {
  const kept = inst.security_groups.filter((g) =>
    g.id === undefined ? g.name !== group.name : g.id !== group.id,
  );
  const next = add ? [...kept, { name: group.name, id: group.id }] : kept;
  await casUpdate(core.db, inst.uuid, {}, { security_groups: next });
}

/** addSecurityGroup and removeSecurityGroup: over the server's ports when the network service runs. */
export const securityGroupActions: ActionTable = {
  addSecurityGroup: {
    async run(core, ctx, id, value) {
      const name = groupName("addSecurityGroup", value);
      const inst = await authorizedServer(core, ctx, id, `${SG}:add`);
      if (!core.network) return groupNotFound(name);
      await recordGroup(core, inst, await changeServerGroups(core.network, ctx, id, name, true), true);
    },
  },
  removeSecurityGroup: {
    async run(core, ctx, id, value) {
      const name = groupName("removeSecurityGroup", value);
      const inst = await authorizedServer(core, ctx, id, `${SG}:remove`);
      if (!core.network) return groupNotFound(name);
      await recordGroup(core, inst, await changeServerGroups(core.network, ctx, id, name, false), false);
    },
  },
};
