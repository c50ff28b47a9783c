// os-hypervisors: the compute nodes agents report, with their service's state; statistics, uptime and the
// search/servers routes of older microversions.
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { serviceIsUp } from "../../servicegroup.js";
import type { Ctx } from "../common.js";
import { load, matching, serversOn, uptimeLine, view, type NodeRow } from "./hypervisor-view.js";
import {
  ADMIN,
  collectionNext,
  isUuidLike,
  limitAndMarker,
  policyRule,
  pyRepr,
  queryBool,
  queryNonNegInt,
  rejectUnknownQuery,
  validateInteger,
} from "./util.js";

const rule = (a: string) => `os_compute_api:os-hypervisors:${a}`;
const H = "/os-hypervisors";

/** Policy defaults of os-hypervisors. */
export const hypervisorPolicies: RuleDefault[] = [
  policyRule(rule("list"), ADMIN, "See the compute nodes.", "GET", H),
  policyRule(rule("list-detail"), ADMIN, "See the compute nodes with their details.", "GET", `${H}/detail`),
  policyRule(
    rule("statistics"),
    ADMIN,
    "See capacity and usage summed over all compute nodes.",
    "GET",
    `${H}/statistics`,
  ),
  policyRule(rule("show"), ADMIN, "See one compute node.", "GET", `${H}/{hypervisor_id}`),
  policyRule(
    rule("uptime"),
    ADMIN,
    "See how long a compute node has been up.",
    "GET",
    `${H}/{hypervisor_id}/uptime`,
  ),
  policyRule(
    rule("search"),
    ADMIN,
    "Find compute nodes by part of their name.",
    "GET",
    `${H}/{hypervisor_hostname_pattern}/search`,
  ),
  policyRule(
    rule("servers"),
    ADMIN,
    "See the servers of compute nodes found by part of their name.",
    "GET",
    `${H}/{hypervisor_hostname_pattern}/servers`,
  ),
];

async function list(core: ComputeCore, ctx: Ctx, detail: boolean) {
  const mv = ctx.microversion;
  ctx.authorize(rule(detail ? "list-detail" : "list"), {});
  if (mv.gte("2.53"))
    rejectUnknownQuery(ctx, ["limit", "marker", "hypervisor_hostname_pattern", "with_servers"]);
  const paging = mv.gte("2.33");
  if (paging) queryNonNegInt(ctx, "limit");
  let pattern: string | undefined;
  let withServers = false;
  if (mv.gte("2.53")) {
    pattern = ctx.query.hypervisor_hostname_pattern;
    if (pattern !== undefined && !/^[a-zA-Z0-9-._]*$/.test(pattern))
      throw badRequest(
        `Invalid input for query parameters hypervisor_hostname_pattern. Value: ${pattern}. ${pyRepr(pattern)} does not match '^[a-zA-Z0-9-._]*$'`,
      );
    if (pattern !== undefined && (pattern.length < 1 || pattern.length > 255))
      throw badRequest(
        `Invalid input for query parameters hypervisor_hostname_pattern. Value: ${pattern}. ${pyRepr(pattern)} is too ${pattern.length < 1 ? "short" : "long"}`,
      );
    withServers = queryBool(ctx, "with_servers");
  }
  const l = await load(core);
  let nodes: NodeRow[];
  let links = paging;
  if (pattern !== undefined) {
    if (ctx.query.limit !== undefined || ctx.query.marker)
      throw badRequest(
        "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.",
      );
    links = false;
    nodes = matching(l.nodes, pattern);
  } else if (paging) {
    const { limit, marker } = limitAndMarker(ctx);
    nodes = l.nodes;
    if (marker !== undefined) {
      const i = nodes.findIndex((n) => n.uuid === marker || String(n.id) === marker);
      if (i < 0) throw badRequest(`marker [${marker}] not found`);
      nodes = nodes.slice(i + 1);
    }
    nodes = nodes.slice(0, limit);
  } else nodes = l.nodes;
  const out: unknown[] = [];
  for (const n of nodes) {
    const s = l.services.get(n.host);
    if (!s) continue;
    const servers = withServers ? await serversOn(core, n.host) : undefined;
    out.push(view(core, ctx, l, n, s, { detail, servers, withServers }));
  }
  const body: Record<string, unknown> = { hypervisors: out };
  if (links) {
    const next = collectionNext(ctx, `os-hypervisors${detail ? "/detail" : ""}`, out, (h) => h.id);
    if (next.length) body.hypervisors_links = next;
  }
  return body;
}

