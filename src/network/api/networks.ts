// /v2.0/networks: list, create (one or bulk), show, update, delete. Provider attributes are an admin's; a
// project network gets a segment of the first tenant network type. `shared` and `router:external` are wildcard
// RBAC entries, as in Neutron, so sharing with one project and with everyone use the same machinery.
import { nowIso } from "../../shared/db/index.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { conflict, invalidInput, notFound } from "../errors.js";
import { allocateSegment, hasProvider, maxMtu } from "../provider.js";
import { withQuota } from "../quotas.js";
import { deleteNetworkCascade } from "../network-delete.js";
import {
  getNetwork,
  insertNetwork,
  listNetworks,
  networkVisible,
  updateNetwork,
  type Network,
} from "../store/networks.js";
import { portsOfNetwork } from "../store/ports.js";
import { deleteRbacOf, insertRbac, rbacFor } from "../store/rbac.js";
import { segmentsFor } from "../store/segments.js";
import {
  bodyItem,
  bodyItems,
  parseCreate,
  parseUpdate,
  policyAttrsOnCreate,
  policyAttrsOnUpdate,
  projectOf,
  resourceBody,
  val,
  type Attr,
  type Parsed,
} from "./attrs.js";
import { callerOf, enforceOn, enforceWrite, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { agentZones, networkView, networkViews } from "./network-view.js";
import { bool, int, intOrNull, listOf, str, strOrNull } from "./validators.js";

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["name", { post: true, put: true, parse: str(255), def: "" }],
  ["description", { post: true, put: true, parse: str(255), def: "" }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["admin_state_up", { post: true, put: true, parse: bool, def: true }],
  ["shared", { post: true, put: true, parse: bool, def: false, policy: true }],
  ["router:external", { post: true, put: true, parse: bool, def: false, policy: true }],
  ["port_security_enabled", { post: true, put: true, parse: bool, def: true, policy: true }],
  ["mtu", { post: true, put: true, parse: int(68, 65535) }],
  [
    "availability_zone_hints",
    { post: true, put: false, parse: listOf(str(255), { unique: true }), def: () => [] },
  ],
  ["provider:network_type", { post: true, put: true, parse: strOrNull(255), policy: true }],
  ["provider:physical_network", { post: true, put: true, parse: strOrNull(64), policy: true }],
  ["provider:segmentation_id", { post: true, put: true, parse: intOrNull(0, 2 ** 31 - 1), policy: true }],
  ["status", { post: false, put: false, parse: str(16) }],
  ["subnets", { post: false, put: false, parse: str(36) }],
]);

const LIST: ListSpec = {
  collection: "networks",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["name", "string"],
    ["description", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["status", "string"],
    ["admin_state_up", "bool"],
    ["shared", "bool"],
    ["router:external", "bool"],
    ["port_security_enabled", "bool"],
    ["mtu", "int"],
    ["revision_number", "int"],
    ["provider:network_type", "string"],
    ["provider:physical_network", "string"],
    ["provider:segmentation_id", "int"],
    [
      "availability_zone_hints",
      (v, vals) => vals.some((x) => (v.availability_zone_hints as string[]).includes(x)),
    ],
    ["subnets", (v, vals) => vals.some((x) => (v.subnets as string[]).includes(x))],
  ]),
  sortKeys: new Set([
    "id",
    "name",
    "status",
    "admin_state_up",
    "mtu",
    "project_id",
    "tenant_id",
    "shared",
    "created_at",
    "updated_at",
    "revision_number",
  ]),
  markerNotFound: (id) => notFound("network", id),
};

/** A network the caller may see and read, with its view and target; 404 NetworkNotFound otherwise. */
export async function loadNetwork(ctx: Ctx, core: NetworkCore, id: string) {
  const net = await getNetwork(core, id);
  if (!net || !(await networkVisible(core, net, callerOf(ctx)))) throw notFound("network", id);
  const { view, target } = await networkView(ctx, core, net);
  enforceOn(ctx, "get_network", "get_network", target, notFound("network", id));
  return { net, view, target };
}

