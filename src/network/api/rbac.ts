// /v2.0/rbac-policies: share a network with one project or every one ("*"), as a shared network
// (access_as_shared) or an external one (access_as_external), or a security group (access_as_shared: the target
// project sees it and puts its ports in it). Only the object's owner (or an admin) grants; only an admin grants to
// "*". A grant that ports depend on cannot be taken back (409 RbacPolicyInUse).
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { NetworkCore } from "../core.js";
import { conflict, nerr, notFound } from "../errors.js";
import { withQuota } from "../quotas.js";
import { getNetwork, networkVisible, updateNetwork } from "../store/networks.js";
import { getPort, portsOfNetwork } from "../store/ports.js";
import { getGroup, portsOfGroup } from "../store/security-groups.js";
import {
  deleteRbac,
  getRbac,
  insertRbac,
  listRbac,
  rbacFor,
  RBAC_ACTIONS,
  updateRbacTarget,
  type RbacEntry,
} from "../store/rbac.js";
import {
  bodyItem,
  parseCreate,
  parseUpdate,
  policyAttrsOnUpdate,
  projectOf,
  resourceBody,
  val,
  type Attr,
} from "./attrs.js";
import { callerOf, enforceOn, enforceWrite, type Ctx } from "./common.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { oneOf, str, uuid } from "./validators.js";

/** The object types entries may name, with the actions each takes (Neutron's network and security group RBAC). */
const ACTIONS_OF = new Map<string, readonly string[]>([
  ["network", RBAC_ACTIONS],
  ["security_group", ["access_as_shared"]],
]);
const OBJECT_TYPES = ["network", "security_group"] as const;

const ATTRS = new Map<string, Attr>([
  ["id", { post: false, put: false, parse: str(36) }],
  ["tenant_id", { post: true, put: false, parse: str(255) }],
  ["project_id", { post: true, put: false, parse: str(255) }],
  ["object_type", { post: "required", put: false, parse: oneOf(OBJECT_TYPES) }],
  ["object_id", { post: "required", put: false, parse: uuid }],
  ["action", { post: "required", put: false, parse: oneOf(RBAC_ACTIONS) }],
  ["target_tenant", { post: "required", put: true, parse: str(255), policy: true }],
]);

const LIST: ListSpec = {
  collection: "rbac_policies",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["tenant_id", "string"],
    ["project_id", "string"],
    ["object_type", "string"],
    ["object_id", "string"],
    ["action", "string"],
    ["target_tenant", "string"],
  ]),
  sortKeys: new Set(["id", "object_type", "object_id", "action", "target_tenant", "project_id", "tenant_id"]),
  markerNotFound: (id) => notFound("rbac_policy", id),
};

/** The RBAC policy body. */
const view = (e: RbacEntry) => ({
  id: e.id,
  project_id: e.project_id,
  tenant_id: e.project_id,
  object_type: e.object_type,
  object_id: e.object_id,
  action: e.action,
  target_tenant: e.target_project,
});

/** The policy target of an entry (target_wildcard: it grants to everyone). */
const targetOf = (e: Pick<RbacEntry, "project_id" | "target_project">): Target => ({
  project_id: e.project_id,
  tenant_id: e.project_id,
  target_tenant: e.target_project,
  target_wildcard: e.target_project === "*",
});

/** An entry the caller may read; 404 RbacPolicyNotFound otherwise. */
async function loadRbac(
  ctx: Ctx,
  core: NetworkCore,
  id: string,
  rule = "get_rbac_policy",
): Promise<RbacEntry> {
  const e = await getRbac(core, id);
  if (!e) throw notFound("rbac_policy", id);
  enforceOn(ctx, rule, "get_rbac_policy", targetOf(e), notFound("rbac_policy", id));
  return e;
}

/**
 * 409 when removing `entry` (or moving it off its target) would cut off ports: a shared grant whose target
 * projects have ports on the network and no other grant.
 */
async function checkNotInUse(core: NetworkCore, entry: RbacEntry): Promise<void> {
  if (entry.action !== "access_as_shared") return;
  if (entry.object_type === "security_group") return checkGroupNotInUse(core, entry);
  const net = await getNetwork(core, entry.object_id);
  if (!net) return;
  const others = ((await rbacFor(core, "network", [net.id])).get(net.id) ?? []).filter(
    (e) => e.id !== entry.id && e.action === "access_as_shared",
  );
  const still = (project: string) =>
    project === net.project_id ||
    others.some((e) => e.target_project === "*" || e.target_project === project);
  const cut = (await portsOfNetwork(core, net.id)).filter(
    (p) => (entry.target_project === "*" || p.project_id === entry.target_project) && !still(p.project_id),
  );
  if (cut.length)
    throw conflict(
      "RbacPolicyInUse",
      `RBAC policy on object ${net.id} cannot be removed because other objects depend on it.\nDetails: ports of project ${cut[0].project_id} use the network.`,
    );
}

