// os-simple-tenant-usage: compute hours per project over a period, from the instances' launch and termination
// times (deleted instances count too), with per-server details.
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import {
  ADMIN,
  ADMIN_OR_PROJECT,
  collectionNext,
  fmtMicros,
  limitAndMarker,
  nowMicros,
  policyRule,
  queryNonNegInt,
  rejectUnknownQuery,
  toMicros,
  utcMs,
} from "./util.js";

const rule = (a: string) => `os_compute_api:os-simple-tenant-usage:${a}`;

/** Policy defaults of os-simple-tenant-usage. */
export const usagePolicies: RuleDefault[] = [
  policyRule(
    rule("show"),
    ADMIN_OR_PROJECT,
    "See the compute usage of one project.",
    "GET",
    "/os-simple-tenant-usage/{tenant_id}",
  ),
  policyRule(
    rule("list"),
    ADMIN,
    "See the compute usage of every project.",
    "GET",
    "/os-simple-tenant-usage",
  ),
];

const FORMATS = [
  /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,6})$/,
  /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,6})$/,
];

/** start/end as Nova parses them (three strptime formats, naive = UTC; absent = now), in microseconds. */
function parseTime(raw: string | undefined): number {
  if (!raw) return nowMicros();
  for (const f of FORMATS) {
    const m = f.exec(raw);
    if (!m) continue;
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    const ms = utcMs(y, mo, d, h, mi, s);
    const t = new Date(ms);
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59 || t.getUTCDate() !== d || y < 1) continue;
    return ms * 1000 + Number(((m[7] ?? "") + "000000").slice(0, 6));
  }
  throw badRequest("Invalid datetime string: Datetime is in invalid format");
}

function period(ctx: Ctx): { start: number; stop: number; detailed: boolean } {
  const start = parseTime(ctx.query.start);
  let stop = parseTime(ctx.query.end);
  if (!ctx.query.start && !ctx.query.end && stop <= start) stop = start + 1;
  if (!(start < stop))
    throw badRequest("Invalid start time. The start time cannot occur after the end time.");
  return { start, stop: Math.min(stop, Math.floor(nowMicros())), detailed: ctx.query.detailed === "1" };
}

interface Row {
  uuid: string;
  display_name: string;
  project_id: string;
  flavor: string;
  vm_state: string;
  launched_at: string | null;
  terminated_at: string | null;
}

