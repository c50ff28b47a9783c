// Per-volume-type quotas (Cinder's volumes_<type>, gigabytes_<type>, snapshots_<type>): -1 (unlimited) unless the
// `default` class, a named class or the project sets them; stored in volume_quota beside the fixed resources and
// checked under the same quota lock as the request they guard.
import type { VolumeCore } from "./core.js";
import { overLimit } from "./errors.js";
import { listTypes } from "./store/types.js";

/** The kinds of per-type resources. */
const KINDS = ["volumes", "gigabytes", "snapshots"] as const;
type Kind = (typeof KINDS)[number];

/** The longest per-type resource name (the quota table's resource column). */
const MAX_KEY = 64;

/** Every per-type resource name of the existing types, in Cinder's order (kind, then type name). */
export async function typeResources(core: VolumeCore): Promise<string[]> {
  const names = (await listTypes(core)).map((t) => t.name);
  return KINDS.flatMap((k) => names.map((n) => `${k}_${n}`)).filter((r) => r.length <= MAX_KEY);
}

/** Whether `key` is the per-type resource of an existing type. */
export async function isTypeResource(core: VolumeCore, key: string): Promise<boolean> {
  return (await typeResources(core)).includes(key);
}

async function stored(core: VolumeCore, scope: string, owner: string): Promise<Map<string, number>> {
  const rows = await core.db
    .selectFrom("volume_quota")
    .select(["resource", "hard_limit"])
    .where("scope", "=", scope)
    .where("owner", "=", owner)
    .execute();
  return new Map(rows.map((r) => [r.resource as string, Number(r.hard_limit)]));
}

/** A class's per-type limits (the class's own, else the default class's, else -1). */
export async function typeClassLimits(core: VolumeCore, name: string): Promise<Map<string, number>> {
  const own = await stored(core, "class", name);
  const dflt = name === "default" ? own : await stored(core, "class", "default");
  return new Map((await typeResources(core)).map((r) => [r, own.get(r) ?? dflt.get(r) ?? -1]));
}

/** A project's per-type limits. */
export async function typeProjectLimits(core: VolumeCore, project: string): Promise<Map<string, number>> {
  const out = await typeClassLimits(core, "default");
  for (const [r, v] of await stored(core, "project", project)) if (out.has(r)) out.set(r, v);
  return out;
}

/** What a project uses of each type: volumes, snapshots (by their volume's type) and the gigabytes of both. */
export async function typeUsage(core: VolumeCore, project: string): Promise<Map<string, number>> {
  const out = new Map<string, number>((await typeResources(core)).map((r) => [r, 0]));
  const types = new Map((await listTypes(core)).map((t) => [t.id, t.name]));
  const add = (kind: Kind, typeId: string | null, n: number) => {
    const name = typeId ? types.get(typeId) : undefined;
    const key = `${kind}_${name}`;
    if (name !== undefined && out.has(key)) out.set(key, (out.get(key) ?? 0) + n);
  };
  const vols = await core.db
    .selectFrom("volume_volume")
    .select(["volume_type_id", "size"])
    .where("project_id", "=", project)
    .execute();
  for (const v of vols) {
    add("volumes", v.volume_type_id as string | null, 1);
    add("gigabytes", v.volume_type_id as string | null, Number(v.size));
  }
  const snaps = await core.db
    .selectFrom("volume_snapshot as s")
    .leftJoin("volume_volume as v", "v.id", "s.volume_id")
    .select(["v.volume_type_id as type_id", "s.size as size"])
    .where("s.project_id", "=", project)
    .execute();
  for (const s of snaps) {
    add("snapshots", s.type_id as string | null, 1);
    add("gigabytes", s.type_id as string | null, Number(s.size));
  }
  return out;
}

/** Refuse (413) `want` more of a type (by id) beyond the project's per-type limits. */
export async function checkTypeQuota(
  core: VolumeCore,
  project: string,
  typeId: string | null | undefined,
  want: { volumes?: number; snapshots?: number; gigabytes: number },
): Promise<void> {
  if (!typeId) return;
  const t = (await listTypes(core)).find((x) => x.id === typeId);
  if (!t) return;
  const limits = await typeProjectLimits(core, project);
  const used = await typeUsage(core, project);
  for (const kind of KINDS) {
    const n = want[kind] ?? 0;
    const key = `${kind}_${t.name}`;
    const lim = limits.get(key) ?? -1;
    const u = used.get(key) ?? 0;
    if (n <= 0 || lim < 0 || u + n <= lim) continue;
    if (kind === "gigabytes")
      throw overLimit(
        `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${key} quota. Requested ${n}G, quota is ${lim}G and ${u}G has been consumed.`,
      );
    throw overLimit(
      kind === "volumes"
        ? `VolumeLimitExceeded: Maximum number of volumes allowed (${lim}) exceeded for quota '${key}'.`
        : `SnapshotLimitExceeded: Maximum number of snapshots allowed (${lim}) exceeded`,
    );
  }
}
