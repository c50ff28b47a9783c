import { randomUUID } from "node:crypto";
import type { IdentityCore } from "../core.js";
import type { TokenPayload } from "../tokens/index.js";

/** What a revocation event matches; every set field must match the token. */
export interface RevocationEvent {
  user_id?: string | null;
  project_id?: string | null;
  domain_id?: string | null;
  role_id?: string | null;
  audit_id?: string | null;
  audit_chain_id?: string | null;
  app_cred_id?: string | null;
  trust_id?: string | null;
  /** Tokens issued at or before this instant (ms) are revoked. */
  issued_before: number;
}

/** An event as stored: its id, order and time of recording. */
type StoredEvent = RevocationEvent & { id: string; seq: number; revoked_at: number };

/** The facts about a token that revocation events are matched against. */
export interface TokenFacts {
  payload: TokenPayload;
  userDomainId: string;
  projectDomainId: string | null;
}

/**
 * How far back (in seq units, about microseconds) every poll and refresh looks: an event committed late by another
 * process can carry a seq below one already seen, so the high-water mark is a window rather than a single number.
 * It is shorter than the pruning age (token lifetime + 60 s), so no pruned event is ever inside it.
 */
const LATE_WINDOW = 60_000_000;
const PRUNE_EVERY_MS = 600_000;

/** Revocation events held in memory, persisted in the DB, and kept in step with other processes (bus + poll). */
export class RevocationList {
  private events: StoredEvent[] = [];
  private known = new Set<string>();
  private lastSeq = 0;
  /** Latest issued_before of any event, and latest issue time handed out: together a logical clock, so that
   * within one process a token issued after an event is never caught by it (even in the same millisecond)
   * and an event always catches every token issued before it. */
  private maxIssuedBefore = 0;
  private maxIssuedAt = 0;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private lastPrune = Date.now();
  /** Told after this process recorded an event (to fan it out to the other processes). */
  onAdded: ((seq: number) => void) | null = null;

  constructor(private readonly core: IdentityCore) {}

