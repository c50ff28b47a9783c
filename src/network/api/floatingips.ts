// /v2.0/floatingips: list, create (on an external network, optionally with an address, a subnet, a port), show,
// update (associate with a port, or disassociate with port_id null), delete. Choosing the address is an admin's.
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { NetworkCore } from "../core.js";
import { createFloatingIp, deleteFloatingIp, updateFloatingIp, type Association } from "../floating.js";
import { notFound } from "../errors.js";
import { getFloatingIp, listFloatingIps, type FloatingIp } from "../store/floatingips.js";
import { getNetwork, networkVisible } from "../store/networks.js";
import { tagsFor } from "../store/tags.js";
import {
  bodyItem,
  parseCreate,
  parseUpdate,
  policyAttrsOnCreate,
  projectOf,
  resourceBody,
  val,
  type Attr,
  type Parsed,
} from "./attrs.js";
import { callerOf, enforceOn, enforceWrite, isoTime, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { loadPort } from "./port-view.js";
import { ip, str, uuid, type Validator } from "./validators.js";

const uuidOrNull: Validator<string | null> = (v, a) => (v === null ? null : uuid(v, a));

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["description", { post: true, put: true, parse: str(255) }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["floating_network_id", { post: "required", put: false, parse: uuid }],
  ["floating_ip_address", { post: true, put: false, parse: ip, policy: true }],
  ["subnet_id", { post: true, put: false, parse: uuid }],
  ["port_id", { post: true, put: true, parse: uuidOrNull }],
  ["fixed_ip_address", { post: true, put: true, parse: (v, a) => (v === null ? null : ip(v, a)) }],
  ["router_id", { post: false, put: false, parse: str(36) }],
  ["status", { post: false, put: false, parse: str(16) }],
]);

const LIST: ListSpec = {
  collection: "floatingips",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["description", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["floating_network_id", "string"],
    ["floating_ip_address", "string"],
    ["port_id", "string"],
    ["fixed_ip_address", "string"],
    ["router_id", "string"],
    ["status", "string"],
    ["revision_number", "int"],
  ]),
  sortKeys: new Set([
    "id",
    "floating_ip_address",
    "floating_network_id",
    "fixed_ip_address",
    "port_id",
    "router_id",
    "status",
    "project_id",
    "tenant_id",
    "created_at",
    "updated_at",
  ]),
  markerNotFound: (id) => notFound("floatingip", id),
};

/** The policy target of a floating IP. */
export const fipTarget = (f: Pick<FloatingIp, "project_id">): Target => ({
  project_id: f.project_id,
  tenant_id: f.project_id,
});

async function fipViews(core: NetworkCore, fips: FloatingIp[]): Promise<Record<string, unknown>[]> {
  const tags = await tagsFor(
    core,
    "floatingips",
    fips.map((f) => f.id),
  );
  return fips.map((f) => ({
    id: f.id,
    tenant_id: f.project_id,
    project_id: f.project_id,
    description: f.description,
    floating_network_id: f.floating_network_id,
    floating_ip_address: f.floating_ip_address,
    port_id: f.fixed_port_id,
    fixed_ip_address: f.fixed_ip_address,
    router_id: f.router_id,
    status: f.status,
    tags: tags.get(f.id) ?? [],
    created_at: isoTime(f.created_at),
    updated_at: isoTime(f.updated_at),
    revision_number: f.revision_number,
  }));
}

/** A floating IP the caller may see (404 otherwise), with `rule` enforced on it. */
export async function loadFloatingIp(ctx: Ctx, core: NetworkCore, id: string, rule = "get_floatingip") {
  const fip = await getFloatingIp(core, id);
  if (!fip) throw notFound("floatingip", id);
  const target = fipTarget(fip);
  enforceOn(ctx, rule, "get_floatingip", target, notFound("floatingip", id));
  return { fip, target };
}

/** The association a body asks for: undefined (none given), null (disassociate) or a port the caller may use. */
async function associationOf(ctx: Ctx, core: NetworkCore, p: Parsed, project: string) {
  if (!p.values.has("port_id")) return undefined;
  const portId = val<string | null>(p, "port_id");
  if (portId === null) return null;
  const { port } = await loadPort(ctx, core, portId);
  // Neutron: the port must be the floating IP's project's (admins excepted).
  if (port.project_id !== project && !callerOf(ctx).isAdmin) throw notFound("port", portId);
  const fixed = val<string | null | undefined>(p, "fixed_ip_address");
  const a: Association = { port, ...(fixed ? { fixed_ip_address: fixed } : {}) };
  return a;
}

/** Routes of /v2.0/floatingips. */
export function floatingIpRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/floatingips",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const fips = (await listFloatingIps(core, callerOf(ctx))).filter((f) =>
          ctx.allowed("get_floatingip", fipTarget(f)),
        );
        return listResponse(ctx, LIST, await fipViews(core, fips));
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/floatingips",
      policy: null,
      auth: "required",
      body: resourceBody("floatingip"),
      handler: async (ctx) => {
        const p = parseCreate(bodyItem(ctx.body, "floatingip"), ATTRS);
        const project = projectOf(p, callerOf(ctx).projectId);
        enforceWrite(
          ctx,
          "create_floatingip",
          policyAttrsOnCreate(p, ATTRS),
          fipTarget({ project_id: project }),
        );
        const netId = val<string>(p, "floating_network_id");
        const net = await getNetwork(core, netId);
        if (!net || !(await networkVisible(core, net, callerOf(ctx)))) throw notFound("network", netId);
        const association = await associationOf(ctx, core, p, project);
        const fip = await createFloatingIp(core, project, {
          network: net,
          description: val(p, "description"),
          floating_ip_address: val(p, "floating_ip_address"),
          subnet_id: val(p, "subnet_id"),
          ...(association ? { association } : {}),
        });
        const [view] = await fipViews(core, [fip]);
        return reply(201, { floatingip: view });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/floatingips/:floatingip_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { fip } = await loadFloatingIp(ctx, core, ctx.params.floatingip_id);
        const [view] = await fipViews(core, [fip]);
        return { floatingip: selectFields(view, fieldsOf(ctx)) };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/floatingips/:floatingip_id",
      policy: null,
      auth: "required",
      body: resourceBody("floatingip"),
      handler: async (ctx) => {
        const { fip, target } = await loadFloatingIp(
          ctx,
          core,
          ctx.params.floatingip_id,
          "update_floatingip",
        );
        const p = parseUpdate(bodyItem(ctx.body, "floatingip"), ATTRS);
        enforceWrite(ctx, "update_floatingip", [], target);
        const association = await associationOf(ctx, core, p, fip.project_id);
        const updated = await updateFloatingIp(core, fip, {
          description: val(p, "description"),
          ...(association !== undefined ? { association } : {}),
        });
        const [view] = await fipViews(core, [updated]);
        return { floatingip: view };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/floatingips/:floatingip_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { fip } = await loadFloatingIp(ctx, core, ctx.params.floatingip_id, "delete_floatingip");
        await deleteFloatingIp(core, fip);
        return noContent();
      },
    }),
  ];
}
