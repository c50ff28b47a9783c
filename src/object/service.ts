import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import { migrate, type Database } from "../shared/db/index.js";
import type { ServiceApi } from "../shared/http/service.js";
import { objectRoutes } from "./api/index.js";
import { ObjectCore } from "./core.js";
import { ObjectData } from "./data.js";
import { openObjectDriver } from "./drivers/index.js";
import { formatObjectError } from "./errors.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { objectMigrations } from "./migrations/index.js";
import { startReaper } from "./reaper.js";
import { startSyncDaemon } from "./sync/daemon.js";
import { formatS3Error } from "./s3/errors.js";
import { S3Gateway, s3Routes } from "./s3/routes.js";
import type { ObjectTables } from "./store/tables.js";
import type { Kysely } from "kysely";

export { objectPolicies } from "./api/policy.js";

/** The Object Storage service (Swift v1): names, metadata and counts in the DB, data in a store driver. */
export class ObjectService {
  /** The S3 API's link to the Swift API and identity (connected once the listener is built). */
  readonly s3: S3Gateway;

  /** This cloud's own listener ("http://127.0.0.1:5000"), for container sync realm clusters given as paths. */
  private self = "";
  private readonly syncDaemon: { stop(): Promise<void> };

  private constructor(
    readonly core: ObjectCore,
    private readonly reaper: { stop(): Promise<void> },
  ) {
    this.syncDaemon = startSyncDaemon(core, core.cfg.object.containerSync.interval, () => this.self);
    this.s3 = new S3Gateway({
      region: core.cfg.region,
      domain: core.cfg.object.s3Domain,
      minPartSize: core.cfg.object.s3MinPartSize,
    });
  }

  /** Migrate the object tables, open the store driver, start the reaper and the container sync daemon. */
  static async start(db: Database, cfg: Config, log: Logger): Promise<ObjectService> {
    await migrate(db, "object", objectMigrations);
    const driver = openObjectDriver(cfg.object.driver, { dataDir: cfg.dataDir });
    const limits = { ...DEFAULT_LIMITS, max_file_size: cfg.object.maxFileSize };
    const kysely = db.kysely as Kysely<ObjectTables>;
    const data = new ObjectData(driver, kysely);
    const core = new ObjectCore(kysely, db.engine, cfg, data, limits, log, () => db.durable());
    return new ObjectService(core, startReaper(core, cfg.object.reapInterval));
  }

  /** Tell the service where this cloud listens (the container sync daemon's own-cluster base URL). */
  listening(baseUrl: string): void {
    this.self = baseUrl.replace(/\/$/, "");
  }

  /** Stop the reaper and the container sync daemon (waits for passes in progress). */
  async close(): Promise<void> {
    await Promise.all([this.reaper.stop(), this.syncDaemon.stop()]);
  }

  /** The HTTP API mounted at /object-store. */
  api(): ServiceApi {
    return {
      name: "object",
      serviceType: "object-store",
      prefix: "/object-store",
      routes: objectRoutes(this.core),
      formatError: formatObjectError,
      requestIdHeaders: ["x-trans-id"],
      formatRequestId: transId,
    };
  }
}

/** The S3 API (as Swift's s3api) on the same accounts, path-style at /s3 (and on its own port with --listen s3=PORT). */
export function s3Api(svc: ObjectService): ServiceApi {
  return {
    name: "s3",
    serviceType: "s3",
    prefix: "/s3",
    routes: s3Routes(svc.s3),
    formatError: formatS3Error,
    requestIdHeaders: ["x-amz-request-id"],
  };
}

/** Swift's X-Trans-Id form of a request id: "tx" + 21 hex digits + "-" + the time in 10 hex digits. */
export function transId(id: string): string {
  const hex = id
    .replace(/[^0-9a-f]/g, "")
    .padEnd(21, "0")
    .slice(0, 21);
  return `tx${hex}-${Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(10, "0")}`;
}