/** The node and its service for a path id, or Nova's 400/404. */
async function nodeById(core: ComputeCore, ctx: Ctx, id: string) {
  const missing = () => notFound(`Hypervisor with ID '${id}' could not be found.`);
  if (ctx.microversion.gte("2.53")) {
    if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
  } else if (!/^\s*[+-]?\d+\s*$/.test(id)) throw missing();
  const l = await load(core);
  const n = ctx.microversion.gte("2.53")
    ? l.nodes.find((x) => x.uuid === id.toLowerCase())
    : l.nodes.find((x) => x.id === validateInteger(id));
  if (!n) throw missing();
  const s = l.services.get(n.host);
  if (!s) throw missing();
  return { l, n, s };
}

const gone = () => notFound("The resource could not be found.");

/** /os-hypervisors. */
export function hypervisorRoutes(core: ComputeCore): Route[] {
  const r = (path: string, handler: (ctx: Ctx) => Promise<unknown>) =>
    route({ method: "GET", path: `/v2.1/os-hypervisors${path}`, policy: null, auth: "required", handler });
  return [
    r("", (ctx) => list(core, ctx, false)),
    r("/detail", (ctx) => list(core, ctx, true)),
    r("/statistics", async (ctx) => {
      if (ctx.microversion.gte("2.88")) throw gone();
      ctx.authorize(rule("statistics"), {});
      const l = await load(core);
      const sum: Record<string, number> = {};
      const keys = [
        "count",
        "vcpus",
        "memory_mb",
        "local_gb",
        "vcpus_used",
        "memory_mb_used",
        "local_gb_used",
      ];
      for (const k of [...keys, "free_ram_mb", "free_disk_gb", "current_workload", "running_vms"]) sum[k] = 0;
      sum.disk_available_least = 0;
      for (const n of l.nodes) {
        const s = l.services.get(n.host);
        if (!s || s.disabled) continue;
        const v = view(core, ctx, l, n, s, { detail: true }) as Record<string, number>;
        sum.count += 1;
        for (const k of Object.keys(sum)) if (k !== "count") sum[k] += Number(v[k] ?? 0);
      }
      return { hypervisor_statistics: sum };
    }),
    r("/:id", async (ctx) => {
      let withServers = false;
      if (ctx.microversion.gte("2.53")) {
        rejectUnknownQuery(ctx, ["with_servers"]);
        withServers = queryBool(ctx, "with_servers");
      }
      ctx.authorize(rule("show"), {});
      const { l, n, s } = await nodeById(core, ctx, ctx.params.id);
      const servers = withServers ? await serversOn(core, n.host) : undefined;
      return { hypervisor: view(core, ctx, l, n, s, { detail: true, servers, withServers }) };
    }),
    r("/:id/uptime", async (ctx) => {
      if (ctx.microversion.gte("2.88")) throw gone();
      ctx.authorize(rule("uptime"), {});
      const { l, n, s } = await nodeById(core, ctx, ctx.params.id);
      if (!serviceIsUp(s, core.cfg))
        throw badRequest(`Compute service of ${n.host} is unavailable at this time.`);
      return { hypervisor: { ...view(core, ctx, l, n, s, { detail: false }), uptime: uptimeLine() } };
    }),
    r("/:id/search", async (ctx) => {
      if (ctx.microversion.gte("2.53")) throw gone();
      ctx.authorize(rule("search"), {});
      const l = await load(core);
      const out = [];
      for (const n of matching(l.nodes, ctx.params.id)) {
        const s = l.services.get(n.host);
        if (s) out.push(view(core, ctx, l, n, s, { detail: false }));
      }
      return { hypervisors: out };
    }),
    r("/:id/servers", async (ctx) => {
      if (ctx.microversion.gte("2.53")) throw gone();
      ctx.authorize(rule("servers"), {});
      const l = await load(core);
      const out = [];
      for (const n of matching(l.nodes, ctx.params.id)) {
        const s = l.services.get(n.host);
        if (s) out.push(view(core, ctx, l, n, s, { detail: false, servers: await serversOn(core, n.host) }));
      }
      return { hypervisors: out };
    }),
  ];
}
