// createBackup: a snapshot (createImage's flow) whose image is typed as a backup of backup_type, then, once the
// agent has uploaded it, rotation: the backups of that type for the server beyond the newest `rotation` are
// deleted (Nova's _rotate_backups, which runs after the upload). The API process watches the server for the
// end of the upload; the image_id is in the body from 2.45, before that in a Location header (rotation > 0).
import { reply } from "../../../shared/http/reply.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { TaskState as T } from "../../instances/states.js";
import { findInstance } from "../../instances/store.js";
import { invalid, type Ctx } from "../common.js";
import { PROJECT_MEMBER, policyRule } from "../admin/util.js";
import {
  authorizedServer,
  closedObject,
  metadataField,
  nameField,
  type ActionTable,
} from "../server-actions/common.js";
import { checkImageMetadataQuota, startSnapshot } from "../server-actions/images.js";

const RULE = "os_compute_api:os-create-backup";

/** Policy defaults of createBackup. */
export const backupPolicies: RuleDefault[] = [
  policyRule(RULE, PROJECT_MEMBER, "Back up a server.", "POST", "/servers/{server_id}/action (createBackup)"),
];

const SNAPSHOT_TASKS: readonly (string | null)[] = [
  T.IMAGE_SNAPSHOT,
  T.IMAGE_PENDING_UPLOAD,
  T.IMAGE_UPLOADING,
];
/** How long the API waits for an upload before giving up on rotating. */
const WATCH_MS = 6 * 3600_000;

/** Nova's parameter_types.non_negative_integer: an integer, or a string of digits. */
function rotationField(v: unknown): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "string" && /^[0-9]+$/.test(v)) return Number(v);
  throw invalid("createBackup/rotation", v, `${JSON.stringify(v)} is not a non-negative integer`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Delete the oldest backups of `type` for the server beyond the newest `rotation`. */
export async function rotateBackups(
  core: ComputeCore,
  token: string | undefined,
  uuid: string,
  type: string,
  rotation: number,
): Promise<string[]> {
  const q = new URLSearchParams({
    image_type: "backup",
    backup_type: type,
    instance_uuid: uuid,
    sort_key: "created_at",
    sort_dir: "desc",
    limit: "1000",
  });
  const ids: string[] = [];
  let path: string | null = `/v2/images?${q.toString()}`;
  while (path) {
    const res = await core.image.request("GET", path, { token });
    if (res.status !== 200) throw new Error(`listing backups: ${res.status}`);
    const body = res.body as { images: Array<{ id: string }>; next?: string };
    ids.push(...body.images.map((i) => i.id));
    path = body.images.length && body.next ? body.next : null;
  }
  const excess = ids.slice(rotation);
  for (const id of excess) await core.image.request("DELETE", `/v2/images/${id}`, { token });
  return excess;
}

/** Wait (in this process) for the server to finish uploading `imageId`, then rotate if the image is active. */
async function rotateAfterUpload(
  core: ComputeCore,
  token: string | undefined,
  uuid: string,
  imageId: string,
  type: string,
  rotation: number,
): Promise<void> {
  const end = Date.now() + WATCH_MS;
  let wait = 50;
  for (;;) {
    const inst = await findInstance(core.db, uuid);
    if (!inst || !SNAPSHOT_TASKS.includes(inst.task_state)) break;
    if (Date.now() > end) return;
    await sleep(wait);
    wait = Math.min(wait * 2, 2000);
  }
  const img = await core.image.request("GET", `/v2/images/${imageId}`, { token });
  if (img.status !== 200 || (img.body as { status?: string }).status !== "active") return;
  await rotateBackups(core, token, uuid, type, rotation);
}

/** createBackup. */
export const backupActions: ActionTable = {
  createBackup: {
    async run(core, ctx: Ctx, id, value) {
      const body = closedObject("createBackup", value, ["name", "backup_type", "rotation", "metadata"], {
        required: ["name", "backup_type", "rotation"],
      })!;
      const name = nameField("createBackup/name", body.name);
      if (typeof body.backup_type !== "string")
        throw invalid("createBackup/backup_type", body.backup_type, "is not of type 'string'");
      const type = body.backup_type;
      const rotation = rotationField(body.rotation);
      const metadata =
        body.metadata === undefined ? {} : metadataField("createBackup/metadata", body.metadata);
      const inst = await authorizedServer(core, ctx, id, RULE);
      await checkImageMetadataQuota(core, ctx, inst, metadata);
      const { imageId } = await startSnapshot(core, ctx, inst, {
        action: "createBackup",
        name,
        properties: { image_type: "backup", ...metadata, backup_type: type },
      });
      const token = ctx.auth?.token;
      rotateAfterUpload(core, token, inst.uuid, imageId, type, rotation).catch((e: Error) =>
        core.log.warn({ uuid: inst.uuid, imageId, err: e.message }, "backup rotation failed"),
      );
      if (ctx.microversion.gte("2.45")) return reply(202, { image_id: imageId });
      return reply(
        202,
        undefined,
        rotation > 0 ? { location: `${ctx.serviceUrl}/v2.1/images/${imageId}` } : {},
      );
    },
  },
};
