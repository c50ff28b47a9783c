import { ApiError } from "../../shared/http/errors.js";
import type { IdentityCore } from "../core.js";
import { authFailed } from "../errors.js";
import { findAppCredForAuth, type AppCred } from "../store/appcreds.js";
import { userDomainRoleIds, userProjectRoleIds, userSystemRoleIds } from "../store/assignments.js";
import { buildCatalog, type CatalogEntry } from "../store/catalog.js";
import { assertNotLocked, recordAuthFailure, resetAuthFailures } from "../store/password-policy.js";
import { findDomainByName, findProject, findProjectByName, type Project } from "../store/projects.js";
import type { RevocationList } from "../store/revocations.js";
import { allRoles, type Role } from "../store/roles.js";
import { consumeTrustUse, effectiveTrustRoles, findTrust, type Trust } from "../store/trusts.js";
import { findUser, findUserForAuth, type User } from "../store/users.js";
import { keystoneTime, parseTime } from "../time.js";
import { newAuditId, type TokenCodec, type TokenPayload } from "./codec.js";
import type { TokenView } from "./view.js";

type Scope = TokenPayload["scope"];
type Ref = { id?: string; name?: string; domain?: { id?: string; name?: string } };

/** The "auth" object of POST /v3/auth/tokens, already schema-checked. */
export interface AuthRequest {
  identity: {
    methods: string[];
    password?: { user: Ref & { password: string } };
    token?: { id: string };
    application_credential?: { id?: string; name?: string; secret: string; user?: Ref };
  };
  scope?:
    | "unscoped"
    | {
        project?: Ref;
        domain?: { id?: string; name?: string };
        system?: { all?: boolean };
        "OS-TRUST:trust"?: { id?: string };
      };
}

const TRUST_SCOPE = "OS-TRUST:trust";

/** Why a token is not valid (rendered as 404 for X-Subject-Token and 401 for X-Auth-Token). */
export class InvalidToken extends ApiError {
  constructor(reason: string) {
    super(404, `Could not find token: ${reason}`);
  }
}

/** Issues and validates tokens: authentication methods, scoping, roles, catalog, revocation. */
export class TokenService {
  private readonly cache = new Map<string, { view: TokenView; gen: number }>();
  private catalog: { gen: number; entries: CatalogEntry[] } | null = null;
  private roles: { gen: number; byId: Map<string, Role> } | null = null;

  constructor(
    private readonly core: IdentityCore,
    private readonly codec: TokenCodec,
    private readonly revocations: RevocationList,
  ) {
    core.onChange(() => this.cache.clear());
  }

  /** The current catalog (cached until identity data changes). */
  async catalogEntries(): Promise<CatalogEntry[]> {
    if (!this.catalog || this.catalog.gen !== this.core.generation) {
      const gen = this.core.generation;
      this.catalog = { gen, entries: await buildCatalog(this.core) };
    }
    return this.catalog.entries;
  }

  private async roleMap(): Promise<Map<string, Role>> {
    if (!this.roles || this.roles.gen !== this.core.generation) {
      const gen = this.core.generation;
      this.roles = { gen, byId: await allRoles(this.core) };
    }
    return this.roles.byId;
  }

  private async domainRef(ref: { id?: string; name?: string } | undefined): Promise<Project> {
    if (!ref || (!ref.id && !ref.name))
      throw new ApiError(400, "Expecting to find domain id or name in the request.");
    const d = ref.id
      ? await findProject(this.core, ref.id)
      : await findDomainByName(this.core, ref.name as string);
    if (!d || !d.is_domain) throw authFailed();
    return d;
  }

  private async userRef(ref: Ref | undefined): Promise<(User & { password_hash: string | null }) | null> {
    if (!ref) throw new ApiError(400, "Expecting to find user in the request.");
    if (ref.id) return findUserForAuth(this.core, { id: ref.id });
    if (!ref.name) throw new ApiError(400, "Expecting to find user id or name in the request.");
    const d = await this.domainRef(ref.domain);
    return findUserForAuth(this.core, { name: ref.name, domainId: d.id });
  }

