// The volume agent (Cinder's volume manager), one per storage host: it reports its pool's capacity, does the slow
// work the API casts to it through its backend, exports volumes through the transports, and on start reconciles
// what a crash left half done. A failed create removes whatever the backend made, so nothing is left behind.
import type { Logger } from "pino";
import type { Readable } from "node:stream";
import type { BackupDriver } from "../backup/types.js";
import type { Bus, HandlerContext, Handlers, ServerHandle } from "../../shared/bus/index.js";
import type { VolumeCore } from "../core.js";
import type { ExportRecord, VolumeTransport } from "../drivers/transports.js";
import type { NamedBackend, VolumeBackend, VolumeLocation, VolumeSpec } from "../drivers/types.js";
import { volumeAgentContract } from "../rpc.js";
import { uploadVolume } from "./upload.js";
import { settleGroup, settleGroupSnapshot } from "../groups/store.js";
import { backendNameOf, VOLUME_BINARY } from "../scheduler.js";
import { manageVolume, unmanageVolume } from "./manage.js";
import { migrateVolume, reconcileMigrations } from "./migrate.js";
import { BackupWorker } from "./backups.js";
import { attachmentsOf, dropExport, exportsOfHost, saveExport } from "../store/attachments.js";
import { recordMessage } from "../store/messages.js";
import { parseMap } from "../store/rows.js";
import { dropService, heartbeat } from "../store/services.js";
import {
  getSnapshot,
  removeSnapshot,
  snapshotsOf,
  transitionSnapshot,
  updateSnapshot,
} from "../store/snapshots.js";
import { getType } from "../store/types.js";
import { getVolume, removeVolume, transitionVolume } from "../store/volumes.js";
import type { VolumeRow } from "../store/rows.js";

/** The transports by protocol. */
export type TransportMap = ReadonlyMap<"iscsi" | "nbd", VolumeTransport>;

/** What an agent runs with. */
export interface VolumeAgentOptions {
  core: VolumeCore;
  bus: Bus;
  /** This host's name: the agent's bus server name and its services' host. */
  host: string;
  /** The backend (the only one unless `backends` is given). */
  backend: VolumeBackend;
  /** Every backend of this host (Cinder's enabled_backends); default: `backend`, named as its driver. */
  backends?: NamedBackend[];
  transports: TransportMap;
  /** Where backups go (none: backup requests fail). */
  backup?: BackupDriver;
  log: Logger;
}

/** The transport a location is exported with: raw volumes over iSCSI, qcow2 ones over NBD. */
export const protocolFor = (loc: VolumeLocation): "iscsi" | "nbd" => (loc.format === "raw" ? "iscsi" : "nbd");

/** The ids Stratus gives volumes. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A running volume agent. */
export class VolumeAgent {
  private server: ServerHandle | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Backup, restore and delete of backups (null without a backup driver). */
  readonly backups: BackupWorker | null;
  /** This host's backends, the first the default. */
  readonly backends: readonly NamedBackend[];

  private constructor(private readonly o: VolumeAgentOptions) {
    this.backends = o.backends?.length
      ? o.backends
      : [{ name: o.backend.name, volumeBackendName: o.backend.name, backend: o.backend }];
    this.backups = o.backup
      ? new BackupWorker({
          core: o.core,
          backendOf: (v) => this.backendOf(v),
          driver: o.backup,
          specOf: (v) => this.specOf(v),
          log: o.log,
        })
      : null;
  }

  /** Report in, reconcile, then serve the agent's contract. */
  static async start(o: VolumeAgentOptions): Promise<VolumeAgent> {
    const a = new VolumeAgent(o);
    // Before backends were named, the volume service's host was the bare host name.
    await dropService(o.core, o.host, VOLUME_BINARY);
    await a.reconcile();
    await a.report();
    a.server = await o.bus.serve(volumeAgentContract, o.host, a.handlers());
    a.timer = setInterval(() => {
      a.report().catch((err: unknown) => o.log.warn({ err }, "volume agent: report failed"));
    }, o.core.cfg.volume.reportInterval * 1000);
    a.timer.unref();
    return a;
  }

