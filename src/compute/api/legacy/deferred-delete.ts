// forceDelete and restore (Nova's deferred delete). Stratus deletes servers at once (reclaim_instance_interval
// 0): no server is ever SOFT_DELETED, so restore always finds one in the wrong state, and forceDelete deletes as
// DELETE /servers/{id} does.
import { deleteServer } from "../servers/index.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import { VmState } from "../../instances/states.js";
import { PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { authorizedServer, checkLock, checkState } from "../server-actions/common.js";
import type { ActionTable } from "../server-actions/common.js";

const rule = (a: string) => `os_compute_api:os-deferred-delete:${a}`;
const ACTION = "/servers/{server_id}/action";

/** Policy defaults of forceDelete and restore. */
export const deferredDeletePolicies: RuleDefault[] = [
  policyRule(
    rule("restore"),
    PROJECT_MEMBER,
    "Restore a soft-deleted server.",
    "POST",
    `${ACTION} (restore)`,
  ),
  policyRule(rule("force"), PROJECT_MEMBER, "Delete a server at once.", "POST", `${ACTION} (forceDelete)`),
];

/** forceDelete, restore. */
export const deferredDeleteActions: ActionTable = {
  forceDelete: {
    // Nova accepts any value for both actions.
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, rule("force"));
      await deleteServer(core, ctx, inst);
    },
  },

  restore: {
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, rule("restore"));
      checkLock(ctx, inst);
      // Always refuses: no server is ever soft-deleted (Nova's 409 for any other vm_state).
      checkState(inst, "restore", { vm: [VmState.SOFT_DELETED] });
    },
  },
};