  /** Authenticate and scope: returns the new token and its view. */
  async issue(auth: AuthRequest): Promise<{ id: string; view: TokenView }> {
    const methods = auth.identity.methods;
    if (!methods.length) throw new ApiError(400, "Expecting to find identity methods in the request.");
    for (const m of methods)
      if (!["password", "token", "application_credential"].includes(m))
        throw new ApiError(401, `Attempted to authenticate with an unsupported method: ${m}.`);
    if (methods.length > 1)
      throw new ApiError(
        401,
        "Multi-method authentication is not supported: use one of password, token or application_credential.",
      );
    // Strictly after any revocation event already recorded: a user who changes their password (or is re-granted a
    // role) and logs in again within the same millisecond must not have the new token caught by the old event.
    const now = this.revocations.issueTime();
    const ttl = this.core.cfg.identity.tokenExpiration * 1000;
    let payload: TokenPayload;
    const method = methods[0];
    if (method === "password") {
      const p = auth.identity.password;
      if (!p?.user) throw new ApiError(400, "Expecting to find password.user in the request.");
      const user = await this.userRef(p.user);
      // Security compliance: a locked account is refused before its password is even checked; failures count.
      if (user) await assertNotLocked(this.core, user);
      const ok = await this.core.hasher.verify(p.user.password ?? "", user?.password_hash ?? null);
      if (user && !ok) await recordAuthFailure(this.core, user);
      if (!user || !ok || !user.enabled) throw authFailed();
      await resetAuthFailures(this.core, user);
      const dom = await findProject(this.core, user.domain_id);
      if (!dom?.enabled) throw authFailed();
      const { scope, trustId } = await this.scopeFor(user, auth.scope);
      payload = {
        userId: user.id,
        methods: ["password"],
        scope,
        issuedAt: now,
        expiresAt: now + ttl,
        auditIds: [newAuditId()],
        ...(trustId ? { trustId } : {}),
      };
    } else if (method === "token") {
      const id = auth.identity.token?.id;
      if (!id) throw new ApiError(400, "Expecting to find token.id in the request.");
      // Keystone answers 404 (TokenNotFound) for an invalid or revoked token given to the token method.
      const orig = await this.validate(id);
      if (orig.payload.appCredId)
        throw new ApiError(403, "A token created with an application credential cannot be rescoped.");
      if (orig.payload.trustId)
        throw new ApiError(
          403,
          "You are not authorized to perform the requested action: Using trust-scoped token to create another token. Create a new trust-scoped token instead.",
        );
      const user = await findUser(this.core, orig.payload.userId);
      if (!user) throw authFailed();
      const { scope, trustId } =
        auth.scope === undefined
          ? { scope: orig.payload.scope, trustId: undefined }
          : await this.scopeFor(user, auth.scope);
      const ms = orig.payload.methods.includes("token")
        ? orig.payload.methods
        : ["token", ...orig.payload.methods];
      payload = {
        userId: user.id,
        methods: ms,
        scope,
        issuedAt: now,
        expiresAt: orig.payload.expiresAt,
        auditIds: [newAuditId(), orig.payload.auditIds[orig.payload.auditIds.length - 1]],
        ...(trustId ? { trustId } : {}),
      };
    } else {
      const ac = auth.identity.application_credential;
      if (!ac) throw new ApiError(400, "Expecting to find application_credential in the request.");
      if (auth.scope !== undefined)
        throw new ApiError(401, "Application credentials cannot request a scope.");
      let cred: (AppCred & { secret_hash: string }) | null = null;
      if (ac.id) cred = await findAppCredForAuth(this.core, { id: ac.id });
      else if (ac.name) {
        const u = await this.userRef(ac.user);
        cred = u ? await findAppCredForAuth(this.core, { name: ac.name, userId: u.id }) : null;
      } else throw new ApiError(400, "Expecting to find application_credential id or name in the request.");
      const ok = await this.core.hasher.verify(ac.secret, cred?.secret_hash ?? null);
      if (!cred || !ok) throw authFailed();
      if (cred.expires_at && parseTime(cred.expires_at) <= now) throw authFailed();
      const user = await findUser(this.core, cred.user_id);
      if (!user?.enabled) throw authFailed();
      const scope: Scope = cred.system
        ? { kind: "system" }
        : { kind: "project", id: cred.project_id as string };
      const exp = cred.expires_at ? Math.min(now + ttl, parseTime(cred.expires_at)) : now + ttl;
      payload = {
        userId: user.id,
        methods: ["application_credential"],
        scope,
        issuedAt: now,
        expiresAt: exp,
        auditIds: [newAuditId()],
        appCredId: cred.id,
      };
    }
    const token = this.codec.encode(payload);
    // The generation the view is computed at: if roles change while it is built, the cached view must count as stale.
    const gen = this.core.generation;
    const view = await this.buildView(token, payload).catch((e: unknown) => {
      if (e instanceof InvalidToken) throw authFailed();
      throw e;
    });
    // Like Keystone, a use of a limited trust is consumed once its token has been issued.
    if (payload.trustId) await consumeTrustUse(this.core, payload.trustId);
    this.cache.set(token, { view, gen });
    return { id: token, view };
  }

