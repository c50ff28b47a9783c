// How a server's status looks: a coloured label, and whether it is changing (the list then polls faster).
import { Label } from "./pf.js";

const STEADY = new Set([
  "ACTIVE",
  "SHUTOFF",
  "ERROR",
  "PAUSED",
  "SUSPENDED",
  "RESCUE",
  "VERIFY_RESIZE",
  "SHELVED",
  "SHELVED_OFFLOADED",
  "DELETED",
]);

/** Whether a server is between states (the list polls faster while any is). */
export function changing(status: string, task?: string | null): boolean {
  return !STEADY.has(status) || !!task;
}

/** A server's status as a label. */
export function StatusLabel({ status, task }: { status: string; task?: string | null }) {
  const color =
    status === "ACTIVE" ? "green" : status === "ERROR" ? "red" : status === "SHUTOFF" ? "grey" : "blue";
  const text =
    status === "ACTIVE" ? "Active" : status.charAt(0) + status.slice(1).toLowerCase().replace(/_/g, " ");
  return (
    <Label color={color} isCompact data-status={status}>
      {task ? `${text} (${task})` : text}
    </Label>
  );
}