  /** The backend this agent drives (the first, when it has several). */
  get backend(): VolumeBackend {
    return this.backends[0].backend;
  }

  /** The backend named `name` on this host, or null. */
  named(name: string | null): NamedBackend | null {
    return this.backends.find((b) => b.name === name) ?? null;
  }

  /** The backend a volume is on: its host's `@backend` (the default one for a host without it). */
  backendOf(v: { host: string | null }): VolumeBackend {
    return (this.named(backendNameOf(v.host)) ?? this.backends[0]).backend;
  }

  /** The backend of the volume with this id (the default one when there is no such volume). */
  private async backendOfId(volumeId: string): Promise<VolumeBackend> {
    return this.backendOf((await getVolume(this.o.core, volumeId)) ?? { host: null });
  }

  /** The transports this agent exports with. */
  get transports(): TransportMap {
    return this.o.transports;
  }

  /** Heartbeat of each backend (`host@backend`) with its pool's stats, and the scheduler's (the API runs it). */
  async report(): Promise<void> {
    const { core, host } = this.o;
    const zone = core.cfg.volume.availabilityZone;
    for (const b of this.backends) {
      const stats = { ...(await b.backend.stats()), backend: b.name, volumeBackendName: b.volumeBackendName };
      await heartbeat(core, `${host}@${b.name}`, VOLUME_BINARY, zone, stats);
    }
    await heartbeat(core, host, "cinder-scheduler", zone, null);
  }