  /**
   * A project-scoped token for an EC2 credential whose signature identity already checked (Keystone's ec2tokens and
   * s3tokens): the credential's user on the credential's project, through its trust when it was made with one.
   */
  async issueForEc2(cred: {
    userId: string;
    projectId: string;
    trustId?: string | null;
  }): Promise<{ id: string; view: TokenView }> {
    const now = this.revocations.issueTime();
    const user = await findUser(this.core, cred.userId);
    if (!user?.enabled) throw authFailed();
    const p = await findProject(this.core, cred.projectId);
    if (!p || p.is_domain || !p.enabled) throw authFailed();
    if (!cred.trustId && !(await userProjectRoleIds(this.core, user.id, p.id, p.domain_id as string)).size)
      throw authFailed();
    const payload: TokenPayload = {
      userId: user.id,
      methods: ["ec2credential"],
      scope: { kind: "project", id: p.id },
      issuedAt: now,
      expiresAt: now + this.core.cfg.identity.tokenExpiration * 1000,
      auditIds: [newAuditId()],
      ...(cred.trustId ? { trustId: cred.trustId } : {}),
    };
    const token = this.codec.encode(payload);
    const gen = this.core.generation;
    const view = await this.buildView(token, payload).catch((e: unknown) => {
      if (e instanceof InvalidToken) throw authFailed();
      throw e;
    });
    this.cache.set(token, { view, gen });
    return { id: token, view };
  }

