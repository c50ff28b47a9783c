// Console auth tokens kept in the database, so that a console URL handed out by one API process is accepted by the
// proxy of any other. Only the token's SHA-256 is stored; a token opens its console once (the proxy consumes it)
// and expires after compute.consoles.tokenTtl seconds either way.
import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";

const TABLE = "compute_console_token";

/** What a console token opens: the instance, its compute host, and the endpoint the proxy connects to. */
export interface ConsoleTarget {
  instanceUuid: string;
  /** "novnc" or "serial". */
  consoleType: string;
  /** The compute service host the instance was on when the token was issued. */
  computeHost: string;
  host: string;
  port: number;
}

interface Row {
  token_hash: string;
  instance_uuid: string;
  console_type: string;
  compute_host: string;
  host: string;
  port: number;
  expires_ms: number | string;
}

const hashOf = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex");

const toTarget = (r: Row): ConsoleTarget => ({
  instanceUuid: r.instance_uuid,
  consoleType: r.console_type,
  computeHost: r.compute_host,
  host: r.host,
  port: Number(r.port),
});

/** Issue a token for `target`, valid `ttlS` seconds; expired tokens are purged on the way. */
export async function issueConsoleToken(
  db: Kysely<any>,
  target: ConsoleTarget,
  ttlS: number,
): Promise<string> {
  const now = Date.now();
  await db.deleteFrom(TABLE).where("expires_ms", "<=", now).execute();
  const token = randomBytes(24).toString("hex");
  await db
    .insertInto(TABLE)
    .values({
      token_hash: hashOf(token),
      instance_uuid: target.instanceUuid,
      console_type: target.consoleType,
      compute_host: target.computeHost,
      host: target.host,
      port: target.port,
      expires_ms: now + ttlS * 1000,
    })
    .execute();
  return token;
}

/** The unexpired target of `token` without using it up (os-console-auth-tokens); undefined if none. */
export async function showConsoleToken(db: Kysely<any>, token: string): Promise<ConsoleTarget | undefined> {
  const row = (await db
    .selectFrom(TABLE)
    .selectAll()
    .where("token_hash", "=", hashOf(token))
    .where("expires_ms", ">", Date.now())
    .executeTakeFirst()) as Row | undefined;
  return row ? toTarget(row) : undefined;
}

/** Use `token` up: its target if it was valid and of `consoleType`, and no one else consumed it first. */
export async function consumeConsoleToken(
  db: Kysely<any>,
  token: string,
  consoleType: string,
): Promise<ConsoleTarget | undefined> {
  if (token.length === 0 || token.length > 256) return undefined;
  const target = await showConsoleToken(db, token);
  if (!target || target.consoleType !== consoleType) return undefined;
  // The delete decides between two proxies racing for the same token: only one of them removes the row.
  const r = await db.deleteFrom(TABLE).where("token_hash", "=", hashOf(token)).executeTakeFirst();
  return Number(r.numDeletedRows) === 1 ? target : undefined;
}
