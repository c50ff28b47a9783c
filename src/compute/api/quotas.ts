import type { Kysely } from "kysely";
import type { Microversion } from "../../shared/http/microversion.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { ComputeCore } from "../core.js";
import { TaskState as T } from "../instances/states.js";
import { badRequest } from "../errors.js";
import { objectBody, type Ctx } from "./common.js";

/** Nova's configured quota defaults ([quota] section); -1 means unlimited. */
export const QUOTA_DEFAULTS: Record<string, number> = {
  instances: 10,
  cores: 20,
  ram: 51200,
  floating_ips: 10,
  fixed_ips: -1,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  key_pairs: 100,
  security_groups: 10,
  security_group_rules: 20,
  server_groups: 10,
  server_group_members: 10,
};

const NETWORK = new Set(["floating_ips", "fixed_ips", "security_groups", "security_group_rules"]);
const INJECTED = new Set(["injected_files", "injected_file_content_bytes", "injected_file_path_bytes"]);
const SERVER_GROUP = new Set(["server_groups", "server_group_members"]);
const MAX_INT = 2147483647;

/** The quota keys shown at a microversion: network keys go in 2.36, injected files in 2.57. */
export function quotaKeys(mv: Microversion): string[] {
  return Object.keys(QUOTA_DEFAULTS).filter(
    (k) => !(mv.gte("2.36") && NETWORK.has(k)) && !(mv.gte("2.57") && INJECTED.has(k)),
  );
}

/** Quota class keys: server group keys appear and network keys go in 2.50, injected files go in 2.57. */
function classKeys(mv: Microversion): string[] {
  return Object.keys(QUOTA_DEFAULTS).filter((k) =>
    mv.gte("2.50") ? !NETWORK.has(k) && !(mv.gte("2.57") && INJECTED.has(k)) : !SERVER_GROUP.has(k),
  );
}

async function classLimits(db: Kysely<any>, cls: string): Promise<Record<string, number>> {
  const rows = (await db
    .selectFrom("compute_quota_class")
    .select(["resource", "hard_limit"])
    .where("class_name", "=", cls)
    .execute()) as Array<{ resource: string; hard_limit: number }>;
  const out = { ...QUOTA_DEFAULTS };
  for (const r of rows) out[r.resource] = Number(r.hard_limit);
  return out;
}

/** The project's effective limits: its own values over the "default" class over the configured defaults. */
export async function projectLimits(db: Kysely<any>, project: string): Promise<Record<string, number>> {
  const out = await classLimits(db, "default");
  const rows = (await db
    .selectFrom("compute_quota")
    .select(["resource", "hard_limit"])
    .where("project_id", "=", project)
    .execute()) as Array<{ resource: string; hard_limit: number }>;
  for (const r of rows) out[r.resource] = Number(r.hard_limit);
  return out;
}

async function count(db: Kysely<any>, table: string, col: string, value: string): Promise<number> {
  const r = (await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as("n"))
    .where(col, "=", value)
    .executeTakeFirst()) as { n: unknown } | undefined;
  return Number(r?.n ?? 0);
}

/**
 * Usage as Nova counts it: key pairs of the user; server groups, instances, cores and RAM of the project (live
 * servers, each resizing one at the larger of its two flavors); server_group_members is counted per group, so
 * the project total is 0 here.
 */
export async function projectUsage(
  db: Kysely<any>,
  project: string,
  user: string,
): Promise<Record<string, number>> {
  const usage: Record<string, number> = {};
  for (const k of Object.keys(QUOTA_DEFAULTS)) usage[k] = 0;
  usage.key_pairs = await count(db, "compute_keypair", "user_id", user);
  usage.server_groups = await count(db, "compute_server_group", "project_id", project);
  Object.assign(usage, await serverUsage(db, project));
  return usage;
}

/**
 * The flavor a server is moving to while its columns still show the one it leaves: the resize's new flavor (the
 * API records it with RESIZE_PREP, under the quota lock) until the conductor switches the columns, the old one
 * while a revert runs.
 */
const PENDING_FLAVOR = new Map<string, string>([
  [T.RESIZE_PREP, "new_flavor"],
  [T.RESIZE_MIGRATING, "new_flavor"],
  [T.RESIZE_MIGRATED, "new_flavor"],
  [T.RESIZE_FINISH, "new_flavor"],
  [T.RESIZE_REVERTING, "old_flavor"],
]);

/**
 * Instances, cores and RAM of the project's live servers, with the growth of moves under way (each server counts
 * the larger of its two flavors). One SELECT, so one snapshot even in READ COMMITTED: the conductor switches a
 * server's flavor columns and clears its task state in one commit, which a second statement could see after the
 * first had counted the old columns (the server then counted at its old flavor with no growth pending).
 */
