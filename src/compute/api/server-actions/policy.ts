// Policy defaults of the server actions, with Nova's rule names: the project's members (and cloud admins) act
// on its servers; its managers may migrate them (no host choice); choosing hosts, evacuating, resetting state
// and reading console tokens is for cloud admins.
import type { RuleDefault } from "../../../shared/policy/index.js";
import { P } from "../../../shared/policy/personas.js";

const ADMIN = P.ADMIN;
const OWNER = P.PROJECT_MEMBER;
const ACTION = "/servers/{server_id}/action";

const rule = (name: string, check: string, description: string, action: string | null, path = ACTION) => ({
  name,
  check,
  description,
  scopeTypes: ["project" as const],
  operations: [{ method: "POST", path: action ? `${path} (${action})` : path }],
});

/** Policy defaults of server actions. */
export const serverActionPolicies: RuleDefault[] = [
  rule("os_compute_api:servers:reboot", OWNER, "Reboot a server.", "reboot"),
  rule("os_compute_api:servers:start", OWNER, "Start a server.", "os-start"),
  rule("os_compute_api:servers:stop", OWNER, "Stop a server.", "os-stop"),
  rule(
    "os_compute_api:servers:trigger_crash_dump",
    OWNER,
    "Trigger a crash dump in a server.",
    "trigger_crash_dump",
  ),
  rule("os_compute_api:servers:resize", OWNER, "Resize a server.", "resize"),
  rule("os_compute_api:servers:confirm_resize", OWNER, "Confirm a resize.", "confirmResize"),
  rule("os_compute_api:servers:revert_resize", OWNER, "Revert a resize.", "revertResize"),
  rule("os_compute_api:servers:rebuild", OWNER, "Rebuild a server.", "rebuild"),
  rule(
    "os_compute_api:servers:rebuild:trusted_certs",
    OWNER,
    "Rebuild with trusted certificates.",
    "rebuild",
  ),
  rule("os_compute_api:servers:create_image", OWNER, "Snapshot a server into an image.", "createImage"),
  rule(
    "os_compute_api:servers:create_image:allow_volume_backed",
    OWNER,
    "Snapshot a volume-backed server.",
    "createImage",
  ),
  rule("os_compute_api:os-pause-server:pause", OWNER, "Pause a server.", "pause"),
  rule("os_compute_api:os-pause-server:unpause", OWNER, "Unpause a server.", "unpause"),
  rule("os_compute_api:os-suspend-server:suspend", OWNER, "Suspend a server.", "suspend"),
  rule("os_compute_api:os-suspend-server:resume", OWNER, "Resume a suspended server.", "resume"),
  rule("os_compute_api:os-rescue", OWNER, "Rescue a server.", "rescue"),
  rule("os_compute_api:os-unrescue", OWNER, "Unrescue a server.", "unrescue"),
  rule(
    "os_compute_api:os-admin-password",
    OWNER,
    "Change a server's administrative password.",
    "changePassword",
  ),
  rule("os_compute_api:os-lock-server:lock", OWNER, "Lock a server.", "lock"),
  rule("os_compute_api:os-lock-server:unlock", OWNER, "Unlock a server.", "unlock"),
  rule(
    "os_compute_api:os-lock-server:unlock:unlock_override",
    P.PROJECT_ADMIN,
    "Unlock a server that someone else locked.",
    "unlock",
  ),
  rule("os_compute_api:os-admin-actions:reset_state", ADMIN, "Reset a server's state.", "os-resetState"),
  rule(
    "os_compute_api:os-admin-actions:inject_network_info",
    ADMIN,
    "Inject network information into a server.",
    "injectNetworkInfo",
  ),
  rule("os_compute_api:os-migrate-server:migrate", P.PROJECT_MANAGER, "Cold-migrate a server.", "migrate"),
  rule(
    "os_compute_api:os-migrate-server:migrate:host",
    ADMIN,
    "Cold-migrate a server to a given host.",
    "migrate",
  ),
  rule(
    "os_compute_api:os-migrate-server:migrate_live",
    P.PROJECT_MANAGER,
    "Live-migrate a server.",
    "os-migrateLive",
  ),
  rule(
    "os_compute_api:os-migrate-server:migrate_live:host",
    ADMIN,
    "Live-migrate a server to a given host.",
    "os-migrateLive",
  ),
  rule("os_compute_api:os-evacuate", ADMIN, "Evacuate a server from a failed host.", "evacuate"),
  rule("os_compute_api:os-shelve:shelve", OWNER, "Shelve a server.", "shelve"),
  rule("os_compute_api:os-shelve:shelve_offload", ADMIN, "Offload a shelved server.", "shelveOffload"),
  rule("os_compute_api:os-shelve:unshelve", OWNER, "Unshelve a server.", "unshelve"),
  rule("os_compute_api:os-shelve:unshelve_to_host", ADMIN, "Unshelve a server to a given host.", "unshelve"),
  rule("os_compute_api:os-console-output", OWNER, "Show a server's console output.", "os-getConsoleOutput"),
  rule(
    "os_compute_api:os-remote-consoles",
    OWNER,
    "Open a remote console to a server.",
    null,
    "/servers/{server_id}/remote-consoles",
  ),
  {
    name: "os_compute_api:os-console-auth-tokens",
    check: ADMIN,
    description: "Show the connection details behind a console token.",
    scopeTypes: ["project" as const],
    operations: [{ method: "GET", path: "/os-console-auth-tokens/{console_token}" }],
  },
];