  /** Stop serving and reporting; waits for work under way. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.server?.stop();
    this.server = null;
    await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => {});
    return p;
  }

  private handlers(): Handlers<typeof volumeAgentContract> {
    return {
      create_volume: (a, ctx) => this.track(this.createVolume(a.volumeId, a.requestId, ctx)),
      delete_volume: (a) => this.track(this.deleteVolume(a.volumeId)),
      extend_volume: (a) => this.track(this.extendVolume(a.volumeId, a.newSize, a.requestId)),
      create_snapshot: (a) => this.track(this.createSnapshot(a.snapshotId, a.requestId)),
      delete_snapshot: (a) => this.track(this.deleteSnapshot(a.snapshotId)),
      revert_to_snapshot: (a) => this.track(this.revert(a.volumeId, a.snapshotId, a.requestId)),
      upload_image: (a) =>
        this.track(
          uploadVolume(this.o.core, (v) => this.backendOf(v), a).catch(async (err: unknown) => {
            const v = await getVolume(this.o.core, a.volumeId);
            if (v) await this.fail(v, a.requestId, "upload volume to image", err);
          }),
        ),
      create_backup: (a) => this.track(this.needBackups().create(a.backupId, a.requestId)),
      restore_backup: (a) => this.track(this.needBackups().restore(a.backupId, a.volumeId, a.requestId)),
      delete_backup: (a) => this.track(this.needBackups().delete(a.backupId, a.requestId)),
      migrate_volume: (a) =>
        this.track(migrateVolume(this.migrationDeps(), a.volumeId, a.host, a.newTypeId, a.requestId)),
      manage_volume: (a) => this.track(manageVolume(this.manageDeps(), a.volumeId, a.ref, a.requestId)),
      unmanage_volume: (a) => this.track(unmanageVolume(this.manageDeps(), a.volumeId, a.requestId)),
      list_manageable: async (a) => {
        const b = a.backend === null ? this.backends[0] : this.named(a.backend);
        if (!b) throw new Error(`no backend ${a.backend} on this host`);
        return (await b.backend.manageable?.()) ?? [];
      },
      initialize_connection: (a) => this.track(this.exportVolume(a.volumeId, a.readOnly)),
      terminate_connection: async (a) => {
        await this.track(this.unexportVolume(a.volumeId));
        return { ok: true as const };
      },
    };
  }

  private needBackups(): BackupWorker {
    if (!this.backups) throw new Error("this volume agent has no backup driver");
    return this.backups;
  }

  private async specOf(v: VolumeRow): Promise<VolumeSpec> {
    const t = v.volume_type_id ? await getType(this.o.core, v.volume_type_id) : null;
    return { id: v.id, sizeGb: v.size, options: parseMap(t?.extra_specs) };
  }

  private async fail(v: VolumeRow, requestId: string, action: string, err: unknown): Promise<void> {
    this.o.log.warn({ err: errMsg(err), volume: v.id }, `volume agent: ${action} failed`);
    await recordMessage(this.o.core, {
      projectId: v.project_id,
      requestId,
      resourceType: "VOLUME",
      resourceId: v.id,
      eventId: "VOLUME_VOLUME_001_003",
      text: `${action}: ${errMsg(err)}`,
    });
  }

  /** Make a volume as its row says; on failure remove what the backend made and set error. */
  async createVolume(volumeId: string, requestId: string, _ctx?: HandlerContext): Promise<void> {
    const { core } = this.o;
    const v = await getVolume(core, volumeId);
    if (!v || v.status !== "creating") return;
    const backend = this.backendOf(v);
    try {
      const spec = await this.specOf(v);
      let loc: VolumeLocation;
      if (v.snapshot_id) loc = await backend.createFromSnapshot(spec, v.snapshot_id);
      else if (v.source_volid) loc = await backend.clone(spec, v.source_volid);
      else {
        loc = await backend.create(spec);
        if (v.image_id) {
          if (!core.images) throw new Error("no image service to read the image from");
          const info = await core.images.describe(v.image_id);
          if (!info || info.status !== "active") throw new Error(`image ${v.image_id} is not available`);
          const data: Readable = await core.images.open(v.image_id);
          await backend.writeImage(v.id, data, info.diskFormat === "qcow2" ? "qcow2" : "raw");
        }
      }
      const done = await transitionVolume(core, v.id, ["creating"], {
        status: "available",
        location: JSON.stringify(loc),
      });
      // Deleted or reset while it was being made: what was made is not wanted.
      if (!done && !(await getVolume(core, v.id))) await backend.delete(v.id);
    } catch (err) {
      await backend
        .delete(v.id)
        .catch((e: unknown) => this.o.log.warn({ err: errMsg(e) }, "volume agent: rollback"));
      await transitionVolume(core, v.id, ["creating"], { status: "error" });
      await this.fail(v, requestId, "create volume", err);
    }
    await settleGroup(core, v.group_id);
  }

  /** Delete a volume (its snapshots first when cascading), its export, then its row. */
  async deleteVolume(volumeId: string): Promise<void> {
    const { core } = this.o;
    const v = await getVolume(core, volumeId);
    if (!v || v.status !== "deleting") return;
    const backend = this.backendOf(v);
    try {
      for (const s of await snapshotsOf(core, v.id)) {
        await backend.deleteSnapshot(v.id, s.id);
        await removeSnapshot(core, s.id);
      }
      await this.unexportVolume(v.id);
      await backend.delete(v.id);
      await removeVolume(core, v.id);
    } catch (err) {
      await transitionVolume(core, v.id, ["deleting"], { status: "error_deleting" });
      await this.fail(v, "", "delete volume", err);
    }
    await settleGroup(core, v.group_id);
  }

  /** Grow a volume; an attached one's servers are told (volume-extended). */
  async extendVolume(volumeId: string, newSize: number, requestId: string): Promise<void> {
    const { core } = this.o;
    const v = await getVolume(core, volumeId);
    if (!v || v.status !== "extending") return;
    const backend = this.backendOf(v);
    const attachments = (await attachmentsOf(core, v.id)).filter((a) => a.attach_status === "attached");
    try {
      await backend.extend(v.id, newSize);
      await transitionVolume(core, v.id, ["extending"], {
        status: attachments.length > 0 ? "in-use" : "available",
        size: newSize,
      });
      core.computeEvents.send(
        attachments
          .filter((a) => a.instance_uuid)
          .map((a) => ({
            name: "volume-extended" as const,
            server_uuid: a.instance_uuid as string,
            tag: v.id,
            status: "completed" as const,
          })),
      );
    } catch (err) {
      await transitionVolume(core, v.id, ["extending"], { status: "error_extending" });
      await this.fail(v, requestId, "extend volume", err);
    }
  }

