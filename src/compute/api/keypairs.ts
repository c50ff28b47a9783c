import { createHash, generateKeyPairSync } from "node:crypto";
import { isUniqueViolation, nowIso, withQuotaLock } from "../../shared/db/index.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { ComputeCore } from "../core.js";
import { badRequest, conflict, forbidden, notFound } from "../errors.js";
import { MAX_LIMIT, intParam, invalid, nextLink, objectBody, type Ctx } from "./common.js";
import { projectLimits } from "./quotas.js";
import { generateX509KeyPair, x509CertFingerprint } from "./x509.js";

interface KeypairRow {
  id: number;
  user_id: string;
  name: string;
  type: string;
  fingerprint: string;
  public_key: string;
  created_at: string;
}

const SSH_TYPES = new Set([
  "ssh-rsa",
  "ssh-dss",
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
]);

const INVALID_KEY = "Keypair data is invalid: failed to generate fingerprint";

/** Nova's fingerprint of an OpenSSH public key: MD5 of the decoded blob, colon-separated hex pairs. */
export function sshFingerprint(publicKey: string): string {
  const parts = publicKey.trim().split(/\s+/);
  if (parts.length < 2 || !SSH_TYPES.has(parts[0]) || !/^[A-Za-z0-9+/]+={0,2}$/.test(parts[1]))
    throw badRequest(INVALID_KEY);
  const blob = Buffer.from(parts[1], "base64");
  // The blob starts with the key type as an SSH string; it must match the declared type.
  const n = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (n <= 0 || 4 + n > blob.length || blob.subarray(4, 4 + n).toString("latin1") !== parts[0])
    throw badRequest(INVALID_KEY);
  const hex = createHash("md5").update(blob).digest("hex");
  return hex.match(/../g)!.join(":");
}

