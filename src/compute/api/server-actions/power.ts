// Power and rescue actions: reboot, os-start, os-stop, pause/unpause, suspend/resume, trigger_crash_dump (2.17),
// rescue/unrescue and changePassword. Each checks the lock and the state, sets the task and casts to the host.
import { reply } from "../../../shared/http/reply.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, conflict } from "../../errors.js";
import { TaskState as T, VmState as V } from "../../instances/states.js";
import type { Instance } from "../../instances/store.js";
import { invalid, type Ctx } from "../common.js";
import {
  agentTarget,
  authorizedServer,
  begin,
  checkLock,
  checkState,
  closedObject,
  generatePassword,
  needHost,
  stringField,
  uuidField,
  type ActionTable,
  type StateRule,
} from "./common.js";

const ALLOW_HARD_REBOOT = [V.ACTIVE, V.STOPPED, V.PAUSED, V.SUSPENDED, V.ERROR];
const ALLOW_REBOOT_TASKS = [
  null,
  T.REBOOTING,
  T.REBOOT_PENDING,
  T.REBOOT_STARTED,
  T.RESUMING,
  T.REBOOTING_HARD,
  T.UNPAUSING,
  T.PAUSING,
  T.SUSPENDING,
];
const ALLOW_CRASH_DUMP = [V.ACTIVE, V.PAUSED, V.RESCUED, V.RESIZED, V.ERROR];

type SimpleCast =
  "pause_instance" | "unpause_instance" | "suspend_instance" | "resume_instance" | "unrescue_instance";

/** A body-less action that moves `vm` to `task` and casts `method` to the server's host. */
function simple(rule: string, action: string, vm: string[], task: string, method: SimpleCast) {
  return {
    async run(core: ComputeCore, ctx: Ctx, id: string) {
      const inst = await authorizedServer(core, ctx, id, rule);
      checkLock(ctx, inst);
      checkState(inst, action, { vm });
      const host = needHost(inst);
      const rc = await begin(core, ctx, inst, {
        action,
        record: action,
        rule: { vm },
        patch: { task_state: task },
      });
      await core.bus.cast(agentTarget(host), method, { ctx: rc, uuid: inst.uuid });
    },
  };
}

/** Check that an image exists for the caller (rescue images). */
async function imageExists(core: ComputeCore, ctx: Ctx, imageId: string): Promise<boolean> {
  const res = await core.image.request("GET", `/v2/images/${encodeURIComponent(imageId)}`, {
    token: ctx.auth?.token,
  });
  return res.status === 200;
}