/** 404 AvailabilityZoneNotFound unless every hint names a zone an agent is in. */
async function checkZones(core: NetworkCore, hints: string[]): Promise<void> {
  if (!hints.length) return;
  const zones = new Set(await agentZones(core));
  for (const h of hints) if (!zones.has(h)) throw notFound("availability_zone", h);
}

/** Create one network inside the create transaction; returns it. */
async function createOne(c: NetworkCore, p: Parsed, project: string): Promise<Network> {
  const now = nowIso();
  const net: Network = {
    id: c.newId(),
    project_id: project,
    name: val(p, "name"),
    description: val(p, "description"),
    admin_state_up: val(p, "admin_state_up"),
    status: "ACTIVE",
    mtu: 0,
    port_security_enabled: val(p, "port_security_enabled"),
    router_external: val(p, "router:external"),
    availability_zone_hints: val(p, "availability_zone_hints"),
    revision_number: 1,
    created_at: now,
    updated_at: now,
  };
  const segment = await allocateSegment(c, net.id, {
    networkType: val(p, "provider:network_type"),
    physicalNetwork: val(p, "provider:physical_network"),
    segmentationId: val(p, "provider:segmentation_id"),
  });
  const max = maxMtu(c, segment.network_type);
  net.mtu = val<number | undefined>(p, "mtu") ?? max;
  if (net.mtu > max) throw invalidInput(`Requested MTU is too big, maximum is ${max}`);
  await insertNetwork(c, net);
  const grant = async (action: "access_as_shared" | "access_as_external") =>
    insertRbac(c, {
      id: c.newId(),
      project_id: project,
      object_type: "network",
      object_id: net.id,
      action,
      target_project: "*",
    });
  if (val(p, "shared")) await grant("access_as_shared");
  if (net.router_external) await grant("access_as_external");
  return net;
}

/** Change sharing: a wildcard access_as_shared entry; unsharing is refused while other projects have ports on it. */
async function setShared(core: NetworkCore, net: Network, shared: boolean): Promise<void> {
  const entries = (await rbacFor(core, "network", [net.id])).get(net.id) ?? [];
  const wildcard = entries.find((e) => e.action === "access_as_shared" && e.target_project === "*");
  if (shared && !wildcard)
    await insertRbac(core, {
      id: core.newId(),
      project_id: net.project_id,
      object_type: "network",
      object_id: net.id,
      action: "access_as_shared",
      target_project: "*",
    });
  if (!shared && wildcard) {
    const allowed = new Set([
      net.project_id,
      ...entries
        .filter((e) => e.action === "access_as_shared" && e.target_project !== "*")
        .map((e) => e.target_project),
    ]);
    if ((await portsOfNetwork(core, net.id)).some((p) => !allowed.has(p.project_id)))
      throw conflict(
        "InvalidSharedSetting",
        `Unable to reconfigure sharing settings for network ${net.id}. Multiple tenants are using it.`,
      );
    await deleteRbacOf(core, "network", net.id, { action: "access_as_shared", target: "*" });
  }
}

