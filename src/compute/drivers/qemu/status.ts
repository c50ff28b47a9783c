// QEMU run states (QMP query-status) as Nova power states, the way Nova's libvirt driver maps domain states.
import { PowerState } from "../types.js";
import type { QmpRunState } from "./qmp.js";

/** The Nova power state of a QEMU in run state `status`. */
export function powerStateFromRunState(status: QmpRunState | string): PowerState {
  switch (status) {
    case "running":
      return PowerState.RUNNING;
    case "shutdown":
      return PowerState.SHUTDOWN;
    case "suspended": // guest-initiated S3
      return PowerState.SUSPENDED;
    case "guest-panicked":
    case "internal-error":
      return PowerState.CRASHED;
    case "paused":
    case "prelaunch":
    case "inmigrate":
    case "postmigrate":
    case "finish-migrate":
    case "debug":
    case "io-error":
    case "watchdog":
    case "save-vm":
    case "restore-vm":
    case "colo":
      return PowerState.PAUSED;
    default:
      return PowerState.NOSTATE;
  }
}