  /** Load events this process has not seen yet; serialised, and a call during a load runs one more load after it. */
  refresh(): Promise<void> {
    if (!this.running) {
      this.running = this.load().finally(() => (this.running = null));
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.refresh();
      });
    return this.queued;
  }

  private async load(): Promise<void> {
    const rows = await this.core.db
      .selectFrom("identity_revocation_event")
      .selectAll()
      .where("seq", ">", this.floor())
      .orderBy("seq")
      .execute();
    let fresh = 0;
    for (const r of rows) {
      const e = {
        ...r,
        seq: Number(r.seq),
        issued_before: Number(r.issued_before),
        revoked_at: Number(r.revoked_at),
      };
      if (this.remember(e)) fresh++;
    }
    if (fresh) this.core.changed();
  }

  private floor(): number {
    return Math.max(0, this.lastSeq - LATE_WINDOW);
  }

  /** Keep an event in memory unless already known; whether it was new. */
  private remember(e: StoredEvent): boolean {
    if (this.known.has(e.id)) return false;
    this.known.add(e.id);
    this.events.push(e);
    this.maxIssuedBefore = Math.max(this.maxIssuedBefore, e.issued_before);
    this.lastSeq = Math.max(this.lastSeq, e.seq);
    return true;
  }

  /**
   * The cheap check behind the poll: one aggregate row (how many events, and the highest seq, above the window's
   * floor) compared with what this process holds; a difference loads the new events.
   */
  async poll(): Promise<void> {
    const floor = this.floor();
    const row = await this.core.db
      .selectFrom("identity_revocation_event")
      .select((eb) => [eb.fn.countAll().as("n"), eb.fn.max("seq").as("top")])
      .where("seq", ">", floor)
      .executeTakeFirst();
    const n = Number(row?.n ?? 0);
    const top = Number(row?.top ?? 0);
    let mine = 0;
    for (const e of this.events) if (e.seq > floor) mine++;
    if (n !== mine || (n > 0 && top > this.lastSeq)) await this.refresh();
  }

  /** Poll every `intervalMs` so a lost bus message delays another process's revocation by at most that long. */
  startPolling(intervalMs: number): void {
    this.stopPolling();
    this.timer = setInterval(() => {
      if (this.polling) return; // a slow database: never more than one poll at a time
      this.polling = true;
      this.poll()
        .then(() => this.maybePrune())
        .catch((err: unknown) => this.core.log.warn({ err }, "identity: revocation poll failed"))
        .finally(() => (this.polling = false));
    }, intervalMs);
    this.timer.unref();
  }

  /** Prune every ten minutes, so neither the table nor the list grows in a long-running process. */
  private async maybePrune(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    await this.prune(this.core.cfg.identity.tokenExpiration * 1000);
  }

  /** Stop the poll (on shutdown). */
  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Persist and apply a new event; caches of validated tokens are cleared, other processes are told. */
  async add(ev: Omit<RevocationEvent, "issued_before"> & { issued_before?: number }): Promise<void> {
    const now = Date.now();
    const seq = Math.max(this.lastSeq + 1, now * 1000 + Math.floor(Math.random() * 1000));
    const row = {
      id: randomUUID(),
      seq,
      user_id: ev.user_id ?? null,
      project_id: ev.project_id ?? null,
      domain_id: ev.domain_id ?? null,
      role_id: ev.role_id ?? null,
      audit_id: ev.audit_id ?? null,
      audit_chain_id: ev.audit_chain_id ?? null,
      app_cred_id: ev.app_cred_id ?? null,
      trust_id: ev.trust_id ?? null,
      issued_before: ev.issued_before ?? Math.max(now, this.maxIssuedAt),
      revoked_at: now,
    };
    await this.core.db.insertInto("identity_revocation_event").values(row).execute();
    this.remember(row);
    this.core.changed();
    this.onAdded?.(seq);
  }

  /** The issue time (ms) for a new token: now, but strictly after every revocation event seen so far. */
  issueTime(now = Date.now()): number {
    const t = Math.max(now, this.maxIssuedBefore + 1);
    this.maxIssuedAt = Math.max(this.maxIssuedAt, t);
    return t;
  }

  /** Whether any event revokes this token. */
  isRevoked(t: TokenFacts): boolean {
    const p = t.payload;
    const scopeProject = p.scope.kind === "project" ? p.scope.id : null;
    const scopeDomain = p.scope.kind === "domain" ? p.scope.id : null;
    for (const e of this.events) {
      if (p.issuedAt > e.issued_before) continue;
      if (e.user_id && e.user_id !== p.userId) continue;
      if (e.project_id && e.project_id !== scopeProject) continue;
      if (
        e.domain_id &&
        e.domain_id !== t.userDomainId &&
        e.domain_id !== t.projectDomainId &&
        e.domain_id !== scopeDomain
      )
        continue;
      if (e.audit_id && e.audit_id !== p.auditIds[0]) continue;
      if (e.audit_chain_id && e.audit_chain_id !== p.auditIds[p.auditIds.length - 1]) continue;
      if (e.app_cred_id && e.app_cred_id !== p.appCredId) continue;
      if (e.trust_id && e.trust_id !== p.trustId) continue;
      if (e.role_id) continue; // role events are enforced by recomputing roles at validation
      return true;
    }
    return false;
  }

  /** Drop events older than the longest token lifetime. */
  async prune(maxTokenLifetimeMs: number): Promise<void> {
    const cutoff = Date.now() - maxTokenLifetimeMs - 60_000;
    await this.core.db.deleteFrom("identity_revocation_event").where("revoked_at", "<", cutoff).execute();
    this.events = this.events.filter((e) => e.revoked_at >= cutoff);
    this.known = new Set(this.events.map((e) => e.id));
  }

  /** Events for GET /v3/OS-REVOKE/events. */
  list(): ReadonlyArray<RevocationEvent> {
    return this.events;
  }
}
