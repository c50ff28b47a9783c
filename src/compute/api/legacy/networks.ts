// Nova's network proxy APIs (removed at 2.36) for a cloud with no network service yet: os-networks,
// os-tenant-networks, os-floating-ip-pools and os-floating-ips answer as Nova over an empty Neutron (empty lists,
// 404 for any one item, no pool to allocate from), the nova-network-only calls 410 as in Nova since Ussuri, and the
// addFloatingIp/removeFloatingIp actions (to 2.43) find nothing to attach. The networking service replaces these.
import { ApiError } from "../../../shared/http/errors.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import { badRequest, notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import { ADMIN_OR_PROJECT, PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { authorizedServer, closedObject, type ActionTable } from "../server-actions/common.js";
import { removedAfter } from "./images.js";

const NET = "os_compute_api:os-networks";
const TENANT = "os_compute_api:os-tenant-networks";
const FIP = "os_compute_api:os-floating-ips";
const POOLS = "os_compute_api:os-floating-ip-pools:list";

/** Policy defaults of the network proxies (Nova's Zed defaults, written out). */
export const networkProxyPolicies: RuleDefault[] = [
  policyRule(`${NET}:list`, ADMIN_OR_PROJECT, "List networks (proxy).", "GET", "/os-networks"),
  policyRule(`${NET}:view`, ADMIN_OR_PROJECT, "Show a network (proxy).", "GET", "/os-networks/{network_id}"),
  policyRule(`${TENANT}:list`, ADMIN_OR_PROJECT, "List project networks.", "GET", "/os-tenant-networks"),
  policyRule(
    `${TENANT}:show`,
    ADMIN_OR_PROJECT,
    "Show a project network.",
    "GET",
    "/os-tenant-networks/{id}",
  ),
  policyRule(POOLS, "", "List floating IP pools.", "GET", "/os-floating-ip-pools"),
  policyRule(`${FIP}:list`, ADMIN_OR_PROJECT, "List floating IPs.", "GET", "/os-floating-ips"),
  policyRule(`${FIP}:show`, ADMIN_OR_PROJECT, "Show a floating IP.", "GET", "/os-floating-ips/{id}"),
  policyRule(`${FIP}:create`, PROJECT_MEMBER, "Allocate a floating IP.", "POST", "/os-floating-ips"),
  policyRule(`${FIP}:delete`, PROJECT_MEMBER, "Release a floating IP.", "DELETE", "/os-floating-ips/{id}"),
  policyRule(
    `${FIP}:add`,
    PROJECT_MEMBER,
    "Associate a floating IP.",
    "POST",
    "/servers/{id}/action (addFloatingIp)",
  ),
  policyRule(
    `${FIP}:remove`,
    PROJECT_MEMBER,
    "Disassociate a floating IP.",
    "POST",
    "/servers/{id}/action (removeFloatingIp)",
  ),
];

/** Nova's answer to a nova-network-only API: 410 Gone at every microversion. */
export function gone(): never {
  throw new ApiError(410, "This resource is no longer available.");
}

/** One proxy route (the network and security group proxies): 404 from 2.36, authorized against the caller's project. */
export function proxyRoute(
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  rule: string,
  answer: (ctx: Ctx) => unknown,
): Route {
  return route({
    method,
    path,
    policy: null,
    auth: "required",
    handler: async (ctx: Ctx) => {
      removedAfter(ctx);
      ctx.authorize(rule, { project_id: ctx.auth?.projectId ?? "" });
      return answer(ctx);
    },
  });
}

/** A route that is gone (410) up to 2.35 and absent (404) after. */
function goneRoute(method: "POST" | "PUT" | "DELETE", path: string): Route {
  return route({
    method,
    path,
    policy: null,
    auth: "required",
    handler: async (ctx: Ctx) => {
      removedAfter(ctx);
      gone();
    },
  });
}

