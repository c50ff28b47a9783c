// The persona rules every service's defaults are written in (cloud admin, project reader/member/manager/admin),
// in two flavours: secure RBAC (the default) and the legacy "admin anywhere is admin everywhere" rules.
import type { RuleDefault } from "./types.js";

/** Which persona definitions a cloud runs with (config `policy.defaults`). */
export type PolicyDefaults = "secure" | "legacy";

const rule = (name: string, check: string, description: string): RuleDefault => ({
  name,
  check,
  description,
});

const SECURE: RuleDefault[] = [
  rule(
    "cloud_admin",
    "role:admin and (system_scope:all or is_admin_project:True)",
    "Administers the whole cloud: admin on the system scope, or admin on the cloud-admin project (policy.adminProject).",
  ),
  rule(
    "cloud_reader",
    "role:reader and system_scope:all",
    "Reads the whole cloud: reader on the system scope.",
  ),
  rule("project_admin", "role:admin and project_id:%(project_id)s", "Admin of the target's project."),
  rule("project_manager", "role:manager and project_id:%(project_id)s", "Manager of the target's project."),
  rule("project_member", "role:member and project_id:%(project_id)s", "Member of the target's project."),
  rule("project_reader", "role:reader and project_id:%(project_id)s", "Reader of the target's project."),
];

// Upstream's pre-secure-RBAC defaults: the admin role on any project is cloud admin; any role in a project writes.
const LEGACY: RuleDefault[] = [
  rule("cloud_admin", "role:admin", "Legacy: the admin role on any project or scope."),
  rule(
    "cloud_reader",
    "role:admin or (role:reader and system_scope:all)",
    "Legacy: admin anywhere, or system reader.",
  ),
  rule("project_admin", "role:admin and project_id:%(project_id)s", "Admin of the target's project."),
  rule("project_manager", "project_id:%(project_id)s", "Legacy: any role in the target's project."),
  rule("project_member", "project_id:%(project_id)s", "Legacy: any role in the target's project."),
  rule("project_reader", "project_id:%(project_id)s", "Legacy: any role in the target's project."),
];

/** The persona rules for a `policy.defaults` mode; register them before any service's rules. */
export function personaPolicies(mode: PolicyDefaults): RuleDefault[] {
  return (mode === "legacy" ? LEGACY : SECURE).map((r) => ({ ...r }));
}

/** Check strings service defaults are built from (each refers to the persona rules above). */
export const P = {
  /** Cloud-wide administration. */
  ADMIN: "rule:cloud_admin",
  /** Cloud-wide reads. */
  CLOUD_READER: "rule:cloud_admin or rule:cloud_reader",
  /** The project's admin (or a cloud admin). */
  PROJECT_ADMIN: "rule:cloud_admin or rule:project_admin",
  /** The project's manager or admin (or a cloud admin). */
  PROJECT_MANAGER: "rule:cloud_admin or rule:project_admin or rule:project_manager",
  /** The project's members (writers), or a cloud admin. */
  PROJECT_MEMBER: "rule:cloud_admin or rule:project_member",
  /** The project's readers, or a cloud reader. */
  PROJECT_READER: "rule:cloud_admin or rule:cloud_reader or rule:project_reader",
} as const;
