// The command QEMU's user networking runs for each guest connection to the metadata address (guestfwd `cmd:`): it
// pipes the connection (its stdin/stdout) to the instance's metadata listener, a unix socket. socat when installed:
// it starts in about a millisecond, where node takes some 50 ms of CPU (seconds on a loaded host under TCG), and the
// guest's first metadata request waits for it while it boots. Otherwise node runs guestfwd-pipe.js.
import { fileURLToPath } from "node:url";
import { findExecutable } from "../../../shared/qemu-img.js";

/** The node script that does the same as socat (guestfwd-pipe.ts). */
const GUESTFWD_PIPE = fileURLToPath(new URL("./guestfwd-pipe.js", import.meta.url));

/** The argv QEMU runs per guest connection to pipe it to `socketPath`; `socat` overrides the lookup (null: none). */
export function metadataForwardCommand(
  socketPath: string,
  socat: string | null = findExecutable("socat"),
): string[] {
  // -t 5: once the listener has closed, socat ends the guest's side and waits up to 5 s for the guest to close.
  return socat
    ? [socat, "-t", "5", "-", `UNIX-CONNECT:${socketPath}`]
    : [process.execPath, GUESTFWD_PIPE, socketPath];
}
