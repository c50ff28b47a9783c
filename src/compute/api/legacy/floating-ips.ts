// Nova's floating IP proxy over the network service (removed at 2.36; the server actions at 2.44), as Nova answers
// with Neutron: pools are the external networks, floating IPs the caller's project's (pool = the network's name,
// instance_id = the device of the port it is on), allocation from a pool by name or id, release, and the
// addFloatingIp/removeFloatingIp actions that point a floating IP at one of the server's fixed IPs (the server's
// network info cache is refreshed after). Calls are made with the caller's token, so Neutron's policy applies.
import type { ServiceClient } from "../../../shared/client/service-client.js";
import { ApiError } from "../../../shared/http/errors.js";
import { reply } from "../../../shared/http/reply.js";
import type { Route } from "../../../shared/http/route.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, conflict, forbidden, notFound } from "../../errors.js";
import { isIP } from "node:net";
import { findInstance, type Instance } from "../../instances/store.js";
import { refreshNetworkInfo } from "../../networking/refresh.js";
import type { Ctx } from "../common.js";
import { authorizedServer, closedObject, type ActionTable } from "../server-actions/common.js";
import { proxyRoute } from "./proxy.js";

type Json = Record<string, any>;

/** The floating IP policy rules' prefix. */
export const FIP = "os_compute_api:os-floating-ips";
/** The floating IP pools policy rule. */
export const POOLS = "os_compute_api:os-floating-ip-pools:list";

/** The pool allocated from when the body names none (Nova's [neutron] default_floating_pool, named as the
 *  external network `stratus up` creates). */
export const DEFAULT_POOL = "public";

/** Longest pool name or id accepted (Neutron's name limit). */
const MAX_POOL = 255;

/** A Neutron call with the caller's token: the body, or the refusal's status, type and message. */
async function call(
  net: ServiceClient,
  ctx: Ctx,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ ok: true; body: Json } | { ok: false; status: number; type: string; message: string }> {
  const res = await net.request(method, `/v2.0${path}`, {
    token: ctx.auth?.token,
    ...(body === undefined ? {} : { body }),
  });
  if (res.status < 300) return { ok: true, body: (res.body ?? {}) as Json };
  const err = (res.body as Json | undefined)?.NeutronError as Json | undefined;
  if (res.status >= 500) throw new ApiError(502, `network service answered ${res.status}`);
  return {
    ok: false,
    status: res.status,
    type: String(err?.type ?? ""),
    message: String(err?.message ?? `network service answered ${res.status}`),
  };
}

/** A call that must succeed (a refusal becomes `refused`, or Nova's generic 400 for an unexpected one). */
async function must(net: ServiceClient, ctx: Ctx, method: string, path: string, refused?: () => ApiError) {
  const r = await call(net, ctx, method, path);
  if (r.ok) return r.body;
  if (r.status === 404 && refused) throw refused();
  if (r.status === 403) throw forbidden(r.message);
  throw badRequest(r.message);
}

/** The network service, or Nova's 404 for the item when the cloud runs none. */
function netOr(core: ComputeCore, missing: () => ApiError): ServiceClient {
  const net = core.network;
  if (!net) throw missing();
  return net;
}

/** The external networks (the pools). */
async function pools(net: ServiceClient, ctx: Ctx): Promise<Json[]> {
  return (await must(net, ctx, "GET", "/networks?router:external=true")).networks as Json[];
}

/** Floating IPs in Nova's format: pool named by its network, instance_id the device of the port. */
async function novaFloatingIps(net: ServiceClient, ctx: Ctx, fips: Json[]): Promise<Json[]> {
  if (!fips.length) return [];
  const names = new Map((await pools(net, ctx)).map((n) => [n.id as string, (n.name || n.id) as string]));
  const portIds = [...new Set(fips.map((f) => f.port_id as string | null).filter((p) => p))];
  const devices = new Map<string, string>();
  if (portIds.length) {
    const q = portIds.map((p) => `id=${encodeURIComponent(p!)}`).join("&");
    for (const p of (await must(net, ctx, "GET", `/ports?${q}`)).ports as Json[])
      if (p.device_id) devices.set(p.id, p.device_id);
  }
  return fips.map((f) => ({
    id: f.id,
    ip: f.floating_ip_address,
    pool: names.get(f.floating_network_id) ?? f.floating_network_id,
    fixed_ip: f.fixed_ip_address ?? null,
    instance_id: (f.port_id && devices.get(f.port_id)) || null,
  }));
}