/** Routes of /v2.0/networks. */
export function networkRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/networks",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const nets = await listNetworks(core, callerOf(ctx));
        const views = (await networkViews(ctx, core, nets))
          .filter(({ target }) => ctx.allowed("get_network", target))
          .map(({ view }) => view);
        return listResponse(ctx, LIST, views);
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/networks",
      policy: null,
      auth: "required",
      body: resourceBody("network", "networks"),
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const bulk = ctx.body && Object.hasOwn(ctx.body, "networks");
        const items = bodyItems(ctx.body, "network", "networks").map((item) => parseCreate(item, ATTRS));
        const byProject = new Map<string, Parsed[]>();
        for (const p of items) {
          const project = projectOf(p, caller.projectId);
          const target = {
            project_id: project,
            tenant_id: project,
            shared: val(p, "shared"),
            "router:external": val(p, "router:external"),
          };
          enforceWrite(ctx, "create_network", policyAttrsOnCreate(p, ATTRS), target);
          if (
            !hasProvider({ networkType: val(p, "provider:network_type") }) &&
            (val(p, "provider:physical_network") != null || val(p, "provider:segmentation_id") != null)
          )
            throw invalidInput("network_type required");
          await checkZones(core, val(p, "availability_zone_hints"));
          byProject.set(project, [...(byProject.get(project) ?? []), p]);
        }
        const created: Network[] = [];
        for (const [project, ps] of byProject)
          created.push(
            ...(await withQuota(core, project, "network", ps.length, async (c) => {
              const out: Network[] = [];
              for (const p of ps) out.push(await createOne(c, p, project));
              return out;
            })),
          );
        for (const n of created) core.notify.networkUpdated(n.id);
        const views = (await networkViews(ctx, core, created)).map(({ view }) => view);
        return reply(201, bulk ? { networks: views } : { network: views[0] });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/networks/:network_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { view } = await loadNetwork(ctx, core, ctx.params.network_id);
        return { network: selectFields(view, fieldsOf(ctx)) };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/networks/:network_id",
      policy: null,
      auth: "required",
      body: resourceBody("network"),
      handler: async (ctx) => {
        const id = ctx.params.network_id;
        const net = await getNetwork(core, id);
        if (!net || !(await networkVisible(core, net, callerOf(ctx)))) throw notFound("network", id);
        const { target } = await networkView(ctx, core, net);
        enforceOn(ctx, "update_network", "get_network", target, notFound("network", id));
        const p = parseUpdate(bodyItem(ctx.body, "network"), ATTRS);
        enforceWrite(ctx, "update_network", policyAttrsOnUpdate(p, ATTRS), target);
        const segment = (await segmentsFor(core, [id])).get(id);
        const provider: Array<[string, unknown]> = [
          ["provider:network_type", segment?.network_type ?? null],
          ["provider:physical_network", segment?.physical_network ?? null],
          ["provider:segmentation_id", segment?.segmentation_id ?? null],
        ];
        for (const [k, now] of provider)
          if (p.values.has(k) && p.values.get(k) !== now)
            throw invalidInput("Plugin does not support updating provider attributes");
        const mtu = val<number | undefined>(p, "mtu");
        if (mtu !== undefined) {
          const max = maxMtu(core, segment?.network_type ?? "local");
          if (mtu > max) throw invalidInput(`Requested MTU is too big, maximum is ${max}`);
        }
        await core.transaction(async (c) => {
          if (p.values.has("shared")) await setShared(c, net, val(p, "shared"));
          const external = val<boolean | undefined>(p, "router:external");
          if (external !== undefined && external !== net.router_external) {
            if (external)
              await insertRbac(c, {
                id: c.newId(),
                project_id: net.project_id,
                object_type: "network",
                object_id: net.id,
                action: "access_as_external",
                target_project: "*",
              });
            // Routers using it as their gateway will refuse this (the router stage adds that check).
            else await deleteRbacOf(c, "network", net.id, { action: "access_as_external" });
          }
          await updateNetwork(c, id, {
            name: val(p, "name"),
            description: val(p, "description"),
            admin_state_up: val(p, "admin_state_up"),
            mtu,
            port_security_enabled: val(p, "port_security_enabled"),
            router_external: external,
          });
        });
        core.notify.networkUpdated(id);
        const { view } = await networkView(ctx, core, (await getNetwork(core, id)) as Network);
        return { network: view };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/networks/:network_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const id = ctx.params.network_id;
        const net = await getNetwork(core, id);
        if (!net || !(await networkVisible(core, net, callerOf(ctx)))) throw notFound("network", id);
        const { target } = await networkView(ctx, core, net);
        enforceOn(ctx, "delete_network", "get_network", target, notFound("network", id));
        await deleteNetworkCascade(core, net);
        return noContent();
      },
    }),
  ];
}
