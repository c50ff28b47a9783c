import type { RuleDefault } from "../../shared/policy/index.js";

// Base rules shared by every service's defaults. Keystone's secure-RBAC defaults written over the persona rules
// (src/shared/policy/personas.ts): cloud-wide operations for rule:cloud_admin (system admin, or admin on the
// cloud-admin project), domain operations for that domain's admin, grants in a project for its manager.
const BASE: RuleDefault[] = [
  {
    name: "admin_required",
    check: "rule:cloud_admin",
    description: "Cloud admin (kept under Keystone's old name for policy files that refer to it).",
  },
  { name: "service_role", check: "role:service", description: "A service user." },
  {
    name: "service_or_admin",
    check: "rule:admin_required or rule:service_role",
    description: "Admin or a service user.",
  },
  { name: "owner", check: "user_id:%(user_id)s", description: "The caller owns the user-scoped resource." },
  { name: "admin_or_owner", check: "rule:admin_required or rule:owner", description: "Admin or owner." },
  {
    name: "system_reader",
    check: "role:reader and system_scope:all",
    description: "Reader on the system scope.",
  },
  {
    name: "system_admin",
    check: "role:admin and system_scope:all",
    description: "Admin on the system scope.",
  },
  {
    name: "domain_managed_target_role",
    check: "'manager':%(target.role.name)s or 'member':%(target.role.name)s or 'reader':%(target.role.name)s",
    description: "The roles a domain manager may see and hand out (none above manager).",
  },
];

/** Shared base rules (admin_required, personas) registered once by the process. */
export const basePolicies = BASE;

const ADMIN = "rule:cloud_admin";
const READER = "rule:cloud_admin or rule:cloud_reader";
// A project's manager (or admin, which implies manager) hands out roles in that project; the grant guard in
// assignments.ts keeps them to roles they hold themselves.
const PROJECT_MANAGER = "(role:manager and project_id:%(target.project.id)s)";
const DOMAIN_READER = (field: string) => `${READER} or (role:reader and domain_id:%(${field})s)`;
const DOMAIN_ADMIN = (field: string) => `${ADMIN} or (role:admin and domain_id:%(${field})s)`;

function crud(entity: string, plural: string, read: string, write: string): RuleDefault[] {
  return [
    { name: `identity:get_${entity}`, check: read, description: `Show a ${entity}.` },
    { name: `identity:list_${plural}`, check: read, description: `List ${plural}.` },
    { name: `identity:create_${entity}`, check: write, description: `Create a ${entity}.` },
    { name: `identity:update_${entity}`, check: write, description: `Update a ${entity}.` },
    { name: `identity:delete_${entity}`, check: write, description: `Delete a ${entity}.` },
  ];
}