/** The proxy routes. */
export function networkProxyRoutes(): Route[] {
  const noNetwork = (): never => {
    throw notFound("Network not found");
  };
  const noFip = (ctx: Ctx): never => {
    throw notFound(`Floating IP not found for ID ${ctx.params.id}`);
  };
  return [
    proxyRoute("GET", "/v2.1/os-networks", `${NET}:list`, () => ({ networks: [] })),
    proxyRoute("GET", "/v2.1/os-networks/:id", `${NET}:view`, noNetwork),
    goneRoute("POST", "/v2.1/os-networks"),
    goneRoute("POST", "/v2.1/os-networks/add"),
    goneRoute("POST", "/v2.1/os-networks/:id/action"),
    goneRoute("DELETE", "/v2.1/os-networks/:id"),
    proxyRoute("GET", "/v2.1/os-tenant-networks", `${TENANT}:list`, () => ({ networks: [] })),
    proxyRoute("GET", "/v2.1/os-tenant-networks/:id", `${TENANT}:show`, noNetwork),
    goneRoute("POST", "/v2.1/os-tenant-networks"),
    goneRoute("DELETE", "/v2.1/os-tenant-networks/:id"),
    proxyRoute("GET", "/v2.1/os-floating-ip-pools", POOLS, () => ({ floating_ip_pools: [] })),
    proxyRoute("GET", "/v2.1/os-floating-ips", `${FIP}:list`, () => ({ floating_ips: [] })),
    proxyRoute("GET", "/v2.1/os-floating-ips/:id", `${FIP}:show`, noFip),
    // No network service, so no external network to allocate from (Nova's FloatingIpPoolNotFound).
    proxyRoute("POST", "/v2.1/os-floating-ips", `${FIP}:create`, () => {
      throw notFound("Floating IP pool not found.");
    }),
    proxyRoute("DELETE", "/v2.1/os-floating-ips/:id", `${FIP}:delete`, noFip),
    ...["os-security-group-default-rules", "os-floating-ips-bulk", "os-fping"].flatMap((p) => [
      goneRoute("POST", `/v2.1/${p}`),
      goneRoute("DELETE", `/v2.1/${p}/:id`),
      route({
        method: "GET",
        path: `/v2.1/${p}`,
        policy: null,
        auth: "required",
        handler: async (ctx: Ctx) => {
          removedAfter(ctx);
          gone();
        },
      }),
      route({
        method: "GET",
        path: `/v2.1/${p}/:id`,
        policy: null,
        auth: "required",
        handler: async (ctx: Ctx) => {
          removedAfter(ctx);
          gone();
        },
      }),
    ]),
  ];
}

/** The `address` of an addFloatingIp/removeFloatingIp body. */
function fipAddress(action: string, value: unknown, extra: string[] = []): string {
  const body = closedObject(action, value, ["address", ...extra], { required: ["address"] })!;
  if (typeof body.address !== "string" || body.address === "")
    throw badRequest(`Invalid input for field/attribute address. Value: ${String(body.address)}.`);
  return body.address;
}

/** addFloatingIp and removeFloatingIp (to 2.43). */
export const floatingIpActions: ActionTable = {
  addFloatingIp: {
    max: "2.43",
    async run(core, ctx, id, value) {
      fipAddress("addFloatingIp", value, ["fixed_address"]);
      const inst = await authorizedServer(core, ctx, id, `${FIP}:add`);
      // Without a network service no server has a port, so Nova's first check refuses.
      if (Object.keys(inst.addresses ?? {}).length === 0)
        throw badRequest("Instance network is not ready yet");
      throw notFound("floating IP not found");
    },
  },
  removeFloatingIp: {
    max: "2.43",
    async run(core, ctx, id, value) {
      fipAddress("removeFloatingIp", value);
      await authorizedServer(core, ctx, id, `${FIP}:remove`);
      throw notFound("floating IP not found");
    },
  },
};