  /** Take a snapshot; on failure remove it from the backend and set error. */
  async createSnapshot(snapshotId: string, requestId: string): Promise<void> {
    const { core } = this.o;
    const s = await getSnapshot(core, snapshotId);
    if (!s || s.status !== "creating") return;
    const backend = await this.backendOfId(s.volume_id);
    try {
      await backend.createSnapshot(s.volume_id, s.id);
      await updateSnapshot(core, s.id, { status: "available", progress: "100%" });
    } catch (err) {
      await backend.deleteSnapshot(s.volume_id, s.id).catch(() => {});
      await transitionSnapshot(core, s.id, ["creating"], "error");
      const v = await getVolume(core, s.volume_id);
      if (v) await this.fail(v, requestId, "create snapshot", err);
    }
    await settleGroupSnapshot(core, s.group_snapshot_id);
  }

  /** Delete a snapshot from the backend, then its row. */
  async deleteSnapshot(snapshotId: string): Promise<void> {
    const { core } = this.o;
    const s = await getSnapshot(core, snapshotId);
    if (!s || s.status !== "deleting") return;
    const backend = await this.backendOfId(s.volume_id);
    try {
      await backend.deleteSnapshot(s.volume_id, s.id);
      await removeSnapshot(core, s.id);
    } catch (err) {
      this.o.log.warn({ err: errMsg(err), snapshot: s.id }, "volume agent: delete snapshot failed");
      await transitionSnapshot(core, s.id, ["deleting"], "error_deleting");
    }
    await settleGroupSnapshot(core, s.group_snapshot_id);
  }

  /** Roll a volume back to a snapshot. */
  async revert(volumeId: string, snapshotId: string, requestId: string): Promise<void> {
    const { core } = this.o;
    const v = await getVolume(core, volumeId);
    if (!v || v.status !== "reverting") return;
    const backend = this.backendOf(v);
    try {
      if (!backend.revertToSnapshot) throw new Error("the backend cannot revert to a snapshot");
      await backend.revertToSnapshot(volumeId, snapshotId);
      await transitionVolume(core, v.id, ["reverting"], { status: "available" });
    } catch (err) {
      await transitionVolume(core, v.id, ["reverting"], { status: "error" });
      await this.fail(v, requestId, "revert volume", err);
    }
    await transitionSnapshot(core, snapshotId, ["restoring"], "available");
  }

  /** What manage and unmanage need of this agent. */
  private manageDeps() {
    return {
      core: this.o.core,
      backendOf: (v: { host: string | null }) => this.backendOf(v),
      specOf: (v: VolumeRow) => this.specOf(v),
      fail: (v: VolumeRow, requestId: string, action: string, err: unknown) =>
        this.fail(v, requestId, action, err),
    };
  }

  /** What a migration needs of this agent. */
  private migrationDeps() {
    return {
      core: this.o.core,
      host: this.o.host,
      backendOf: (v: { host: string | null }) => this.backendOf(v),
      named: (name: string | null) => this.named(name),
      specOf: (v: VolumeRow) => this.specOf(v),
      fail: (v: VolumeRow, requestId: string, err: unknown) => this.fail(v, requestId, "migrate volume", err),
      log: this.o.log,
    };
  }

  /** Export a volume with the transport its format needs, record it, and return its connection info. */
  async exportVolume(volumeId: string, readOnly: boolean) {
    const { core, transports, host } = this.o;
    const loc = await (await this.backendOfId(volumeId)).locate(volumeId);
    if (!loc) throw new Error(`volume ${volumeId} is not on this backend`);
    const protocol = protocolFor(loc);
    const transport = transports.get(protocol);
    if (!transport) throw new Error(`no ${protocol} transport on this host`);
    const rec = await transport.export(volumeId, loc, { readOnly });
    await saveExport(core, host, protocol, rec);
    return transport.connectionInfo(rec);
  }

