import type { AuthContext, TokenValidator } from "./context.js";

/** Caches token validations (like keystonemiddleware's token cache); cleared on any revocation. */
export class CachingValidator implements TokenValidator {
  private readonly entries = new Map<string, { ctx: AuthContext; until: number }>();
  private readonly pending = new Map<string, Promise<AuthContext>>();
  private generation = 0;

  constructor(
    private readonly inner: TokenValidator,
    private readonly ttlMs = 300_000,
    private readonly maxEntries = 50_000,
  ) {}

  async validate(token: string): Promise<AuthContext> {
    const now = Date.now();
    const hit = this.entries.get(token);
    if (hit) {
      if (hit.until > now) return hit.ctx;
      this.entries.delete(token);
    }
    const inflight = this.pending.get(token);
    if (inflight) return inflight;
    const gen = this.generation;
    const p: Promise<AuthContext> = this.inner.validate(token).then(
      (ctx) => {
        if (this.pending.get(token) === p) this.pending.delete(token);
        if (gen === this.generation) {
          if (this.entries.size >= this.maxEntries) {
            const oldest = this.entries.keys().next().value;
            if (oldest !== undefined) this.entries.delete(oldest);
          }
          this.entries.set(token, { ctx, until: Math.min(now + this.ttlMs, ctx.expiresAt) });
        }
        return ctx;
      },
      (err) => {
        if (this.pending.get(token) === p) this.pending.delete(token);
        throw err;
      },
    );
    this.pending.set(token, p);
    return p;
  }

  /** Forget every cached validation (called when tokens may have been revoked). */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
    // Validations under way started before the change: later requests must not share their (stale) answer.
    this.pending.clear();
  }
}
