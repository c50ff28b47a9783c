import { randomUUID } from "node:crypto";
import type { InsertQueryBuilder, Kysely } from "kysely";
import type { Logger } from "pino";
import type { Engine } from "../shared/db/index.js";
import { GenerationConflict } from "./errors.js";

/** A query executor: the database or a transaction on it. */
export type Db = Kysely<any>;

/** A name <-> integer id table held in memory (resource classes, traits), reloaded from the DB on a miss. */
export class NameCache {
  private byName = new Map<string, number>();
  private byId = new Map<number, string>();
  private loaded = false;

  constructor(private readonly table: string) {}

  private async load(db: Db): Promise<void> {
    const rows = await db.selectFrom(this.table).select(["id", "name"]).execute();
    this.byName = new Map(rows.map((r) => [r.name as string, Number(r.id)]));
    this.byId = new Map(rows.map((r) => [Number(r.id), r.name as string]));
    this.loaded = true;
  }

  /** The id of a name, or undefined when no such row exists. */
  async id(db: Db, name: string): Promise<number | undefined> {
    if (!this.loaded || !this.byName.has(name)) await this.load(db);
    return this.byName.get(name);
  }

  /** Ids of several names; the names that do not exist are returned apart. */
  async ids(db: Db, names: Iterable<string>): Promise<{ ids: Map<string, number>; missing: string[] }> {
    const list = [...names];
    if (!this.loaded || list.some((n) => !this.byName.has(n))) await this.load(db);
    const ids = new Map<string, number>();
    const missing: string[] = [];
    for (const n of list) {
      const id = this.byName.get(n);
      if (id === undefined) missing.push(n);
      else ids.set(n, id);
    }
    return { ids, missing };
  }

  /** The name of an id (loaded on a miss). */
  async name(db: Db, id: number): Promise<string> {
    if (!this.byId.has(id)) await this.load(db);
    return this.byId.get(id) ?? `UNKNOWN_${id}`;
  }

  /** Make sure these ids are known (reloading once if one is not), so that nameSync can render them. */
  async know(db: Db, ids: Iterable<number>): Promise<void> {
    for (const id of ids)
      if (!this.byId.has(id)) {
        await this.load(db);
        return;
      }
  }

  /** Name of an id already known to the cache (callers load ids first). */
  nameSync(id: number): string {
    return this.byId.get(id) ?? `UNKNOWN_${id}`;
  }

  /** Forget everything (after a create, rename or delete). */
  invalidate(): void {
    this.loaded = false;
  }
}

/** How many times an allocation write is retried when a provider generation moved underneath it (as Placement). */
const ALLOCATION_CONFLICT_RETRIES = 10;

/** Shared state of the placement service. */
export class PlacementCore {
  readonly resourceClasses = new NameCache("placement_resource_class");
  readonly traits = new NameCache("placement_trait");
  /** Project and user recorded for allocations written before 1.8 (Placement's incomplete_consumer_*_id). */
  readonly incompleteConsumerProject = "00000000-0000-0000-0000-000000000000";
  readonly incompleteConsumerUser = "00000000-0000-0000-0000-000000000000";

  constructor(
    readonly db: Db,
    readonly engine: Engine,
    readonly log: Logger,
  ) {}

  newUuid(): string {
    return randomUUID();
  }

  /** Insert one row and return its auto-incremented id on every engine. */
  async insertId(q: InsertQueryBuilder<any, any, any>): Promise<number> {
    if (this.engine === "mysql") {
      const r = await q.executeTakeFirstOrThrow();
      return Number(r.insertId);
    }
    const r = await (q.returning("id" as any) as any).executeTakeFirstOrThrow();
    return Number((r as { id: number }).id);
  }

  /** Run fn in one transaction. */
  tx<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  /**
   * Run an allocation write in a transaction, retrying it from scratch when a provider generation changed under
   * it (someone else's write to the same provider; not the caller's fault). A consumer generation conflict is not
   * retried: the caller's view is stale.
   */
  async allocationTx<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tx(fn);
      } catch (e) {
        if (e instanceof GenerationConflict && e.what === "provider" && attempt < ALLOCATION_CONFLICT_RETRIES)
          continue;
        throw e;
      }
    }
  }
}