/** Identity's policy rules with their defaults (overridable in DATA_DIR/policy.yaml). */
export const identityPolicies: RuleDefault[] = [
  ...crud("region", "regions", "@", ADMIN),
  ...crud("service", "services", READER, ADMIN),
  ...crud("endpoint", "endpoints", READER, ADMIN),
  ...crud("policy", "policies", READER, ADMIN),
  ...crud("registered_limit", "registered_limits", "@", ADMIN),
  {
    name: "identity:get_domain",
    check: `${READER} or domain_id:%(target.domain.id)s or project_domain_id:%(target.domain.id)s or user_domain_id:%(target.domain.id)s`,
    description: "Show a domain.",
  },
  { name: "identity:list_domains", check: READER, description: "List domains." },
  { name: "identity:create_domain", check: ADMIN, description: "Create a domain." },
  { name: "identity:update_domain", check: ADMIN, description: "Update a domain." },
  { name: "identity:delete_domain", check: ADMIN, description: "Delete a domain." },
  {
    name: "identity:get_project",
    check: `${DOMAIN_READER("target.project.domain_id")} or project_id:%(target.project.id)s`,
    description: "Show a project.",
  },
  { name: "identity:list_projects", check: DOMAIN_READER("target.domain_id"), description: "List projects." },
  {
    name: "identity:list_user_projects",
    check: `${DOMAIN_READER("target.user.domain_id")} or user_id:%(target.user.id)s`,
    description: "List a user's projects.",
  },
  {
    name: "identity:create_project",
    check: DOMAIN_ADMIN("target.project.domain_id"),
    description: "Create a project.",
  },
  {
    name: "identity:update_project",
    check: DOMAIN_ADMIN("target.project.domain_id"),
    description: "Update a project.",
  },
  {
    name: "identity:delete_project",
    check: DOMAIN_ADMIN("target.project.domain_id"),
    description: "Delete a project.",
  },
  {
    name: "identity:list_project_tags",
    check: `${DOMAIN_READER("target.project.domain_id")} or project_id:%(target.project.id)s`,
    description: "List a project's tags.",
  },
  {
    name: "identity:update_project_tags",
    check: DOMAIN_ADMIN("target.project.domain_id"),
    description: "Change a project's tags.",
  },
  {
    name: "identity:get_user",
    check: `${DOMAIN_READER("target.user.domain_id")} or user_id:%(target.user.id)s`,
    description: "Show a user.",
  },
  { name: "identity:list_users", check: DOMAIN_READER("target.domain_id"), description: "List users." },
  {
    name: "identity:create_user",
    check: DOMAIN_ADMIN("target.user.domain_id"),
    description: "Create a user.",
  },
  {
    name: "identity:update_user",
    check: DOMAIN_ADMIN("target.user.domain_id"),
    description: "Update a user.",
  },
  {
    name: "identity:delete_user",
    check: DOMAIN_ADMIN("target.user.domain_id"),
    description: "Delete a user.",
  },
  {
    name: "identity:change_password",
    check: "user_id:%(target.user.id)s",
    description: "A user changes their own password.",
  },
  {
    name: "identity:get_group",
    check: `${DOMAIN_READER("target.group.domain_id")}`,
    description: "Show a group.",
  },
  { name: "identity:list_groups", check: DOMAIN_READER("target.domain_id"), description: "List groups." },
  {
    name: "identity:list_groups_for_user",
    check: `${DOMAIN_READER("target.user.domain_id")} or user_id:%(user_id)s`,
    description: "List a user's groups.",
  },
  {
    name: "identity:create_group",
    check: DOMAIN_ADMIN("target.group.domain_id"),
    description: "Create a group.",
  },
  {
    name: "identity:update_group",
    check: DOMAIN_ADMIN("target.group.domain_id"),
    description: "Update a group.",
  },
  {
    name: "identity:delete_group",
    check: DOMAIN_ADMIN("target.group.domain_id"),
    description: "Delete a group.",
  },
  {
    name: "identity:list_users_in_group",
    check: DOMAIN_READER("target.group.domain_id"),
    description: "List a group's members.",
  },
  {
    name: "identity:check_user_in_group",
    check: DOMAIN_READER("target.group.domain_id"),
    description: "Check membership.",
  },
  {
    name: "identity:add_user_to_group",
    check: DOMAIN_ADMIN("target.group.domain_id"),
    description: "Add a member.",
  },
  {
    name: "identity:remove_user_from_group",
    check: DOMAIN_ADMIN("target.group.domain_id"),
    description: "Remove a member.",
  },
  // Keystone 2024.2's domain manager persona: a manager on a domain lists roles and sees the ones it may grant.
  {
    name: "identity:get_role",
    check: `${READER} or (role:manager and rule:domain_managed_target_role)`,
    description: "Show a role.",
  },
  {
    name: "identity:list_roles",
    check: `${READER} or (role:manager and not domain_id:None)`,
    description: "List roles.",
  },
  { name: "identity:create_role", check: ADMIN, description: "Create a role." },
  { name: "identity:update_role", check: ADMIN, description: "Update a role." },
  { name: "identity:delete_role", check: ADMIN, description: "Delete a role." },
  { name: "identity:get_domain_role", check: READER, description: "Show a domain role." },
  { name: "identity:list_domain_roles", check: READER, description: "List domain roles." },
  { name: "identity:create_domain_role", check: ADMIN, description: "Create a domain role." },
  { name: "identity:update_domain_role", check: ADMIN, description: "Update a domain role." },
  { name: "identity:delete_domain_role", check: ADMIN, description: "Delete a domain role." },
  { name: "identity:get_implied_role", check: READER, description: "Show an implication." },
  { name: "identity:list_implied_roles", check: READER, description: "List implications of a role." },
  { name: "identity:list_role_inference_rules", check: READER, description: "List every implication." },
  { name: "identity:create_implied_role", check: ADMIN, description: "Add an implication." },
  { name: "identity:delete_implied_role", check: ADMIN, description: "Remove an implication." },
  { name: "identity:check_implied_role", check: READER, description: "Check an implication." },
  {
    name: "identity:list_role_assignments",
    check: `${READER} or (role:reader and domain_id:%(target.domain_id)s)`,
    description: "List role assignments.",
  },
  {
    name: "identity:list_role_assignments_for_tree",
    check: `${READER} or (role:reader and domain_id:%(target.project.domain_id)s)`,
    description: "List assignments in a project tree.",
  },
  {
    name: "identity:check_grant",
    check: `${READER} or (role:reader and domain_id:%(target.domain_id)s) or ${PROJECT_MANAGER}`,
    description: "Check a grant.",
  },
  {
    name: "identity:list_grants",
    check: `${READER} or (role:reader and domain_id:%(target.domain_id)s) or ${PROJECT_MANAGER}`,
    description: "List grants.",
  },
  {
    name: "identity:create_grant",
    check: `${ADMIN} or (role:admin and domain_id:%(target.domain_id)s) or ${PROJECT_MANAGER}`,
    description: "Grant a role.",
  },
  {
    name: "identity:revoke_grant",
    check: `${ADMIN} or (role:admin and domain_id:%(target.domain_id)s) or ${PROJECT_MANAGER}`,
    description: "Revoke a role.",
  },
  { name: "identity:list_system_grants_for_user", check: READER, description: "List a user's system roles." },
  { name: "identity:check_system_grant_for_user", check: READER, description: "Check a user's system role." },
  {
    name: "identity:create_system_grant_for_user",
    check: ADMIN,
    description: "Grant a system role to a user.",
  },
  {
    name: "identity:revoke_system_grant_for_user",
    check: ADMIN,
    description: "Revoke a user's system role.",
  },
  {
    name: "identity:list_system_grants_for_group",
    check: READER,
    description: "List a group's system roles.",
  },
  {
    name: "identity:check_system_grant_for_group",
    check: READER,
    description: "Check a group's system role.",
  },
  {
    name: "identity:create_system_grant_for_group",
    check: ADMIN,
    description: "Grant a system role to a group.",
  },
  {
    name: "identity:revoke_system_grant_for_group",
    check: ADMIN,
    description: "Revoke a group's system role.",
  },
  {
    name: "identity:get_application_credential",
    check: `${READER} or user_id:%(target.user.id)s`,
    description: "Show an application credential.",
  },
  {
    name: "identity:list_application_credentials",
    check: `${READER} or user_id:%(target.user.id)s`,
    description: "List application credentials.",
  },
  {
    name: "identity:create_application_credential",
    check: "user_id:%(user_id)s",
    description: "Create an application credential.",
  },
  {
    name: "identity:delete_application_credential",
    check: `${ADMIN} or user_id:%(target.user.id)s`,
    description: "Delete an application credential.",
  },
  {
    name: "identity:get_access_rule",
    check: `${READER} or user_id:%(target.user.id)s`,
    description: "Show an access rule.",
  },
  {
    name: "identity:list_access_rules",
    check: `${READER} or user_id:%(target.user.id)s`,
    description: "List access rules.",
  },
  {
    name: "identity:delete_access_rule",
    check: `${ADMIN} or user_id:%(target.user.id)s`,
    description: "Delete an access rule.",
  },
  {
    name: "identity:get_credential",
    check: `${READER} or user_id:%(target.credential.user_id)s`,
    description: "Show a credential.",
  },
  {
    name: "identity:list_credentials",
    check: `${READER} or user_id:%(target.credential.user_id)s`,
    description: "List credentials.",
  },
  {
    name: "identity:create_credential",
    check: `${ADMIN} or user_id:%(target.credential.user_id)s`,
    description: "Create a credential.",
  },
  {
    name: "identity:update_credential",
    check: `${ADMIN} or user_id:%(target.credential.user_id)s`,
    description: "Update a credential.",
  },
  {
    name: "identity:delete_credential",
    check: `${ADMIN} or user_id:%(target.credential.user_id)s`,
    description: "Delete a credential.",
  },
  {
    name: "identity:get_limit",
    check: `${READER} or project_id:%(target.limit.project_id)s or domain_id:%(target.limit.domain_id)s`,
    description: "Show a limit.",
  },
  {
    name: "identity:list_limits",
    check: "@",
    description: "List limits (filtered to what the caller may see).",
  },
  { name: "identity:get_limit_model", check: "@", description: "Show the limit enforcement model." },
  { name: "identity:create_limits", check: ADMIN, description: "Create limits." },
  { name: "identity:update_limit", check: ADMIN, description: "Update a limit." },
  { name: "identity:delete_limit", check: ADMIN, description: "Delete a limit." },
  { name: "identity:create_registered_limits", check: ADMIN, description: "Create registered limits." },
  {
    name: "identity:check_token",
    check: `${READER} or rule:service_role or rule:token_subject`,
    description: "Check a token.",
  },
  {
    name: "identity:validate_token",
    check: `${READER} or rule:service_role or rule:token_subject`,
    description: "Validate a token.",
  },
  {
    name: "identity:revoke_token",
    check: `${ADMIN} or rule:service_role or rule:token_subject`,
    description: "Revoke a token.",
  },
  {
    name: "token_subject",
    check: "user_id:%(target.token.user_id)s",
    description: "The token belongs to the caller.",
  },
  { name: "identity:get_auth_catalog", check: "", description: "The caller's catalog." },
  { name: "identity:get_auth_projects", check: "", description: "Projects the caller can scope to." },
  { name: "identity:get_auth_domains", check: "", description: "Domains the caller can scope to." },
  { name: "identity:get_auth_system", check: "", description: "System scopes the caller can use." },
  {
    name: "identity:list_revoke_events",
    check: "rule:service_or_admin or rule:system_reader",
    description: "List revocation events.",
  },
  ...extensionPolicies(),
];

