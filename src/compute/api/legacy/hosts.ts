// os-hosts (removed at 2.43): the hosts of the enabled services with their zones, a compute host's resources
// (total, used now, used by its instances at most, and per project), and the host updates and power actions,
// which no Stratus driver can perform (Nova's answer for such drivers: 501).
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import { ApiError } from "../../../shared/http/errors.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { parseInstance } from "../../instances/store.js";
import { listServices } from "../../servicegroup.js";
import { objectBody, type Ctx } from "../common.js";
import { ADMIN, API_BINARIES, aggregateZonesByHost, policyRule, pyRepr, serviceZone } from "../admin/util.js";
import { removedAfter } from "./images.js";

const rule = (a: string) => `os_compute_api:os-hosts:${a}`;
const H = "/os-hosts";
const MAX = "2.42";

/** Policy defaults of os-hosts. */
export const hostPolicies: RuleDefault[] = [
  policyRule(rule("list"), ADMIN, "List the hosts of the enabled services.", "GET", H),
  policyRule(rule("show"), ADMIN, "Show a compute host's resources.", "GET", `${H}/{host_name}`),
  policyRule(
    rule("update"),
    ADMIN,
    "Enable, disable or put a host in maintenance.",
    "PUT",
    `${H}/{host_name}`,
  ),
  policyRule(rule("reboot"), ADMIN, "Reboot a host.", "GET", `${H}/{host_name}/reboot`),
  policyRule(rule("shutdown"), ADMIN, "Shut down a host.", "GET", `${H}/{host_name}/shutdown`),
  policyRule(rule("start"), ADMIN, "Start a host.", "GET", `${H}/{host_name}/startup`),
];

const notSupported = () => new ApiError(501, "The requested functionality is not supported.");

/** 404 unless `host` runs a compute service (Nova's host mapping). */
async function needComputeHost(core: ComputeCore, host: string): Promise<void> {
  const svc = (await listServices(core.db, "nova-compute")).find((s) => s.host === host);
  if (!svc) throw notFound(`Host '${host}' is not mapped to any cell`);
}

const ENUM = ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"];

/** Validate PUT's body as Nova's schema does (status and/or maintenance_mode, nothing else). */
function updateBody(ctx: Ctx): void {
  const body = objectBody(ctx);
  for (const k of Object.keys(body))
    if (k !== "status" && k !== "maintenance_mode")
      throw badRequest(`Additional properties are not allowed (${pyRepr(k)} was unexpected)`);
  for (const k of ["status", "maintenance_mode"]) {
    const v = body[k];
    if (v !== undefined && !ENUM.includes(v as string))
      throw badRequest(
        `Invalid input for field/attribute ${k}. Value: ${typeof v === "string" ? v : JSON.stringify(v)}. ` +
          `${pyRepr(v)} is not one of ${pyRepr(ENUM)}`,
      );
  }
  if (body.status === undefined && body.maintenance_mode === undefined)
    throw badRequest(`${pyRepr(body)} is not valid under any of the given schemas`);
}

interface Usage {
  host: string;
  project: string;
  cpu: number;
  memory_mb: number;
  disk_gb: number;
}

/** The resource rows of GET /os-hosts/{host}. */
async function hostResources(core: ComputeCore, host: string): Promise<Array<{ resource: Usage }>> {
  const node = (await core.db
    .selectFrom("compute_node")
    .selectAll()
    .where("host", "=", host)
    .orderBy("id")
    .executeTakeFirst()) as Record<string, unknown> | undefined;
  if (!node) {
    await needComputeHost(core, host);
    throw notFound(`Compute host ${host} could not be found.`);
  }
  const n = (k: string) => Number(node[k] ?? 0);
  const rows = (await core.db
    .selectFrom("compute_instance")
    .selectAll()
    .where("host", "=", host)
    .where("deleted", "=", 0)
    .orderBy("id")
    .execute()) as Array<Record<string, unknown>>;
  const max: Usage = { host, project: "(used_max)", cpu: 0, memory_mb: 0, disk_gb: 0 };
  const byProject = new Map<string, Usage>();
  for (const r of rows) {
    const inst = parseInstance(r);
    const disk = inst.flavor.root_gb + inst.flavor.ephemeral_gb;
    let p = byProject.get(inst.project_id);
    if (!p)
      byProject.set(
        inst.project_id,
        (p = { host, project: inst.project_id, cpu: 0, memory_mb: 0, disk_gb: 0 }),
      );
    for (const u of [max, p]) {
      u.cpu += inst.vcpus;
      u.memory_mb += inst.memory_mb;
      u.disk_gb += disk;
    }
  }
  return [
    { host, project: "(total)", cpu: n("vcpus"), memory_mb: n("memory_mb"), disk_gb: n("local_gb") },
    {
      host,
      project: "(used_now)",
      cpu: n("vcpus_used"),
      memory_mb: n("memory_mb_used"),
      disk_gb: n("local_gb_used"),
    },
    max,
    ...byProject.values(),
  ].map((resource) => ({ resource }));
}

/** A power action route: 404 for unknown hosts, else 501. */
function powerRoute(core: ComputeCore, action: "reboot" | "shutdown" | "startup"): Route {
  return route({
    method: "GET",
    path: `/v2.1${H}/:id/${action}`,
    policy: null,
    auth: "required",
    handler: async (ctx: Ctx) => {
      removedAfter(ctx, MAX);
      ctx.authorize(rule(action === "startup" ? "start" : action), {});
      await needComputeHost(core, ctx.params.id);
      throw notSupported();
    },
  });
}

/** /os-hosts. */
export function hostRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "GET",
      path: `/v2.1${H}`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        ctx.authorize(rule("list"), {});
        const zone = ctx.query.zone;
        const zones = await aggregateZonesByHost(core.db);
        const hosts = [];
        for (const s of await listServices(core.db)) {
          if (s.disabled || API_BINARIES.includes(s.binary)) continue;
          const z = serviceZone(s, zones, core.cfg);
          if (zone && z !== zone) continue;
          hosts.push({ host_name: s.host, service: s.topic ?? s.binary.replace(/^nova-/, ""), zone: z });
        }
        return { hosts };
      },
    }),
    route({
      method: "GET",
      path: `/v2.1${H}/:id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        ctx.authorize(rule("show"), {});
        return { host: await hostResources(core, ctx.params.id) };
      },
    }),
    route({
      method: "PUT",
      path: `/v2.1${H}/:id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        removedAfter(ctx, MAX);
        updateBody(ctx);
        ctx.authorize(rule("update"), {});
        await needComputeHost(core, ctx.params.id);
        throw notSupported();
      },
    }),
    powerRoute(core, "reboot"),
    powerRoute(core, "shutdown"),
    powerRoute(core, "startup"),
  ];
}
