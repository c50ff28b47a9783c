// Lock/unlock (locked_reason from 2.73) and the admin actions os-resetState, injectNetworkInfo and the removed
// os-resetNetwork (410 since Nova 23.0.0).
import { ApiError } from "../../../shared/http/errors.js";
import { nowIso } from "../../../shared/db/index.js";
import type { ComputeCore } from "../../core.js";
import { startAction, withEvent } from "../../instances/actions.js";
import { casUpdate } from "../../instances/store.js";
import { invalid, type Ctx } from "../common.js";
import {
  authorizedServer,
  checkLock,
  closedObject,
  requestContext,
  stringField,
  type ActionTable,
} from "./common.js";

/** Mark the request's instance action finished (actions done entirely in the API). */
async function finishAction(core: ComputeCore, uuid: string, requestId: string): Promise<void> {
  const now = nowIso();
  await core.db
    .updateTable("compute_instance_action")
    .set({ finish_time: now, updated_at: now })
    .where("instance_uuid", "=", uuid)
    .where("request_id", "=", requestId)
    .execute();
}

/** Record an API-side action with its single "api_*" event, running `fn` inside it. */
async function apiAction(
  core: ComputeCore,
  ctx: Ctx,
  uuid: string,
  action: string,
  fn: () => Promise<unknown>,
) {
  const rc = requestContext(ctx);
  await startAction(core.db, rc, uuid, action);
  await withEvent(core.db, rc, uuid, `api_${action}`, null, fn);
  await finishAction(core, uuid, rc.requestId);
}

/** Who a lock by this caller is recorded as: the owner's project, or an admin from elsewhere. */
const lockedBy = (ctx: Ctx, projectId: string) => (ctx.auth?.projectId === projectId ? "owner" : "admin");

/** lock, unlock and the admin actions. */
export const adminActions: ActionTable = {
  lock: {
    async run(core, ctx, id, value) {
      let reason: string | null = null;
      if (ctx.microversion.gte("2.73")) {
        const body = closedObject("lock", value, ["locked_reason"], { nullable: true });
        if (body?.locked_reason !== undefined)
          reason = stringField("lock/locked_reason", body.locked_reason, 1, 255);
      }
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:os-lock-server:lock");
      const by = lockedBy(ctx, inst.project_id);
      // Locking one's own locked server again changes nothing (Nova returns early).
      if (inst.locked && by === "owner") return;
      await apiAction(core, ctx, inst.uuid, "lock", () =>
        casUpdate(core.db, inst.uuid, {}, { locked: true, locked_by: by, locked_reason: reason }),
      );
    },
  },

  unlock: {
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:os-lock-server:unlock");
      if (inst.locked_by && inst.locked_by !== lockedBy(ctx, inst.project_id))
        ctx.authorize("os_compute_api:os-lock-server:unlock:unlock_override", {
          project_id: inst.project_id,
        });
      await apiAction(core, ctx, inst.uuid, "unlock", () =>
        casUpdate(core.db, inst.uuid, {}, { locked: false, locked_by: null, locked_reason: null }),
      );
    },
  },

  "os-resetState": {
    async run(core, ctx, id, value) {
      const body = closedObject("os-resetState", value, ["state"], { required: ["state"] })!;
      if (body.state !== "active" && body.state !== "error")
        throw invalid(
          "os-resetState/state",
          body.state,
          `${JSON.stringify(body.state)} is not one of ['active', 'error']`,
        );
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:os-admin-actions:reset_state");
      const rc = requestContext(ctx);
      await startAction(core.db, rc, inst.uuid, "resetState");
      await casUpdate(core.db, inst.uuid, {}, { vm_state: body.state, task_state: null });
      await finishAction(core, inst.uuid, rc.requestId);
    },
  },

  injectNetworkInfo: {
    async run(core, ctx, id) {
      const inst = await authorizedServer(
        core,
        ctx,
        id,
        "os_compute_api:os-admin-actions:inject_network_info",
      );
      checkLock(ctx, inst);
      // Network information reaches guests through the config drive and metadata; nothing to push.
    },
  },

  "os-resetNetwork": {
    async run() {
      throw new ApiError(410, "This resource is no longer available. No forwarding address is given.");
    },
  },
};