/** Nova's tenant_usages for a period: one summary per project, and every server usage of the page. */
async function usages(
  core: ComputeCore,
  ctx: Ctx,
  p: { start: number; stop: number; detailed: boolean },
  tenant: string | undefined,
  paging: boolean,
) {
  let sel = core.db
    .selectFrom("compute_instance")
    .select(["uuid", "display_name", "project_id", "flavor", "vm_state", "launched_at", "terminated_at"]);
  if (tenant !== undefined) sel = sel.where("project_id", "=", tenant);
  let rows = ((await sel.execute()) as Row[]).filter((r) => {
    const term = toMicros(r.terminated_at);
    const launched = toMicros(r.launched_at);
    return (term === null || term > p.start) && launched !== null && launched < p.stop;
  });
  const key = (r: Pick<Row, "project_id" | "uuid">) => [r.project_id, r.uuid] as const;
  const cmp = (a: readonly [string, string], b: readonly [string, string]) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
  rows.sort((a, b) => cmp(key(a), key(b)));
  const { limit, marker } = paging ? limitAndMarker(ctx) : { limit: 1000, marker: undefined };
  if (marker !== undefined) {
    const m = (await core.db
      .selectFrom("compute_instance")
      .select(["project_id", "uuid"])
      .where("uuid", "=", marker)
      .executeTakeFirst()) as Pick<Row, "project_id" | "uuid"> | undefined;
    if (!m) throw badRequest(`Marker ${marker} could not be found.`);
    rows = rows.filter((r) => cmp(key(r), key(m)) > 0);
  }
  rows = rows.slice(0, limit);
  const now = nowMicros();
  const byTenant = new Map<string, Record<string, any>>();
  const all: Array<Record<string, unknown>> = [];
  for (const r of rows) {
    const flavor = JSON.parse(r.flavor) as Record<string, any>;
    const launched = toMicros(r.launched_at) as number;
    const ended = toMicros(r.terminated_at);
    const from = Math.max(launched, p.start);
    const to = ended !== null ? Math.min(p.stop, ended) : p.stop;
    const hours = (to - from) / 3.6e9;
    const info = {
      instance_id: r.uuid,
      name: r.display_name,
      hours,
      memory_mb: Number(flavor.memory_mb),
      local_gb: Number(flavor.root_gb) + Number(flavor.ephemeral_gb ?? 0),
      vcpus: Number(flavor.vcpus),
      tenant_id: r.project_id,
      flavor: flavor.name ?? "",
      started_at: fmtMicros(launched),
      ended_at: ended !== null ? fmtMicros(ended) : null,
      state: ended !== null ? "terminated" : r.vm_state,
      uptime: Math.trunc(((ended ?? now) - launched) / 1e6),
    };
    let sum = byTenant.get(r.project_id);
    if (!sum) {
      sum = { tenant_id: r.project_id };
      if (p.detailed) sum.server_usages = [];
      Object.assign(sum, {
        total_local_gb_usage: 0,
        total_vcpus_usage: 0,
        total_memory_mb_usage: 0,
        total_hours: 0,
        start: fmtMicros(p.start),
        stop: fmtMicros(p.stop),
      });
      byTenant.set(r.project_id, sum);
    }
    sum.total_local_gb_usage += info.local_gb * hours;
    sum.total_vcpus_usage += info.vcpus * hours;
    sum.total_memory_mb_usage += info.memory_mb * hours;
    sum.total_hours += hours;
    all.push(info);
    if (p.detailed) sum.server_usages.push(info);
  }
  return { summaries: [...byTenant.values()], all };
}

/** /os-simple-tenant-usage. */
export function usageRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.1/os-simple-tenant-usage",
      policy: rule("list"),
      target: () => ({}),
      handler: async (ctx: Ctx) => {
        // "/os-simple-tenant-usage/" names an empty tenant id: Nova answers 404, not the index.
        if (ctx.url.split("?")[0].endsWith("/")) throw notFound("The resource could not be found.");
        const paging = ctx.microversion.gte("2.40");
        if (ctx.microversion.gte("2.75"))
          rejectUnknownQuery(ctx, ["start", "end", "detailed", "limit", "marker"]);
        if (paging) queryNonNegInt(ctx, "limit");
        const p = period(ctx);
        const { summaries, all } = await usages(core, ctx, p, undefined, paging);
        const out: Record<string, unknown> = { tenant_usages: summaries };
        const next = paging ? collectionNext(ctx, "os-simple-tenant-usage", all, (u) => u.instance_id) : [];
        if (next.length) out.tenant_usages_links = next;
        return out;
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/os-simple-tenant-usage/:tenant_id",
      policy: rule("show"),
      target: (ctx) => ({ project_id: ctx.params.tenant_id }),
      handler: async (ctx: Ctx) => {
        const tenant = ctx.params.tenant_id;
        const paging = ctx.microversion.gte("2.40");
        if (ctx.microversion.gte("2.75")) rejectUnknownQuery(ctx, ["start", "end", "limit", "marker"]);
        if (paging) queryNonNegInt(ctx, "limit");
        const p = { ...period(ctx), detailed: true };
        const { summaries, all } = await usages(core, ctx, p, tenant, paging);
        const out: Record<string, unknown> = { tenant_usage: summaries[0] ?? {} };
        const coll = `os-simple-tenant-usage/${encodeURIComponent(tenant)}`;
        const next = paging ? collectionNext(ctx, coll, all, (u) => u.instance_id) : [];
        if (next.length) out.tenant_usage_links = next;
        return out;
      },
    }),
  ];
}
