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

/** The facts about a token that revocation events are matched against. */
export interface TokenFacts {
  payload: TokenPayload;
  userDomainId: string;
  projectDomainId: string | null;
}

/** Revocation events held in memory, persisted in the DB, and refreshed from it for split deployments. */
export class RevocationList {
  private events: Array<RevocationEvent & { seq: number }> = [];
  private lastSeq = 0;
  private lastRefresh = 0;
  /** Latest issued_before of any event, and latest issue time handed out: together a logical clock, so that
   * within one process a token issued after an event is never caught by it (even in the same millisecond)
   * and an event always catches every token issued before it. */
  private maxIssuedBefore = 0;
  private maxIssuedAt = 0;

  constructor(private readonly core: IdentityCore) {}

  /** Load events newer than the token lifetime (done at start and periodically). */
  async refresh(): Promise<void> {
    const rows = await this.core.db
      .selectFrom("identity_revocation_event")
      .selectAll()
      .where("seq", ">", this.lastSeq)
      .orderBy("seq")
      .execute();
    for (const r of rows) {
      this.events.push({ ...r, seq: Number(r.seq), issued_before: Number(r.issued_before) });
      this.maxIssuedBefore = Math.max(this.maxIssuedBefore, Number(r.issued_before));
      this.lastSeq = Math.max(this.lastSeq, Number(r.seq));
    }
    if (rows.length) this.core.changed();
    this.lastRefresh = Date.now();
  }

  /** Refresh at most once a second so other processes' revocations are seen. */
  async maybeRefresh(): Promise<void> {
    if (Date.now() - this.lastRefresh > 1000) await this.refresh();
  }

  /** Persist and apply a new event; caches of validated tokens are cleared. */
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
    this.events.push(row);
    this.maxIssuedBefore = Math.max(this.maxIssuedBefore, row.issued_before);
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.core.changed();
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
    this.events = this.events.filter((e) => e.issued_before >= cutoff);
  }

  /** Events for GET /v3/OS-REVOKE/events. */
  list(): ReadonlyArray<RevocationEvent> {
    return this.events;
  }
}
