import type { Kysely } from "kysely";
import type { Logger } from "pino";

/** Shared state of the compute service used by its routes. */
export class ComputeCore {
  constructor(
    /** Untyped handle; modules narrow it to their own tables. */
    readonly db: Kysely<any>,
    readonly log: Logger,
  ) {}
}
