import { randomUUID } from "node:crypto";
import { nowIso } from "../../shared/db/index.js";
import type { ImageCore } from "../core.js";
import { imageDb, type ImageTables } from "./tables.js";

/** Task statuses (Glance's). */
export type TaskStatus = "pending" | "processing" | "success" | "failure";

/** An import task (Glance's api_image_import task). */
export interface Task {
  id: string;
  image_id: string;
  type: string;
  status: TaskStatus;
  owner: string | null;
  user_id: string | null;
  request_id: string | null;
  input: unknown;
  result: unknown;
  message: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
}

/** How long finished tasks stay listed (Glance's task_time_to_live, 48 hours). */
const TASK_TTL_MS = 48 * 3600 * 1000;

const parse = (s: string | null): unknown => {
  if (s === null) return null;
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
};

function fromRow(r: ImageTables["image_task"]): Task {
  return {
    id: r.id,
    image_id: r.image_id,
    type: r.type,
    status: r.status as TaskStatus,
    owner: r.owner,
    user_id: r.user_id,
    request_id: r.request_id,
    input: parse(r.input),
    result: parse(r.result),
    message: r.message ?? "",
    created_at: r.created_at,
    updated_at: r.updated_at,
    expires_at: r.expires_at,
  };
}

/** Record a new pending task. */
export async function createTask(
  core: ImageCore,
  t: {
    image_id: string;
    owner: string | null;
    user_id: string | null;
    request_id: string | null;
    input: unknown;
  },
): Promise<Task> {
  const now = nowIso();
  const row: ImageTables["image_task"] = {
    id: randomUUID(),
    image_id: t.image_id,
    type: "api_image_import",
    status: "pending",
    owner: t.owner,
    user_id: t.user_id,
    request_id: t.request_id,
    input: JSON.stringify(t.input),
    result: null,
    message: "",
    created_at: now,
    updated_at: now,
    expires_at: null,
  };
  await imageDb(core).insertInto("image_task").values(row).execute();
  return fromRow(row);
}

/** Move a task on; finished tasks get an expiry time. */
export async function updateTask(
  core: ImageCore,
  id: string,
  status: TaskStatus,
  extra: { result?: unknown; message?: string } = {},
): Promise<void> {
  const now = nowIso();
  const done = status === "success" || status === "failure";
  await imageDb(core)
    .updateTable("image_task")
    .set({
      status,
      updated_at: now,
      ...(extra.result !== undefined ? { result: JSON.stringify(extra.result) } : {}),
      ...(extra.message !== undefined ? { message: extra.message } : {}),
      ...(done ? { expires_at: new Date(Date.now() + TASK_TTL_MS).toISOString() } : {}),
    })
    .where("id", "=", id)
    .execute();
}

/** The unexpired tasks of an image, oldest first. */
export async function tasksOfImage(core: ImageCore, imageId: string): Promise<Task[]> {
  const now = nowIso();
  const rows = await imageDb(core)
    .selectFrom("image_task")
    .selectAll()
    .where("image_id", "=", imageId)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">=", now)]))
    .orderBy("created_at")
    .execute();
  return rows.map(fromRow);
}

/** Fail every task still pending or processing (after a restart nothing is running them). */
export async function failUnfinishedTasks(core: ImageCore, message: string): Promise<void> {
  const rows = await imageDb(core)
    .selectFrom("image_task")
    .select("id")
    .where("status", "in", ["pending", "processing"])
    .execute();
  for (const r of rows) await updateTask(core, r.id, "failure", { message });
}
