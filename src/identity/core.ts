import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import type { Engine } from "../shared/db/index.js";
import type { PasswordHasher } from "./passwords.js";
import type { IdentityDb } from "./tables.js";

/** Shared state of the identity service that every store module works with. */
export class IdentityCore {
  /** Bumped on every identity write; caches keyed on it drop stale entries. */
  generation = 0;
  private readonly listeners: Array<() => void> = [];
  private readonly memos = new Map<string, unknown>();

  constructor(
    readonly db: IdentityDb,
    readonly engine: Engine,
    readonly cfg: Config,
    readonly hasher: PasswordHasher,
    readonly log: Logger,
  ) {}

  /** Record that identity data changed: token validations and catalogs must be recomputed. */
  changed(): void {
    this.generation++;
    this.memos.clear();
    for (const l of this.listeners) l();
  }

  /** Be told whenever identity data changes (e.g. to clear a token-validation cache). */
  onChange(l: () => void): void {
    this.listeners.push(l);
  }

  /** Read-through cache for hot lookups, valid until the next identity write (results must not be mutated). */
  async memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const gen = this.generation;
    const v = await load();
    if (gen === this.generation) {
      if (this.memos.size > 100_000) this.memos.clear();
      this.memos.set(key, v);
    }
    return v;
  }

  /** A new resource id: 32 hex chars like Keystone's. */
  newId(): string {
    return randomUUID().replace(/-/g, "");
  }
}

/** The id of the default domain, as in Keystone. */
export const DEFAULT_DOMAIN_ID = "default";
