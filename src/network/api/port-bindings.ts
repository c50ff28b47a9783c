// /v2.0/ports/{id}/bindings (Neutron's binding-extended): list and create a port's bindings, show and delete one
// by host, activate one. Admins and service users (compute's, for live migration) only; others do not see them
// (an empty list, 404) and may not make them (403). The bindings themselves are port-bindings.ts's.
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import {
  activateBinding,
  bindingNotFound,
  checkComputePort,
  createBinding,
  portBindings,
  removeBinding,
  type BindingView,
} from "../port-bindings.js";
import { bodyItem, parseCreate, resourceBody, type Attr } from "./attrs.js";
import { enforceOn, enforceWrite, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { loadPort } from "./port-view.js";
import { VNIC_TYPES } from "./ports.js";
import { dict, oneOf, str } from "./validators.js";

const ATTRS = new Map<string, Attr>([
  ["host", { post: "required", put: false, parse: str(255) }],
  ["vnic_type", { post: true, put: false, parse: oneOf(VNIC_TYPES) }],
  ["profile", { post: true, put: false, parse: (v, a) => (v === null ? {} : dict(v, a)) }],
  ["vif_type", { post: false, put: false, parse: str() }],
  ["vif_details", { post: false, put: false, parse: str() }],
  ["status", { post: false, put: false, parse: str() }],
]);

const LIST: ListSpec = {
  collection: "bindings",
  filters: new Map<string, FilterKind>([
    ["host", "string"],
    ["vif_type", "string"],
    ["vnic_type", "string"],
    ["status", "string"],
  ]),
  sortKeys: new Set(["host", "status"]),
  markerNotFound: (id) => bindingNotFound("", id),
};

const view = (b: BindingView): Record<string, unknown> => ({ ...b });

/** The port (404 when the caller may not see it; 400 unless a compute port) and its bindings' policy target. */
async function portFor(ctx: Ctx, core: NetworkCore) {
  const { port, target } = await loadPort(ctx, core, ctx.params.port_id);
  checkComputePort(port);
  return { port, target };
}

/** One binding of the port, by host; 404 PortBindingNotFound (also when the caller may not read bindings). */
async function bindingOf(ctx: Ctx, core: NetworkCore, rule: string) {
  const { port, target } = await portFor(ctx, core);
  const host = ctx.params.host as string;
  enforceOn(ctx, rule, "get_port_binding", target, bindingNotFound(port.id, host));
  const b = (await portBindings(core, port)).find((x) => x.host === host);
  if (!b) throw bindingNotFound(port.id, host);
  return { port, binding: b };
}

/** Routes of /v2.0/ports/{port_id}/bindings. */
export function portBindingRoutes(core: NetworkCore): Route[] {
  const base = "/v2.0/ports/:port_id/bindings";
  return [
    route({
      method: "GET",
      path: base,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { port, target } = await portFor(ctx, core);
        const views = ctx.allowed("get_port_binding", target)
          ? (await portBindings(core, port)).map(view)
          : [];
        return listResponse(ctx, LIST, views);
      },
    }),
    route({
      method: "POST",
      path: base,
      policy: null,
      auth: "required",
      body: resourceBody("binding"),
      handler: async (ctx) => {
        // Policy first (as Neutron's API layer), then the plugin's compute-port check.
        const { port, target } = await loadPort(ctx, core, ctx.params.port_id);
        enforceWrite(ctx, "create_port_binding", [], target);
        checkComputePort(port);
        const p = parseCreate(bodyItem(ctx.body, "binding"), ATTRS);
        const b = await createBinding(core, port, {
          host: p.values.get("host") as string,
          vnic_type: p.values.get("vnic_type") as string | undefined,
          profile: p.values.get("profile") as Record<string, unknown> | undefined,
        });
        return reply(201, { binding: view(b) });
      },
    }),
    route({
      method: "GET",
      path: `${base}/:host`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { binding } = await bindingOf(ctx, core, "get_port_binding");
        return { binding: selectFields(view(binding), fieldsOf(ctx)) };
      },
    }),
    route({
      method: "DELETE",
      path: `${base}/:host`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { port, binding } = await bindingOf(ctx, core, "delete_port_binding");
        await removeBinding(core, port, binding.host);
        return noContent();
      },
    }),
    route({
      method: "PUT",
      path: `${base}/:host/activate`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { port, binding } = await bindingOf(ctx, core, "activate");
        return { binding: view(await activateBinding(core, port, binding.host)) };
      },
    }),
  ];
}