  /** The scope a token asks for, including a trust scope ({"OS-TRUST:trust": {"id": ...}}). */
  private async scopeFor(
    user: User,
    scope: AuthRequest["scope"],
  ): Promise<{ scope: Scope; trustId?: string }> {
    if (!scope || typeof scope !== "object" || (scope as Record<string, unknown>)[TRUST_SCOPE] === undefined)
      return { scope: await this.resolveScope(user, scope) };
    if (
      Object.keys(scope).filter((k) => ["project", "domain", "system", "unscoped", TRUST_SCOPE].includes(k))
        .length !== 1
    )
      throw new ApiError(
        400,
        "Expecting to find system, project, domain, OS-TRUST:trust or unscoped in scope. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
      );
    const ref = scope[TRUST_SCOPE];
    if (!ref || typeof ref !== "object" || typeof ref.id !== "string" || !ref.id)
      throw new ApiError(
        400,
        "Expecting to find trust_id in trust. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
      );
    // An unknown, expired or used-up trust is a 401, as Keystone turns TrustNotFound into Unauthorized here.
    const trust = await findTrust(this.core, ref.id);
    if (!trust) throw new ApiError(401, `Could not find trust: ${ref.id}.`);
    if (trust.trustee_user_id !== user.id) throw new ApiError(403, "User is not a trustee.");
    const trustor = await findUser(this.core, trust.trustor_user_id);
    if (!trustor?.enabled) throw new ApiError(403, "Trustor is disabled.");
    if (!(await findProject(this.core, trustor.domain_id))?.enabled) throw authFailed();
    if (!trust.project_id) return { scope: { kind: "unscoped" }, trustId: trust.id };
    const p = await findProject(this.core, trust.project_id);
    if (!p || p.is_domain || !p.enabled) throw authFailed();
    if (!(await effectiveTrustRoles(this.core, trust)))
      throw new ApiError(403, "Trustee has no delegated roles.");
    return { scope: { kind: "project", id: p.id }, trustId: trust.id };
  }

  private async resolveScope(user: User, scope: AuthRequest["scope"]): Promise<Scope> {
    if (scope === "unscoped") return { kind: "unscoped" };
    if (scope === undefined || scope === null) {
      if (!user.default_project_id) return { kind: "unscoped" };
      const p = await findProject(this.core, user.default_project_id);
      if (!p || p.is_domain || !p.enabled) return { kind: "unscoped" };
      const roles = await userProjectRoleIds(this.core, user.id, p.id, p.domain_id as string);
      return roles.size ? { kind: "project", id: p.id } : { kind: "unscoped" };
    }
    // {"unscoped": {}} is what older keystoneauth sends for an explicitly unscoped token; Keystone accepts it.
    const kinds = ["project", "domain", "system", "unscoped"].filter(
      (k) => (scope as Record<string, unknown>)[k] !== undefined,
    );
    if (kinds.length !== 1)
      throw new ApiError(400, "Specify exactly one of project, domain, system or unscoped as the scope.");
    if (kinds[0] === "unscoped") return { kind: "unscoped" };
    if (scope.project) {
      const ref = scope.project;
      let p: Project | null;
      if (ref.id) p = await findProject(this.core, ref.id);
      else if (ref.name)
        p = await findProjectByName(this.core, ref.name, (await this.domainRef(ref.domain)).id);
      else throw new ApiError(400, "Expecting to find project id or name in the scope.");
      if (!p || p.is_domain)
        throw new ApiError(401, `Could not find the requested project or the user has no access to it.`);
      if (!p.enabled) throw new ApiError(401, `Project ${p.id} is disabled.`);
      const roles = await userProjectRoleIds(this.core, user.id, p.id, p.domain_id as string);
      if (!roles.size) throw new ApiError(401, `User ${user.id} has no access to project ${p.id}.`);
      return { kind: "project", id: p.id };
    }
    if (scope.domain) {
      const d = await this.domainRef(scope.domain);
      if (!d.enabled) throw new ApiError(401, `Domain ${d.id} is disabled.`);
      const roles = await userDomainRoleIds(this.core, user.id, d.id);
      if (!roles.size) throw new ApiError(401, `User ${user.id} has no access to domain ${d.id}.`);
      return { kind: "domain", id: d.id };
    }
    if (!scope.system?.all) throw new ApiError(400, 'The only supported system scope is {"all": true}.');
    const roles = await userSystemRoleIds(this.core, user.id);
    if (!roles.size) throw new ApiError(401, `User ${user.id} has no access to the system.`);
    return { kind: "system" };
  }

