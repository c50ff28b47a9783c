// Per-project default volume types (Cinder 3.62): the type a volume gets when created without one; without a
// project default, the configured `volume.defaultVolumeType`.
import type { VolumeCore } from "./core.js";
import { getType, typeByName } from "./store/types.js";

/** A project's default type row. */
export interface DefaultTypeRow {
  project_id: string;
  volume_type_id: string;
}

/** The project's own default type id, or null. */
export async function projectDefaultType(core: VolumeCore, project: string): Promise<string | null> {
  const r = await core.db
    .selectFrom("volume_default_type")
    .select("volume_type_id")
    .where("project_id", "=", project)
    .executeTakeFirst();
  return (r?.volume_type_id as string | undefined) ?? null;
}

/** The type a new volume of `project` gets: the project's default if it still exists, else the configured one. */
export async function defaultTypeId(core: VolumeCore, project: string): Promise<string | null> {
  const own = await projectDefaultType(core, project);
  if (own && (await getType(core, own))) return own;
  return (await typeByName(core, core.cfg.volume.defaultVolumeType))?.id ?? null;
}

/** Every project default (optionally one project's). */
export async function listDefaultTypes(core: VolumeCore, project?: string): Promise<DefaultTypeRow[]> {
  let q = core.db.selectFrom("volume_default_type").selectAll();
  if (project !== undefined) q = q.where("project_id", "=", project);
  return (await q.orderBy("project_id").execute()) as DefaultTypeRow[];
}

/** Set a project's default type (replacing any). */
export async function setDefaultType(core: VolumeCore, project: string, typeId: string): Promise<void> {
  await core.transaction(async (c) => {
    await c.db.deleteFrom("volume_default_type").where("project_id", "=", project).execute();
    await c.db
      .insertInto("volume_default_type")
      .values({ project_id: project, volume_type_id: typeId })
      .execute();
  });
}

/** Drop a project's default type; false when it had none. */
export async function unsetDefaultType(core: VolumeCore, project: string): Promise<boolean> {
  const r = await core.db
    .deleteFrom("volume_default_type")
    .where("project_id", "=", project)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Whether a type is some project's default (it cannot be deleted then). */
export async function isSomeDefault(core: VolumeCore, typeId: string): Promise<boolean> {
  const r = await core.db
    .selectFrom("volume_default_type")
    .select("project_id")
    .where("volume_type_id", "=", typeId)
    .executeTakeFirst();
  return r !== undefined;
}