function x509Fingerprint(pem: string): string {
  try {
    return x509CertFingerprint(pem);
  } catch {
    throw badRequest("Keypair data is invalid: failed to generate fingerprint");
  }
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function mpint(b64url: string): Buffer {
  let b = Buffer.from(b64url, "base64url");
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

/** A new RSA key pair as Nova generates it: OpenSSH public key, PEM private key. */
function generateRsa(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const blob = Buffer.concat([sshString(Buffer.from("ssh-rsa")), mpint(jwk.e!), mpint(jwk.n!)]);
  return {
    publicKey: `ssh-rsa ${blob.toString("base64")} Generated-by-Nova`,
    privateKey: privateKey.export({ format: "pem", type: "pkcs1" }) as string,
  };
}

/** Nova's generated x509 pair in the shape generateRsa answers. */
function x509Generated(user: string): { publicKey: string; privateKey: string } {
  const g = generateX509KeyPair(user);
  return { publicKey: g.certificate, privateKey: g.privateKey };
}

function view(ctx: Ctx, k: KeypairRow, full: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint };
  if (ctx.microversion.gte("2.2")) out.type = k.type;
  if (full) {
    Object.assign(out, {
      user_id: k.user_id,
      created_at: k.created_at.replace(/Z$/, "").replace(/\.\d+$/, ".000000"),
      deleted: false,
      deleted_at: null,
      updated_at: null,
      id: k.id,
    });
  }
  return out;
}

/** The user a request is about: the caller, or (2.10+) the user_id an admin names. */
function targetUser(ctx: Ctx, given: unknown): string {
  if (ctx.microversion.gte("2.10") && typeof given === "string" && given !== "") return given;
  return ctx.auth?.userId ?? "";
}

/** /os-keypairs. */
export function keypairRoutes(core: ComputeCore): Route[] {
  const db = core.db;
  const find = (user: string, name: string): Promise<KeypairRow | undefined> =>
    db
      .selectFrom("compute_keypair")
      .selectAll()
      .where("user_id", "=", user)
      .where("name", "=", name)
      .executeTakeFirst() as Promise<KeypairRow | undefined>;
  const findOr404 = async (user: string, name: string): Promise<KeypairRow> => {
    const k = await find(user, name);
    if (!k) throw notFound(`Keypair ${name} not found for user ${user}`);
    return k;
  };
  return [
    route({
      method: "GET",
      path: "/v2.1/os-keypairs",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const user = targetUser(ctx, ctx.query.user_id);
        ctx.authorize("os_compute_api:os-keypairs:index", { user_id: user });
        let sel = db.selectFrom("compute_keypair").selectAll().where("user_id", "=", user).orderBy("id");
        let limit: number | undefined;
        if (ctx.microversion.gte("2.35")) {
          limit = intParam("limit", ctx.query.limit);
          const marker = ctx.query.marker;
          if (marker !== undefined) {
            const m = await find(user, marker);
            if (!m) throw badRequest(`Marker ${marker} could not be found.`);
            sel = sel.where("id", ">", m.id);
          }
          sel = sel.limit(Math.min(limit ?? MAX_LIMIT, MAX_LIMIT));
        }
        const rows = (await sel.execute()) as KeypairRow[];
        const out: Record<string, unknown> = {
          keypairs: rows.map((k) => ({ keypair: view(ctx, k, false) })),
        };
        if (limit !== undefined && limit > 0 && rows.length === limit)
          out.keypairs_links = nextLink(ctx, rows[rows.length - 1].name, limit);
        return out;
      },
    }),
    route({
      method: "POST",
      path: "/v2.1/os-keypairs",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const mv = ctx.microversion;
        const body = objectBody(ctx);
        const kp = body.keypair as Record<string, unknown> | undefined;
        if (!kp || typeof kp !== "object" || Array.isArray(kp))
          throw badRequest("Invalid input for field/attribute keypair. 'keypair' is a required property");
        const allowed = new Set(["name", "public_key"]);
        if (mv.gte("2.2")) allowed.add("type");
        if (mv.gte("2.10")) allowed.add("user_id");
        for (const k of Object.keys(kp))
          if (!allowed.has(k))
            throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
        const name = kp.name;
        const namePattern = mv.gte("2.92") ? /^[a-zA-Z0-9 @._-]+$/ : /^[a-zA-Z0-9 _-]+$/;
        if (
          typeof name !== "string" ||
          name.length < 1 ||
          name.length > 255 ||
          !namePattern.test(name) ||
          name.trim() === ""
        )
          throw invalid("name", name, "must be a string of 1 to 255 allowed characters");
        const type = kp.type ?? "ssh";
        if (type !== "ssh" && type !== "x509") throw invalid("type", type, "is not one of ['ssh', 'x509']");
        if (kp.user_id !== undefined && typeof kp.user_id !== "string")
          throw invalid("user_id", kp.user_id, "must be a string");
        const user = targetUser(ctx, kp.user_id);
        ctx.authorize("os_compute_api:os-keypairs:create", { user_id: user });
        let publicKey = kp.public_key;
        let privateKey: string | undefined;
        if (publicKey === undefined) {
          if (mv.gte("2.92"))
            throw badRequest(
              "Invalid input for field/attribute keypair. 'public_key' is a required property",
            );
          const g = type === "x509" ? x509Generated(user) : generateRsa();
          publicKey = g.publicKey;
          privateKey = g.privateKey;
        }
        if (typeof publicKey !== "string" || publicKey.length > 65535)
          throw invalid("public_key", publicKey, "must be a string");
        const fingerprint = type === "x509" ? x509Fingerprint(publicKey) : sshFingerprint(publicKey);
        if (await find(user, name)) throw conflict(`Key pair '${name}' already exists.`);
        const project = ctx.auth?.projectId ?? "";
        try {
          // Key pairs count per user against the requesting project's key_pairs limit (Nova's), counted and
          // inserted under the user's quota lock row: atomic across API processes.
          await withQuotaLock(db, "compute_quota_lock", "key_pairs", user, async (trx) => {
            const limit = project ? (await projectLimits(trx, project)).key_pairs : -1;
            if (limit !== undefined && limit !== -1) {
              const r = (await trx
                .selectFrom("compute_keypair")
                .select((eb) => eb.fn.countAll().as("n"))
                .where("user_id", "=", user)
                .executeTakeFirst()) as { n: unknown } | undefined;
              if (Number(r?.n ?? 0) >= limit) throw forbidden("Quota exceeded, too many key pairs.");
            }
            await trx
              .insertInto("compute_keypair")
              .values({ user_id: user, name, type, fingerprint, public_key: publicKey, created_at: nowIso() })
              .execute();
          });
        } catch (e) {
          if (isUniqueViolation(e)) throw conflict(`Key pair '${name}' already exists.`);
          throw e;
        }
        const out: Record<string, unknown> = { name, public_key: publicKey, fingerprint, user_id: user };
        if (privateKey !== undefined) out.private_key = privateKey;
        if (mv.gte("2.2")) out.type = type;
        return reply(mv.gte("2.2") ? 201 : 200, { keypair: out });
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/os-keypairs/:name",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const user = targetUser(ctx, ctx.query.user_id);
        ctx.authorize("os_compute_api:os-keypairs:show", { user_id: user });
        return { keypair: view(ctx, await findOr404(user, ctx.params.name), true) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.1/os-keypairs/:name",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const user = targetUser(ctx, ctx.query.user_id);
        ctx.authorize("os_compute_api:os-keypairs:delete", { user_id: user });
        const k = await findOr404(user, ctx.params.name);
        await db.deleteFrom("compute_keypair").where("id", "=", k.id).execute();
        return ctx.microversion.gte("2.2") ? noContent() : reply(202, undefined);
      },
    }),
  ];
}

/** The caller's key pair by name, as a server stores it (400 "Invalid key_name provided." if there is none). */
export async function callerKeyPair(
  core: ComputeCore,
  ctx: Ctx,
  name: string,
): Promise<{ key_name: string; key_data: string }> {
  const k = (await core.db
    .selectFrom("compute_keypair")
    .select(["name", "public_key"])
    .where("user_id", "=", ctx.auth?.userId ?? "")
    .where("name", "=", name)
    .executeTakeFirst()) as { name: string; public_key: string } | undefined;
  if (!k) throw badRequest("Invalid key_name provided.");
  return { key_name: k.name, key_data: k.public_key };
}
