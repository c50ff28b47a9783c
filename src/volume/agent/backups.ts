// The volume agent's backup work (Cinder's backup manager, run by the agent of the volume's host): read the volume
// (or a temporary volume made from the snapshot) through the volume backend and store it with the backup driver;
// restore by writing a backup's bytes into a volume (made first when new); delete a backup's objects. Each step
// records its outcome on the rows, so a repeated message finds the work done.
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { BackupDriver, BackupRef } from "../backup/types.js";
import type { VolumeCore } from "../core.js";
import type { VolumeBackend, VolumeSpec } from "../drivers/types.js";
import {
  backupDataShared,
  getBackup,
  removeBackup,
  transitionBackup,
  type BackupRow,
} from "../store/backups.js";
import { recordMessage } from "../store/messages.js";
import { getSnapshot, transitionSnapshot } from "../store/snapshots.js";
import { getVolume, transitionVolume } from "../store/volumes.js";
import type { VolumeRow } from "../store/rows.js";

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** What the backup work needs of the agent. */
export interface BackupWorkerOptions {
  core: VolumeCore;
  /** The backend a volume is on (its host's `@backend`). */
  backendOf(v: VolumeRow): VolumeBackend;
  driver: BackupDriver;
  /** The spec the backend makes a volume with (its type's options). */
  specOf(v: VolumeRow): Promise<VolumeSpec>;
  log: Logger;
}

/** A backup row as its driver addresses it. */
export const refOf = (b: BackupRow): BackupRef => ({
  id: b.data_id ?? b.id,
  projectId: b.data_project ?? b.project_id,
  volumeId: b.volume_id,
  container: b.container ?? "",
});

