// os-instance_usage_audit_log (admin): the state of the periodic instance usage audit of each compute host for
// the last completed audit period (Nova's default period: a month). Stratus runs no such audit, so no host has a
// task log: every compute host is reported as not run.
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest } from "../../errors.js";
import { listServices } from "../../servicegroup.js";
import type { Ctx } from "../common.js";
import { ADMIN, policyRule, utcMs } from "../admin/util.js";

const rule = (a: string) => `os_compute_api:os-instance-usage-audit-log:${a}`;
const P = "/os-instance_usage_audit_log";

/** Policy defaults of os-instance_usage_audit_log. */
export const auditLogPolicies: RuleDefault[] = [
  policyRule(rule("list"), ADMIN, "List the usage audits of the compute hosts.", "GET", P),
  policyRule(rule("show"), ADMIN, "Show the usage audits before a time.", "GET", `${P}/{before_timestamp}`),
];

/** The last monthly audit period completed before `before` (UTC): [first of previous month, first of month). */
export function auditPeriod(before: Date): { begin: Date; end: Date } {
  const y = before.getUTCFullYear();
  const m = before.getUTCMonth();
  let end = new Date(utcMs(y, m + 1, 1));
  if (end.getTime() >= before.getTime()) end = new Date(utcMs(m === 0 ? y - 1 : y, m === 0 ? 12 : m, 1));
  const em = end.getUTCMonth();
  const begin = new Date(
    utcMs(em === 0 ? end.getUTCFullYear() - 1 : end.getUTCFullYear(), em === 0 ? 12 : em, 1),
  );
  return { begin, end };
}

/** Python's str(datetime): "2026-10-01 00:00:00" (microseconds only when set). */
function pyDatetime(d: Date): string {
  const s = d.toISOString().replace("T", " ").slice(0, 19);
  const ms = d.getUTCMilliseconds();
  return ms ? `${s}.${String(ms * 1000).padStart(6, "0")}` : s;
}

/** The path timestamp as Nova parses it ("%Y-%m-%d %H:%M:%S", with ".%f" when it has a dot), or 400. */
export function parseBefore(raw: string): Date {
  const bad = () => badRequest(`Invalid timestamp for date ${raw}`);
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/.exec(raw);
  if (!m || raw.includes(".") !== (m[7] !== undefined)) throw bad();
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) throw bad();
  const ms = utcMs(y, mo, d, h, mi, s);
  if (new Date(ms).getUTCDate() !== d) throw bad();
  return new Date(ms + Math.floor(Number((m[7] ?? "").padEnd(6, "0")) / 1000));
}

/** The audit log for the period before `before`. */
async function auditLog(core: ComputeCore, before: Date) {
  const { begin, end } = auditPeriod(before);
  // Disabled compute services count too: they can have instances.
  const hosts = [...new Set((await listServices(core.db, "nova-compute")).map((s) => s.host))];
  return {
    period_beginning: pyDatetime(begin),
    period_ending: pyDatetime(end),
    num_hosts: hosts.length,
    num_hosts_done: 0,
    num_hosts_running: 0,
    num_hosts_not_run: hosts.length,
    hosts_not_run: hosts,
    total_instances: 0,
    total_errors: 0,
    overall_status: `${hosts.length === 0 ? "ALL" : `0 of ${hosts.length}`} hosts done. 0 errors.`,
    log: {},
  };
}

/** GET /os-instance_usage_audit_log and /os-instance_usage_audit_log/{before_timestamp}. */
export function auditLogRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "GET",
      path: `/v2.1${P}`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        ctx.authorize(rule("list"), {});
        return { instance_usage_audit_logs: await auditLog(core, new Date()) };
      },
    }),
    route({
      method: "GET",
      path: `/v2.1${P}/:before`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        ctx.authorize(rule("show"), {});
        return { instance_usage_audit_log: await auditLog(core, parseBefore(ctx.params.before)) };
      },
    }),
  ];
}
