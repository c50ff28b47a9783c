import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isUniqueViolation } from "../../shared/db/index.js";
import { ApiError } from "../../shared/http/errors.js";
import type { IdentityCore } from "../core.js";
import { duplicate, notFoundEntity } from "../errors.js";
import { json } from "../tables.js";

/** A stored credential (EC2 key pair, TOTP secret, certificate...), blob decrypted. */
export interface Credential {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra: Record<string, unknown>;
}

// Blobs are encrypted at rest with AES-256-GCM under a key kept beside the token keys
// (DATA_DIR/credential-keys/0). Rows written before encryption (plain text) are still read.
const PREFIX = "gcm1:";
const keys = new Map<string, Buffer>();

function keyFor(core: IdentityCore): Buffer {
  const file = join(core.cfg.dataDir, "credential-keys", "0");
  let key = keys.get(file);
  if (key) return key;
  if (existsSync(file)) key = Buffer.from(readFileSync(file, "utf8").trim(), "base64url");
  else {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    key = randomBytes(32);
    try {
      writeFileSync(file, key.toString("base64url"), { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      key = Buffer.from(readFileSync(file, "utf8").trim(), "base64url");
    }
  }
  if (key.length !== 32) throw new Error(`credential key ${file} is not a 32-byte base64url key`);
  keys.set(file, key);
  return key;
}

function seal(core: IdentityCore, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", keyFor(core), iv);
  const ct = Buffer.concat([c.update(plain, "utf8"), c.final()]);
  return PREFIX + Buffer.concat([iv, c.getAuthTag(), ct]).toString("base64url");
}

function open(core: IdentityCore, stored: string): string {
  if (!stored.startsWith(PREFIX)) return stored;
  const raw = Buffer.from(stored.slice(PREFIX.length), "base64url");
  try {
    const d = createDecipheriv("aes-256-gcm", keyFor(core), raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString("utf8");
  } catch {
    throw new ApiError(500, "An unexpected error prevented the server from accessing encrypted credentials.");
  }
}

type Row = {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra: string | null;
};
const fromRow = (core: IdentityCore, r: Row): Credential => ({
  id: r.id,
  user_id: r.user_id,
  project_id: r.project_id,
  type: r.type,
  blob: open(core, r.blob),
  extra: json(r.extra, {}),
});

/** A credential by id, or null. */
export async function findCredential(core: IdentityCore, id: string): Promise<Credential | null> {
  const r = await core.db
    .selectFrom("identity_credential")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return r ? fromRow(core, r) : null;
}

/** A credential by id, or 404. */
export async function getCredential(core: IdentityCore, id: string): Promise<Credential> {
  const c = await findCredential(core, id);
  if (!c) throw notFoundEntity("credential", id);
  return c;
}

/** Credentials, optionally of one user and/or type. */
export async function listCredentials(
  core: IdentityCore,
  f: { user_id?: string; type?: string } = {},
): Promise<Credential[]> {
  let q = core.db.selectFrom("identity_credential").selectAll();
  if (f.user_id !== undefined) q = q.where("user_id", "=", f.user_id);
  if (f.type !== undefined) q = q.where("type", "=", f.type);
  return (await q.orderBy("id").execute()).map((r) => fromRow(core, r));
}

/** Input to create a credential. */
export interface CredentialInput {
  id?: string;
  user_id: string;
  project_id?: string | null;
  type: string;
  blob: string;
  extra?: Record<string, unknown>;
}

/** Create a credential; 409 when the id (e.g. an EC2 access key's hash) is taken. */
export async function createCredential(core: IdentityCore, c: CredentialInput): Promise<Credential> {
  const id = c.id ?? core.newId();
  if (await findCredential(core, id)) throw duplicate("credential", "id", id);
  try {
    await core.db
      .insertInto("identity_credential")
      .values({
        id,
        user_id: c.user_id,
        project_id: c.project_id ?? null,
        type: c.type,
        blob: seal(core, c.blob),
        extra: JSON.stringify(c.extra ?? {}),
      })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate("credential", "id", id);
    throw e;
  }
  core.changed();
  return getCredential(core, id);
}

/** Update a credential's owner, project, type, blob or extra attributes. */
export async function updateCredential(
  core: IdentityCore,
  c: Credential,
  patch: {
    user_id?: string;
    project_id?: string | null;
    type?: string;
    blob?: string;
    extra?: Record<string, unknown>;
  },
): Promise<Credential> {
  await core.db
    .updateTable("identity_credential")
    .set({
      user_id: patch.user_id ?? c.user_id,
      project_id: patch.project_id === undefined ? c.project_id : patch.project_id,
      type: patch.type ?? c.type,
      blob: seal(core, patch.blob ?? c.blob),
      extra: JSON.stringify({ ...c.extra, ...(patch.extra ?? {}) }),
    })
    .where("id", "=", c.id)
    .execute();
  core.changed();
  return getCredential(core, c.id);
}

/** Delete a credential. */
export async function deleteCredential(core: IdentityCore, id: string): Promise<void> {
  await core.db.deleteFrom("identity_credential").where("id", "=", id).execute();
  core.changed();
}