/** Backup, restore and delete on one agent. */
/** The restored volume's metadata: its own, with the backed-up volume's keys over it (as Cinder restores them). */
function restoredMetadata(own: string, backedUp: string | null): string {
  const parse = (t: string | null): Record<string, unknown> => {
    try {
      const v = JSON.parse(t ?? "{}") as unknown;
      return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  return JSON.stringify({ ...parse(own), ...parse(backedUp) });
}

export class BackupWorker {
  constructor(private readonly o: BackupWorkerOptions) {}

  /** The backup driver. */
  get driver(): BackupDriver {
    return this.o.driver;
  }

  private async message(project: string, requestId: string, id: string, event: string, text: string) {
    await recordMessage(this.o.core, {
      projectId: project,
      requestId,
      resourceType: "VOLUME_BACKUP",
      resourceId: id,
      eventId: event,
      text,
    });
  }

  /** Give the volume (or snapshot) back the status it had before the backup took it. */
  private async release(b: BackupRow): Promise<void> {
    const { core } = this.o;
    if (b.snapshot_id)
      await transitionSnapshot(core, b.snapshot_id, ["backing-up"], b.volume_status ?? "available");
    else
      await transitionVolume(core, b.volume_id, ["backing-up"], { status: b.volume_status ?? "available" });
  }

  /** Store the volume's (or snapshot's) bytes, incrementally when the backup has a parent. */
  async create(backupId: string, requestId: string): Promise<void> {
    const { core, driver } = this.o;
    const b = await getBackup(core, backupId);
    if (!b || b.status !== "creating") return;
    let temp: string | null = null;
    let backend: VolumeBackend | null = null;
    try {
      const v = await getVolume(core, b.volume_id);
      if (!v) throw new Error(`volume ${b.volume_id} is gone`);
      backend = this.o.backendOf(v);
      let data: Readable;
      if (b.snapshot_id) {
        const s = await getSnapshot(core, b.snapshot_id);
        if (!s) throw new Error(`snapshot ${b.snapshot_id} is gone`);
        temp = core.newId();
        await backend.createFromSnapshot({ ...(await this.o.specOf(v)), id: temp, sizeGb: s.size }, s.id);
        data = await backend.readRaw(temp);
      } else data = await backend.readRaw(v.id);
      const parent = b.parent_id ? await getBackup(core, b.parent_id) : null;
      if (b.parent_id && !parent) throw new Error(`the parent backup ${b.parent_id} is gone`);
      const { objectCount } = await driver.backup(refOf(b), data, parent ? refOf(parent) : null);
      if (
        !(await transitionBackup(core, b.id, ["creating"], {
          status: "available",
          object_count: objectCount,
        }))
      )
        await driver.delete(refOf(b)).catch(() => {});
    } catch (err) {
      this.o.log.warn({ err: errMsg(err), backup: b.id }, "volume agent: backup failed");
      await driver.delete(refOf(b)).catch(() => {});
      await transitionBackup(core, b.id, ["creating"], {
        status: "error",
        fail_reason: errMsg(err).slice(0, 1000),
      });
      await this.message(
        b.project_id,
        requestId,
        b.id,
        "VOLUME_BACKUP_001_003",
        `create backup: ${errMsg(err)}`,
      );
    } finally {
      if (temp) await backend?.delete(temp).catch(() => {});
      await this.release(b);
    }
  }

  /** Write the backup into the volume (making it first when the restore created it). */
  async restore(backupId: string, volumeId: string, requestId: string): Promise<void> {
    const { core, driver } = this.o;
    const b = await getBackup(core, backupId);
    const v = await getVolume(core, volumeId);
    if (!b || !v || b.status !== "restoring" || v.status !== "restoring-backup") return;
    const backend = this.o.backendOf(v);
    try {
      if (b.service !== driver.name)
        throw new Error(
          `the backup is held by the ${b.service} backup driver, this agent runs ${driver.name}`,
        );
      const loc = (await backend.locate(v.id)) ?? (await backend.create(await this.o.specOf(v)));
      await backend.writeImage(v.id, await driver.restore(refOf(b)), "raw");
      await transitionVolume(core, v.id, ["restoring-backup"], {
        status: "available",
        location: JSON.stringify(loc),
        metadata: restoredMetadata(v.metadata, b.volume_meta),
      });
    } catch (err) {
      this.o.log.warn({ err: errMsg(err), backup: b.id }, "volume agent: restore failed");
      await transitionVolume(core, v.id, ["restoring-backup"], { status: "error_restoring" });
      await this.message(
        v.project_id,
        requestId,
        b.id,
        "VOLUME_BACKUP_001_004",
        `restore backup: ${errMsg(err)}`,
      );
    }
    await transitionBackup(core, b.id, ["restoring"], { status: "available", restore_volume_id: null });
  }

  /** Remove the backup's objects, then its row. */
  async delete(backupId: string, requestId: string): Promise<void> {
    const { core, driver } = this.o;
    const b = await getBackup(core, backupId);
    if (!b || b.status !== "deleting") return;
    try {
      if (await backupDataShared(core, b))
        this.o.log.info({ backup: b.id }, "backup data kept: another record uses it");
      else if (b.service === driver.name) await driver.delete(refOf(b));
      else if (b.object_count > 0) throw new Error(`the backup is held by the ${b.service} backup driver`);
      await removeBackup(core, b.id);
    } catch (err) {
      this.o.log.warn({ err: errMsg(err), backup: b.id }, "volume agent: delete backup failed");
      await transitionBackup(core, b.id, ["deleting"], {
        status: "error",
        fail_reason: errMsg(err).slice(0, 1000),
      });
      await this.message(
        b.project_id,
        requestId,
        b.id,
        "VOLUME_BACKUP_001_005",
        `delete backup: ${errMsg(err)}`,
      );
    }
  }

  /** After a restart: fail backups and restores under way on this host, finish deletes. */
  async reconcile(host: string): Promise<void> {
    const { core } = this.o;
    const rows = (await core.db
      .selectFrom("volume_backup")
      .selectAll()
      .where("host", "=", host)
      .where("status", "in", ["creating", "restoring", "deleting"])
      .execute()) as BackupRow[];
    for (const b of rows) {
      if (b.status === "creating") {
        await this.o.driver.delete(refOf(b)).catch(() => {});
        await transitionBackup(core, b.id, ["creating"], {
          status: "error",
          fail_reason: "the volume agent restarted during the backup",
        });
        await this.release(b);
      } else if (b.status === "restoring") {
        if (b.restore_volume_id)
          await transitionVolume(core, b.restore_volume_id, ["restoring-backup"], {
            status: "error_restoring",
          });
        await transitionBackup(core, b.id, ["restoring"], { status: "available", restore_volume_id: null });
      } else await this.delete(b.id, "");
    }
  }
}
