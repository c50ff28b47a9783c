import type { Kysely } from "kysely";

/** Row shapes of identity's tables (columns as stored: booleans 0/1, JSON as text, times ISO or epoch ms). */
export interface IdentityTables {
  identity_project: {
    id: string;
    name: string;
    domain_id: string;
    parent_id: string | null;
    is_domain: number;
    description: string | null;
    enabled: number;
    extra: string | null;
    options: string | null;
  };
  identity_project_tag: { project_id: string; name: string };
  identity_user: {
    id: string;
    name: string;
    domain_id: string;
    enabled: number;
    default_project_id: string | null;
    password_hash: string | null;
    password_created_at: string | null;
    password_expires_at: string | null;
    extra: string | null;
    options: string | null;
    created_at: string;
    last_active_at: string | null;
  };
  identity_group: {
    id: string;
    name: string;
    domain_id: string;
    description: string | null;
    extra: string | null;
  };
  identity_membership: { user_id: string; group_id: string };
  identity_role: {
    id: string;
    name: string;
    domain_id: string;
    description: string | null;
    extra: string | null;
    options: string | null;
  };
  identity_implied_role: { prior_role_id: string; implied_role_id: string };
  identity_assignment: {
    type: AssignmentType;
    actor_id: string;
    target_id: string;
    role_id: string;
    inherited: number;
  };
  identity_region: {
    id: string;
    description: string | null;
    parent_region_id: string | null;
    extra: string | null;
  };
  identity_service: { id: string; type: string; enabled: number; extra: string | null };
  identity_endpoint: {
    id: string;
    service_id: string;
    interface: string;
    url: string;
    region_id: string | null;
    enabled: number;
    extra: string | null;
  };
  identity_app_cred: {
    id: string;
    name: string;
    secret_hash: string;
    description: string | null;
    user_id: string;
    project_id: string | null;
    system: string | null;
    expires_at: string | null;
    unrestricted: number;
    roles: string;
    access_rules: string | null;
    created_at: string;
  };
  identity_access_rule: { id: string; user_id: string; service: string; path: string; method: string };
  identity_credential: {
    id: string;
    user_id: string;
    project_id: string | null;
    type: string;
    blob: string;
    extra: string | null;
  };
  identity_registered_limit: {
    id: string;
    service_id: string;
    region_id: string | null;
    resource_name: string;
    default_limit: number;
    description: string | null;
  };
  identity_limit: {
    id: string;
    project_id: string | null;
    domain_id: string | null;
    service_id: string;
    region_id: string | null;
    resource_name: string;
    resource_limit: number;
    description: string | null;
  };
  identity_revocation_event: {
    id: string;
    seq: number;
    user_id: string | null;
    project_id: string | null;
    domain_id: string | null;
    role_id: string | null;
    audit_id: string | null;
    audit_chain_id: string | null;
    app_cred_id: string | null;
    trust_id: string | null;
    issued_before: number;
    revoked_at: number;
  };
  identity_policy: { id: string; type: string; blob: string; extra: string | null };
  identity_consumer: { id: string; description: string | null; secret: string; extra: string | null };
  identity_domain_config: {
    domain_id: string;
    group_name: string;
    option_name: string;
    value: string;
    sensitive: number;
  };
  identity_endpoint_group: { id: string; name: string; description: string | null; filters: string };
  identity_project_endpoint_group: { endpoint_group_id: string; project_id: string };
  identity_project_endpoint: { endpoint_id: string; project_id: string };
  identity_trust: {
    id: string;
    trustor_user_id: string;
    trustee_user_id: string;
    project_id: string | null;
    impersonation: number;
    expires_at: string | null;
    remaining_uses: number | null;
    redelegated_trust_id: string | null;
    redelegation_count: number | null;
    created_at: string;
    extra: string | null;
  };
  identity_trust_role: { trust_id: string; role_id: string };
  identity_password_history: {
    id: string;
    user_id: string;
    password_hash: string;
    created_at: number;
    self_service: number;
  };
  identity_auth_failure: { user_id: string; failed_count: number; failed_at: number };
}

/** Kinds of role assignment: who (user/group) on what (project/domain/system). */
export type AssignmentType =
  "UserProject" | "GroupProject" | "UserDomain" | "GroupDomain" | "UserSystem" | "GroupSystem";

/** Identity's typed query builder. */
export type IdentityDb = Kysely<IdentityTables>;

/** Parse a JSON text column, tolerating null. */
export const json = <T = Record<string, unknown>>(s: string | null | undefined, fallback: T): T => {
  if (s === null || s === undefined || s === "") return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
};