async function serverUsage(
  db: Kysely<any>,
  project: string,
): Promise<{ instances: number; cores: number; ram: number }> {
  const pending = [...PENDING_FLAVOR.keys()];
  const rows = (await db
    .selectFrom("compute_instance")
    .select((eb) => [
      "vcpus",
      "memory_mb",
      "task_state",
      // Only moving servers' system metadata is needed (and worth sending).
      eb.case().when("task_state", "in", pending).then(eb.ref("system_metadata")).end().as("system_metadata"),
    ])
    .where("project_id", "=", project)
    .where("deleted", "=", 0)
    .execute()) as Array<{
    vcpus: unknown;
    memory_mb: unknown;
    task_state: string | null;
    system_metadata: unknown;
  }>;
  const out = { instances: rows.length, cores: 0, ram: 0 };
  for (const r of rows) {
    const [vcpus, ram] = [Number(r.vcpus), Number(r.memory_mb)];
    const f = pendingFlavor(r.task_state, r.system_metadata);
    out.cores += Math.max(vcpus, f ? Number(f.vcpus ?? 0) : 0);
    out.ram += Math.max(ram, f ? Number(f.memory_mb ?? 0) : 0);
  }
  return out;
}

/** The flavor a moving server's system metadata records for its task state (PENDING_FLAVOR), if any. */
function pendingFlavor(
  task: string | null,
  systemMetadata: unknown,
): { vcpus?: unknown; memory_mb?: unknown } | null {
  const key = task === null ? undefined : PENDING_FLAVOR.get(task);
  if (!key || systemMetadata === null || systemMetadata === undefined) return null;
  const meta: unknown = typeof systemMetadata === "string" ? JSON.parse(systemMetadata) : systemMetadata;
  const f =
    meta && typeof meta === "object" && Object.hasOwn(meta, key)
      ? (meta as Record<string, unknown>)[key]
      : null;
  return f && typeof f === "object" ? (f as { vcpus?: unknown; memory_mb?: unknown }) : null;
}

function pick(values: Record<string, number>, keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = values[k];
  return out;
}

/** A quota value: an integer (or integer string) from -1 to 2^31-1, or 400. */
function quotaValue(key: string, v: unknown): number {
  const n = typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < -1 || n > MAX_INT)
    throw badRequest(
      `Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ` +
        `${JSON.stringify(v)} is not a valid quota value (an integer from -1 to ${MAX_INT}).`,
    );
  return n;
}

