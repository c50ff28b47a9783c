// Instance actions and their events (os-instance-actions): the API records an action per request; the
// conductor and agents add events ("compute_reboot_instance", ...) with their host and result.
import type { Kysely } from "kysely";
import { insertWithId, nowIso } from "../../shared/db/index.js";

/** Who asked for an action: carried from the API through the conductor to the agent. */
export interface RequestContext {
  requestId: string;
  userId: string;
  projectId: string;
  /** The caller's token, for calls an agent makes on the user's behalf (snapshot upload). */
  token?: string;
  roles?: string[];
}

/** Record that a request started an action on an instance (Nova's InstanceAction.action_start). */
export async function startAction(
  db: Kysely<any>,
  ctx: RequestContext,
  uuid: string,
  action: string,
): Promise<void> {
  const now = nowIso();
  await db
    .insertInto("compute_instance_action")
    .values({
      action,
      instance_uuid: uuid,
      request_id: ctx.requestId,
      user_id: ctx.userId,
      project_id: ctx.projectId,
      start_time: now,
      finish_time: null,
      message: null,
      updated_at: now,
    })
    .execute();
}

async function actionId(db: Kysely<any>, uuid: string, requestId: string): Promise<number | undefined> {
  const row = (await db
    .selectFrom("compute_instance_action")
    .select("id")
    .where("instance_uuid", "=", uuid)
    .where("request_id", "=", requestId)
    .orderBy("id", "desc")
    .executeTakeFirst()) as { id: number } | undefined;
  return row ? Number(row.id) : undefined;
}

/**
 * Run `fn` as an event of the request's action: the event is recorded with its start, finish and result
 * ("Success" or "Error" with the error's message as traceback). Errors are re-thrown.
 */
export async function withEvent<T>(
  db: Kysely<any>,
  ctx: RequestContext,
  uuid: string,
  event: string,
  host: string | null,
  fn: () => Promise<T>,
): Promise<T> {
  const id = await actionId(db, uuid, ctx.requestId);
  if (id === undefined) return fn();
  const eventId = await insertWithId(db, "compute_instance_action_event", {
    action_id: id,
    event,
    start_time: nowIso(),
    host,
    finish_time: null,
    result: null,
  });
  const finish = async (result: string, traceback: string | null) => {
    const now = nowIso();
    await db
      .updateTable("compute_instance_action_event")
      .set({ finish_time: now, result, traceback })
      .where("id", "=", eventId)
      .execute();
    await db
      .updateTable("compute_instance_action")
      .set({ updated_at: now, ...(result === "Error" ? { message: "Error" } : {}) })
      .where("id", "=", id)
      .execute();
  };
  try {
    const out = await fn();
    await finish("Success", null);
    return out;
  } catch (e) {
    await finish("Error", (e as Error).stack ?? String(e));
    throw e;
  }
}
