// Block storage quotas: limits per project (defaults from the config, then the `default` quota class, then the
// project's own), usage counted from the rows, and the checks made under the quota lock with the insert they guard.
import { withQuotaLock } from "../shared/db/index.js";
import type { VolumeCore } from "./core.js";
import { overLimit } from "./errors.js";
import { checkTypeQuota } from "./type-quotas.js";

/** Cinder's quota resources. */
export const QUOTA_RESOURCES = [
  "volumes",
  "snapshots",
  "gigabytes",
  "backups",
  "backup_gigabytes",
  "per_volume_gigabytes",
  "groups",
] as const;

/** One quota resource. */
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

/** Whether a name is a quota resource. */
export const isQuotaResource = (s: string): s is QuotaResource =>
  (QUOTA_RESOURCES as readonly string[]).includes(s);

async function overrides(core: VolumeCore, scope: string, owner: string): Promise<Map<string, number>> {
  const rows = await core.db
    .selectFrom("volume_quota")
    .select(["resource", "hard_limit"])
    .where("scope", "=", scope)
    .where("owner", "=", owner)
    .execute();
  return new Map(rows.map((r) => [r.resource as string, Number(r.hard_limit)]));
}

/** A quota class's limits (the `default` class is what every project starts from). */
export async function classLimits(core: VolumeCore, name: string): Promise<Map<QuotaResource, number>> {
  const base = new Map<QuotaResource, number>(QUOTA_RESOURCES.map((r) => [r, core.cfg.volume.quotas[r]]));
  const own = await overrides(core, "class", name === "default" ? "default" : name);
  const dflt = name === "default" ? own : await overrides(core, "class", "default");
  for (const r of QUOTA_RESOURCES) {
    const v = own.get(r) ?? dflt.get(r);
    if (v !== undefined) base.set(r, v);
  }
  return base;
}

/** A project's limits. */
export async function projectLimits(core: VolumeCore, project: string): Promise<Map<QuotaResource, number>> {
  const out = await classLimits(core, "default");
  for (const [r, v] of await overrides(core, "project", project)) if (isQuotaResource(r)) out.set(r, v);
  return out;
}

/** Set limits of a project or class (the fixed resources, or per-type ones such as `volumes_<type>`). */
export async function setLimits(
  core: VolumeCore,
  scope: "project" | "class",
  owner: string,
  limits: ReadonlyMap<string, number>,
): Promise<void> {
  await core.transaction(async (c) => {
    for (const [resource, hard] of limits) {
      await c.db
        .deleteFrom("volume_quota")
        .where("scope", "=", scope)
        .where("owner", "=", owner)
        .where("resource", "=", resource)
        .execute();
      await c.db.insertInto("volume_quota").values({ scope, owner, resource, hard_limit: hard }).execute();
    }
  });
}

/** Drop a project's own limits (back to the defaults). */
export async function resetLimits(core: VolumeCore, project: string): Promise<void> {
  await core.db
    .deleteFrom("volume_quota")
    .where("scope", "=", "project")
    .where("owner", "=", project)
    .execute();
}

/** The counted resources and the usage queries that give them. */
type Counted = "volumes" | "backups" | "groups";

/**
 * What a project uses: volumes, snapshots, gigabytes of both, backups and their gigabytes, groups (only the
 * families in `only`, default all: a quota check counts what it checks).
 */
export async function usage(
  core: VolumeCore,
  project: string,
  only: readonly Counted[] = ["volumes", "backups", "groups"],
): Promise<Map<QuotaResource, number>> {
  const m = new Map<QuotaResource, number>(QUOTA_RESOURCES.map((r) => [r, 0]));
  const count = (table: string, size: boolean) =>
    core.db
      .selectFrom(table)
      .select((eb) => [eb.fn.countAll().as("n"), ...(size ? [eb.fn.sum("size").as("gb")] : [])])
      .where("project_id", "=", project)
      .executeTakeFirst() as Promise<{ n?: unknown; gb?: unknown } | undefined>;
  if (only.includes("volumes")) {
    const v = await count("volume_volume", true);
    const s = await count("volume_snapshot", true);
    m.set("volumes", Number(v?.n ?? 0));
    m.set("snapshots", Number(s?.n ?? 0));
    m.set("gigabytes", Number(v?.gb ?? 0) + Number(s?.gb ?? 0));
  }
  if (only.includes("backups")) {
    const b = await count("volume_backup", true);
    m.set("backups", Number(b?.n ?? 0));
    m.set("backup_gigabytes", Number(b?.gb ?? 0));
  }
  if (only.includes("groups")) m.set("groups", Number((await count("volume_group", false))?.n ?? 0));
  return m;
}

/** Refuse (413) a request for `count` more volumes or snapshots of `gigabytes` in all (and of a type, by id). */
export async function checkQuota(
  core: VolumeCore,
  project: string,
  want: {
    volumes?: number;
    snapshots?: number;
    gigabytes: number;
    perVolume?: number;
    typeId?: string | null;
  },
): Promise<void> {
  const limits = await projectLimits(core, project);
  const used = await usage(core, project, ["volumes"]);
  const per = limits.get("per_volume_gigabytes") ?? -1;
  if (want.perVolume !== undefined && per >= 0 && want.perVolume > per)
    throw overLimit(`Requested volume size ${want.perVolume}G is larger than maximum allowed limit ${per}G.`);
  for (const r of ["volumes", "snapshots"] as const) {
    const n = want[r] ?? 0;
    const lim = limits.get(r) ?? -1;
    if (n > 0 && lim >= 0 && (used.get(r) ?? 0) + n > lim)
      throw overLimit(
        r === "volumes"
          ? `VolumeLimitExceeded: Maximum number of volumes allowed (${lim}) exceeded for quota 'volumes'.`
          : `SnapshotLimitExceeded: Maximum number of snapshots allowed (${lim}) exceeded`,
      );
  }
  const gbLim = limits.get("gigabytes") ?? -1;
  const gbUsed = used.get("gigabytes") ?? 0;
  if (want.gigabytes > 0 && gbLim >= 0 && gbUsed + want.gigabytes > gbLim)
    throw overLimit(
      `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${want.gigabytes}G, quota is ${gbLim}G and ${gbUsed}G has been consumed.`,
    );
  await checkTypeQuota(core, project, want.typeId, want);
}

/** Refuse (413) one more backup of `gigabytes` (Cinder's BackupLimitExceeded, VolumeBackupSizeExceedsAvailableQuota). */
export async function checkBackupQuota(core: VolumeCore, project: string, gigabytes: number): Promise<void> {
  const limits = await projectLimits(core, project);
  const used = await usage(core, project, ["backups"]);
  const n = limits.get("backups") ?? -1;
  if (n >= 0 && (used.get("backups") ?? 0) + 1 > n)
    throw overLimit(`BackupLimitExceeded: Maximum number of backups allowed (${n}) exceeded`);
  const gb = limits.get("backup_gigabytes") ?? -1;
  const gbUsed = used.get("backup_gigabytes") ?? 0;
  if (gb >= 0 && gbUsed + gigabytes > gb)
    throw overLimit(
      `VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested ${gigabytes}G, quota is ${gb}G and ${gbUsed}G has been consumed.`,
    );
}

/** Run a quota check with the insert (or size change) it guards, under the project's quota lock. */
export function underQuota<T>(
  core: VolumeCore,
  project: string,
  fn: (core: VolumeCore) => Promise<T>,
): Promise<T> {
  return withQuotaLock(core.db, "volume_quota_lock", "volume", project, (trx) => fn(core.withDb(trx)));
}
