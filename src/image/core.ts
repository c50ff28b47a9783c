import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import type { Engine } from "../shared/db/index.js";
import type { ImageStore } from "./drivers/store.js";

/** Shared state of the image service used by its store modules and routes. */
export class ImageCore {
  constructor(
    /** Untyped handle; modules narrow it to their own tables. */
    readonly db: Kysely<any>,
    readonly engine: Engine,
    readonly cfg: Config,
    /** Store drivers by id; `defaultStore` receives uploads. */
    readonly stores: Map<string, ImageStore>,
    readonly defaultStore: ImageStore,
    /** Where glance-direct staging data lives (DATA_DIR/image-staging). */
    readonly stagingDir: string,
    readonly log: Logger,
  ) {}

  /** The same core on another handle (a transaction): store functions given it run inside that transaction. */
  withDb(db: Kysely<any>): ImageCore {
    const c = new ImageCore(
      db,
      this.engine,
      this.cfg,
      this.stores,
      this.defaultStore,
      this.stagingDir,
      this.log,
    );
    c.newId = () => this.newId();
    return c;
  }

  /** A new image id: a dashed UUID, as Glance uses. */
  newId(): string {
    return randomUUID();
  }
}
