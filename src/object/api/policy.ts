import type { RuleDefault } from "../../shared/policy/index.js";

/**
 * Who may use an account, as Swift's keystoneauth decides (the target's project_id is the account's project):
 * the operator roles (admin, member) of the account's project read and write, its readers read, a system reader
 * reads every account, and the ResellerAdmin role does anything anywhere. An account's ACL (account-acl.ts) lets
 * other identities in beside these rules, as the account's owners grant.
 */
export const objectPolicies: RuleDefault[] = [
  {
    name: "object:reseller_admin",
    check: "role:ResellerAdmin",
    description: "Swift's reseller admin: every account, every operation.",
  },
  {
    name: "object:operator",
    check: "(role:admin or role:member) and project_id:%(project_id)s",
    description: "keystoneauth's operator_roles on the account's project: owns the account.",
  },
  {
    name: "object:write",
    check: "rule:object:operator or rule:object:reseller_admin",
    description: "Create, change or delete containers and objects, and set account metadata.",
  },
  {
    name: "object:read",
    check:
      "rule:object:write or (role:reader and project_id:%(project_id)s) or (role:reader and system_scope:all)",
    description: "Read an account, its containers and their objects.",
  },
];
