import { join } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import { migrate, type Database } from "../shared/db/index.js";
import type { ServiceApi } from "../shared/http/service.js";
import { imageRoutes } from "./api/index.js";
import { ImageCore } from "./core.js";
import type { StreamClient } from "../shared/client/stream-client.js";
import { FileStore } from "./drivers/file.js";
import { SwiftImageStore } from "./drivers/swift.js";
import type { ImageStore } from "./drivers/store.js";
import { formatImageError } from "./errors.js";
import { imageMigrations } from "./migrations/index.js";
import { removePartialFiles } from "./data.js";
import { importsSettled, recoverInterrupted } from "./import.js";
import { imagesInStatus } from "./store/images.js";
import { failUnfinishedTasks } from "./store/tasks.js";
import { seedMetadefs } from "./metadefs-seed/index.js";

/** The Image service (Glance v2): metadata in the DB, bytes in store drivers. */
export class ImageService {
  private constructor(
    readonly core: ImageCore,
    private readonly swift: SwiftImageStore,
  ) {}

  /** Give the swift store its object storage client (the service project's account), once identity is up. */
  connectObjectStore(client: StreamClient, serviceProjectId: string): void {
    this.swift.connect(client, serviceProjectId);
  }

  /** Migrate the image tables and open the stores. */
  static async start(db: Database, cfg: Config, log: Logger): Promise<ImageService> {
    await migrate(db, "image", imageMigrations);
    await seedMetadefs(db.kysely, log);
    const file = new FileStore(join(cfg.dataDir, "images"));
    const swift = new SwiftImageStore(cfg.image.swift);
    // The file store always reads what it holds; swift is enabled (and receives uploads) when configured.
    const stores = new Map<string, ImageStore>([[file.id, file]]);
    if (cfg.image.store === "swift") stores.set(swift.id, swift);
    const defaultStore = cfg.image.store === "swift" ? swift : file;
    const stagingDir = join(cfg.dataDir, "image-staging");
    const svc = new ImageService(
      new ImageCore(db.kysely, db.engine, cfg, stores, defaultStore, stagingDir, log),
      swift,
    );
    await svc.recover();
    return svc;
  }

  /**
   * Nothing survives a restart mid-transfer: remove partial files, put images that were saving or importing back
   * to queued (as Glance does), and fail their tasks.
   */
  private async recover(): Promise<void> {
    const core = this.core;
    await removePartialFiles(join(core.cfg.dataDir, "images"));
    await removePartialFiles(core.stagingDir);
    await recoverInterrupted(core, await imagesInStatus(core, ["saving", "importing", "uploading"]));
    await failUnfinishedTasks(core, "The import was interrupted by a restart of the image service.");
  }

  /** Resolves when background imports have finished. */
  settled(): Promise<void> {
    return importsSettled(this.core);
  }

  /** The HTTP API mounted at /image. */
  api(): ServiceApi {
    return {
      name: "image",
      serviceType: "image",
      prefix: "/image",
      routes: imageRoutes(this),
      formatError: formatImageError,
    };
  }
}
