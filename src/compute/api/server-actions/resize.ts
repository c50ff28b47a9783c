// resize, confirmResize and revertResize: flavor checks and the cores/RAM quota delta in the API (checked and
// recorded atomically under the project's quota lock), then the conductor does the move (conductor/resize.ts).
import type { Kysely } from "kysely";
import { withQuotaLock } from "../../../shared/db/index.js";
import { noContent } from "../../../shared/http/reply.js";
import { ApiError } from "../../../shared/http/errors.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, forbidden } from "../../errors.js";
import { TaskState as T, VmState as V } from "../../instances/states.js";
import type { Instance, InstanceFlavor } from "../../instances/store.js";
import { findMigration, casMigration, loadFlavor } from "../../conductor/migration-records.js";
import { conductorContract } from "../../rpc.js";
import { invalid, type Ctx } from "../common.js";
import { checkImageFits } from "../image-fit.js";
import { visibleFlavor } from "../flavors.js";
import { projectLimits, projectUsage } from "../quotas.js";
import { refId } from "../servers/create-input.js";
import {
  authorizedServer,
  begin,
  checkLock,
  checkState,
  closedObject,
  needHostUp,
  serviceUp,
  type ActionTable,
} from "./common.js";

/**
 * Nova's _check_quota_for_upsize: growing from `from` to `to` must fit the project's cores and RAM quota
 * (403 "Quota exceeded for cores, ram: Requested 2, 1024, but already used ..."). Counts through `db`: call it
 * under the project's quota lock (beginCounted), in the transaction that records the growth.
 */
export async function checkUpsizeQuota(
  db: Kysely<any>,
  inst: Instance,
  from: Pick<InstanceFlavor, "vcpus" | "memory_mb">,
  to: Pick<InstanceFlavor, "vcpus" | "memory_mb">,
): Promise<void> {
  const deltas = new Map([
    ["cores", to.vcpus - from.vcpus],
    ["ram", to.memory_mb - from.memory_mb],
  ]);
  const limits = await projectLimits(db, inst.project_id);
  const usage = await projectUsage(db, inst.project_id, inst.user_id);
  const overs = [...deltas.keys()].filter((k) => {
    const d = deltas.get(k)!;
    return d > 0 && limits[k] >= 0 && usage[k] + d > limits[k];
  });
  if (overs.length === 0) return;
  const list = (f: (k: string) => number) => overs.map(f).join(", ");
  throw forbidden(
    `Quota exceeded for ${overs.join(", ")}: Requested ${list((k) => deltas.get(k)!)}, but already used ` +
      `${list((k) => usage[k])} of ${list((k) => limits[k])} ${overs.join(", ")}`,
  );
}

/**
 * Start a move that changes the server's flavor from `from` to `to`: the quota check and the state change that
 * records the pending flavor (system_metadata, counted by projectUsage) in one transaction under the project's
 * quota lock (the one server creates take), so no concurrent resize or create of any API process over-commits.
 */
async function beginCounted(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  from: InstanceFlavor,
  to: InstanceFlavor,
  o: Parameters<typeof begin>[3],
) {
  return withQuotaLock(core.db, "compute_quota_lock", "instances", inst.project_id, async (trx) => {
    await checkUpsizeQuota(trx, inst, from, to);
    return begin(core, ctx, inst, { ...o, db: trx });
  });
}

/** The flavor to resize to, as Nova finds it: missing, invisible or disabled flavors are 400. */
async function targetFlavor(core: ComputeCore, ctx: Ctx, flavorid: string): Promise<InstanceFlavor> {
  const notFound = () => badRequest(`Flavor ${flavorid} could not be found.`);
  try {
    const row = await visibleFlavor(core, ctx, flavorid);
    if (Number(row.disabled) === 1 || row.disabled === true) throw notFound();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw notFound();
    throw e;
  }
  const f = await loadFlavor(core.db, flavorid);
  if (!f) throw notFound();
  return f;
}