/** Rules of the OS-EC2, OS-OAUTH1, domain config, OS-EP-FILTER and OS-TRUST APIs (Keystone's defaults). */
function extensionPolicies(): RuleDefault[] {
  const ADMIN_ONLY = "rule:admin_required";
  const CRED_MEMBER_OWNER = `${ADMIN_ONLY} or (role:member and user_id:%(target.credential.user_id)s)`;
  const TRUSTOR = "user_id:%(target.trust.trustor_user_id)s";
  const TRUSTEE = "user_id:%(target.trust.trustee_user_id)s";
  const rule = (name: string, check: string, description: string): RuleDefault => ({
    name: `identity:${name}`,
    check,
    description,
  });
  return [
    rule(
      "ec2_get_credential",
      `${READER} or user_id:%(target.credential.user_id)s`,
      "Show an EC2 credential.",
    ),
    rule("ec2_list_credentials", `${READER} or rule:owner`, "List a user's EC2 credentials."),
    rule("ec2_create_credential", CRED_MEMBER_OWNER, "Create an EC2 credential."),
    rule("ec2_delete_credential", CRED_MEMBER_OWNER, "Delete an EC2 credential."),
    rule("get_consumer", READER, "Show an OAuth1 consumer."),
    rule("list_consumers", READER, "List OAuth1 consumers."),
    rule("create_consumer", ADMIN_ONLY, "Create an OAuth1 consumer."),
    rule("update_consumer", ADMIN_ONLY, "Update an OAuth1 consumer."),
    rule("delete_consumer", ADMIN_ONLY, "Delete an OAuth1 consumer."),
    rule("create_domain_config", ADMIN_ONLY, "Create a domain's configuration."),
    rule("get_domain_config", READER, "Show a domain's configuration."),
    rule("update_domain_config", ADMIN_ONLY, "Update a domain's configuration."),
    rule("delete_domain_config", ADMIN_ONLY, "Delete a domain's configuration."),
    rule("get_domain_config_default", READER, "Show the default domain configuration."),
    rule("get_security_compliance_domain_config", "", "Show the password rules (security compliance)."),
    rule("create_endpoint_group", ADMIN_ONLY, "Create an endpoint group."),
    rule("list_endpoint_groups", READER, "List endpoint groups."),
    rule("get_endpoint_group", READER, "Show an endpoint group."),
    rule("update_endpoint_group", ADMIN_ONLY, "Update an endpoint group."),
    rule("delete_endpoint_group", ADMIN_ONLY, "Delete an endpoint group."),
    rule("list_projects_associated_with_endpoint_group", READER, "List an endpoint group's projects."),
    rule("list_endpoints_associated_with_endpoint_group", READER, "List an endpoint group's endpoints."),
    rule("get_endpoint_group_in_project", READER, "Check an endpoint group's project association."),
    rule("list_endpoint_groups_for_project", READER, "List a project's endpoint groups."),
    rule("add_endpoint_group_to_project", ADMIN_ONLY, "Associate an endpoint group with a project."),
    rule("remove_endpoint_group_from_project", ADMIN_ONLY, "Remove an endpoint group from a project."),
    rule("list_projects_for_endpoint", READER, "List an endpoint's projects."),
    rule("add_endpoint_to_project", ADMIN_ONLY, "Associate an endpoint with a project."),
    rule("check_endpoint_in_project", READER, "Check an endpoint's project association."),
    rule("list_endpoints_for_project", READER, "List a project's endpoints."),
    rule("remove_endpoint_from_project", ADMIN_ONLY, "Remove an endpoint from a project."),
    rule("create_trust", TRUSTOR, "Create a trust (as its trustor)."),
    rule("list_trusts", READER, "List every trust."),
    rule("list_trusts_for_trustor", `${READER} or ${TRUSTOR}`, "List a trustor's trusts."),
    rule("list_trusts_for_trustee", `${READER} or ${TRUSTEE}`, "List a trustee's trusts."),
    rule("list_roles_for_trust", `${READER} or ${TRUSTOR} or ${TRUSTEE}`, "List a trust's roles."),
    rule("get_role_for_trust", `${READER} or ${TRUSTOR} or ${TRUSTEE}`, "Show a trust's role."),
    rule("get_trust", `${READER} or ${TRUSTOR} or ${TRUSTEE}`, "Show a trust."),
    rule("delete_trust", `${ADMIN_ONLY} or ${TRUSTOR}`, "Delete a trust."),
  ];
}