/** Nova's 404 for a floating IP id. */
const fipMissing = (id: string) => () => notFound(`Floating IP not found for ID ${id}`);

/** One floating IP of the caller's (404 otherwise). */
async function oneFip(net: ServiceClient, ctx: Ctx, id: string): Promise<Json> {
  return (await must(net, ctx, "GET", `/floatingips/${encodeURIComponent(id)}`, fipMissing(id)))
    .floatingip as Json;
}

/** The server a port belongs to (its device), if the caller sees the port and compute knows the server. */
async function serverOfPort(core: ComputeCore, net: ServiceClient, ctx: Ctx, portId: unknown) {
  if (typeof portId !== "string" || !portId) return undefined;
  const got = await call(net, ctx, "GET", `/ports/${encodeURIComponent(portId)}`);
  const device = got.ok ? (got.body.port as Json).device_id : undefined;
  return typeof device === "string" && device ? await findInstance(core.db, device) : undefined;
}

/** The pool a create names (Nova's body: an optional `pool`). */
function poolName(body: unknown): string {
  if (body === undefined || body === null) return DEFAULT_POOL;
  if (typeof body !== "object" || Array.isArray(body)) throw badRequest("The request body is invalid.");
  const pool = (body as Json).pool;
  if (pool === undefined || pool === null) return DEFAULT_POOL;
  if (typeof pool !== "string" || pool === "" || pool.length > MAX_POOL)
    throw badRequest(`Invalid input for field/attribute pool. Value: ${String(pool)}.`);
  return pool;
}

/** Allocate a floating IP from a pool (an external network by name or id), in Nova's words for refusals. */
async function allocate(net: ServiceClient, ctx: Ctx, pool: string): Promise<Json> {
  const found = (await pools(net, ctx)).filter((n) => n.id === pool || n.name === pool);
  if (!found.length) throw notFound("Floating IP pool not found.");
  if (found.length > 1) throw conflict(`Multiple floating IP pools matches found for name '${pool}'`);
  const r = await call(net, ctx, "POST", "/floatingips", {
    floatingip: { floating_network_id: found[0].id },
  });
  if (r.ok) return r.body.floatingip as Json;
  if (r.type === "OverQuota") throw forbidden(`IP allocation over quota in pool ${pool}.`);
  if (r.type === "IpAddressGenerationFailure" || r.type === "ExternalIpAddressExhausted")
    throw notFound(`No more floating IPs in pool ${pool}.`);
  if (r.status === 403) throw forbidden(r.message);
  throw badRequest(r.message);
}

/** The floating IP routes: pools, list, show, allocate and release. */
export function floatingIpRoutes(core: ComputeCore): Route[] {
  return [
    proxyRoute("GET", "/v2.1/os-floating-ip-pools", POOLS, async (ctx) => {
      const net = core.network;
      const all = net ? await pools(net, ctx) : [];
      return { floating_ip_pools: all.map((n) => ({ name: (n.name || n.id) as string })) };
    }),
    proxyRoute("GET", "/v2.1/os-floating-ips", `${FIP}:list`, async (ctx) => {
      const net = core.network;
      if (!net) return { floating_ips: [] };
      const q = `project_id=${encodeURIComponent(ctx.auth?.projectId ?? "")}`;
      const fips = (await must(net, ctx, "GET", `/floatingips?${q}`)).floatingips as Json[];
      return { floating_ips: await novaFloatingIps(net, ctx, fips) };
    }),
    proxyRoute("GET", "/v2.1/os-floating-ips/:id", `${FIP}:show`, async (ctx) => {
      const id = ctx.params.id;
      const net = netOr(core, fipMissing(id));
      const [fip] = await novaFloatingIps(net, ctx, [await oneFip(net, ctx, id)]);
      return { floating_ip: fip };
    }),
    proxyRoute("POST", "/v2.1/os-floating-ips", `${FIP}:create`, async (ctx) => {
      const pool = poolName(ctx.body);
      const net = netOr(core, () => notFound("Floating IP pool not found."));
      const [fip] = await novaFloatingIps(net, ctx, [await allocate(net, ctx, pool)]);
      return { floating_ip: fip };
    }),
    proxyRoute("DELETE", "/v2.1/os-floating-ips/:id", `${FIP}:delete`, async (ctx) => {
      const id = ctx.params.id;
      const net = netOr(core, fipMissing(id));
      const fip = await oneFip(net, ctx, id);
      const server = await serverOfPort(core, net, ctx, fip.port_id);
      await must(net, ctx, "DELETE", `/floatingips/${encodeURIComponent(fip.id)}`, fipMissing(id));
      // Released while associated: the server's addresses lose it (Nova refreshes its network info cache).
      if (server) await refreshNetworkInfo(core, server);
      return reply(202, undefined);
    }),
  ];
}

