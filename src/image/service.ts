import { join } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import { migrate, type Database } from "../shared/db/index.js";
import type { ServiceApi } from "../shared/http/service.js";
import { imageRoutes } from "./api/index.js";
import { ImageCore } from "./core.js";
import { FileStore } from "./drivers/file.js";
import type { ImageStore } from "./drivers/store.js";
import { formatImageError } from "./errors.js";
import { imageMigrations } from "./migrations/index.js";

/** The Image service (Glance v2): metadata in the DB, bytes in store drivers. */
export class ImageService {
  private constructor(readonly core: ImageCore) {}

  /** Migrate the image tables and open the stores. */
  static async start(db: Database, cfg: Config, log: Logger): Promise<ImageService> {
    await migrate(db, "image", imageMigrations);
    const file = new FileStore(join(cfg.dataDir, "images"));
    const stores = new Map<string, ImageStore>([[file.id, file]]);
    return new ImageService(new ImageCore(db.kysely, db.engine, cfg, stores, file, join(cfg.dataDir, "image-staging"), log));
  }

  /** The HTTP API mounted at /image. */
  api(): ServiceApi {
    return { name: "image", serviceType: "image", prefix: "/image", routes: imageRoutes(this), formatError: formatImageError };
  }
}
