import type { Logger } from "pino";
import type { Bus } from "../shared/bus/index.js";
import type { Config } from "../shared/config.js";
import { migrate, type Database } from "../shared/db/index.js";
import type { ServiceApi } from "../shared/http/service.js";
import { VolumeAgent, type TransportMap } from "./agent/agent.js";
import { volumeApiRoutes } from "./api/index.js";
import { volumeMicroversions } from "./api/microversions.js";
import { backupDriverName, createBackupDriver } from "./backup/registry.js";
import type { BackupDriver } from "./backup/types.js";
import { AgentCaster, VolumeCore } from "./core.js";
import { volumeDriverFor, wipeVolumeDriver } from "./drivers/configured.js";
import type { NamedBackend, VolumeBackend } from "./drivers/types.js";
import { formatVolumeError } from "./errors.js";
import { volumeMigrations } from "./migrations/index.js";
import { ensureDefaultType } from "./store/types.js";

export { volumePolicies } from "./api/policy.js";

/** A backend with its transports, as the volume agent runs with them. */
export interface VolumeDriver {
  backend: VolumeBackend;
  /** Several named backends (Cinder's enabled_backends); default: `backend` alone, named as its driver. */
  backends?: NamedBackend[];
  transports: TransportMap;
  /** Where backups go (default: the configured backup driver, backup/registry.ts). */
  backup?: BackupDriver;
}

/**
 * The Block Storage service (Cinder v3 API): volumes, snapshots, attachments, types, QoS specs, quotas, messages.
 * The API records requests and casts the slow work to the volume agent of the host the scheduler picked
 * (scheduler.ts); each agent drives its host's backend and transports (agent/).
 */
export class VolumeService {
  private agent: VolumeAgent | null = null;
  private driver: VolumeDriver | null = null;

  private constructor(readonly core: VolumeCore) {}

  /** Migrate the volume tables and create the default volume type. */
  static async start(db: Database, cfg: Config, log: Logger): Promise<VolumeService> {
    await migrate(db, "volume", volumeMigrations);
    const core = new VolumeCore(db.kysely, db.engine, cfg, log, new AgentCaster(log));
    await ensureDefaultType(core);
    return new VolumeService(core);
  }

  /**
   * Send work over `bus` and run this host's volume agent with `driver` (default: the configured backend and its
   * transports, drivers/configured.ts); `driver: null` runs no agent here (`stratus agent volume` runs it apart).
   */
  async connect(bus: Bus, host: string, driver?: VolumeDriver | null): Promise<VolumeAgent | null> {
    this.core.agents.connect(bus);
    if (driver === null) return null;
    const d = driver ?? volumeDriverFor(this.core.cfg);
    this.driver = d;
    this.agent = await VolumeAgent.start({
      core: this.core,
      bus,
      host,
      backend: d.backend,
      backends: d.backends,
      transports: d.transports,
      backup: ("backup" in d ? d.backup : undefined) ?? this.backupDriver(),
      log: this.core.log,
    });
    return this.agent;
  }

  /** The configured backup driver (swift when the object service runs in this cloud, else posix). */
  private backupDriver(): BackupDriver {
    const deps = { cfg: this.core.cfg, swift: this.core.swift };
    return createBackupDriver(backupDriverName(deps), deps);
  }

  /** The in-process agent, once connected. */
  get localAgent(): VolumeAgent | null {
    return this.agent;
  }

  /**
   * Stop the in-process agent (waits for its work under way), then its transports' daemons and their run
   * directory (drivers/configured.ts): a stopped cloud leaves none behind. Only a crash leaves them serving, for the
   * guests, and the next agent adopts them.
   */
  async close(): Promise<void> {
    const driver = this.driver;
    this.driver = null;
    try {
      await this.agent?.close();
    } finally {
      this.agent = null;
      if (driver) await wipeVolumeDriver(this.core.cfg, driver, this.core.log);
      await this.core.computeEvents.flush();
    }
  }

  /** The HTTP API mounted at /volume. */
  api(): ServiceApi {
    return {
      name: "volume",
      serviceType: "block-storage",
      prefix: "/volume",
      routes: volumeApiRoutes(this.core),
      formatError: formatVolumeError,
      microversions: volumeMicroversions,
      trailingSlashNotFound: true,
    };
  }
}
