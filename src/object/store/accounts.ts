import { sql } from "kysely";
import { isUniqueViolation } from "../../shared/db/index.js";
import type { ObjectCore } from "../core.js";
import { newTimestamp } from "../timestamp.js";
import { runCached } from "./compiled.js";
import { num, parseMeta, storeMeta } from "./tables.js";

/** An account as HEAD/GET show it: totals over its containers, and its own metadata. */
export interface AccountInfo {
  createdAt: string;
  putTimestamp: string;
  meta: Map<string, string>;
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
  /** Whether the account has a row (metadata set or a container made); others are shown as empty. */
  exists: boolean;
}

/** Account system metadata: the id of the domain of the account's project, as its owner's token showed it. */
export const PROJECT_DOMAIN_KEY = "x-account-sysmeta-project-domain-id";
/** The recorded domain of an account made by someone not scoped to its project (a reseller admin): not known. */
export const UNKNOWN_DOMAIN = "_unknown";

/**
 * The account's row, made on first use (Swift's account_autocreate). `projectDomain`, when given, is the domain
 * to record for the account's project (UNKNOWN_DOMAIN when the caller cannot tell): a new row gets it, and an
 * existing one whose domain is missing or unknown gets a known one; a recorded domain is never changed.
 */
export async function ensureAccount(
  core: ObjectCore,
  account: string,
  projectDomain?: string,
): Promise<void> {
  const found = await core.db
    .selectFrom("object_account")
    .select("meta")
    .where("account", "=", account)
    .executeTakeFirst();
  if (found) {
    if (projectDomain === undefined || projectDomain === UNKNOWN_DOMAIN) return;
    const recorded = parseMeta(found.meta).get(PROJECT_DOMAIN_KEY);
    if (recorded === undefined || recorded === UNKNOWN_DOMAIN)
      await recordDomain(core, account, projectDomain);
    return;
  }
  const now = newTimestamp();
  const meta = new Map(projectDomain === undefined ? [] : [[PROJECT_DOMAIN_KEY, projectDomain]]);
  try {
    await core.db
      .insertInto("object_account")
      .values({ account, created_at: now, put_timestamp: now, meta: storeMeta(meta) })
      .execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
}

/** Record a known project domain under the row lock, unless one was recorded meanwhile. */
async function recordDomain(core: ObjectCore, account: string, projectDomain: string): Promise<void> {
  await core.db.transaction().execute(async (tx) => {
    // A no-op update first takes the row lock, as updateAccountMeta does.
    await tx.updateTable("object_account").set({ account }).where("account", "=", account).execute();
    const row = await tx
      .selectFrom("object_account")
      .select("meta")
      .where("account", "=", account)
      .executeTakeFirstOrThrow();
    const meta = parseMeta(row.meta);
    const recorded = meta.get(PROJECT_DOMAIN_KEY);
    if (recorded !== undefined && recorded !== UNKNOWN_DOMAIN) return;
    meta.set(PROJECT_DOMAIN_KEY, projectDomain);
    await tx
      .updateTable("object_account")
      .set({ meta: storeMeta(meta) })
      .where("account", "=", account)
      .execute();
  });
}

/** An account's totals (summed over its containers, so always consistent with them) and metadata. */
export async function accountInfo(core: ObjectCore, account: string): Promise<AccountInfo> {
  const row = await core.db
    .selectFrom("object_account")
    .selectAll()
    .where("account", "=", account)
    .executeTakeFirst();
  const totals = await core.db
    .selectFrom("object_container")
    .select([
      sql<number>`count(*)`.as("containers"),
      sql<number>`coalesce(sum(object_count), 0)`.as("objects"),
      sql<number>`coalesce(sum(bytes_used), 0)`.as("bytes"),
    ])
    .where("account", "=", account)
    .executeTakeFirstOrThrow();
  const now = newTimestamp();
  return {
    createdAt: row?.created_at ?? now,
    putTimestamp: row?.put_timestamp ?? now,
    meta: parseMeta(row?.meta ?? "{}"),
    containerCount: num(totals.containers),
    objectCount: num(totals.objects),
    bytesUsed: num(totals.bytes),
    exists: row !== undefined,
  };
}

/** An account's metadata alone (empty when it has no row): one lookup, no sums over its containers. */
export async function accountMeta(core: ObjectCore, account: string): Promise<Map<string, string>> {
  const { rows } = await runCached(core.db, "account meta", [account], () =>
    core.db.selectFrom("object_account").select("meta").where("account", "=", account),
  );
  return parseMeta(rows[0]?.meta ?? "{}");
}

/** Bytes an account holds (summed over its containers). */
export async function accountBytes(core: ObjectCore, account: string): Promise<number> {
  const r = await core.db
    .selectFrom("object_container")
    .select(sql<number>`coalesce(sum(bytes_used), 0)`.as("bytes"))
    .where("account", "=", account)
    .executeTakeFirstOrThrow();
  return num(r.bytes);
}

/**
 * Change an account's metadata under its row lock (no update is lost to a concurrent one), making it if needed
 * (`projectDomain` as ensureAccount's).
 */
export async function updateAccountMeta(
  core: ObjectCore,
  account: string,
  change: (meta: Map<string, string>) => Map<string, string>,
  projectDomain?: string,
): Promise<void> {
  await ensureAccount(core, account, projectDomain);
  await core.db.transaction().execute(async (tx) => {
    const ts = newTimestamp();
    await tx
      .updateTable("object_account")
      .set({ put_timestamp: ts })
      .where("account", "=", account)
      .execute();
    const row = await tx
      .selectFrom("object_account")
      .select("meta")
      .where("account", "=", account)
      .executeTakeFirstOrThrow();
    const meta = change(parseMeta(row.meta));
    await tx
      .updateTable("object_account")
      .set({ meta: storeMeta(meta) })
      .where("account", "=", account)
      .execute();
  });
}
