// Agent handlers that copy a guest's disk into the image service: createImage snapshots and shelving (snapshot,
// power off, and — when offloading — remove the guest from this host).
import type { ArgsOf } from "../../shared/bus/index.js";
import { nowIso } from "../../shared/db/index.js";
import { requireCapability } from "../drivers/errors.js";
import { PowerState, type SnapshotSink } from "../drivers/types.js";
import { findInstance, type Instance } from "../instances/store.js";
import { TaskState as T, VmState as V } from "../instances/states.js";
import { conductorContract, type agentContract } from "../rpc.js";
import type { AgentDeps } from "./deps.js";
import { deleteImage, imageSink } from "./image-client.js";
import { advanceTask, runAction } from "./run-action.js";

type Args<K extends string> = ArgsOf<typeof agentContract, K>;

const SHUTDOWN_TIMEOUT_S = 60;
const SNAPSHOT_TASKS = [T.IMAGE_SNAPSHOT, T.IMAGE_PENDING_UPLOAD, T.IMAGE_UPLOADING];
const SHELVE_TASKS = [
  T.SHELVING,
  T.SHELVING_IMAGE_PENDING_UPLOAD,
  T.SHELVING_IMAGE_UPLOADING,
  T.SHELVING_OFFLOADING,
];

/** A sink that moves the task to `uploading` when the first bytes are ready, then uploads. */
function trackedSink(deps: AgentDeps, inst: Instance, inner: SnapshotSink, from: string, uploading: string) {
  return {
    async write(meta: Parameters<SnapshotSink["write"]>[0], data: AsyncIterable<Uint8Array>) {
      await advanceTask(deps, inst, [from], uploading);
      await inner.write(meta, data);
    },
  } satisfies SnapshotSink;
}

async function dropImage(deps: AgentDeps, imageUrl: string, imageId: string, token: string | undefined) {
  await deleteImage(imageUrl, imageId, token).catch((e: Error) =>
    deps.log.warn({ imageId, err: e.message }, "could not delete the image of a failed snapshot"),
  );
}

/** Delete the snapshot a shelved server was kept in, once it runs again (Nova does; best effort). */
export async function deleteShelvedImage(
  deps: AgentDeps,
  inst: Instance,
  token: string | undefined,
): Promise<void> {
  const { shelved_image_url: url, shelved_image_id: id } = inst.system_metadata;
  if (typeof url === "string" && typeof id === "string")
    await deleteImage(url, id, token).catch((e: Error) =>
      deps.log.warn({ uuid: inst.uuid, imageId: id, err: e.message }, "could not delete the shelved image"),
    );
}

/** createImage: snapshot the root disk into the queued image the API created. */
export function snapshotInstance(deps: AgentDeps, args: Args<"snapshot_instance">): Promise<void> {
  const { ctx, uuid, imageId, imageUrl } = args;
  return runAction(deps, ctx, uuid, {
    event: "compute_snapshot_instance",
    tasks: SNAPSHOT_TASKS,
    async run(inst) {
      await advanceTask(deps, inst, [T.IMAGE_SNAPSHOT], T.IMAGE_PENDING_UPLOAD);
      const sink = imageSink(imageUrl, imageId, ctx.token);
      await requireCapability(deps.driver, "snapshot").snapshot(
        uuid,
        trackedSink(deps, inst, sink, T.IMAGE_PENDING_UPLOAD, T.IMAGE_UPLOADING),
      );
    },
    done: () => ({}),
    cleanup: () => dropImage(deps, imageUrl, imageId, ctx.token),
  });
}

/** shelve: power off, snapshot into the shelved image, then (offload) remove the guest from this host. */
export async function shelveInstance(deps: AgentDeps, args: Args<"shelve_instance">): Promise<void> {
  const { ctx, uuid, imageId, imageUrl, offload } = args;
  const { driver, host } = deps;
  await runAction(deps, ctx, uuid, {
    event: "compute_shelve_instance",
    tasks: SHELVE_TASKS,
    async run(inst) {
      await driver.powerOff(uuid, { timeoutS: SHUTDOWN_TIMEOUT_S });
      if (imageId && imageUrl) {
        await advanceTask(deps, inst, [T.SHELVING], T.SHELVING_IMAGE_PENDING_UPLOAD);
        const sink = imageSink(imageUrl, imageId, ctx.token);
        await requireCapability(driver, "snapshot").snapshot(
          uuid,
          trackedSink(deps, inst, sink, T.SHELVING_IMAGE_PENDING_UPLOAD, T.SHELVING_IMAGE_UPLOADING),
        );
      }
      const sysmeta = {
        set: {
          shelved_at: nowIso(),
          shelved_image_id: imageId ?? null,
          shelved_host: host,
          ...(imageUrl ? { shelved_image_url: imageUrl } : {}),
        },
      };
      if (!offload) return { sysmeta };
      await advanceTask(deps, inst, SHELVE_TASKS.slice(0, 3), T.SHELVING_OFFLOADING);
      await driver.destroy(uuid);
      return { sysmeta, host: null, node: null };
    },
    done: () =>
      offload
        ? { vm_state: V.SHELVED_OFFLOADED, power_state: PowerState.NOSTATE }
        : { vm_state: V.SHELVED, power_state: PowerState.SHUTDOWN },
    async cleanup(inst) {
      // Leave the server as it was: running again if it ran, and no half-made image.
      const guests = await driver.listInstances();
      if (inst.power_state === PowerState.RUNNING && guests.includes(uuid)) await driver.powerOn(uuid);
      if (imageId && imageUrl) await dropImage(deps, imageUrl, imageId, ctx.token);
    },
  });
  await releaseIfOffloaded(deps, uuid);
}

/** shelveOffload: remove the (powered-off, snapshotted) guest of a shelved server from this host. */
export async function shelveOffloadInstance(
  deps: AgentDeps,
  args: Args<"shelve_offload_instance">,
): Promise<void> {
  const { ctx, uuid } = args;
  await runAction(deps, ctx, uuid, {
    event: "compute_shelve_offload_instance",
    tasks: [T.SHELVING_OFFLOADING],
    vmStates: [V.SHELVED],
    async run() {
      await deps.driver.powerOff(uuid).catch(() => undefined);
      await deps.driver.destroy(uuid);
      return { host: null, node: null };
    },
    done: () => ({ vm_state: V.SHELVED_OFFLOADED, power_state: PowerState.NOSTATE }),
  });
  await releaseIfOffloaded(deps, uuid);
}

/** An offloaded server holds no resources: ask the conductor to drop its placement allocation. */
async function releaseIfOffloaded(deps: AgentDeps, uuid: string): Promise<void> {
  const inst = await findInstance(deps.db, uuid);
  if (inst?.vm_state === V.SHELVED_OFFLOADED)
    await deps.bus.cast(conductorContract, "release_allocations", { uuid });
}
