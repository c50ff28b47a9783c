// How a volume's or snapshot's status looks, and whether it is changing (the lists then poll fast).
import { Label } from "./pf.js";

const STEADY = new Set([
  "available",
  "in-use",
  "error",
  "error_deleting",
  "error_extending",
  "error_restoring",
  "awaiting-transfer",
]);

/** Whether a volume or snapshot is between states (creating, attaching, extending, deleting...). */
export function volumeChanging(status: string): boolean {
  return !STEADY.has(status);
}

/** Poll every second while any row is changing, every five seconds otherwise. */
export function pollWhileChanging<T extends { status: string }>(rows: T[] | undefined): number {
  return (rows ?? []).some((r) => volumeChanging(r.status)) ? 1000 : 5000;
}

/** A volume's or snapshot's status as a label. */
export function VolumeStatus({ status }: { status: string }) {
  const color =
    status === "available"
      ? "green"
      : status === "in-use"
        ? "teal"
        : status.startsWith("error")
          ? "red"
          : "blue";
  const text = status.charAt(0).toUpperCase() + status.slice(1).replace(/[_-]/g, " ");
  return (
    <Label color={color} isCompact data-status={status}>
      {text}
    </Label>
  );
}

/** A size in GiB as shown in the lists. */
export const gib = (n: number) => `${n} GiB`;
