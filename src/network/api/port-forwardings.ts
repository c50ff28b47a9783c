// /v2.0/floatingips/{id}/port_forwardings: a floating IP's port forwardings (external port and protocol to an
// internal port's address and port), read with the floating IP's read rule and changed by its project's members.
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { notFound } from "../errors.js";
import { deleteForwarding, saveForwarding } from "../floating.js";
import { forwardingsOf, type FloatingIp, type PortForwarding } from "../store/floatingips.js";
import { bodyItem, parseCreate, parseUpdate, resourceBody, val, type Attr, type Parsed } from "./attrs.js";
import { enforceOn, enforceWrite, type Ctx } from "./common.js";
import { loadFloatingIp } from "./floatingips.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { loadPort } from "./port-view.js";
import { int, ip, oneOf, str, uuid } from "./validators.js";

const PROTOCOLS = ["tcp", "udp", "udplite", "sctp"] as const;

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["internal_port_id", { post: "required", put: true, parse: uuid }],
  ["internal_ip_address", { post: "required", put: true, parse: ip }],
  ["internal_port", { post: "required", put: true, parse: int(1, 65535) }],
  ["external_port", { post: "required", put: true, parse: int(1, 65535) }],
  ["protocol", { post: "required", put: true, parse: oneOf(PROTOCOLS) }],
  ["description", { post: true, put: true, parse: str(255) }],
]);

const LIST: ListSpec = {
  collection: "port_forwardings",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["internal_port_id", "string"],
    ["internal_ip_address", "string"],
    ["internal_port", "int"],
    ["external_port", "int"],
    ["protocol", "string"],
    ["description", "string"],
  ]),
  sortKeys: new Set([
    "id",
    "internal_port_id",
    "internal_ip_address",
    "internal_port",
    "external_port",
    "protocol",
  ]),
  markerNotFound: (id) => notFound("port_forwarding", id),
};

const view = (pf: PortForwarding): Record<string, unknown> => ({
  id: pf.id,
  internal_port_id: pf.internal_port_id,
  internal_ip_address: pf.internal_ip_address,
  internal_port: Number(pf.internal_port),
  external_port: Number(pf.external_port),
  protocol: pf.protocol,
  description: pf.description,
});

async function loadForwarding(ctx: Ctx, core: NetworkCore, rule: string) {
  const { fip, target } = await loadFloatingIp(ctx, core, ctx.params.floatingip_id);
  enforceOn(ctx, rule, "get_floatingip_port_forwarding", target, notFound("floatingip", fip.id));
  const pf = (await forwardingsOf(core, fip.id)).find((x) => x.id === ctx.params.port_forwarding_id);
  if (!pf) throw notFound("port_forwarding", ctx.params.port_forwarding_id);
  return { fip, pf, target };
}

/** Apply a parsed body to a forwarding and save it. */
async function write(
  ctx: Ctx,
  core: NetworkCore,
  fip: FloatingIp,
  pf: PortForwarding,
  p: Parsed,
  isNew: boolean,
) {
  if (p.values.has("internal_port_id")) pf.internal_port_id = val(p, "internal_port_id");
  if (p.values.has("internal_ip_address")) pf.internal_ip_address = val(p, "internal_ip_address");
  if (p.values.has("internal_port")) pf.internal_port = val(p, "internal_port");
  if (p.values.has("external_port")) pf.external_port = val(p, "external_port");
  if (p.values.has("protocol")) pf.protocol = val(p, "protocol");
  if (p.values.has("description")) pf.description = val(p, "description");
  const { port } = await loadPort(ctx, core, pf.internal_port_id);
  return saveForwarding(core, fip, pf, isNew, port);
}

/** Routes of /v2.0/floatingips/{id}/port_forwardings. */
export function portForwardingRoutes(core: NetworkCore): Route[] {
  const base = "/v2.0/floatingips/:floatingip_id/port_forwardings";
  return [
    route({
      method: "GET",
      path: base,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { fip, target } = await loadFloatingIp(ctx, core, ctx.params.floatingip_id);
        enforceOn(
          ctx,
          "get_floatingip_port_forwarding",
          "get_floatingip_port_forwarding",
          target,
          notFound("floatingip", fip.id),
        );
        return listResponse(ctx, LIST, (await forwardingsOf(core, fip.id)).map(view));
      },
    }),
    route({
      method: "POST",
      path: base,
      policy: null,
      auth: "required",
      body: resourceBody("port_forwarding"),
      handler: async (ctx) => {
        const { fip, target } = await loadFloatingIp(ctx, core, ctx.params.floatingip_id);
        const p = parseCreate(bodyItem(ctx.body, "port_forwarding"), ATTRS);
        enforceWrite(ctx, "create_floatingip_port_forwarding", [], target);
        const pf: PortForwarding = {
          id: core.newId(),
          floatingip_id: fip.id,
          internal_port_id: "",
          internal_ip_address: "",
          internal_port: 0,
          external_port: 0,
          protocol: "tcp",
          description: "",
        };
        const saved = await write(ctx, core, fip, pf, p, true);
        return reply(201, { port_forwarding: view(saved) });
      },
    }),
    route({
      method: "GET",
      path: `${base}/:port_forwarding_id`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { pf } = await loadForwarding(ctx, core, "get_floatingip_port_forwarding");
        return { port_forwarding: selectFields(view(pf), fieldsOf(ctx)) };
      },
    }),
    route({
      method: "PUT",
      path: `${base}/:port_forwarding_id`,
      policy: null,
      auth: "required",
      body: resourceBody("port_forwarding"),
      handler: async (ctx) => {
        const { fip, pf } = await loadForwarding(ctx, core, "update_floatingip_port_forwarding");
        const p = parseUpdate(bodyItem(ctx.body, "port_forwarding"), ATTRS);
        return { port_forwarding: view(await write(ctx, core, fip, { ...pf }, p, false)) };
      },
    }),
    route({
      method: "DELETE",
      path: `${base}/:port_forwarding_id`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { fip, pf } = await loadForwarding(ctx, core, "delete_floatingip_port_forwarding");
        await deleteForwarding(core, fip, pf.id);
        return noContent();
      },
    }),
  ];
}
