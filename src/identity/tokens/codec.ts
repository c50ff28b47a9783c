// Non-persistent tokens: a compact binary payload sealed with AES-256-GCM under the primary key.
// Token bytes: version (1, also the GCM AAD) | nonce (12) | ciphertext | GCM tag (16), in unpadded base64url.
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes } from "node:crypto";
import type { KeyObject } from "node:crypto";
import type { KeyRepository } from "./keys.js";
import { Reader, Writer } from "./pack.js";

/** Everything a token carries; validation rebuilds the rest from the DB. */
export interface TokenPayload {
  userId: string;
  /** Authentication methods in order, e.g. ["password"], ["token"], ["application_credential"]. */
  methods: string[];
  scope:
    | { kind: "unscoped" }
    | { kind: "project"; id: string }
    | { kind: "domain"; id: string }
    | { kind: "system" };
  /** Milliseconds since the epoch (kept exactly). */
  issuedAt: number;
  /** Milliseconds since the epoch (kept exactly). */
  expiresAt: number;
  /** One or two 22-char audit ids: this token's own, then its parent chain's. */
  auditIds: string[];
  appCredId?: string;
  trustId?: string;
}

/** Current token format version (first byte of every token). */
export const TOKEN_VERSION = 1;
/** Longest token string decode() will consider. */
export const MAX_TOKEN_CHARS = 1024;

const NONCE = 12;
const TAG = 16;
const AAD = Buffer.from([TOKEN_VERSION]);
const MIN_BYTES = 1 + NONCE + 1 + TAG;
const HKDF_INFO = Buffer.from("stratus token v1 aes-256-gcm");
const SCOPES = ["unscoped", "project", "domain", "system"] as const;
// Append-only: a method's index + 1 is its wire code; 0 means "name follows as a string".
const METHODS = [
  "password",
  "token",
  "application_credential",
  "totp",
  "oauth1",
  "mapped",
  "external",
  "openid",
  "saml2",
  "kerberos",
  "x509",
];
const F_APP_CRED = 0x04;
const F_TRUST = 0x08;
const F_PARENT_AUDIT = 0x10;

/** A fresh 22-character base64url audit id (16 random bytes, as Keystone uses). */
export function newAuditId(): string {
  return randomBytes(16).toString("base64url");
}

/** Seals payloads into tokens with the primary key and opens them with any active key. */
export class TokenCodec {
  #source: readonly Buffer[] | null = null;
  #derived: KeyObject[] = [];

  /** Reads keys from `keys` on every call, re-deriving cipher keys only after it reloads. */
  constructor(private readonly keys: KeyRepository) {}

  /** Encrypts `p` into a URL-safe token; throws RangeError on an unrepresentable payload. */
  encode(p: TokenPayload): string {
    const plain = pack(p);
    const out = Buffer.allocUnsafe(1 + NONCE + plain.length + TAG);
    out[0] = TOKEN_VERSION;
    const nonce = randomBytes(NONCE);
    nonce.copy(out, 1);
    const cipher = createCipheriv("aes-256-gcm", this.#cipherKeys()[0], nonce, { authTagLength: TAG });
    cipher.setAAD(AAD);
    cipher.update(plain).copy(out, 1 + NONCE);
    cipher.final();
    cipher.getAuthTag().copy(out, 1 + NONCE + plain.length);
    const token = out.toString("base64url");
    if (token.length > MAX_TOKEN_CHARS) throw new RangeError(`token would be ${token.length} chars`);
    return token;
  }

  /** Opens a token with each key in turn; null if it is malformed, forged or tampered (expiry not checked). */
  decode(token: string): TokenPayload | null {
    const keys = this.#cipherKeys(); // throws only if the repository was never loaded
    if (typeof token !== "string" || token.length > MAX_TOKEN_CHARS) return null;
    const raw = Buffer.from(token, "base64url");
    // Re-encoding rejects stray characters and non-zero padding bits, so every token has one spelling.
    if (raw.length < MIN_BYTES || raw[0] !== TOKEN_VERSION || raw.toString("base64url") !== token) {
      return null;
    }
    const nonce = raw.subarray(1, 1 + NONCE);
    const sealed = raw.subarray(1 + NONCE, raw.length - TAG);
    const tag = raw.subarray(raw.length - TAG);
    for (const key of keys) {
      const plain = open(key, nonce, sealed, tag);
      if (plain) return unpack(plain);
    }
    return null;
  }

  #cipherKeys(): KeyObject[] {
    const source = this.keys.all();
    if (source !== this.#source) {
      this.#derived = source.map((k) =>
        createSecretKey(Buffer.from(hkdfSync("sha256", k, "", HKDF_INFO, 32))),
      );
      this.#source = source;
    }
    return this.#derived;
  }
}