/** resize, confirmResize, revertResize. */
export const resizeActions: ActionTable = {
  resize: {
    async run(core, ctx, id, value) {
      const body = closedObject("resize", value, ["flavorRef", "OS-DCF:diskConfig"], {
        required: ["flavorRef"],
      })!;
      const ref = body.flavorRef;
      if ((typeof ref !== "string" && typeof ref !== "number") || String(ref).length < 1)
        throw invalid("resize/flavorRef", ref, `${JSON.stringify(ref)} is not of type 'string', 'integer'`);
      const dc = body["OS-DCF:diskConfig"];
      if (dc !== undefined && dc !== "AUTO" && dc !== "MANUAL")
        throw invalid(
          "resize/OS-DCF:diskConfig",
          dc,
          `${JSON.stringify(dc)} is not one of ['AUTO', 'MANUAL']`,
        );
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:resize");
      checkLock(ctx, inst);
      const rule = { vm: [V.ACTIVE, V.STOPPED] };
      checkState(inst, "resize", rule);
      await needHostUp(core, inst);
      const flavorid = refId(String(ref));
      const flavor = await targetFlavor(core, ctx, flavorid);
      if (flavor.flavorid === inst.flavor.flavorid)
        throw badRequest("When resizing, instances must change flavor!");
      if (flavor.root_gb === 0 && inst.flavor.root_gb !== 0)
        throw badRequest(
          "Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.",
        );
      checkImageFits(ctx, inst.request_spec.image, flavor, inst.project_id);
      const rc = await beginCounted(core, ctx, inst, inst.flavor, flavor, {
        action: "resize",
        record: "resize",
        rule,
        patch: {
          task_state: T.RESIZE_PREP,
          progress: 0,
          sysmeta: { set: { new_flavor: flavor, ...(dc ? { disk_config: dc } : {}) } },
        },
      });
      await core.bus.cast(conductorContract, "migrate_server", { ctx: rc, uuid: inst.uuid, flavorid });
    },
  },

  confirmResize: {
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:confirm_resize");
      checkLock(ctx, inst);
      const rule = { vm: [V.RESIZED] };
      checkState(inst, "confirmResize", rule);
      const mig = await findMigration(core.db, inst.uuid, ["finished"], ["resize", "migration"]);
      if (!mig) throw badRequest("Instance has not been resized.");
      if (!mig.source_compute || !(await serviceUp(core, mig.source_compute)))
        throw new ApiError(409, "Service is unavailable at this time.");
      if (!(await casMigration(core.db, mig.uuid, ["finished"], "confirming")))
        throw badRequest("Instance has not been resized.");
      try {
        const rc = await begin(core, ctx, inst, {
          action: "confirmResize",
          record: "confirmResize",
          rule,
          patch: {},
        });
        await core.bus.cast(conductorContract, "confirm_resize", { ctx: rc, uuid: inst.uuid });
      } catch (e) {
        await casMigration(core.db, mig.uuid, ["confirming"], "finished");
        throw e;
      }
      return noContent();
    },
  },

  revertResize: {
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:revert_resize");
      checkLock(ctx, inst);
      const rule = { vm: [V.RESIZED] };
      checkState(inst, "revertResize", rule);
      const mig = await findMigration(core.db, inst.uuid, ["finished"], ["resize", "migration"]);
      if (!mig) throw badRequest("Instance has not been resized.");
      const old = inst.system_metadata.old_flavor as InstanceFlavor | undefined;
      if (!old) throw badRequest("Flavor used by the instance could not be found.");
      if (!(await casMigration(core.db, mig.uuid, ["finished"], "reverting")))
        throw badRequest("Instance has not been resized.");
      try {
        const rc = await beginCounted(core, ctx, inst, inst.flavor, old, {
          action: "revertResize",
          record: "revertResize",
          rule,
          patch: { task_state: T.RESIZE_REVERTING },
        });
        await core.bus.cast(conductorContract, "revert_resize", { ctx: rc, uuid: inst.uuid });
      } catch (e) {
        await casMigration(core.db, mig.uuid, ["reverting"], "finished");
        throw e;
      }
    },
  },
};