/** The `address` (and `fixed_address`) of an addFloatingIp/removeFloatingIp body. */
function fipBody(action: string, value: unknown, extra: string[] = []): Json {
  const body = closedObject(action, value, ["address", ...extra], { required: ["address"] })!;
  for (const k of ["address", ...extra])
    if (body[k] !== undefined && (typeof body[k] !== "string" || body[k].length > 64 || !isIP(body[k])))
      throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(body[k])}.`);
  return body;
}

/** The floating IP with an address, as the caller sees it (Nova's 404 "floating IP not found" otherwise). */
async function fipByAddress(net: ServiceClient, ctx: Ctx, address: string): Promise<Json> {
  const q = `floating_ip_address=${encodeURIComponent(address)}`;
  const [fip] = (await must(net, ctx, "GET", `/floatingips?${q}`)).floatingips as Json[];
  if (!fip) throw notFound("floating IP not found");
  return fip;
}

/** The fixed IPs of a server's network info cache. */
const fixedIps = (inst: Instance) =>
  (inst.network_info ?? []).flatMap((v) => v.ips.map((ip) => ({ ...ip, portId: v.portId })));

/** addFloatingIp and removeFloatingIp (to 2.43), in Nova's order of checks and its words. */
export const floatingIpActions: ActionTable = {
  addFloatingIp: {
    max: "2.43",
    async run(core, ctx, id, value) {
      const body = fipBody("addFloatingIp", value, ["fixed_address"]);
      const inst = await authorizedServer(core, ctx, id, `${FIP}:add`);
      const address = body.address as string;
      if (!(inst.network_info ?? []).length) throw badRequest("Instance network is not ready yet");
      const fixed = fixedIps(inst);
      if (!fixed.length) throw badRequest("No fixed IPs associated to instance");
      const wanted = body.fixed_address as string | undefined;
      const target = wanted ? fixed.find((f) => f.address === wanted) : fixed.find((f) => f.version === 4);
      if (!target && wanted) throw badRequest("Specified fixed address not assigned to instance");
      if (!target)
        throw badRequest(
          `Unable to associate floating IP ${address} to any fixed IPs for instance ${id}. Instance has no fixed IPv4 addresses to associate.`,
        );
      const net = netOr(core, () => notFound("floating IP not found"));
      const fip = await fipByAddress(net, ctx, address);
      // Associated elsewhere: Nova moves it and refreshes the other server's cache too.
      const previous =
        fip.port_id === target.portId ? undefined : await serverOfPort(core, net, ctx, fip.port_id);
      const r = await call(net, ctx, "PUT", `/floatingips/${encodeURIComponent(fip.id)}`, {
        floatingip: { port_id: target.portId, fixed_ip_address: target.address },
      });
      if (!r.ok) {
        if (r.status === 403) throw forbidden(r.message);
        throw badRequest(
          `Unable to associate floating IP ${address} to fixed IP ${target.address} for instance ${id}. Error: ${r.message}`,
        );
      }
      await refreshNetworkInfo(core, inst);
      if (previous && previous.uuid !== inst.uuid) await refreshNetworkInfo(core, previous);
    },
  },
  removeFloatingIp: {
    max: "2.43",
    async run(core, ctx, id, value) {
      const address = fipBody("removeFloatingIp", value).address as string;
      const inst = await authorizedServer(core, ctx, id, `${FIP}:remove`);
      const net = netOr(core, () => notFound("floating IP not found"));
      const fip = await fipByAddress(net, ctx, address);
      // Nova compares the device of the floating IP's port with the server (a port the caller cannot see: no).
      const got = fip.port_id
        ? await call(net, ctx, "GET", `/ports/${encodeURIComponent(fip.port_id)}`)
        : null;
      if (!got?.ok || (got.body.port as Json).device_id !== inst.uuid)
        throw conflict(`Floating IP ${address} is not associated with instance ${id}.`);
      const r = await call(net, ctx, "PUT", `/floatingips/${encodeURIComponent(fip.id)}`, {
        floatingip: { port_id: null },
      });
      if (!r.ok) throw r.status === 403 ? forbidden(r.message) : badRequest(r.message);
      await refreshNetworkInfo(core, inst);
    },
  },
};
