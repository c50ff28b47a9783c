// The inputs a policy decision is made from.

/** Who is asking: built from a validated token. */
export interface Credentials {
  user_id?: string | null;
  user_domain_id?: string | null;
  project_id?: string | null;
  project_domain_id?: string | null;
  domain_id?: string | null;
  system_scope?: string | null;
  roles: string[];
  is_admin_project?: boolean;
  [k: string]: unknown;
}

/** What is being acted on: attributes of the resource, matched by `%(key)s` substitutions. */
export type Target = Record<string, unknown>;

/** The token scopes a rule can be restricted to. */
export type ScopeType = "system" | "domain" | "project";

/** A rule registered in code with its default. */
export interface RuleDefault {
  name: string;
  check: string;
  description: string;
  scopeTypes?: ScopeType[];
  operations?: Array<{ method: string; path: string }>;
}
