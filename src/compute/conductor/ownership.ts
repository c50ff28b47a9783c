// Conductor ownership of in-flight work. Each conductor process registers a row with a heartbeat; while it drives
// a server's build or move, the server's task_owner names it. Claims are compare-and-set on the instance row, so
// a server is driven by one conductor at a time (a redelivered or duplicated cast finds it taken), and the work of
// a conductor whose heartbeat stopped can be taken over by another one (see recovery.ts).
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { nowIso } from "../../shared/db/index.js";
import { casUpdate, type Expect, type InstancePatch } from "../instances/store.js";

/** One conductor process: its id and how long its heartbeat may be silent before its work counts as orphaned. */
export class ConductorOwner {
  constructor(
    private readonly db: Kysely<any>,
    /** This process's compute_conductor id (task_owner of what it drives). */
    readonly id: string,
    /** Silence after which a conductor counts as dead (ms). */
    readonly timeoutMs: number,
  ) {}

  /** Register a new conductor process on `host`. */
  static async register(db: Kysely<any>, host: string, timeoutMs: number): Promise<ConductorOwner> {
    const id = randomUUID();
    await db
      .insertInto("compute_conductor")
      .values({ id, host, heartbeat_ms: Date.now(), created_at: nowIso() })
      .execute();
    return new ConductorOwner(db, id, timeoutMs);
  }

  /** Record that this conductor is alive (re-registering if its row was removed). */
  async heartbeat(): Promise<void> {
    const r = await this.db
      .updateTable("compute_conductor")
      .set({ heartbeat_ms: Date.now() })
      .where("id", "=", this.id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0)
      await this.db
        .insertInto("compute_conductor")
        .values({ id: this.id, host: "unknown", heartbeat_ms: Date.now(), created_at: nowIso() })
        .execute();
  }

  /** Heartbeats older than this (ms since the epoch) are dead conductors'. */
  deadBefore(now = Date.now()): number {
    return now - this.timeoutMs;
  }

  /**
   * Take a server for a workflow: true when the row matched `expect` and had no owner or a dead one (a second
   * claim while a live conductor drives it is refused).
   */
  claim(uuid: string, expect: Expect, patch: InstancePatch = {}): Promise<boolean> {
    return casUpdate(
      this.db,
      uuid,
      { ...expect, owner: { deadBefore: this.deadBefore() } },
      { ...patch, task_owner: this.id },
    );
  }

  /** Whether this conductor still drives the server (a stalled one may have been replaced). */
  async owns(uuid: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("compute_instance")
      .select("task_owner")
      .where("uuid", "=", uuid)
      .executeTakeFirst();
    return row?.task_owner === this.id;
  }

  /** Let go of a server (no-op when another conductor has taken it). */
  async release(uuid: string): Promise<void> {
    await this.db
      .updateTable("compute_instance")
      .set({ task_owner: null })
      .where("uuid", "=", uuid)
      .where("task_owner", "=", this.id)
      .execute();
  }

  /** Run `fn` owning the server; false (fn not run) when it could not be claimed. Released afterwards. */
  async drive(uuid: string, expect: Expect, fn: () => Promise<void>): Promise<boolean> {
    if (!(await this.claim(uuid, expect))) return false;
    try {
      await fn();
    } finally {
      await this.release(uuid);
    }
    return true;
  }

  /** Forget this conductor (a clean stop): what it still owns is orphaned at once. */
  async unregister(): Promise<void> {
    await this.db.deleteFrom("compute_conductor").where("id", "=", this.id).execute();
  }

  /** Remove rows of conductors silent for ten times the timeout (they own nothing any more worth keeping). */
  async prune(): Promise<void> {
    await this.db
      .deleteFrom("compute_conductor")
      .where("heartbeat_ms", "<", Date.now() - 10 * this.timeoutMs)
      .execute();
  }
}
