// Key pairs the S3 API has seen identity accept, kept briefly (as Swift's s3token with secret_cache_duration): the
// secret read by its owner and the token identity issued, so the next signatures are checked here and the token
// reused without a call to identity. Entries go at any identity change (revocations, deleted credentials, roles),
// when Swift refuses their token, and after at most the TTL.

/** A key pair identity accepted: its secret, the token issued for it and that token's project and user. */
export interface KnownKey {
  secret: string;
  token: string;
  projectId: string;
  userId: string;
  /** Epoch ms after which the entry is not used. */
  until: number;
}

/** The key pairs seen lately, by access key. */
export class KeyCache {
  private readonly entries = new Map<string, KnownKey>();
  /** Bumped by `clear`: an answer fetched before a change is not kept. */
  generation = 0;

  constructor(
    readonly ttlMs = 60_000,
    private readonly max = 10_000,
  ) {}

  /** The live entry of an access key, if any. */
  get(access: string): KnownKey | undefined {
    const k = this.entries.get(access);
    if (k && k.until > Date.now()) return k;
    if (k) this.entries.delete(access);
    return undefined;
  }

  /** Keep an entry, unless identity changed since `generation` was read. */
  set(access: string, k: KnownKey, generation: number): void {
    if (generation !== this.generation) return;
    if (!this.entries.has(access) && this.entries.size >= this.max) this.entries.clear();
    this.entries.set(access, k);
  }

  /** Forget one access key's entry when its token was refused (revoked, expired). */
  drop(access: string, token: string): void {
    if (this.entries.get(access)?.token === token) this.entries.delete(access);
  }

  /** Forget every entry (identity data changed). */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
