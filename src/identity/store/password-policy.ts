// Keystone's [security_compliance] rules, configured under identity.securityCompliance: a password regex, account
// lockout after repeated failed logins, a minimum password age for self-service changes, and no reuse of the
// last N passwords. Every rule is off unless configured.
import { randomUUID } from "node:crypto";
import { ApiError, badRequest } from "../../shared/http/errors.js";
import type { Config } from "../../shared/config.js";
import type { IdentityCore } from "../core.js";

type Rules = NonNullable<Config["identity"]["securityCompliance"]>;

/** Keystone's [security_compliance] lockout_duration default, in seconds. */
const DEFAULT_LOCKOUT_SECONDS = 1800;
const DAY_MS = 86_400_000;

const rules = (core: IdentityCore): Rules => core.cfg.identity.securityCompliance ?? {};

const passwordError = (detail: string): ApiError =>
  badRequest(
    `${detail} The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
  );

const regexCache = new Map<string, RegExp>();

/** 400 unless the password matches the configured password_regex (anchored at the start, as Python's re.match). */
export function checkPasswordRules(core: IdentityCore, password: string | null | undefined): void {
  const { passwordRegex, passwordRegexDescription } = rules(core);
  if (!passwordRegex || password === null || password === undefined) return;
  let re = regexCache.get(passwordRegex);
  if (!re) {
    try {
      re = new RegExp(`^(?:${passwordRegex})`, "u");
    } catch {
      throw new ApiError(
        500,
        "Unable to validate password due to invalid regular expression - password_regex.",
      );
    }
    regexCache.set(passwordRegex, re);
  }
  if (!re.test(password))
    throw passwordError(
      `The password does not match the requirements: ${passwordRegexDescription ?? passwordRegex}.`,
    );
}

/** A user's known passwords, newest first: the current one, then the remembered earlier ones. */
async function passwordsOf(
  core: IdentityCore,
  userId: string,
  currentHash: string | null,
): Promise<Array<{ hash: string; created_at: number | null; self_service: boolean }>> {
  const rows = await core.db
    .selectFrom("identity_password_history")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .execute();
  const out: Array<{ hash: string; created_at: number | null; self_service: boolean }> = rows.map((r) => ({
    hash: r.password_hash,
    created_at: Number(r.created_at),
    self_service: !!Number(r.self_service),
  }));
  // A password set without passing through recordPassword (bootstrap, before these rules) still counts.
  if (currentHash && out[0]?.hash !== currentHash)
    out.unshift({ hash: currentHash, created_at: null, self_service: false });
  return out;
}

/** Before a user changes their own password: minimum password age and password history (400s). */
export async function checkSelfServiceChange(
  core: IdentityCore,
  user: { id: string; password_hash: string | null },
  newPassword: string,
): Promise<void> {
  const { minimumPasswordAge = 0, uniqueLastPasswordCount = 0 } = rules(core);
  if (!minimumPasswordAge && !uniqueLastPasswordCount) return;
  const known = await passwordsOf(core, user.id, user.password_hash);
  const current = known[0];
  if (minimumPasswordAge && current?.self_service && current.created_at !== null) {
    const allowedAt = current.created_at + minimumPasswordAge * DAY_MS;
    if (Date.now() < allowedAt)
      throw passwordError(
        `You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${minimumPasswordAge} day(s) before it can be changed. Please try again in ${Math.floor((allowedAt - Date.now()) / DAY_MS)} day(s) or contact your administrator to reset your password.`,
      );
  }
  for (const p of known.slice(0, uniqueLastPasswordCount))
    if (await core.hasher.verify(newPassword, p.hash))
      throw passwordError(
        `The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${uniqueLastPasswordCount}.`,
      );
}

/** After a password was set (created, reset by an admin, or changed by its user): remember it. */
export async function recordPassword(
  core: IdentityCore,
  userId: string,
  selfService: boolean,
): Promise<void> {
  const row = await core.db
    .selectFrom("identity_user")
    .select("password_hash")
    .where("id", "=", userId)
    .executeTakeFirst();
  if (!row?.password_hash) return;
  await core.db
    .insertInto("identity_password_history")
    .values({
      id: randomUUID().replace(/-/g, ""),
      user_id: userId,
      password_hash: row.password_hash,
      created_at: Date.now(),
      self_service: selfService ? 1 : 0,
    })
    .execute();
  // Keep only what the rules can look at.
  const keep = Math.max(rules(core).uniqueLastPasswordCount ?? 0, 1);
  const stale = await core.db
    .selectFrom("identity_password_history")
    .select("id")
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .offset(keep)
    .limit(1000)
    .execute();
  if (stale.length)
    await core.db
      .deleteFrom("identity_password_history")
      .where(
        "id",
        "in",
        stale.map((s) => s.id),
      )
      .execute();
}

const lockoutApplies = (core: IdentityCore, user: { options?: Record<string, unknown> }): boolean =>
  !!rules(core).lockoutFailureAttempts && user.options?.ignore_lockout_failure_attempts !== true;

/** 401 while the account is locked after too many failed logins (Keystone's AccountLocked). */
export async function assertNotLocked(
  core: IdentityCore,
  user: { id: string; options?: Record<string, unknown> },
): Promise<void> {
  if (!lockoutApplies(core, user)) return;
  const { lockoutFailureAttempts = 0, lockoutDuration = DEFAULT_LOCKOUT_SECONDS } = rules(core);
  const r = await core.db
    .selectFrom("identity_auth_failure")
    .selectAll()
    .where("user_id", "=", user.id)
    .executeTakeFirst();
  if (!r || Number(r.failed_count) < lockoutFailureAttempts) return;
  if (Number(r.failed_at) + lockoutDuration * 1000 > Date.now())
    throw new ApiError(401, `The account is locked for user: ${user.id}.`);
  await resetAuthFailures(core, user);
}

/** Count a failed password login. */
export async function recordAuthFailure(
  core: IdentityCore,
  user: { id: string; options?: Record<string, unknown> },
): Promise<void> {
  if (!lockoutApplies(core, user)) return;
  const now = Date.now();
  const r = await core.db
    .updateTable("identity_auth_failure")
    .set((eb) => ({ failed_count: eb("failed_count", "+", 1), failed_at: now }))
    .where("user_id", "=", user.id)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows)) return;
  try {
    await core.db
      .insertInto("identity_auth_failure")
      .values({ user_id: user.id, failed_count: 1, failed_at: now })
      .execute();
  } catch {
    // A concurrent first failure inserted the row: count this one on it.
    await core.db
      .updateTable("identity_auth_failure")
      .set((eb) => ({ failed_count: eb("failed_count", "+", 1), failed_at: now }))
      .where("user_id", "=", user.id)
      .execute();
  }
}

/** Forget failed logins after a successful one. */
export async function resetAuthFailures(
  core: IdentityCore,
  user: { id: string; options?: Record<string, unknown> },
): Promise<void> {
  if (!lockoutApplies(core, user)) return;
  await core.db.deleteFrom("identity_auth_failure").where("user_id", "=", user.id).execute();
}
