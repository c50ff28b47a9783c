// After the API has recorded a new volume (status creating): pick its host and cast the work there, or set it
// error with a user message when no backend fits (Cinder's scheduler failure path).
import type { VolumeCore } from "./core.js";
import { agentOf, NoValidBackend, pickHost } from "./scheduler.js";
import { recordMessage } from "./store/messages.js";
import { parseMap, type VolumeRow } from "./store/rows.js";
import { getType } from "./store/types.js";
import { transitionVolume, updateVolume } from "./store/volumes.js";

/** Schedule a new volume (on its source's host when it is a clone or made from a snapshot). */
export async function scheduleVolume(
  core: VolumeCore,
  v: VolumeRow,
  requestId: string,
  sourceHost: string | null,
): Promise<void> {
  let host: string;
  try {
    const type = v.volume_type_id ? await getType(core, v.volume_type_id) : null;
    const specs = type ? parseMap(type.extra_specs) : new Map<string, string>();
    host = sourceHost ?? (await pickHost(core, v.size, v.availability_zone, specs));
  } catch (err) {
    if (!(err instanceof NoValidBackend)) throw err;
    await transitionVolume(core, v.id, ["creating"], { status: "error" });
    await recordMessage(core, {
      projectId: v.project_id,
      requestId,
      resourceType: "VOLUME",
      resourceId: v.id,
      eventId: "VOLUME_VOLUME_001_002",
      text: `schedule allocate volume:Could not find any available weighted backend. ${err.message}`,
    });
    return;
  }
  await updateVolume(core, v.id, { host });
  await core.agents.cast(agentOf(host), "create_volume", { volumeId: v.id, requestId });
}