/** checkNotInUse for a security group: ports of the target projects in the group, with no other grant. */
async function checkGroupNotInUse(core: NetworkCore, entry: RbacEntry): Promise<void> {
  const group = await getGroup(core, entry.object_id);
  if (!group) return;
  const others = ((await rbacFor(core, "security_group", [group.id])).get(group.id) ?? []).filter(
    (e) => e.id !== entry.id && e.action === "access_as_shared",
  );
  const still = (project: string) =>
    project === group.project_id ||
    others.some((e) => e.target_project === "*" || e.target_project === project);
  const ports = (
    await Promise.all((await portsOfGroup(core, group.id)).map((id) => getPort(core, id)))
  ).filter((p) => p !== null);
  const cut = ports.filter(
    (p) => (entry.target_project === "*" || p.project_id === entry.target_project) && !still(p.project_id),
  );
  if (cut.length)
    throw conflict(
      "RbacPolicyInUse",
      `RBAC policy on object ${group.id} cannot be removed because other objects depend on it.\nDetails: ports of project ${cut[0].project_id} use the security group.`,
    );
}

/** Tell the agents an entry's object changed (a network's sharing, a security group's members). */
function notifyObject(core: NetworkCore, e: Pick<RbacEntry, "object_type" | "object_id">): void {
  if (e.object_type === "security_group") core.notify.securityGroupsUpdated([e.object_id]);
  else core.notify.networkUpdated(e.object_id);
}

/** The object an entry may name: one the caller owns (any for admins) and may see; 404 otherwise. */
async function checkObject(core: NetworkCore, ctx: Ctx, type: string, id: string): Promise<void> {
  const caller = callerOf(ctx);
  if (type === "security_group") {
    const g = await getGroup(core, id);
    if (!g || (!caller.isAdmin && g.project_id !== caller.projectId)) throw notFound("security_group", id);
    return;
  }
  const net = await getNetwork(core, id);
  if (
    !net ||
    !(await networkVisible(core, net, caller)) ||
    (!caller.isAdmin && net.project_id !== caller.projectId)
  )
    throw notFound("network", id);
}

/** After the external grants of a network changed: it is router:external exactly while one exists. */
async function syncExternal(core: NetworkCore, networkId: string): Promise<void> {
  const entries = (await rbacFor(core, "network", [networkId])).get(networkId) ?? [];
  const net = await getNetwork(core, networkId);
  const external = entries.some((e) => e.action === "access_as_external");
  if (net && net.router_external !== external)
    await updateNetwork(core, networkId, { router_external: external });
}

/** Routes of /v2.0/rbac-policies. */
export function rbacRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/rbac-policies",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const entries = await listRbac(core, caller.readsAll ? null : (caller.projectId ?? ""));
        const views = entries.filter((e) => ctx.allowed("get_rbac_policy", targetOf(e))).map(view);
        return listResponse(ctx, LIST, views);
      },
    }),
    route({
      method: "POST",
      path: "/v2.0/rbac-policies",
      policy: null,
      auth: "required",
      body: resourceBody("rbac_policy"),
      handler: async (ctx) => {
        const caller = callerOf(ctx);
        const p = parseCreate(bodyItem(ctx.body, "rbac_policy"), ATTRS);
        const project = projectOf(p, caller.projectId);
        const target = val<string>(p, "target_tenant");
        enforceWrite(
          ctx,
          "create_rbac_policy",
          ["target_tenant"],
          targetOf({ project_id: project, target_project: target }),
        );
        const objectType = val<string>(p, "object_type");
        const objectId = val<string>(p, "object_id");
        const action = val<string>(p, "action");
        const valid = ACTIONS_OF.get(objectType) ?? [];
        if (!valid.includes(action))
          throw nerr(
            400,
            "InvalidActionForType",
            `Invalid action '${action}' for object type '${objectType}'. Valid actions: ${valid.join(", ")}`,
          );
        await checkObject(core, ctx, objectType, objectId);
        const entry: RbacEntry = {
          id: core.newId(),
          project_id: project,
          object_type: objectType,
          object_id: objectId,
          action,
          target_project: target,
        };
        await withQuota(core, project, "rbac_policy", 1, async (c) => {
          await insertRbac(c, entry);
          if (entry.action === "access_as_external") await syncExternal(c, objectId);
        });
        notifyObject(core, entry);
        return reply(201, { rbac_policy: view(entry) });
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/rbac-policies/:rbac_policy_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => ({
        rbac_policy: selectFields(view(await loadRbac(ctx, core, ctx.params.rbac_policy_id)), fieldsOf(ctx)),
      }),
    }),
    route({
      method: "PUT",
      path: "/v2.0/rbac-policies/:rbac_policy_id",
      policy: null,
      auth: "required",
      body: resourceBody("rbac_policy"),
      handler: async (ctx) => {
        const e = await loadRbac(ctx, core, ctx.params.rbac_policy_id, "update_rbac_policy");
        const p = parseUpdate(bodyItem(ctx.body, "rbac_policy"), ATTRS);
        const target = val<string | undefined>(p, "target_tenant");
        if (target !== undefined && target !== e.target_project) {
          enforceWrite(
            ctx,
            "update_rbac_policy",
            policyAttrsOnUpdate(p, ATTRS),
            targetOf({ project_id: e.project_id, target_project: target }),
          );
          if (target !== "*") await checkNotInUse(core, e);
          await updateRbacTarget(core, e.id, target);
          e.target_project = target;
          notifyObject(core, e);
        }
        return { rbac_policy: view(e) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/rbac-policies/:rbac_policy_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const e = await loadRbac(ctx, core, ctx.params.rbac_policy_id, "delete_rbac_policy");
        await core.transaction(async (c) => {
          await checkNotInUse(c, e);
          await deleteRbac(c, e.id);
          if (e.action === "access_as_external") await syncExternal(c, e.object_id);
        });
        notifyObject(core, e);
        return noContent();
      },
    }),
  ];
}
