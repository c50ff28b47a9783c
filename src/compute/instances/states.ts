// Nova's instance state model as its API exposes it: vm_state (stable), task_state (what is under way) and the
// status the API derives from both (nova/compute/vm_states.py, task_states.py, api/openstack/common.py).

/** Stable states. */
export const VmState = {
  ACTIVE: "active",
  BUILDING: "building",
  PAUSED: "paused",
  SUSPENDED: "suspended",
  STOPPED: "stopped",
  RESCUED: "rescued",
  RESIZED: "resized",
  SOFT_DELETED: "soft-delete",
  DELETED: "deleted",
  ERROR: "error",
  SHELVED: "shelved",
  SHELVED_OFFLOADED: "shelved_offloaded",
} as const;
export type VmState = (typeof VmState)[keyof typeof VmState];

/** Transitional states (only the ones Stratus enters). */
export const TaskState = {
  SCHEDULING: "scheduling",
  NETWORKING: "networking",
  SPAWNING: "spawning",
  IMAGE_SNAPSHOT: "image_snapshot",
  IMAGE_PENDING_UPLOAD: "image_pending_upload",
  IMAGE_UPLOADING: "image_uploading",
  RESIZE_PREP: "resize_prep",
  RESIZE_MIGRATING: "resize_migrating",
  RESIZE_MIGRATED: "resize_migrated",
  RESIZE_FINISH: "resize_finish",
  RESIZE_REVERTING: "resize_reverting",
  RESIZE_CONFIRMING: "resize_confirming",
  REBOOTING: "rebooting",
  REBOOT_PENDING: "reboot_pending",
  REBOOT_STARTED: "reboot_started",
  REBOOTING_HARD: "rebooting_hard",
  REBOOT_PENDING_HARD: "reboot_pending_hard",
  REBOOT_STARTED_HARD: "reboot_started_hard",
  PAUSING: "pausing",
  UNPAUSING: "unpausing",
  SUSPENDING: "suspending",
  RESUMING: "resuming",
  POWERING_OFF: "powering-off",
  POWERING_ON: "powering-on",
  RESCUING: "rescuing",
  UNRESCUING: "unrescuing",
  REBUILDING: "rebuilding",
  REBUILD_SPAWNING: "rebuild_spawning",
  MIGRATING: "migrating",
  DELETING: "deleting",
  SOFT_DELETING: "soft-deleting",
  RESTORING: "restoring",
  SHELVING: "shelving",
  SHELVING_IMAGE_PENDING_UPLOAD: "shelving_image_pending_upload",
  SHELVING_IMAGE_UPLOADING: "shelving_image_uploading",
  SHELVING_OFFLOADING: "shelving_offloading",
  UNSHELVING: "unshelving",
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

const T = TaskState;
const REBOOT = [T.REBOOTING, T.REBOOT_PENDING, T.REBOOT_STARTED];
const HARD_REBOOT = [T.REBOOTING_HARD, T.REBOOT_PENDING_HARD, T.REBOOT_STARTED_HARD];
const REBUILD = [T.REBUILDING, T.REBUILD_SPAWNING, "rebuild_block_device_mapping"];
const RESIZE = [T.RESIZE_PREP, T.RESIZE_MIGRATING, T.RESIZE_MIGRATED, T.RESIZE_FINISH];

function table(def: string, over: Array<[string[], string]>): { def: string; map: Map<string, string> } {
  const map = new Map<string, string>();
  for (const [tasks, status] of over) for (const t of tasks) map.set(t, status);
  return { def, map };
}

const STATE_MAP: Record<string, { def: string; map: Map<string, string> }> = {
  active: table("ACTIVE", [
    [REBOOT, "REBOOT"],
    [HARD_REBOOT, "HARD_REBOOT"],
    [["updating_password"], "PASSWORD"],
    [REBUILD, "REBUILD"],
    [[T.MIGRATING], "MIGRATING"],
    [RESIZE, "RESIZE"],
  ]),
  building: table("BUILD", []),
  stopped: table("SHUTOFF", [
    [RESIZE, "RESIZE"],
    [REBUILD, "REBUILD"],
  ]),
  resized: table("VERIFY_RESIZE", [[[T.RESIZE_REVERTING], "REVERT_RESIZE"]]),
  paused: table("PAUSED", [[[T.MIGRATING], "MIGRATING"]]),
  suspended: table("SUSPENDED", []),
  rescued: table("RESCUE", []),
  error: table("ERROR", [[REBUILD, "REBUILD"]]),
  deleted: table("DELETED", []),
  "soft-delete": table("SOFT_DELETED", []),
  shelved: table("SHELVED", []),
  shelved_offloaded: table("SHELVED_OFFLOADED", []),
};

/** The API status of a server, from its vm_state and task_state. */
export function serverStatus(vmState: string, taskState: string | null): string {
  const entry = STATE_MAP[vmState];
  if (!entry) return "UNKNOWN";
  return (taskState && entry.map.get(taskState)) || entry.def;
}

/** The vm_states (and task_states) a status filter means: `?status=ACTIVE` → vm_state active, ... */
export function statusToStates(status: string): { vmStates: string[]; taskStates?: string[] } | null {
  const s = status.toUpperCase();
  const vm: string[] = [];
  const tasks = new Set<string>();
  for (const [state, { def, map }] of Object.entries(STATE_MAP)) {
    if (def === s) vm.push(state);
    for (const [task, st] of map) {
      if (st !== s) continue;
      if (!vm.includes(state)) vm.push(state);
      tasks.add(task);
    }
  }
  if (vm.length === 0) return null;
  const onlyTasks = [...Object.values(STATE_MAP)].every((e) => e.def !== s);
  return onlyTasks ? { vmStates: vm, taskStates: [...tasks] } : { vmStates: vm };
}