/** Power, pause/suspend, rescue, crash dump and password actions. */
export const powerActions: ActionTable = {
  reboot: {
    async run(core, ctx, id, value) {
      const body = closedObject("reboot", value, ["type"], { required: ["type"] })!;
      const type = body.type;
      if (typeof type !== "string" || !["HARD", "Hard", "hard", "SOFT", "Soft", "soft"].includes(type))
        throw invalid(
          "reboot/type",
          type,
          `${JSON.stringify(type)} is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`,
        );
      const hard = type.toUpperCase() === "HARD";
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:reboot");
      checkLock(ctx, inst);
      const rule: StateRule = hard ? { vm: ALLOW_HARD_REBOOT, task: ALLOW_REBOOT_TASKS } : { vm: [V.ACTIVE] };
      checkState(inst, "reboot", rule);
      const host = needHost(inst);
      const task = hard ? T.REBOOTING_HARD : T.REBOOTING;
      const rc = await begin(core, ctx, inst, {
        action: "reboot",
        record: "reboot",
        rule,
        patch: { task_state: task },
      });
      await core.bus.cast(agentTarget(host), "reboot_instance", {
        ctx: rc,
        uuid: inst.uuid,
        type: hard ? "HARD" : "SOFT",
      });
    },
  },

  "os-start": {
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:start");
      checkLock(ctx, inst);
      const host = needHost(inst);
      const rc = await begin(core, ctx, inst, {
        action: "start",
        record: "start",
        rule: { vm: [V.STOPPED] },
        patch: { task_state: T.POWERING_ON },
      });
      await core.bus.cast(agentTarget(host), "start_instance", { ctx: rc, uuid: inst.uuid });
    },
  },

  "os-stop": {
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:stop");
      checkLock(ctx, inst);
      const host = needHost(inst);
      const rc = await begin(core, ctx, inst, {
        action: "stop",
        record: "stop",
        rule: { vm: [V.ACTIVE, V.ERROR] },
        patch: { task_state: T.POWERING_OFF, progress: 0 },
      });
      await core.bus.cast(agentTarget(host), "stop_instance", { ctx: rc, uuid: inst.uuid });
    },
  },

  pause: simple("os_compute_api:os-pause-server:pause", "pause", [V.ACTIVE], T.PAUSING, "pause_instance"),
  unpause: simple(
    "os_compute_api:os-pause-server:unpause",
    "unpause",
    [V.PAUSED],
    T.UNPAUSING,
    "unpause_instance",
  ),
  suspend: simple(
    "os_compute_api:os-suspend-server:suspend",
    "suspend",
    [V.ACTIVE],
    T.SUSPENDING,
    "suspend_instance",
  ),
  resume: simple(
    "os_compute_api:os-suspend-server:resume",
    "resume",
    [V.SUSPENDED],
    T.RESUMING,
    "resume_instance",
  ),
  unrescue: simple("os_compute_api:os-unrescue", "unrescue", [V.RESCUED], T.UNRESCUING, "unrescue_instance"),

  trigger_crash_dump: {
    min: "2.17",
    async run(core, ctx, id, value) {
      if (value !== null)
        throw invalid("trigger_crash_dump", value, `${JSON.stringify(value)} is not of type 'null'`);
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:trigger_crash_dump");
      checkLock(ctx, inst);
      const host = needHost(inst);
      const rc = await begin(core, ctx, inst, {
        action: "trigger_crash_dump",
        record: "trigger_crash_dump",
        rule: { vm: ALLOW_CRASH_DUMP },
        patch: {},
      });
      await core.bus.cast(agentTarget(host), "trigger_crash_dump", { ctx: rc, uuid: inst.uuid });
    },
  },

  rescue: {
    async run(core, ctx, id, value) {
      const body = closedObject("rescue", value, ["adminPass", "rescue_image_ref"], { nullable: true });
      const password =
        body?.adminPass !== undefined ? stringField("rescue/adminPass", body.adminPass) : generatePassword();
      const imageRef =
        body?.rescue_image_ref !== undefined
          ? uuidField("rescue/rescue_image_ref", body.rescue_image_ref)
          : undefined;
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:os-rescue");
      checkLock(ctx, inst);
      const rule = { vm: [V.ACTIVE, V.STOPPED, V.ERROR] };
      checkState(inst, "rescue", rule);
      if (imageRef && !(await imageExists(core, ctx, imageRef)))
        throw badRequest(`Requested rescue image '${imageRef}' is not supported`);
      const host = needHost(inst);
      const rc = await begin(core, ctx, inst, {
        action: "rescue",
        record: "rescue",
        rule,
        patch: { task_state: T.RESCUING },
      });
      await core.bus.cast(agentTarget(host), "rescue_instance", {
        ctx: rc,
        uuid: inst.uuid,
        ...(imageRef ? { rescueImageRef: imageRef } : {}),
      });
      return reply(200, { adminPass: password });
    },
  },

  changePassword: {
    async run(core, ctx, id, value) {
      const body = closedObject("changePassword", value, ["adminPass"], { required: ["adminPass"] })!;
      stringField("changePassword/adminPass", body.adminPass);
      const inst: Instance = await authorizedServer(core, ctx, id, "os_compute_api:os-admin-password");
      checkLock(ctx, inst);
      checkState(inst, "changePassword", { vm: [V.ACTIVE] });
      // No Stratus virt driver can set a guest's password (there is no guest agent): Nova's answer then.
      throw conflict("Set admin password is not supported");
    },
  },
};
