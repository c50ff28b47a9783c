// POST /v3/{project}/volumes/{id}/action: one action per request, each with its own policy rule (extend, bootable,
// image metadata, read-only, reset-status, force-delete, retype, revert, and the classic attach actions).
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import { complete, connect, remove, reserve, settle } from "../attach.js";
import type { VolumeCore } from "../core.js";
import { badRequest, invalidInput, invalidVolume, notFound, typeNotFound } from "../errors.js";
import { checkQuota, underQuota } from "../quotas.js";
import { checkTypeQuota } from "../type-quotas.js";
import { agentOf } from "../scheduler.js";
import { attachmentsOf, getAttachment } from "../store/attachments.js";
import {
  mapObject,
  mapText,
  parseMap,
  READONLY_FALSE,
  READONLY_TRUE,
  type VolumeRow,
} from "../store/rows.js";
import { getSnapshot, snapshotsOf, transitionSnapshot } from "../store/snapshots.js";
import { refuseEncryptedType } from "../encryption.js";
import { findType } from "../store/types.js";
import { transitionVolume, updateVolume } from "../store/volumes.js";
import { connectorOf, needs } from "./attachments.js";
import { uploadImageAction } from "./upload-image.js";
import { boolOf, callerOf, field, metadataOf, optString, sizeOf, type Ctx } from "./common.js";
import { multiattachSpec, volumeOf } from "./volumes.js";
import { unmanageAction } from "./manage.js";
import { migrateAction, migrateCompletionAction, retypeTarget, startRetypeMigration } from "./migrate.js";

type Action = (core: VolumeCore, ctx: Ctx, v: VolumeRow, arg: unknown) => Promise<unknown>;

const VOLUME_STATUSES = [
  "creating",
  "available",
  "deleting",
  "error",
  "error_deleting",
  "error_managing",
  "managing",
  "attaching",
  "in-use",
  "detaching",
  "maintenance",
  "reserved",
  "restoring-backup",
  "error_restoring",
  "downloading",
  "uploading",
  "retyping",
  "extending",
  "error_extending",
  "awaiting-transfer",
];

/** The migration statuses os-reset_status may set, as Cinder ("none" clears it). */
const MIGRATION_STATUSES = ["migrating", "error", "success", "completing", "none", "starting"];

const obj = (arg: unknown, name: string): Record<string, unknown> => {
  if (arg === null || typeof arg !== "object" || Array.isArray(arg))
    throw invalidInput(`Invalid request body for ${name}.`);
  return arg as Record<string, unknown>;
};

const accepted = () => reply(202, undefined);

