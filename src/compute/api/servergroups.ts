import type { Kysely } from "kysely";
import { randomUUID } from "node:crypto";
import { nowIso, withQuotaLock } from "../../shared/db/index.js";
import { noContent } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { ComputeCore } from "../core.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { MAX_LIMIT, hasControl, intParam, invalid, objectBody, type Ctx } from "./common.js";
import { projectLimits } from "./quotas.js";

interface GroupRow {
  id: number;
  uuid: string;
  name: string;
  project_id: string;
  user_id: string;
  policy: string;
  rules: string;
  created_at: string;
}

const SOFT = ["soft-affinity", "soft-anti-affinity"];

/** Live member servers of each group, by group uuid. */
async function membersOf(db: Kysely<any>, uuids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (uuids.length === 0) return out;
  const rows = (await db
    .selectFrom("compute_server_group_member as m")
    .innerJoin("compute_instance as i", "i.uuid", "m.instance_uuid")
    .select(["m.group_uuid as g", "m.instance_uuid as u"])
    .where("m.group_uuid", "in", uuids)
    .where("i.deleted", "=", 0)
    .orderBy("i.id")
    .execute()) as Array<{ g: string; u: string }>;
  for (const r of rows) (out.get(r.g) ?? out.set(r.g, []).get(r.g)!).push(r.u);
  return out;
}

function view(ctx: Ctx, g: GroupRow, members: Map<string, string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: g.uuid, name: g.name };
  if (ctx.microversion.gte("2.64")) {
    out.policy = g.policy;
    out.rules = JSON.parse(g.rules) as Record<string, unknown>;
    out.members = members.get(g.uuid) ?? [];
  } else {
    out.policies = [g.policy];
    out.members = members.get(g.uuid) ?? [];
    out.metadata = {};
  }
  if (ctx.microversion.gte("2.13")) {
    out.project_id = g.project_id;
    out.user_id = g.user_id;
  }
  return out;
}

/** Policy and rules from a create body, validated for the microversion (policies list below 2.64). */
function parsePolicy(
  ctx: Ctx,
  sg: Record<string, unknown>,
): { policy: string; rules: Record<string, number> } {
  const mv = ctx.microversion;
  const names = ["affinity", "anti-affinity", ...(mv.gte("2.15") ? SOFT : [])];
  if (!mv.gte("2.64")) {
    const p = sg.policies;
    if (!Array.isArray(p) || p.length !== 1 || typeof p[0] !== "string" || !names.includes(p[0]))
      throw invalid("policies", p, `must be a list of exactly one of ${JSON.stringify(names)}`);
    return { policy: p[0], rules: {} };
  }
  const policy = sg.policy;
  if (typeof policy !== "string" || !names.includes(policy))
    throw invalid("policy", policy, `is not one of ${JSON.stringify(names)}`);
  const rules = sg.rules ?? {};
  if (rules === null || typeof rules !== "object" || Array.isArray(rules))
    throw invalid("rules", rules, "is not of type 'object'");
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rules)) {
    if (k !== "max_server_per_host")
      throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
      throw invalid("rules/max_server_per_host", v, "must be a positive integer");
    if (policy !== "anti-affinity")
      throw badRequest('Only anti-affinity policy supports "max_server_per_host" rule.');
    out[k] = n;
  }
  return { policy, rules: out };
}

/** /os-server-groups. */
export function serverGroupRoutes(core: ComputeCore): Route[] {
  const db = core.db;
  const find = async (id: string): Promise<GroupRow> => {
    const g = (await db
      .selectFrom("compute_server_group")
      .selectAll()
      .where("uuid", "=", id)
      .executeTakeFirst()) as GroupRow | undefined;
    if (!g) throw notFound(`Instance group ${id} could not be found.`);
    return g;
  };
  return [
    route({
      method: "GET",
      path: "/v2.1/os-server-groups",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const project = ctx.auth?.projectId ?? "";
        ctx.authorize("os_compute_api:os-server-groups:index", { project_id: project });
        const limit = intParam("limit", ctx.query.limit);
        const offset = intParam("offset", ctx.query.offset) ?? 0;
        const all =
          ctx.query.all_projects !== undefined &&
          !/^(false|0|no|off)$/i.test(ctx.query.all_projects) &&
          ctx.allowed("os_compute_api:os-server-groups:index:all_projects", { project_id: project });
        let sel = db.selectFrom("compute_server_group").selectAll().orderBy("id");
        if (!all) sel = sel.where("project_id", "=", project);
        sel = sel.limit(Math.min(limit ?? MAX_LIMIT, MAX_LIMIT)).offset(offset);
        const rows = (await sel.execute()) as GroupRow[];
        const members = await membersOf(
          db,
          rows.map((g) => g.uuid),
        );
        return { server_groups: rows.map((g) => view(ctx, g, members)) };
      },
    }),
    route({
      method: "POST",
      path: "/v2.1/os-server-groups",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const project = ctx.auth?.projectId ?? "";
        const user = ctx.auth?.userId ?? "";
        ctx.authorize("os_compute_api:os-server-groups:create", { project_id: project, user_id: user });
        const body = objectBody(ctx);
        const sg = body.server_group as Record<string, unknown> | undefined;
        if (!sg || typeof sg !== "object" || Array.isArray(sg))
          throw badRequest(
            "Invalid input for field/attribute server_group. 'server_group' is a required property",
          );
        const allowed = new Set(["name", ctx.microversion.gte("2.64") ? "policy" : "policies"]);
        if (ctx.microversion.gte("2.64")) allowed.add("rules");
        for (const k of Object.keys(sg))
          if (!allowed.has(k))
            throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
        const name = sg.name;
        if (
          typeof name !== "string" ||
          name.length < 1 ||
          name.length > 255 ||
          hasControl(name) ||
          name.trim() !== name
        )
          throw invalid(
            "name",
            name,
            "must be a string of 1 to 255 characters without leading or trailing spaces",
          );
        const { policy, rules } = parsePolicy(ctx, sg);
        const row = {
          uuid: randomUUID(),
          name,
          project_id: project,
          user_id: user,
          policy,
          rules: JSON.stringify(rules),
          created_at: nowIso(),
        };
        // Count and insert under the project's quota lock row: atomic across API processes.
        await withQuotaLock(db, "compute_quota_lock", "server_groups", project, async (trx) => {
          const limit = (await projectLimits(trx, project)).server_groups;
          if (limit !== -1) {
            const r = (await trx
              .selectFrom("compute_server_group")
              .select((eb) => eb.fn.countAll().as("n"))
              .where("project_id", "=", project)
              .executeTakeFirst()) as { n: unknown } | undefined;
            if (Number(r?.n ?? 0) >= limit) throw forbidden("Quota exceeded, too many server groups.");
          }
          await trx.insertInto("compute_server_group").values(row).execute();
        });
        return { server_group: view(ctx, { id: 0, ...row }, new Map()) };
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/os-server-groups/:id",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const g = await find(ctx.params.id);
        ctx.authorize("os_compute_api:os-server-groups:show", { project_id: g.project_id });
        return { server_group: view(ctx, g, await membersOf(db, [g.uuid])) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.1/os-server-groups/:id",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const g = await find(ctx.params.id);
        ctx.authorize("os_compute_api:os-server-groups:delete", { project_id: g.project_id });
        await db.deleteFrom("compute_server_group_member").where("group_uuid", "=", g.uuid).execute();
        await db.deleteFrom("compute_server_group").where("id", "=", g.id).execute();
        return noContent();
      },
    }),
  ];
}
