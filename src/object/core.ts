import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import type { Engine } from "../shared/db/index.js";
import type { ObjectDataStore } from "./drivers/store.js";
import type { ObjectLimits } from "./limits.js";
import type { ObjectTables } from "./store/tables.js";

/** Shared state of the object service: its tables, its data store and its limits. */
export class ObjectCore {
  constructor(
    readonly db: Kysely<ObjectTables>,
    readonly engine: Engine,
    readonly cfg: Config,
    readonly data: ObjectDataStore,
    readonly limits: ObjectLimits,
    readonly log: Logger,
    /** Resolves once every commit made before the call is on disk (Database.durable). */
    private readonly syncCommits: () => Promise<void>,
  ) {}

  /** Resolves once every commit made before the call is on disk. */
  durable(): Promise<void> {
    return this.syncCommits();
  }
}
