import { nowIso } from "../../shared/db/index.js";
import type { VolumeCore } from "../core.js";

/** A user message row (Cinder's messages API, 3.3). */
export interface MessageRow {
  id: string;
  project_id: string;
  request_id: string;
  resource_type: string;
  resource_uuid: string | null;
  event_id: string;
  message_level: string;
  user_message: string;
  created_at: string;
  guaranteed_until: string;
}

/** How long a message is kept (Cinder's message_ttl, 30 days). */
const TTL_MS = 30 * 24 * 3600 * 1000;

/** Record an asynchronous failure for the project to read (best effort: a failure is logged only). */
export async function recordMessage(
  core: VolumeCore,
  m: {
    projectId: string;
    requestId: string;
    resourceType: string;
    resourceId: string;
    eventId: string;
    text: string;
  },
): Promise<void> {
  try {
    await core.db
      .insertInto("volume_message")
      .values({
        id: core.newId(),
        project_id: m.projectId,
        request_id: m.requestId,
        resource_type: m.resourceType,
        resource_uuid: m.resourceId,
        event_id: m.eventId,
        message_level: "ERROR",
        user_message: m.text,
        created_at: nowIso(),
        guaranteed_until: new Date(Date.now() + TTL_MS).toISOString(),
      })
      .execute();
  } catch (err) {
    core.log.warn({ err }, "volume: recording a user message failed");
  }
}

/** Messages of a project (or every project: null). */
export async function listMessages(core: VolumeCore, projectId: string | null): Promise<MessageRow[]> {
  let q = core.db.selectFrom("volume_message").selectAll();
  if (projectId !== null) q = q.where("project_id", "=", projectId);
  return (await q.orderBy("created_at", "desc").execute()) as MessageRow[];
}

/** A message by id, or null. */
export async function getMessage(core: VolumeCore, id: string): Promise<MessageRow | null> {
  return ((await core.db.selectFrom("volume_message").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null) as MessageRow | null;
}

/** Delete a message. */
export async function deleteMessage(core: VolumeCore, id: string): Promise<void> {
  await core.db.deleteFrom("volume_message").where("id", "=", id).execute();
}
