// /os-quota-sets/{project} (show, ?usage=true, defaults, update, delete), /os-quota-class-sets/{class} and /limits.
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { invalidInput } from "../errors.js";
import {
  classLimits,
  isQuotaResource,
  projectLimits,
  QUOTA_RESOURCES,
  resetLimits,
  setLimits,
  usage,
  type QuotaResource,
} from "../quotas.js";
import { typeClassLimits, typeProjectLimits, typeResources, typeUsage } from "../type-quotas.js";
import { boolOf, ownerOf, wrapped, type Ctx } from "./common.js";

const QS = "/v3/:project_id/os-quota-sets/:target_id";
const QC = "/v3/:project_id/os-quota-class-sets/:class_name";
const MAX = 2 ** 31 - 1;

/** Parse the limits of an update body (integers >= -1, known resources only): fixed ones, then per-type ones. */
async function limitsOf(
  core: VolumeCore,
  b: Record<string, unknown>,
): Promise<[Map<QuotaResource, number>, Map<string, number>]> {
  const out = new Map<QuotaResource, number>();
  const perType = new Map<string, number>();
  const typed = new Set(await typeResources(core));
  for (const [k, v] of Object.entries(b)) {
    if (k === "tenant_id" || k === "id" || k === "class_name") continue;
    if (!isQuotaResource(k) && !typed.has(k)) throw invalidInput(`Bad key(s) in quota set: ${k}`);
    const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < -1 || n > MAX)
      throw invalidInput(`Quota limit ${String(v)} for ${k} must be an integer -1 or greater.`);
    if (isQuotaResource(k)) out.set(k, n);
    else perType.set(k, n);
  }
  return [out, perType];
}

/** Save both kinds of limits of a project or class. */
async function saveLimits(
  core: VolumeCore,
  scope: "project" | "class",
  owner: string,
  [fixed, perType]: [Map<QuotaResource, number>, Map<string, number>],
): Promise<void> {
  await setLimits(core, scope, owner, fixed);
  await setLimits(core, scope, owner, perType);
}

/** A class's limits, fixed and per type. */
const classBody = async (core: VolumeCore, name: string) => ({
  ...Object.fromEntries(await classLimits(core, name)),
  ...Object.fromEntries(await typeClassLimits(core, name)),
});

async function quotaBody(core: VolumeCore, project: string, withUsage: boolean) {
  const limits = await projectLimits(core, project);
  const body: Record<string, unknown> = { id: project };
  const used = withUsage ? await usage(core, project) : null;
  for (const r of QUOTA_RESOURCES)
    body[r] = used
      ? { limit: limits.get(r), in_use: used.get(r) ?? 0, reserved: 0, allocated: 0 }
      : limits.get(r);
  const typeLimits = await typeProjectLimits(core, project);
  const typeUsed = withUsage ? await typeUsage(core, project) : null;
  for (const [r, lim] of typeLimits)
    body[r] = typeUsed ? { limit: lim, in_use: typeUsed.get(r) ?? 0, reserved: 0, allocated: 0 } : lim;
  return body;
}

/** Routes of quotas, quota classes and limits. */
export function quotaRoutes(core: VolumeCore): Route[] {
  const target = (ctx: Ctx) => ({ project_id: ctx.params.target_id });
  return [
    route({
      method: "GET",
      path: QS,
      policy: "volume_extension:quotas:show",
      target,
      handler: async (ctx) => {
        const u = ctx.query.usage !== undefined && boolOf("usage", ctx.query.usage);
        return { quota_set: await quotaBody(core, ctx.params.target_id, u) };
      },
    }),
    route({
      method: "GET",
      path: `${QS}/defaults`,
      policy: "volume_extension:quotas:show",
      target,
      handler: async (ctx) => {
        return { quota_set: { id: ctx.params.target_id, ...(await classBody(core, "default")) } };
      },
    }),
    route({
      method: "PUT",
      path: QS,
      policy: "volume_extension:quotas:update",
      target,
      handler: async (ctx) => {
        const limits = await limitsOf(core, wrapped(ctx, "quota_set"));
        await saveLimits(core, "project", ctx.params.target_id, limits);
        const body = await quotaBody(core, ctx.params.target_id, false);
        delete body.id;
        return { quota_set: body };
      },
    }),
    route({
      method: "DELETE",
      path: QS,
      policy: "volume_extension:quotas:delete",
      target,
      handler: async (ctx) => {
        await resetLimits(core, ctx.params.target_id);
        return reply(200, undefined);
      },
    }),
    route({
      method: "GET",
      path: QC,
      policy: "volume_extension:quota_classes",
      handler: async (ctx) => ({
        quota_class_set: {
          id: ctx.params.class_name,
          ...(await classBody(core, ctx.params.class_name)),
        },
      }),
    }),
    route({
      method: "PUT",
      path: QC,
      policy: "volume_extension:quota_classes",
      handler: async (ctx) => {
        const name = ctx.params.class_name;
        if (name.length > 255) throw invalidInput("The quota class name is too long.");
        await saveLimits(core, "class", name, await limitsOf(core, wrapped(ctx, "quota_class_set")));
        return { quota_class_set: await classBody(core, name) };
      },
    }),
    route({
      method: "GET",
      path: "/v3/:project_id/limits",
      policy: "limits_extension:used_limits",
      target: (ctx) => ({ project_id: ownerOf(ctx) }),
      handler: async (ctx) => {
        const project = ownerOf(ctx);
        const limits = await projectLimits(core, project);
        const used = await usage(core, project);
        const get = (m: Map<QuotaResource, number>, r: QuotaResource) => m.get(r) ?? 0;
        return {
          limits: {
            rate: [],
            absolute: {
              totalSnapshotsUsed: get(used, "snapshots"),
              maxTotalBackups: get(limits, "backups"),
              maxTotalVolumeGigabytes: get(limits, "gigabytes"),
              maxTotalSnapshots: get(limits, "snapshots"),
              maxTotalBackupGigabytes: get(limits, "backup_gigabytes"),
              totalBackupGigabytesUsed: get(used, "backup_gigabytes"),
              maxTotalVolumes: get(limits, "volumes"),
              totalVolumesUsed: get(used, "volumes"),
              totalBackupsUsed: get(used, "backups"),
              totalGigabytesUsed: get(used, "gigabytes"),
            },
          },
        };
      },
    }),
  ];
}
