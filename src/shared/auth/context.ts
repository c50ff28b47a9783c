/** Who made a request, as established from a validated token (what keystonemiddleware puts in the environ). */
export interface AuthContext {
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  userDomainName: string;
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  projectDomainName: string | null;
  domainId: string | null;
  domainName: string | null;
  system: boolean;
  roles: string[];
  roleIds: string[];
  isAdminProject: boolean;
  methods: string[];
  auditIds: string[];
  issuedAt: number;
  expiresAt: number;
  appCredId: string | null;
  /** Access rules of the application credential that issued the token, if restricted. */
  accessRules: Array<{ service: string; path: string; method: string }> | null;
}

/** Validates a token for other services (in-process call, or remote keystone API in split wiring). */
export interface TokenValidator {
  /** Resolves the context or throws an ApiError 401/404. */
  validate(token: string): Promise<AuthContext>;
}

/** Policy credentials (oslo.policy's creds dict) derived from an auth context. */
export function policyCredentials(a: AuthContext | null): {
  user_id: string | null;
  user_domain_id: string | null;
  project_id: string | null;
  project_domain_id: string | null;
  domain_id: string | null;
  system_scope: string | null;
  roles: string[];
  is_admin_project: boolean;
} {
  if (!a)
    return {
      user_id: null,
      user_domain_id: null,
      project_id: null,
      project_domain_id: null,
      domain_id: null,
      system_scope: null,
      roles: [],
      is_admin_project: false,
    };
  return {
    user_id: a.userId,
    user_domain_id: a.userDomainId,
    project_id: a.projectId,
    project_domain_id: a.projectDomainId,
    domain_id: a.domainId,
    system_scope: a.system ? "all" : null,
    roles: a.roles,
    is_admin_project: a.isAdminProject,
  };
}
