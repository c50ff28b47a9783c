// Key pairs the S3 API has seen identity accept, kept briefly (as Swift's s3token with secret_cache_duration): the
// secret read by its owner and the token identity issued, so the next signatures are checked here and the token
// reused without a call to identity. Entries go at any identity change (revocations, deleted credentials, roles),
// when Swift refuses their token, and after at most the TTL.
import { V4_ALGORITHM, signV2, signWithKeyV4, signingKeyV4 } from "../../shared/auth/aws-signature.js";

/** A key pair identity accepted: its secret, the token issued for it and that token's project and user. */
export interface KnownKey {
  secret: string;
  token: string;
  projectId: string;
  userId: string;
  /** Epoch ms after which the entry is not used. */
  until: number;
  /** SigV4 signing keys derived from the secret, by scope (date/region/service/aws4_request). */
  scopes: Map<string, Buffer>;
}

/** Signing keys kept per key pair (a day's scope for a region or two). */
const MAX_SCOPES = 8;

/** The SigV4 signing key of a known key pair for a scope, derived once; null for a malformed scope. */
export function scopeKey(k: KnownKey, scope: string): Buffer | null {
  const hit = k.scopes.get(scope);
  if (hit) return hit;
  const key = signingKeyV4(k.secret, scope);
  if (key === null) return null;
  if (k.scopes.size >= MAX_SCOPES) k.scopes.clear();
  k.scopes.set(scope, key);
  return key;
}

/** The signature a known key pair gives a string to sign (V4 with its kept signing key, or V2). */
export function localSignature(k: KnownKey, stringToSign: string): string | null {
  if (!stringToSign.startsWith(`${V4_ALGORITHM}\n`)) return signV2(k.secret, stringToSign);
  const key = scopeKey(k, stringToSign.split("\n")[2] ?? "");
  return key && signWithKeyV4(key, stringToSign);
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
