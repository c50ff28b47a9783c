// compute_server_migration rows (Nova's Migration object) for resizes, cold and live migrations and evacuations, the
// Rollback stack every move uses, and small lookups the move workflows share.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { nowIso } from "../../shared/db/index.js";
import type { InstanceFlavor } from "../instances/store.js";

/** A compute_server_migration row. */
export interface MigrationRow {
  id: number;
  uuid: string;
  instance_uuid: string;
  source_compute: string | null;
  dest_compute: string | null;
  source_node: string | null;
  dest_node: string | null;
  dest_host: string | null;
  old_flavor_id: string | null;
  new_flavor_id: string | null;
  status: string;
  migration_type: string;
  project_id: string | null;
  user_id: string | null;
  created_at: string;
  updated_at: string | null;
}

/** Migration kinds, as Nova names them. */
export type MigrationType = "migration" | "resize" | "live-migration" | "evacuation";

/** Insert a migration record; returns it. */
export async function createMigration(
  db: Kysely<any>,
  m: Pick<MigrationRow, "instance_uuid" | "source_compute" | "source_node" | "status"> &
    Partial<
      Pick<MigrationRow, "dest_compute" | "dest_node" | "dest_host" | "old_flavor_id" | "new_flavor_id">
    > & {
      migration_type: MigrationType;
      project_id: string;
      user_id: string;
    },
): Promise<MigrationRow> {
  const row = {
    uuid: randomUUID(),
    dest_compute: null,
    dest_node: null,
    dest_host: null,
    old_flavor_id: null,
    new_flavor_id: null,
    ...m,
    created_at: nowIso(),
    updated_at: null,
  };
  await db.insertInto("compute_server_migration").values(row).execute();
  return (await db
    .selectFrom("compute_server_migration")
    .selectAll()
    .where("uuid", "=", row.uuid)
    .executeTakeFirstOrThrow()) as MigrationRow;
}

/** Update a migration (status and/or destination). */
export async function updateMigration(
  db: Kysely<any>,
  uuid: string,
  patch: Partial<Pick<MigrationRow, "status" | "dest_compute" | "dest_node" | "dest_host">>,
): Promise<void> {
  await db
    .updateTable("compute_server_migration")
    .set({ ...patch, updated_at: nowIso() })
    .where("uuid", "=", uuid)
    .execute();
}

/** Move a migration from one status to another only if it is still in `from`; true when it did. */
export async function casMigration(
  db: Kysely<any>,
  uuid: string,
  from: string[],
  to: string,
): Promise<boolean> {
  const r = await db
    .updateTable("compute_server_migration")
    .set({ status: to, updated_at: nowIso() })
    .where("uuid", "=", uuid)
    .where("status", "in", from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The newest migration of an instance in one of `statuses` (optionally of some types). */
export async function findMigration(
  db: Kysely<any>,
  instanceUuid: string,
  statuses: string[],
  types?: MigrationType[],
): Promise<MigrationRow | undefined> {
  let q = db
    .selectFrom("compute_server_migration")
    .selectAll()
    .where("instance_uuid", "=", instanceUuid)
    .where("status", "in", statuses);
  if (types) q = q.where("migration_type", "in", types);
  return (await q.orderBy("id", "desc").executeTakeFirst()) as MigrationRow | undefined;
}

/** A flavor by its flavorid, in the shape an instance embeds (with its extra specs); undefined if none. */
export async function loadFlavor(db: Kysely<any>, flavorid: string): Promise<InstanceFlavor | undefined> {
  const f = (await db
    .selectFrom("compute_flavor")
    .selectAll()
    .where("flavorid", "=", flavorid)
    .executeTakeFirst()) as Record<string, unknown> | undefined;
  if (!f) return undefined;
  const specs = (await db
    .selectFrom("compute_flavor_extra_spec")
    .select(["spec_key", "value"])
    .where("flavor_id", "=", f.id as number)
    .execute()) as Array<{ spec_key: string; value: string }>;
  return {
    flavorid: String(f.flavorid),
    name: String(f.name),
    memory_mb: Number(f.memory_mb),
    vcpus: Number(f.vcpus),
    root_gb: Number(f.root_gb),
    ephemeral_gb: Number(f.ephemeral_gb),
    swap: Number(f.swap),
    rxtx_factor: Number(f.rxtx_factor),
    is_public: Number(f.is_public) === 1 || f.is_public === true,
    description: (f.description as string | null) ?? null,
    extra_specs: Object.fromEntries(specs.map((s) => [s.spec_key, s.value])),
  };
}

/**
 * Undo steps of a multi-step workflow: push one after each step that changed something, run them in reverse
 * when a later step fails. A failing undo step is logged and the others still run.
 */
export class Rollback {
  private readonly steps: Array<{ what: string; undo: () => Promise<unknown> }> = [];

  constructor(private readonly log: Logger) {}

  /** Remember how to undo the step that just succeeded. */
  push(what: string, undo: () => Promise<unknown>): void {
    this.steps.push({ what, undo });
  }

  /** Forget every step (the workflow is past the point where undoing makes sense). */
  clear(): void {
    this.steps.length = 0;
  }

  /** Undo everything pushed so far, newest first. */
  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.undo();
      } catch (e) {
        this.log.error({ step: step.what, err: (e as Error).message }, "rollback step failed");
      }
    }
  }
}