/** The actions by name, with their policy rule. */
const ACTIONS = new Map<string, [string, Action]>([
  ["os-volume_upload_image", ["volume_extension:volume_actions:upload_image", uploadImageAction]],
  [
    "os-extend",
    [
      "volume:extend",
      async (core, ctx, v, arg) => {
        const newSize = sizeOf(field(obj(arg, "os-extend"), "new_size"), "new_size");
        const inUse = v.status === "in-use";
        if (inUse) {
          if (ctx.microversion.lt("3.42"))
            throw invalidVolume(`Volume status must be 'available' to extend, currently ${v.status}.`);
          ctx.authorize("volume:extend_attached_volume", { project_id: v.project_id });
        } else if (v.status !== "available")
          throw invalidVolume(`Volume status must be 'available' to extend, currently ${v.status}.`);
        if (newSize <= v.size)
          throw invalidInput(
            `New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`,
          );
        await underQuota(core, v.project_id, async (c) => {
          await checkQuota(c, v.project_id, {
            gigabytes: newSize - v.size,
            perVolume: newSize,
            typeId: v.volume_type_id,
          });
          if (!(await transitionVolume(c, v.id, [v.status], { status: "extending" })))
            throw invalidVolume("the volume's status changed.");
        });
        if (v.host)
          await core.agents.cast(agentOf(v.host), "extend_volume", {
            volumeId: v.id,
            newSize,
            requestId: ctx.requestId,
          });
        return accepted();
      },
    ],
  ],
  [
    "os-set_bootable",
    [
      "volume_extension:volume_actions:set_bootable",
      async (core, _ctx, v, arg) => {
        const b = field(obj(arg, "os-set_bootable"), "bootable");
        if (b === undefined) throw invalidInput("Must specify bootable in request.");
        await updateVolume(core, v.id, { bootable: boolOf("bootable", b) ? 1 : 0 });
        return reply(200, undefined);
      },
    ],
  ],
  [
    "os-set_image_metadata",
    [
      "volume_extension:volume_image_metadata:set",
      async (core, _ctx, v, arg) => {
        const add = metadataOf(field(obj(arg, "os-set_image_metadata"), "metadata"));
        const m = parseMap(v.image_metadata);
        for (const [k, x] of add) m.set(k, x);
        await updateVolume(core, v.id, { image_metadata: mapText(m) });
        return { metadata: mapObject(m) };
      },
    ],
  ],
  [
    "os-unset_image_metadata",
    [
      "volume_extension:volume_image_metadata:remove",
      async (core, _ctx, v, arg) => {
        const key = optString(obj(arg, "os-unset_image_metadata"), "key");
        if (!key) throw invalidInput("Must specify key in request.");
        const m = parseMap(v.image_metadata);
        if (!m.delete(key))
          throw notFound(`Glance metadata for volume ${v.id} with key ${key} could not be found.`);
        await updateVolume(core, v.id, { image_metadata: mapText(m) });
        return reply(200, undefined);
      },
    ],
  ],
  [
    "os-show_image_metadata",
    [
      "volume_extension:volume_image_metadata:show",
      async (_core, _ctx, v) => ({ metadata: mapObject(parseMap(v.image_metadata)) }),
    ],
  ],
  [
    "os-update_readonly_flag",
    [
      "volume:update_readonly_flag",
      async (core, _ctx, v, arg) => {
        const ro = field(obj(arg, "os-update_readonly_flag"), "readonly");
        if (ro === undefined) throw invalidInput("Must specify readonly in request.");
        if (v.status !== "available")
          throw invalidVolume(`Volume status must be available to update readonly flag.`);
        await updateVolume(core, v.id, {
          readonly: boolOf("readonly", ro) ? READONLY_TRUE : READONLY_FALSE,
        });
        return accepted();
      },
    ],
  ],
  [
    "os-reset_status",
    [
      "volume_extension:volume_admin_actions:reset_status",
      async (core, _ctx, v, arg) => {
        const o = obj(arg, "os-reset_status");
        const status = optString(o, "status", 32);
        const attach = optString(o, "attach_status", 32);
        if (status === undefined && attach === undefined && field(o, "migration_status") === undefined)
          throw invalidInput("Must specify 'status', 'attach_status' or 'migration_status' for update.");
        if (status != null && !VOLUME_STATUSES.includes(status))
          throw invalidInput(`Invalid status: ${status}`);
        if (attach != null && !["attached", "detached"].includes(attach))
          throw invalidInput(`Invalid attach status: ${attach}`);
        const mig = optString(o, "migration_status", 32);
        if (mig != null && !MIGRATION_STATUSES.includes(mig.toLowerCase()))
          throw invalidInput(`Invalid migration status: ${mig}`);
        const set: Partial<VolumeRow> = {};
        if (mig) set.migration_status = mig.toLowerCase() === "none" ? null : mig.toLowerCase();
        if (status) set.status = status;
        if (attach) set.attach_status = attach;
        await updateVolume(core, v.id, set);
        return accepted();
      },
    ],
  ],
  [
    "os-force_delete",
    [
      "volume_extension:volume_admin_actions:force_delete",
      async (core, ctx, v) => {
        await transitionVolume(core, v.id, [v.status], { status: "deleting" });
        for (const s of await snapshotsOf(core, v.id))
          await transitionSnapshot(core, s.id, [s.status], "deleting");
        for (const a of await attachmentsOf(core, v.id)) await remove(core, a.id);
        await updateVolume(core, v.id, { status: "deleting" });
        if (v.host)
          await core.agents.cast(agentOf(v.host), "delete_volume", {
            volumeId: v.id,
            requestId: ctx.requestId,
          });
        else {
          await core.db.deleteFrom("volume_snapshot").where("volume_id", "=", v.id).execute();
          await core.db.deleteFrom("volume_volume").where("id", "=", v.id).execute();
        }
        return accepted();
      },
    ],
  ],
  [
    "os-migrate_volume",
    [
      "volume_extension:volume_admin_actions:migrate_volume",
      (core, ctx, v, arg) => migrateAction(core, ctx, v, obj(arg, "os-migrate_volume")),
    ],
  ],
  [
    "os-migrate_volume_completion",
    [
      "volume_extension:volume_admin_actions:migrate_volume_completion",
      (core, ctx, v, arg) => migrateCompletionAction(core, ctx, v, obj(arg, "os-migrate_volume_completion")),
    ],
  ],
  ["os-unmanage", ["volume_extension:volume_unmanage", (core, ctx, v) => unmanageAction(core, ctx, v)]],
  [
    "os-retype",
    [
      "volume:retype",
      async (core, ctx, v, arg) => {
        const o = obj(arg, "os-retype");
        const name = optString(o, "new_type");
        if (!name) throw invalidInput("New volume type must be specified.");
        const policy = optString(o, "migration_policy", 16);
        if (policy != null && !["never", "on-demand"].includes(policy))
          throw invalidInput(`Invalid migration policy: ${policy}`);
        const t = await findType(core, callerOf(ctx), name);
        if (!t) throw typeNotFound(name);
        if (!["available", "in-use"].includes(v.status))
          throw invalidVolume(
            `Volume status must be available or in-use, but current status is: ${v.status}.`,
          );
        if (t.id === v.volume_type_id) throw invalidInput("Retype requires a different volume type.");
        await refuseEncryptedType(core, t.id);
        const multiattach = multiattachSpec(parseMap(t.extra_specs)) ? 1 : 0;
        // As Cinder: a guest opened the volume shareable or not, so an in-use volume keeps its multiattach.
        if (v.status === "in-use" && multiattach !== (v.multiattach ? 1 : 0))
          throw invalidInput("Retyping an in-use volume to or from a multiattach type is not supported.");
        // A pool that does not fit the new type: migrate (on-demand) to one of this host that does.
        const dest = await retypeTarget(core, v, t, policy ?? null);
        await underQuota(core, v.project_id, async (c) => {
          await checkTypeQuota(c, v.project_id, t.id, { volumes: 1, gigabytes: v.size });
          if (!dest) await updateVolume(c, v.id, { volume_type_id: t.id, multiattach });
        });
        if (dest) {
          await startRetypeMigration(core, ctx, v, dest, t.id);
          await updateVolume(core, v.id, { multiattach });
        }
        return accepted();
      },
    ],
  ],
  [
    "revert",
    [
      "volume:revert_to_snapshot",
      async (core, ctx, v, arg) => {
        needs(ctx, "3.40");
        const sid = optString(obj(arg, "revert"), "snapshot_id", 36);
        if (!sid) throw invalidInput("Must specify snapshot_id in request.");
        const s = await getSnapshot(core, sid);
        if (!s || s.volume_id !== v.id) throw notFound(`Snapshot ${sid} could not be found.`);
        const latest = (await snapshotsOf(core, v.id)).sort((a, b) =>
          a.created_at < b.created_at ? 1 : -1,
        )[0];
        if (latest?.id !== s.id)
          throw invalidInput(`Volume ${v.id} can only be reverted to its latest snapshot.`);
        if (v.status !== "available" || s.status !== "available")
          throw invalidVolume("The volume and the snapshot must be available to revert.");
        if (v.size !== s.size) throw invalidVolume("The volume's size must be the snapshot's to revert.");
        await transitionVolume(core, v.id, ["available"], { status: "reverting" });
        await transitionSnapshot(core, s.id, ["available"], "restoring");
        if (v.host)
          await core.agents.cast(agentOf(v.host), "revert_to_snapshot", {
            volumeId: v.id,
            snapshotId: s.id,
            requestId: ctx.requestId,
          });
        return accepted();
      },
    ],
  ],
  [
    "os-reserve",
    [
      "volume_extension:volume_actions:reserve",
      async (core, _ctx, v) => {
        await reserve(core, v, null, v.readonly === READONLY_TRUE ? "ro" : "rw");
        await transitionVolume(core, v.id, ["reserved"], { status: "attaching" });
        return accepted();
      },
    ],
  ],
  [
    "os-unreserve",
    [
      "volume_extension:volume_actions:unreserve",
      async (core, _ctx, v) => {
        for (const a of await attachmentsOf(core, v.id))
          if (a.attach_status === "reserved") await remove(core, a.id);
        await settle(core, v.id);
        return accepted();
      },
    ],
  ],
  [
    "os-begin_detaching",
    [
      "volume_extension:volume_actions:begin_detaching",
      async (core, _ctx, v) => {
        if (!(await transitionVolume(core, v.id, ["in-use"], { status: "detaching" })))
          throw invalidVolume(
            `Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.`,
          );
        return accepted();
      },
    ],
  ],
  [
    "os-roll_detaching",
    [
      "volume_extension:volume_actions:roll_detaching",
      async (core, _ctx, v) => {
        await transitionVolume(core, v.id, ["detaching"], { status: "in-use" });
        return accepted();
      },
    ],
  ],
  [
    "os-initialize_connection",
    [
      "volume_extension:volume_actions:initialize_connection",
      async (core, _ctx, v, arg) => {
        const connector = connectorOf(field(obj(arg, "os-initialize_connection"), "connector"));
        const open = (await attachmentsOf(core, v.id)).find((a) => a.attach_status !== "attached") ?? null;
        const a = open ?? (await reserve(core, v, null, v.readonly === READONLY_TRUE ? "ro" : "rw"));
        return { connection_info: await connect(core, a, connector) };
      },
    ],
  ],
  [
    "os-terminate_connection",
    [
      "volume_extension:volume_actions:terminate_connection",
      async (core, _ctx, v, arg) => {
        connectorOf(field(obj(arg, "os-terminate_connection"), "connector"));
        if (v.host && (await attachmentsOf(core, v.id)).every((a) => a.attach_status !== "attached"))
          await core.agents.call(agentOf(v.host), "terminate_connection", { volumeId: v.id });
        return accepted();
      },
    ],
  ],
  [
    "os-attach",
    [
      "volume_extension:volume_actions:attach",
      async (core, _ctx, v, arg) => {
        const o = obj(arg, "os-attach");
        const instance = optString(o, "instance_uuid", 36) ?? null;
        const host = optString(o, "host_name") ?? null;
        if (!instance && !host) throw invalidInput("Invalid request to attach volume to an invalid target");
        const mountpoint = optString(o, "mountpoint") ?? null;
        const mode = optString(o, "mode", 2) ?? "rw";
        if (mode !== "rw" && mode !== "ro")
          throw invalidInput(
            "Invalid request to attach volume with an invalid mode. Attaching mode should be 'rw' or 'ro'",
          );
        const pending = (await attachmentsOf(core, v.id)).find((a) => a.attach_status !== "attached");
        const a = pending ?? (await reserve(core, v, instance, mode));
        await core.db
          .updateTable("volume_attachment")
          .set({ instance_uuid: instance, attached_host: host, attach_mode: mode })
          .where("id", "=", a.id)
          .execute();
        await complete(core, a, mountpoint);
        return accepted();
      },
    ],
  ],
  [
    "os-force_detach",
    [
      "volume_extension:volume_admin_actions:force_detach",
      async (core, _ctx, v, arg) => {
        // Whatever the volume's status: the attachment (or the only one) goes, its export with it.
        const o = arg === null || arg === undefined ? {} : obj(arg, "os-force_detach");
        const id = optString(o, "attachment_id", 36) ?? null;
        const all = await attachmentsOf(core, v.id);
        const a = id ? all.find((x) => x.id === id) : all.length === 1 ? all[0] : undefined;
        if (id && !a)
          throw notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);
        if (!a && all.length > 1)
          throw invalidVolume(
            "Detach volume failed: More than one attachment, but no attachment_id provided.",
          );
        if (a) await remove(core, a.id);
        else await settle(core, v.id);
        return accepted();
      },
    ],
  ],
  [
    "os-detach",
    [
      "volume_extension:volume_actions:detach",
      async (core, _ctx, v, arg) => {
        const id =
          arg && typeof arg === "object"
            ? optString(arg as Record<string, unknown>, "attachment_id", 36)
            : null;
        const all = await attachmentsOf(core, v.id);
        if (id) {
          const a = await getAttachment(core, id);
          if (!a || a.volume_id !== v.id)
            throw notFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);
          await remove(core, a.id);
        } else if (all.length > 1)
          throw invalidVolume(
            "Detach volume failed: More than one attachment, but no attachment_id provided.",
          );
        else for (const a of all) await remove(core, a.id);
        return accepted();
      },
    ],
  ],
]);

/** POST /volumes/{id}/action. */
export function actionRoutes(core: VolumeCore): Route[] {
  return [
    route({
      method: "POST",
      path: "/v3/:project_id/volumes/:volume_id/action",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const b = ctx.body as unknown;
        if (b === null || typeof b !== "object" || Array.isArray(b))
          throw badRequest("The request body is malformed or not a JSON object.");
        const keys = Object.keys(b);
        if (keys.length !== 1) throw badRequest("Exactly one action must be given in the request body.");
        const entry = ACTIONS.get(keys[0]);
        if (!entry) throw badRequest(`There is no such action: ${keys[0]}`);
        const [rule, act] = entry;
        const v = await volumeOf(core, ctx);
        ctx.authorize(rule, { project_id: v.project_id, user_id: v.user_id });
        return act(core, ctx, v, (b as Record<string, unknown>)[keys[0]]);
      },
    }),
  ];
}