  /** Stop exporting a volume (every transport: idempotent) and forget the record. */
  async unexportVolume(volumeId: string): Promise<void> {
    for (const t of this.o.transports.values()) await t.unexport(volumeId);
    await dropExport(this.o.core, volumeId);
  }

  /**
   * After a crash or restart: finish or fail what was under way (creating -> error with the backend's volume
   * removed, deleting -> deleted, extending -> error_extending), make each transport export exactly the recorded
   * exports of volumes that still exist, and remove backend volumes no row knows.
   */
  async reconcile(): Promise<void> {
    const { core, transports, host, log } = this.o;
    const all = await core.db.selectFrom("volume_volume").select(["id", "host"]).execute();
    const ours = (await core.db.selectFrom("volume_volume").selectAll().execute()).filter(
      (v) => typeof v.host === "string" && (v.host as string).split("@", 1)[0] === host,
    ) as VolumeRow[];
    for (const v of ours) {
      const backend = this.backendOf(v);
      if (v.status === "creating") {
        await backend.delete(v.id).catch(() => {});
        await transitionVolume(core, v.id, ["creating"], { status: "error" });
        await this.fail(v, "", "create volume", new Error("the volume agent restarted while creating it"));
        await settleGroup(core, v.group_id);
      } else if (v.status === "deleting") await this.deleteVolume(v.id);
      else if (v.status === "extending")
        await transitionVolume(core, v.id, ["extending"], { status: "error_extending" });
      else if (v.status === "managing")
        await transitionVolume(core, v.id, ["managing"], { status: "error_managing" });
      else if (v.status === "unmanaging") {
        // The backend let go of it already (the row's removal was cut short), or it is still ours: retry.
        if (await backend.locate(v.id)) await unmanageVolume(this.manageDeps(), v.id, "");
        else await removeVolume(core, v.id);
      }
      for (const s of await snapshotsOf(core, v.id)) {
        if (s.status === "creating") {
          await backend.deleteSnapshot(v.id, s.id).catch(() => {});
          await transitionSnapshot(core, s.id, ["creating"], "error");
          await settleGroupSnapshot(core, s.group_snapshot_id);
        } else if (s.status === "deleting") await this.deleteSnapshot(s.id);
      }
    }
    await reconcileMigrations(this.migrationDeps(), ours);
    await this.backups?.reconcile(host);
    // Exports: restore those of live volumes, forget the others.
    const live = new Set(all.map((v) => v.id as string));
    const byProtocol = new Map<string, ExportRecord[]>();
    for (const { protocol, record } of await exportsOfHost(core, host)) {
      if (!live.has(record.volumeId)) {
        await dropExport(core, record.volumeId);
        continue;
      }
      byProtocol.set(protocol, [...(byProtocol.get(protocol) ?? []), record]);
    }
    for (const [protocol, t] of transports) {
      const records = byProtocol.get(protocol) ?? [];
      await t.restore(records);
      const wanted = new Set(records.map((r) => r.volumeId));
      for (const id of await t.exported()) if (!wanted.has(id)) await t.unexport(id);
    }
    // Backend volumes that no row knows were left by a crash between the backend's work and the row's removal;
    // a copy on a backend of this host the row is not on, by a migration that did not finish.
    const mine = new Map(ours.map((v) => [v.id, v]));
    for (const b of this.backends)
      for (const id of await b.backend.list()) {
        const v = mine.get(id);
        const stray = v && this.backends.length > 1 && this.backendOf(v) !== b.backend;
        if (live.has(id) && !stray) continue;
        // Only the ids Stratus gives volumes: other names are an admin's files, to manage.
        if (!live.has(id) && !UUID.test(id)) continue;
        log.info({ volume: id, backend: b.name }, "volume agent: removing a backend volume no row knows");
        await b.backend.delete(id).catch(() => {});
      }
  }
}