function parseBool(key: string, v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && /^(true|false|1|0|yes|no|on|off)$/i.test(v))
    return /^(true|1|yes|on)$/i.test(v);
  throw badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. Not a boolean.`);
}

/** The {"<wrapper>": {...}} body with only allowed keys and valid values, or 400. */
function quotaBody(ctx: Ctx, wrapper: string, keys: string[], extra: string[]): Record<string, unknown> {
  const body = objectBody(ctx);
  const inner = body[wrapper];
  if (inner === null || typeof inner !== "object" || Array.isArray(inner))
    throw badRequest(`Invalid input for field/attribute ${wrapper}. '${wrapper}' is a required property`);
  for (const k of Object.keys(body))
    if (k !== wrapper) throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  const allowed = new Set([...keys, ...extra]);
  for (const k of Object.keys(inner))
    if (!allowed.has(k)) throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  return inner as Record<string, unknown>;
}

async function upsert(
  db: Kysely<any>,
  table: string,
  idCol: string,
  id: string,
  resource: string,
  limit: number,
) {
  await db.deleteFrom(table).where(idCol, "=", id).where("resource", "=", resource).execute();
  await db
    .insertInto(table)
    .values({ [idCol]: id, resource, hard_limit: limit })
    .execute();
}

/** /os-quota-sets, /os-quota-class-sets and /limits. */
export function quotaRoutes(core: ComputeCore): Route[] {
  const db = core.db;
  const QS = "/v2.1/os-quota-sets/:project_id";
  const target = (ctx: Ctx) => ({ project_id: ctx.params.project_id });
  return [
    route({
      method: "GET",
      path: `${QS}/defaults`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        ctx.authorize("os_compute_api:os-quota-sets:defaults", target(ctx));
        const limits = await classLimits(db, "default");
        return { quota_set: { id: ctx.params.project_id, ...pick(limits, quotaKeys(ctx.microversion)) } };
      },
    }),
    route({
      method: "GET",
      path: `${QS}/detail`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const project = ctx.params.project_id;
        ctx.authorize("os_compute_api:os-quota-sets:detail", target(ctx));
        const limits = await projectLimits(db, project);
        const usage = await projectUsage(db, project, ctx.auth?.userId ?? "");
        const out: Record<string, unknown> = { id: project };
        for (const k of quotaKeys(ctx.microversion))
          out[k] = { in_use: usage[k], limit: limits[k], reserved: 0 };
        return { quota_set: out };
      },
    }),
    route({
      method: "GET",
      path: QS,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const project = ctx.params.project_id;
        ctx.authorize("os_compute_api:os-quota-sets:show", target(ctx));
        const limits = await projectLimits(db, project);
        return { quota_set: { id: project, ...pick(limits, quotaKeys(ctx.microversion)) } };
      },
    }),
    route({
      method: "PUT",
      path: QS,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const project = ctx.params.project_id;
        ctx.authorize("os_compute_api:os-quota-sets:update", target(ctx));
        const keys = quotaKeys(ctx.microversion);
        const inner = quotaBody(ctx, "quota_set", keys, ["force"]);
        const force = inner.force === undefined ? false : parseBool("force", inner.force);
        const values: Record<string, number> = {};
        for (const [k, v] of Object.entries(inner)) if (k !== "force") values[k] = quotaValue(k, v);
        if (!force) {
          const usage = await projectUsage(db, project, ctx.auth?.userId ?? "");
          for (const [k, v] of Object.entries(values))
            if (v !== -1 && v < usage[k])
              throw badRequest(
                `Quota limit ${v} for ${k} must be greater than or equal to already used and reserved ${usage[k]}.`,
              );
        }
        for (const [k, v] of Object.entries(values))
          await upsert(db, "compute_quota", "project_id", project, k, v);
        return { quota_set: pick(await projectLimits(db, project), keys) };
      },
    }),
    route({
      method: "DELETE",
      path: QS,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        ctx.authorize("os_compute_api:os-quota-sets:delete", target(ctx));
        await db.deleteFrom("compute_quota").where("project_id", "=", ctx.params.project_id).execute();
        return reply(202, undefined);
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/os-quota-class-sets/:id",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        ctx.authorize("os_compute_api:os-quota-class-sets:show", { quota_class: ctx.params.id });
        const limits = await classLimits(db, ctx.params.id);
        return { quota_class_set: { id: ctx.params.id, ...pick(limits, classKeys(ctx.microversion)) } };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.1/os-quota-class-sets/:id",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const cls = ctx.params.id;
        ctx.authorize("os_compute_api:os-quota-class-sets:update", { quota_class: cls });
        const keys = classKeys(ctx.microversion);
        const inner = quotaBody(ctx, "quota_class_set", keys, []);
        const values: Record<string, number> = {};
        for (const [k, v] of Object.entries(inner)) values[k] = quotaValue(k, v);
        for (const [k, v] of Object.entries(values))
          await upsert(db, "compute_quota_class", "class_name", cls, k, v);
        return { quota_class_set: pick(await classLimits(db, cls), keys) };
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/limits",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const mv = ctx.microversion;
        let project = ctx.auth?.projectId ?? "";
        ctx.authorize("os_compute_api:limits", { project_id: project });
        const other = ctx.query.tenant_id;
        if (other !== undefined && other !== project) {
          ctx.authorize("os_compute_api:limits:other_project", { project_id: other });
          project = other;
        }
        const l = await projectLimits(db, project);
        const u = await projectUsage(db, project, ctx.auth?.userId ?? "");
        const abs: Record<string, number> = {
          maxServerMeta: l.metadata_items,
          maxTotalCores: l.cores,
          maxTotalInstances: l.instances,
          maxTotalKeypairs: l.key_pairs,
          maxTotalRAMSize: l.ram,
          maxServerGroups: l.server_groups,
          maxServerGroupMembers: l.server_group_members,
          totalCoresUsed: u.cores,
          totalInstancesUsed: u.instances,
          totalRAMUsed: u.ram,
          totalServerGroupsUsed: u.server_groups,
        };
        if (!mv.gte("2.39")) abs.maxImageMeta = l.metadata_items;
        if (!mv.gte("2.57")) {
          abs.maxPersonality = l.injected_files;
          abs.maxPersonalitySize = l.injected_file_content_bytes;
        }
        if (!mv.gte("2.36")) {
          Object.assign(abs, {
            maxSecurityGroupRules: l.security_group_rules,
            maxSecurityGroups: l.security_groups,
            maxTotalFloatingIps: l.floating_ips,
            totalFloatingIpsUsed: 0,
            totalSecurityGroupsUsed: 0,
          });
        }
        return { limits: { rate: [], absolute: abs } };
      },
    }),
  ];
}
