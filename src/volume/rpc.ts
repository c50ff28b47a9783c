// The volume agent's RPC contract (Cinder's volume manager API): the API casts the slow work (create, delete,
// extend, snapshots) to the agent of the host the scheduler picked and calls it for exports. Messages carry ids;
// the agent reads the rows, does the work through its backend and records the outcome, so a repeated message
// finds the work done (backend operations are idempotent).
import { call, cast, defineContract } from "../shared/bus/index.js";
import type { ConnectionInfo } from "./drivers/transports.js";

/** One volume agent per storage host, addressed by host name. */
export const volumeAgentContract = defineContract("volume_agent", "1.1", {
  /** Make a volume (empty, from a snapshot, a volume or an image, as its row says) and set it available or error. */
  create_volume: cast<{ volumeId: string; requestId: string }>(),
  /** Delete a volume (and, with cascade, its snapshots) from the backend, then its row. */
  delete_volume: cast<{ volumeId: string; requestId: string }>(),
  /** Grow a volume to newSize GiB; tell compute when it is attached. */
  extend_volume: cast<{ volumeId: string; newSize: number; requestId: string }>(),
  /** Take a snapshot, then set it available or error. */
  create_snapshot: cast<{ snapshotId: string; requestId: string }>(),
  /** Delete a snapshot from the backend, then its row. */
  delete_snapshot: cast<{ snapshotId: string; requestId: string }>(),
  /** Roll a volume back to a snapshot (3.40), then set both available. */
  revert_to_snapshot: cast<{ volumeId: string; snapshotId: string; requestId: string }>(),
  /** Upload a volume's data (converted to diskFormat) to a queued image, then set the volume back. */
  upload_image: cast<{ volumeId: string; imageId: string; diskFormat: string; requestId: string }>(),
  /** Back up a volume (or its snapshot) through the backup driver, then set the backup available or error. */
  create_backup: cast<{ backupId: string; requestId: string }>(),
  /** Write a backup's data into a volume (made first when new), then set both available. */
  restore_backup: cast<{ backupId: string; volumeId: string; requestId: string }>(),
  /** Remove a backup's objects, then its row. */
  delete_backup: cast<{ backupId: string; requestId: string }>(),
  /**
   * Move a volume to another backend of this host (`host@backend#pool`), copying its data; with newTypeId, the
   * migration of a retype, which sets the type once the data is there (1.1).
   */
  migrate_volume: cast<{ volumeId: string; host: string; newTypeId: string | null; requestId: string }>({
    since: "1.1",
  }),
  /** Adopt what the backend holds under `ref` as a `managing` volume, then set it available (1.1). */
  manage_volume: cast<{ volumeId: string; ref: string; requestId: string }>({ since: "1.1" }),
  /** Forget an `unmanaging` volume, keeping its data on the backend, then remove its row (1.1). */
  unmanage_volume: cast<{ volumeId: string; requestId: string }>({ since: "1.1" }),
  /** What a backend of this host could adopt (`backend`: its name) (1.1). */
  list_manageable: call<{ backend: string | null }, Array<{ ref: string; sizeGb: number }>>({ since: "1.1" }),
  /** Export a volume (recorded, so it is restored after a restart) and return its connection info. */
  initialize_connection: call<{ volumeId: string; readOnly: boolean }, ConnectionInfo>(),
  /** Stop exporting a volume (no attachment needs it any more). */
  terminate_connection: call<{ volumeId: string }, { ok: true }>(),
});