function open(key: KeyObject, nonce: Buffer, sealed: Buffer, tag: Buffer): Buffer | null {
  try {
    const d = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG });
    d.setAAD(AAD);
    d.setAuthTag(tag);
    const plain = d.update(sealed);
    d.final();
    return plain;
  } catch {
    return null;
  }
}

function pack(p: TokenPayload): Buffer {
  const { scope, auditIds } = p;
  const kind = SCOPES.indexOf(scope.kind);
  if (kind < 0) throw new RangeError(`unknown scope kind ${scope.kind}`);
  if (auditIds.length < 1 || auditIds.length > 2) throw new RangeError("a token needs 1 or 2 audit ids");
  const w = new Writer();
  w.byte(
    kind |
      (p.appCredId !== undefined ? F_APP_CRED : 0) |
      (p.trustId !== undefined ? F_TRUST : 0) |
      (auditIds.length === 2 ? F_PARENT_AUDIT : 0),
  );
  w.id(p.userId);
  w.varint(p.methods.length);
  for (const m of p.methods) {
    const code = METHODS.indexOf(m) + 1;
    w.byte(code);
    if (code === 0) w.string(m);
  }
  if (scope.kind === "project" || scope.kind === "domain") w.id(scope.id);
  w.uint48(p.issuedAt);
  if (!isTime(p.expiresAt)) throw new RangeError(`expiresAt ${p.expiresAt} is not a 48-bit ms timestamp`);
  const life = p.expiresAt - p.issuedAt; // zig-zag, so even a negative lifetime round-trips
  w.varint(life >= 0 ? life * 2 : -life * 2 - 1);
  for (const id of auditIds) w.id(id);
  if (p.appCredId !== undefined) w.id(p.appCredId);
  if (p.trustId !== undefined) w.id(p.trustId);
  return w.bytes();
}

function isTime(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n < 2 ** 48;
}

function unpack(plain: Buffer): TokenPayload | null {
  try {
    const r = new Reader(plain);
    const flags = r.byte();
    if (flags & ~0x1f) return null;
    const userId = r.id();
    const methods: string[] = [];
    for (let n = r.varint(); n > 0; n--) {
      const code = r.byte();
      const name = code === 0 ? r.string() : METHODS[code - 1];
      if (name === undefined) return null;
      methods.push(name);
    }
    const kind = SCOPES[flags & 0x03];
    const scope: TokenPayload["scope"] =
      kind === "project" || kind === "domain" ? { kind, id: r.id() } : { kind };
    const issuedAt = r.uint48();
    const z = r.varint();
    const expiresAt = issuedAt + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
    if (!isTime(expiresAt)) return null;
    const auditIds = [r.id()];
    if (flags & F_PARENT_AUDIT) auditIds.push(r.id());
    const p: TokenPayload = { userId, methods, scope, issuedAt, expiresAt, auditIds };
    if (flags & F_APP_CRED) p.appCredId = r.id();
    if (flags & F_TRUST) p.trustId = r.id();
    r.end();
    return p;
  } catch {
    return null;
  }
}