  /** Validate a token: decode, expiry, revocation, and that its user, scope and roles still hold. */
  async validate(token: string): Promise<TokenView> {
    const hit = this.cache.get(token);
    const now = Date.now();
    if (hit && hit.gen === this.core.generation) {
      if (hit.view.payload.expiresAt <= now) throw new InvalidToken("the token has expired.");
      return hit.view;
    }
    const payload = this.codec.decode(token);
    if (!payload) throw new InvalidToken("the token is malformed or was not issued by this cloud.");
    if (payload.expiresAt <= now) throw new InvalidToken("the token has expired.");
    const gen = this.core.generation;
    const view = await this.buildView(token, payload);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(token, { view, gen });
    return view;
  }

  /** Revoke one token (DELETE /v3/auth/tokens). */
  async revoke(view: TokenView): Promise<void> {
    await this.revocations.add({ audit_id: view.payload.auditIds[0] });
  }

  private async buildView(id: string, p: TokenPayload): Promise<TokenView> {
    const core = this.core;
    const user = await core.memo(`user:${p.userId}`, () => findUser(core, p.userId));
    if (!user || !user.enabled) throw new InvalidToken("the user is gone or disabled.");
    const userDomain = await core.memo(`project:${user.domain_id}`, () => findProject(core, user.domain_id));
    if (!userDomain?.enabled) throw new InvalidToken("the user's domain is disabled.");
    let project: Project | null = null;
    let projectDomain: Project | null = null;
    let domain: Project | null = null;
    let roleIds = new Set<string>();
    // A trust-scoped token: the trustee's token carrying the trust's roles (and the trustor's identity when it impersonates).
    let trust: Trust | null = null;
    let trustor: User | null = null;
    let trustorDomain: Project | null = null;
    if (p.trustId) {
      const tid = p.trustId;
      trust = await core.memo(`trust:${tid}`, () => findTrust(core, tid));
      if (!trust) throw new InvalidToken("its trust was deleted, has expired or has no uses left.");
      if (trust.trustee_user_id !== user.id)
        throw new InvalidToken("the user is not the trustee of its trust.");
      const tr = trust.trustor_user_id;
      trustor = await core.memo(`user:${tr}`, () => findUser(core, tr));
      if (!trustor?.enabled) throw new InvalidToken("the trustor is gone or disabled.");
      const td = trustor.domain_id;
      trustorDomain = await core.memo(`project:${td}`, () => findProject(core, td));
      if (!trustorDomain?.enabled) throw new InvalidToken("the trustor's domain is disabled.");
      if (
        this.revocations.isRevoked({ payload: { ...p, userId: tr }, userDomainId: td, projectDomainId: null })
      )
        throw new InvalidToken("the token has been revoked.");
    }
    if (p.scope.kind === "project") {
      const pid = p.scope.id;
      project = await core.memo(`project:${pid}`, () => findProject(core, pid));
      if (!project || project.is_domain || !project.enabled)
        throw new InvalidToken("the project is gone or disabled.");
      const pd = project.domain_id as string;
      projectDomain = await core.memo(`project:${pd}`, () => findProject(core, pd));
      if (!projectDomain?.enabled) throw new InvalidToken("the project's domain is disabled.");
      const pr = project;
      if (trust) {
        const tr = trust;
        const delegated = await core.memo(`roles:t:${tr.id}`, () => effectiveTrustRoles(core, tr));
        if (!delegated) throw new InvalidToken("the trustor no longer has the delegated roles.");
        roleIds = delegated;
      } else
        roleIds = await core.memo(`roles:p:${user.id}:${pr.id}`, () =>
          userProjectRoleIds(core, user.id, pr.id, pd),
        );
    } else if (p.scope.kind === "domain") {
      const did = p.scope.id;
      domain = await core.memo(`project:${did}`, () => findProject(core, did));
      if (!domain?.enabled) throw new InvalidToken("the domain is gone or disabled.");
      const dd = domain;
      roleIds = await core.memo(`roles:d:${user.id}:${dd.id}`, () => userDomainRoleIds(core, user.id, dd.id));
    } else if (p.scope.kind === "system")
      roleIds = await core.memo(`roles:s:${user.id}`, () => userSystemRoleIds(core, user.id));
    if (
      this.revocations.isRevoked({
        payload: p,
        userDomainId: user.domain_id,
        projectDomainId: project?.domain_id ?? null,
      })
    )
      throw new InvalidToken("the token has been revoked.");
    let appCred: AppCred | null = null;
    if (p.appCredId) {
      appCred = await findAppCredForAuth(this.core, { id: p.appCredId });
      if (!appCred) throw new InvalidToken("its application credential was deleted.");
      const allowed = new Set(appCred.roles.map((r) => r.id));
      roleIds = new Set([...roleIds].filter((r) => allowed.has(r)));
    }
    if (p.scope.kind !== "unscoped" && roleIds.size === 0)
      throw new InvalidToken("the user no longer has a role on the token's scope.");
    const byId = await this.roleMap();
    const roles = [...roleIds].map((r) => byId.get(r)).filter((r): r is Role => !!r);
    const ref = (x: Project) => ({ id: x.id, name: x.name });
    const body: Record<string, unknown> = {
      methods: p.methods,
      user: {
        domain: ref(userDomain),
        id: user.id,
        name: user.name,
        password_expires_at: user.password_expires_at,
      },
      audit_ids: p.auditIds,
      expires_at: keystoneTime(p.expiresAt),
      issued_at: keystoneTime(p.issuedAt),
    };
    if (project) {
      body.project = { domain: ref(projectDomain as Project), id: project.id, name: project.name };
      body.is_domain = false;
    }
    if (domain) body.domain = ref(domain);
    if (p.scope.kind === "system") body.system = { all: true };
    const impersonated = trust?.impersonation ? trustor : null;
    if (trust && trustor && trustorDomain) {
      body[TRUST_SCOPE] = {
        id: trust.id,
        trustor_user: { id: trustor.id },
        trustee_user: { id: user.id },
        impersonation: trust.impersonation,
      };
      delete body.is_domain;
      if (impersonated)
        body.user = {
          domain: ref(trustorDomain),
          id: trustor.id,
          name: trustor.name,
          password_expires_at: trustor.password_expires_at,
        };
    }
    if (p.scope.kind !== "unscoped")
      body.roles = roles.map((r) => ({
        id: r.id,
        name: r.name,
        ...(r.domain_id ? { domain_id: r.domain_id } : {}),
      }));
    if (appCred)
      body.application_credential = {
        id: appCred.id,
        name: appCred.name,
        restricted: !appCred.unrestricted,
        ...(appCred.access_rules ? { access_rules: appCred.access_rules } : {}),
      };
    return {
      id,
      payload: p,
      scoped: p.scope.kind !== "unscoped",
      body,
      ctx: {
        token: id,
        userId: (impersonated ?? user).id,
        userName: (impersonated ?? user).name,
        userDomainId: (impersonated ?? user).domain_id,
        userDomainName: (impersonated && trustorDomain ? trustorDomain : userDomain).name,
        projectId: project?.id ?? null,
        projectName: project?.name ?? null,
        projectDomainId: project?.domain_id ?? null,
        projectDomainName: projectDomain?.name ?? null,
        domainId: domain?.id ?? null,
        domainName: domain?.name ?? null,
        system: p.scope.kind === "system",
        roles: roles.map((r) => r.name),
        roleIds: roles.map((r) => r.id),
        // Keystone's admin_project_name/domain: admins of this project only are cloud admins (rule cloud_admin).
        isAdminProject:
          !!project &&
          project.name === this.core.cfg.policy.adminProject.name &&
          project.domain_id === this.core.cfg.policy.adminProject.domainId,
        methods: p.methods,
        auditIds: p.auditIds,
        issuedAt: p.issuedAt,
        expiresAt: p.expiresAt,
        appCredId: p.appCredId ?? null,
        accessRules: appCred?.access_rules ?? null,
      },
    };
  }
}
