import type { RuleDefault } from "../../shared/policy/index.js";
import { P } from "../../shared/policy/personas.js";
import { adminPolicies } from "./admin/index.js";
import { legacyPolicies } from "./legacy/index.js";
import { serverActionPolicies } from "./server-actions/index.js";
import { serverPolicies } from "./servers/index.js";

// Nova's secure-RBAC defaults over the persona rules (src/shared/policy/personas.ts): flavor management and
// quota changes for cloud admins, project reads for its readers, changes for its members, key pairs for their
// owner (or a cloud admin).
const ADMIN = P.ADMIN;
const ANY = "";
const ADMIN_OR_OWNER = `${P.ADMIN} or user_id:%(user_id)s`;
const ADMIN_OR_PROJECT = P.PROJECT_READER;
const PROJECT_MEMBER = P.PROJECT_MEMBER;

const rule = (name: string, check: string, description: string, method: string, path: string) => ({
  name,
  check,
  description,
  scopeTypes: ["project" as const],
  operations: [{ method, path }],
});

const F = "/flavors/{flavor_id}";
const Q = "/os-quota-sets/{tenant_id}";
const QC = "/os-quota-class-sets/{id}";
const SG = "/os-server-groups";

const basePolicies: RuleDefault[] = [
  rule("os_compute_api:flavors:list", ANY, "List flavors.", "GET", "/flavors"),
  rule("os_compute_api:flavors:show", ANY, "Show a flavor.", "GET", F),
  rule("os_compute_api:os-flavor-manage:create", ADMIN, "Create a flavor.", "POST", "/flavors"),
  rule("os_compute_api:os-flavor-manage:update", ADMIN, "Update a flavor description.", "PUT", F),
  rule("os_compute_api:os-flavor-manage:delete", ADMIN, "Delete a flavor.", "DELETE", F),
  rule("os_compute_api:os-flavor-extra-specs:index", ANY, "List extra specs.", "GET", `${F}/os-extra_specs`),
  rule(
    "os_compute_api:os-flavor-extra-specs:show",
    ANY,
    "Show one extra spec.",
    "GET",
    `${F}/os-extra_specs/{key}`,
  ),
  rule(
    "os_compute_api:os-flavor-extra-specs:create",
    ADMIN,
    "Create extra specs.",
    "POST",
    `${F}/os-extra_specs`,
  ),
  rule(
    "os_compute_api:os-flavor-extra-specs:update",
    ADMIN,
    "Update one extra spec.",
    "PUT",
    `${F}/os-extra_specs/{key}`,
  ),
  rule(
    "os_compute_api:os-flavor-extra-specs:delete",
    ADMIN,
    "Delete one extra spec.",
    "DELETE",
    `${F}/os-extra_specs/{key}`,
  ),
  rule("os_compute_api:os-flavor-access", ADMIN, "List flavor access.", "GET", `${F}/os-flavor-access`),
  rule(
    "os_compute_api:os-flavor-access:add_tenant_access",
    ADMIN,
    "Add flavor access to a project.",
    "POST",
    `${F}/action (addTenantAccess)`,
  ),
  rule(
    "os_compute_api:os-flavor-access:remove_tenant_access",
    ADMIN,
    "Remove flavor access from a project.",
    "POST",
    `${F}/action (removeTenantAccess)`,
  ),
  rule("os_compute_api:os-keypairs:index", ADMIN_OR_OWNER, "List key pairs.", "GET", "/os-keypairs"),
  rule("os_compute_api:os-keypairs:create", ADMIN_OR_OWNER, "Create a key pair.", "POST", "/os-keypairs"),
  rule("os_compute_api:os-keypairs:show", ADMIN_OR_OWNER, "Show a key pair.", "GET", "/os-keypairs/{name}"),
  rule(
    "os_compute_api:os-keypairs:delete",
    ADMIN_OR_OWNER,
    "Delete a key pair.",
    "DELETE",
    "/os-keypairs/{name}",
  ),
  rule("os_compute_api:os-quota-sets:show", ADMIN_OR_PROJECT, "Show a project's quotas.", "GET", Q),
  rule("os_compute_api:os-quota-sets:update", ADMIN, "Update a project's quotas.", "PUT", Q),
  rule(
    "os_compute_api:os-quota-sets:delete",
    ADMIN,
    "Revert a project's quotas to the defaults.",
    "DELETE",
    Q,
  ),
  rule("os_compute_api:os-quota-sets:defaults", ANY, "Show the default quotas.", "GET", `${Q}/defaults`),
  rule(
    "os_compute_api:os-quota-sets:detail",
    ADMIN_OR_PROJECT,
    "Show quotas with usage.",
    "GET",
    `${Q}/detail`,
  ),
  rule("os_compute_api:os-quota-class-sets:show", ADMIN, "Show a quota class.", "GET", QC),
  rule("os_compute_api:os-quota-class-sets:update", ADMIN, "Update a quota class.", "PUT", QC),
  rule("os_compute_api:limits", ANY, "Show rate and absolute limits.", "GET", "/limits"),
  rule("os_compute_api:limits:other_project", ADMIN, "Show another project's limits.", "GET", "/limits"),
  rule("os_compute_api:os-server-groups:index", ADMIN_OR_PROJECT, "List server groups.", "GET", SG),
  rule(
    "os_compute_api:os-server-groups:index:all_projects",
    ADMIN,
    "List all projects' server groups.",
    "GET",
    SG,
  ),
  rule("os_compute_api:os-server-groups:create", PROJECT_MEMBER, "Create a server group.", "POST", SG),
  rule("os_compute_api:os-server-groups:show", ADMIN_OR_PROJECT, "Show a server group.", "GET", `${SG}/{id}`),
  rule(
    "os_compute_api:os-server-groups:delete",
    PROJECT_MEMBER,
    "Delete a server group.",
    "DELETE",
    `${SG}/{id}`,
  ),
];

/** Compute policy rules with their defaults (Nova's names, overridable in DATA_DIR/policy.yaml). */
export const computePolicies: RuleDefault[] = [
  ...basePolicies,
  ...serverPolicies,
  ...serverActionPolicies,
  ...adminPolicies,
  ...legacyPolicies,
];
