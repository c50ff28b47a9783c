// One shared suite run against every SQL engine Stratus supports (SQLite, PostgreSQL, MySQL/MariaDB): a fresh
// database per engine, identity's migrations, then the identity store exercised through the real HTTP API of a
// booted cloud — bootstrap idempotency, tokens, CRUD, grants, 409s on unique violations, booleans and JSON extras,
// transactions, and revocation events that survive a restart.
//
// PostgreSQL and MariaDB come from scripts/db-services.mjs (ensureDatabases). An engine that is not usable is
// skipped with the reason, unless CI is set: then it fails. Missing servers are started when installed; they are
// apt-get installed (as root) only with CI set or STRATUS_DB_INSTALL=1. STRATUS_TEST_ENGINES=sqlite,postgres limits
// the engines; STRATUS_TEST_POSTGRES_URL / STRATUS_TEST_MYSQL_URL pick other loopback admin logins.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Cloud } from "../../../src/cloud/start.js";
import { identityMigrations } from "../../../src/identity/migrations.js";
import { migrate, openDatabase, type Engine } from "../../../src/shared/db/index.js";
import {
  createTempDatabase,
  ENGINES,
  prepareEngines,
  startEngineCloud,
  waitForTokenKeys,
  type TempDatabase,
} from "../../helpers/engines.js";

before(prepareEngines);

/** A response as the tests see it. */
interface Res {
  status: number;
  headers: Record<string, unknown>;
  body: any;
}

/** One engine's database, cloud and request helpers. */
class EngineUnderTest {
  skipReason: string | null = null;
  url = "";
  dataDir = "";
  cloud: Cloud | null = null;
  private db: TempDatabase | null = null;
  private admin: string | null = null;

  constructor(readonly engine: Engine) {}

  /** Create the empty database (or explain why this engine is skipped; in CI, fail instead). */
  async setup(): Promise<void> {
    this.dataDir = await mkdtemp(join(tmpdir(), `stratus-db-${this.engine}-`));
    this.db = await createTempDatabase(this.engine, {
      dataDir: this.dataDir,
      prefix: "stratus_test",
      sqliteFile: "identity.db",
    });
    this.skipReason = this.db.skipReason;
    this.url = this.db.url;
  }

  /** Stop the cloud, drop the database, remove the data directory. */
  async teardown(): Promise<void> {
    await this.stop();
    if (this.db) await this.db.drop();
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Boot the cloud on this database and data directory (fast password hashing, no socket). */
  async start(): Promise<Cloud> {
    this.cloud = await startEngineCloud(this.dataDir, this.url);
    this.admin = null;
    await waitForTokenKeys(this.cloud);
    return this.cloud;
  }

  async stop(): Promise<void> {
    const c = this.cloud;
    this.cloud = null;
    if (c) await c.close();
  }

  async restart(): Promise<Cloud> {
    await this.stop();
    return this.start();
  }

  async req(
    method: string,
    path: string,
    o: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Res> {
    assert.ok(this.cloud, "the cloud is not running");
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers["x-auth-token"] = o.token;
    let payload: string | undefined;
    if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers["content-type"] = "application/json";
    }
    const r = await this.cloud.app.inject({
      method: method as any,
      url: `/identity${path}`,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    let body: unknown;
    try {
      body = r.payload ? JSON.parse(r.payload) : undefined;
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body };
  }

  /** Request as the cloud admin and insist on one status. */
  async as(method: string, path: string, want: number, body?: unknown): Promise<any> {
    const r = await this.req(method, path, { token: await this.adminToken(), body });
    assert.equal(
      r.status,
      want,
      `${method} ${path}: expected ${want}, got ${r.status} ${JSON.stringify(r.body)}`,
    );
    return r.body;
  }

  /** A password token; returns the full response. */
  auth(user: Record<string, unknown>, password: string, scope?: Record<string, unknown>): Promise<Res> {
    const auth: Record<string, unknown> = {
      identity: { methods: ["password"], password: { user: { ...user, password } } },
    };
    if (scope) auth.scope = scope;
    return this.req("POST", "/v3/auth/tokens?nocatalog", { body: { auth } });
  }

  async token(
    user: Record<string, unknown>,
    password: string,
    scope?: Record<string, unknown>,
  ): Promise<string> {
    const r = await this.auth(user, password, scope);
    assert.equal(r.status, 201, `auth ${JSON.stringify(user)}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.headers["x-subject-token"] as string;
  }

  async adminToken(): Promise<string> {
    assert.ok(this.cloud);
    this.admin ??= await this.token({ name: "admin", domain: { id: "default" } }, this.cloud.adminPassword, {
      project: { name: "admin", domain: { id: "default" } },
    });
    return this.admin;
  }

  /** Validate a token as the admin: the status of GET /v3/auth/tokens. */
  async validate(token: string): Promise<number> {
    const r = await this.req("GET", "/v3/auth/tokens?nocatalog", {
      token: await this.adminToken(),
      headers: { "x-subject-token": token },
    });
    return r.status;
  }
}

/** Counts of what bootstrap creates, to compare two boots. */
async function bootstrapSnapshot(e: EngineUnderTest): Promise<Record<string, unknown>> {
  const k = e.cloud!.db.kysely;
  const count = async (table: string): Promise<number> =>
    Number(
      (
        await k
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const names = (list: Array<{ name: string }>) => list.map((x) => x.name).sort();
  return {
    domains: names((await e.as("GET", "/v3/domains", 200)).domains),
    roles: names((await e.as("GET", "/v3/roles", 200)).roles),
    users: names((await e.as("GET", "/v3/users", 200)).users),
    projects: names((await e.as("GET", "/v3/projects", 200)).projects),
    assignments: await count("identity_assignment"),
    implied: await count("identity_implied_role"),
    services: await count("identity_service"),
    endpoints: await count("identity_endpoint"),
    regions: await count("identity_region"),
  };
}

const roleNames = (token: any): string[] => token.roles.map((r: { name: string }) => r.name).sort();

for (const engine of ENGINES) {
  describe(`identity store on ${engine}`, () => {
    const e = new EngineUnderTest(engine);
    const tag = `${engine}-${randomBytes(3).toString("hex")}`;
    before(() => e.setup());
    after(() => e.teardown());

    /** A case of the shared suite; skipped (with the reason) when the engine is unavailable outside CI. */
    const it = (name: string, fn: () => Promise<void>) =>
      test(name, async (t) => {
        if (e.skipReason) return t.skip(e.skipReason);
        await fn();
      });

    it("migrate() creates identity's schema once", async () => {
      const db = await openDatabase(e.url);
      try {
        assert.equal(db.engine, engine);
        assert.deepEqual(
          await migrate(db, "identity", identityMigrations),
          Object.keys(identityMigrations).sort(),
        );
        assert.deepEqual(await migrate(db, "identity", identityMigrations), []);
        const tables = new Set((await db.kysely.introspection.getTables()).map((t) => t.name));
        for (const t of [
          "identity_project",
          "identity_user",
          "identity_group",
          "identity_role",
          "identity_assignment",
          "identity_revocation_event",
        ])
          assert.ok(tables.has(t), `table ${t} exists`);
      } finally {
        await db.close();
      }
    });

    it("bootstrap is idempotent: two boots on the same database", async () => {
      await e.start();
      const first = await bootstrapSnapshot(e);
      const password = e.cloud!.adminPassword;
      assert.deepEqual(first.domains, ["Default"]);
      assert.deepEqual(first.roles, ["ResellerAdmin", "admin", "manager", "member", "reader", "service"]);
      assert.deepEqual(first.users, ["admin", "demo", "nova"]);
      assert.deepEqual(first.projects, ["admin", "demo", "service"]);
      await e.restart();
      assert.equal(e.cloud!.adminPassword, password);
      assert.deepEqual(await bootstrapSnapshot(e), first);
    });

    it("password authentication issues a token that validates", async () => {
      const r = await e.req("POST", "/v3/auth/tokens", {
        body: {
          auth: {
            identity: {
              methods: ["password"],
              password: {
                user: { name: "admin", domain: { id: "default" }, password: e.cloud!.adminPassword },
              },
            },
            scope: { project: { name: "admin", domain: { id: "default" } } },
          },
        },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(roleNames(r.body.token), ["admin", "manager", "member", "reader"]);
      assert.equal(r.body.token.project.name, "admin");
      assert.ok(r.body.token.catalog.some((s: { type: string }) => s.type === "identity"));
      const token = r.headers["x-subject-token"] as string;
      assert.equal(await e.validate(token), 200);
      const bad = await e.auth({ name: "admin", domain: { id: "default" } }, "wrong password");
      assert.equal(bad.status, 401);
    });

    it("projects: create, list, update, delete; booleans, tags and JSON extras round-trip", async () => {
      const extra = { nested: { list: [1, true, null, "x"], n: 1.5 }, empty: {} };
      const description = "ünïcødé ✓ 😀 — 4-byte UTF-8";
      const created = (
        await e.as("POST", "/v3/projects", 201, {
          project: {
            name: `proj-${tag}`,
            domain_id: "default",
            description,
            enabled: false,
            tags: ["b", "a"],
            custom: extra,
          },
        })
      ).project;
      assert.equal(created.enabled, false);
      assert.equal(created.is_domain, false);
      assert.equal(created.description, description);
      assert.deepEqual(created.custom, extra);
      const got = (await e.as("GET", `/v3/projects/${created.id}`, 200)).project;
      assert.strictEqual(got.enabled, false);
      assert.strictEqual(got.is_domain, false);
      assert.deepEqual(got.custom, extra);
      assert.equal(got.description, description);
      assert.deepEqual([...got.tags].sort(), ["a", "b"]);
      const disabled = (await e.as("GET", `/v3/projects?enabled=false`, 200)).projects.map((p: any) => p.id);
      assert.ok(disabled.includes(created.id));
      const enabled = (await e.as("GET", `/v3/projects?enabled=true`, 200)).projects.map((p: any) => p.id);
      assert.ok(!enabled.includes(created.id));

      const patched = (
        await e.as("PATCH", `/v3/projects/${created.id}`, 200, {
          project: { name: `proj2-${tag}`, enabled: true, more: [{ a: 1 }] },
        })
      ).project;
      assert.strictEqual(patched.enabled, true);
      assert.equal(patched.name, `proj2-${tag}`);
      assert.deepEqual(patched.custom, extra);
      assert.deepEqual(patched.more, [{ a: 1 }]);
      const byName = (await e.as("GET", `/v3/projects?name=proj2-${tag}`, 200)).projects;
      assert.deepEqual(
        byName.map((p: any) => p.id),
        [created.id],
      );
      await e.as("PUT", `/v3/projects/${created.id}/tags`, 200, { tags: ["c"] });
      assert.deepEqual((await e.as("GET", `/v3/projects/${created.id}/tags`, 200)).tags, ["c"]);

      await e.as("DELETE", `/v3/projects/${created.id}`, 204);
      await e.as("GET", `/v3/projects/${created.id}`, 404);
      const tagRows = await e
        .cloud!.db.kysely.selectFrom("identity_project_tag")
        .selectAll()
        .where("project_id", "=", created.id)
        .execute();
      assert.deepEqual(tagRows, []);
    });

    it("users: create, list, update, delete; booleans and extras round-trip", async () => {
      const u = (
        await e.as("POST", "/v3/users", 201, {
          user: {
            name: `user-${tag}`,
            domain_id: "default",
            password: "s3cret-ü",
            enabled: false,
            email: "u@example.org",
            prefs: { dark: true },
          },
        })
      ).user;
      assert.strictEqual(u.enabled, false);
      assert.equal(u.email, "u@example.org");
      assert.deepEqual(u.prefs, { dark: true });
      assert.equal(
        (await e.auth({ id: u.id }, "s3cret-ü")).status,
        401,
        "a disabled user cannot authenticate",
      );
      const off = (await e.as("GET", "/v3/users?enabled=false", 200)).users.map((x: any) => x.id);
      assert.ok(off.includes(u.id));
      const on = (
        await e.as("PATCH", `/v3/users/${u.id}`, 200, { user: { enabled: true, email: "v@example.org" } })
      ).user;
      assert.strictEqual(on.enabled, true);
      assert.equal(on.email, "v@example.org");
      assert.deepEqual(on.prefs, { dark: true });
      assert.equal((await e.auth({ id: u.id }, "s3cret-ü")).status, 201);
      const got = (await e.as("GET", `/v3/users?name=user-${tag}`, 200)).users;
      assert.deepEqual(
        got.map((x: any) => [x.id, x.enabled]),
        [[u.id, true]],
      );
      await e.as("DELETE", `/v3/users/${u.id}`, 204);
      await e.as("GET", `/v3/users/${u.id}`, 404);
    });

    it("groups and memberships (deletes report whether a row went)", async () => {
      const g = (
        await e.as("POST", "/v3/groups", 201, {
          group: { name: `group-${tag}`, domain_id: "default", description: "d", extra_key: [1] },
        })
      ).group;
      assert.deepEqual(g.extra_key, [1]);
      const u = (
        await e.as("POST", "/v3/users", 201, { user: { name: `member-${tag}`, domain_id: "default" } })
      ).user;
      await e.as("PUT", `/v3/groups/${g.id}/users/${u.id}`, 204);
      await e.as("PUT", `/v3/groups/${g.id}/users/${u.id}`, 204); // idempotent: the duplicate row is a unique violation
      await e.as("HEAD", `/v3/groups/${g.id}/users/${u.id}`, 204);
      assert.deepEqual(
        (await e.as("GET", `/v3/groups/${g.id}/users`, 200)).users.map((x: any) => x.id),
        [u.id],
      );
      assert.deepEqual(
        (await e.as("GET", `/v3/users/${u.id}/groups`, 200)).groups.map((x: any) => x.id),
        [g.id],
      );
      const patched = (await e.as("PATCH", `/v3/groups/${g.id}`, 200, { group: { description: "changed" } }))
        .group;
      assert.equal(patched.description, "changed");
      await e.as("DELETE", `/v3/groups/${g.id}/users/${u.id}`, 204);
      await e.as("DELETE", `/v3/groups/${g.id}/users/${u.id}`, 404);
      await e.as("DELETE", `/v3/groups/${g.id}`, 204);
      await e.as("GET", `/v3/groups/${g.id}`, 404);
      await e.as("DELETE", `/v3/users/${u.id}`, 204);
    });

    it("roles and implications", async () => {
      const a = (
        await e.as("POST", "/v3/roles", 201, {
          role: { name: `role-a-${tag}`, description: "A", hint: { x: 1 } },
        })
      ).role;
      const b = (await e.as("POST", "/v3/roles", 201, { role: { name: `role-b-${tag}` } })).role;
      assert.deepEqual(a.hint, { x: 1 });
      await e.as("PUT", `/v3/roles/${a.id}/implies/${b.id}`, 201);
      await e.as("PUT", `/v3/roles/${a.id}/implies/${b.id}`, 201);
      await e.as("PUT", `/v3/roles/${b.id}/implies/${a.id}`, 409);
      await e.as("HEAD", `/v3/roles/${a.id}/implies/${b.id}`, 204);
      const renamed = (await e.as("PATCH", `/v3/roles/${a.id}`, 200, { role: { name: `role-a2-${tag}` } }))
        .role;
      assert.equal(renamed.name, `role-a2-${tag}`);
      await e.as("DELETE", `/v3/roles/${a.id}/implies/${b.id}`, 204);
      await e.as("DELETE", `/v3/roles/${a.id}/implies/${b.id}`, 404);
      await e.as("DELETE", `/v3/roles/${a.id}`, 204);
      await e.as("DELETE", `/v3/roles/${b.id}`, 204);
      await e.as("GET", `/v3/roles/${a.id}`, 404);
    });

    it("unique-constraint violations answer 409, names are case-sensitive, failed writes roll back", async () => {
      const k = e.cloud!.db.kysely;
      const p = (
        await e.as("POST", "/v3/projects", 201, { project: { name: `dup-${tag}`, domain_id: "default" } })
      ).project;
      const p2 = (
        await e.as("POST", "/v3/projects", 201, { project: { name: `dup2-${tag}`, domain_id: "default" } })
      ).project;
      const tagsBefore = Number(
        (
          await k
            .selectFrom("identity_project_tag")
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
      await e.as("POST", "/v3/projects", 409, {
        project: { name: `dup-${tag}`, domain_id: "default", tags: ["t1", "t2"] },
      });
      const tagsAfter = Number(
        (
          await k
            .selectFrom("identity_project_tag")
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
      assert.equal(
        tagsAfter,
        tagsBefore,
        "the failed project insert left no tags behind (transaction rolled back)",
      );
      await e.as("PATCH", `/v3/projects/${p2.id}`, 409, { project: { name: `dup-${tag}` } });
      // Same name in upper case is another name on every engine (MySQL's default collations would say 409).
      await e.as("POST", "/v3/projects", 201, { project: { name: `DUP-${tag}`, domain_id: "default" } });

      await e.as("POST", "/v3/domains", 201, { domain: { name: `dom-${tag}` } });
      await e.as("POST", "/v3/domains", 409, { domain: { name: `dom-${tag}` } });

      const u = (
        await e.as("POST", "/v3/users", 201, { user: { name: `dupuser-${tag}`, domain_id: "default" } })
      ).user;
      const u2 = (
        await e.as("POST", "/v3/users", 201, { user: { name: `dupuser2-${tag}`, domain_id: "default" } })
      ).user;
      await e.as("POST", "/v3/users", 409, { user: { name: `dupuser-${tag}`, domain_id: "default" } });
      await e.as("PATCH", `/v3/users/${u2.id}`, 409, { user: { name: `dupuser-${tag}` } });
      await e.as("POST", "/v3/users", 201, { user: { name: `DupUser-${tag}`, domain_id: "default" } });

      const g = (
        await e.as("POST", "/v3/groups", 201, { group: { name: `dupgroup-${tag}`, domain_id: "default" } })
      ).group;
      await e.as("POST", "/v3/groups", 409, { group: { name: `dupgroup-${tag}`, domain_id: "default" } });
      const g2 = (
        await e.as("POST", "/v3/groups", 201, { group: { name: `dupgroup2-${tag}`, domain_id: "default" } })
      ).group;
      await e.as("PATCH", `/v3/groups/${g2.id}`, 409, { group: { name: `dupgroup-${tag}` } });

      await e.as("POST", "/v3/roles", 201, { role: { name: `duprole-${tag}` } });
      await e.as("POST", "/v3/roles", 409, { role: { name: `duprole-${tag}` } });
      const r2 = (await e.as("POST", "/v3/roles", 201, { role: { name: `duprole2-${tag}` } })).role;
      await e.as("PATCH", `/v3/roles/${r2.id}`, 409, { role: { name: `duprole-${tag}` } });

      // The pool still works after the failed statements (a PostgreSQL error aborts only its own transaction).
      assert.equal((await e.as("GET", `/v3/projects/${p.id}`, 200)).project.name, `dup-${tag}`);
      assert.equal((await e.as("GET", `/v3/users/${u.id}`, 200)).user.name, `dupuser-${tag}`);
      assert.equal((await e.as("GET", `/v3/groups/${g.id}`, 200)).group.name, `dupgroup-${tag}`);
    });

    it("grants and effective role assignments (groups, inheritance, implied roles)", async () => {
      const dom = (await e.as("POST", "/v3/domains", 201, { domain: { name: `gdom-${tag}` } })).domain;
      const parent = (
        await e.as("POST", "/v3/projects", 201, { project: { name: `gp-${tag}`, domain_id: dom.id } })
      ).project;
      const child = (
        await e.as("POST", "/v3/projects", 201, { project: { name: `gc-${tag}`, parent_id: parent.id } })
      ).project;
      assert.equal(child.domain_id, dom.id);
      const user = (
        await e.as("POST", "/v3/users", 201, {
          user: { name: `guser-${tag}`, domain_id: dom.id, password: "pw-grants" },
        })
      ).user;
      const group = (
        await e.as("POST", "/v3/groups", 201, { group: { name: `ggroup-${tag}`, domain_id: dom.id } })
      ).group;
      await e.as("PUT", `/v3/groups/${group.id}/users/${user.id}`, 204);
      const role = async (n: string) =>
        (await e.as("POST", "/v3/roles", 201, { role: { name: `${n}-${tag}` } })).role.id as string;
      const [direct, viaGroup, inherited, implied] = [
        await role("direct"),
        await role("viagroup"),
        await role("inherited"),
        await role("implied"),
      ];
      await e.as("PUT", `/v3/roles/${direct}/implies/${implied}`, 201);

      await e.as("PUT", `/v3/projects/${parent.id}/users/${user.id}/roles/${direct}`, 204);
      await e.as("PUT", `/v3/projects/${parent.id}/users/${user.id}/roles/${direct}`, 204); // idempotent
      await e.as("PUT", `/v3/projects/${parent.id}/groups/${group.id}/roles/${viaGroup}`, 204);
      await e.as(
        "PUT",
        `/v3/OS-INHERIT/domains/${dom.id}/users/${user.id}/roles/${inherited}/inherited_to_projects`,
        204,
      );
      await e.as("HEAD", `/v3/projects/${parent.id}/users/${user.id}/roles/${direct}`, 204);
      await e.as("HEAD", `/v3/projects/${child.id}/users/${user.id}/roles/${direct}`, 404);
      assert.deepEqual(
        (await e.as("GET", `/v3/projects/${parent.id}/users/${user.id}/roles`, 200)).roles.map(
          (r: any) => r.id,
        ),
        [direct],
      );

      const key = (a: any) =>
        `${a.role.id}@${a.scope.project?.id ?? a.scope.domain?.id ?? "system"}${a.scope["OS-INHERIT:inherited_to"] ? "+inherited" : ""}`;
      const raw = (await e.as("GET", `/v3/role_assignments?user.id=${user.id}`, 200)).role_assignments
        .map(key)
        .sort();
      assert.deepEqual(raw, [`${direct}@${parent.id}`, `${inherited}@${dom.id}+inherited`].sort());
      const effective = new Set(
        (await e.as("GET", `/v3/role_assignments?effective&user.id=${user.id}`, 200)).role_assignments.map(
          key,
        ),
      );
      assert.deepEqual(
        [...effective].sort(),
        [
          `${direct}@${parent.id}`,
          `${implied}@${parent.id}`,
          `${viaGroup}@${parent.id}`,
          `${inherited}@${parent.id}`,
          `${inherited}@${child.id}`,
        ].sort(),
      );

      const ids = (tok: any) => tok.roles.map((r: { id: string }) => r.id).sort();
      const login = { name: `guser-${tag}`, domain: { id: dom.id } };
      const onParent = await e.auth(login, "pw-grants", { project: { id: parent.id } });
      assert.equal(onParent.status, 201, JSON.stringify(onParent.body));
      assert.deepEqual(ids(onParent.body.token), [direct, viaGroup, inherited, implied].sort());
      const onChild = await e.auth(login, "pw-grants", { project: { id: child.id } });
      assert.deepEqual(ids(onChild.body.token), [inherited]);

      await e.as("DELETE", `/v3/projects/${parent.id}/users/${user.id}/roles/${direct}`, 204);
      await e.as("DELETE", `/v3/projects/${parent.id}/users/${user.id}/roles/${direct}`, 404);
      const after = (
        await e.as("GET", `/v3/role_assignments?effective&user.id=${user.id}`, 200)
      ).role_assignments
        .map(key)
        .sort();
      assert.deepEqual(
        after,
        [`${viaGroup}@${parent.id}`, `${inherited}@${parent.id}`, `${inherited}@${child.id}`].sort(),
      );

      // Deleting the user removes its memberships and assignments in one transaction.
      await e.as("DELETE", `/v3/users/${user.id}`, 204);
      const k = e.cloud!.db.kysely;
      assert.deepEqual(
        await k.selectFrom("identity_assignment").selectAll().where("actor_id", "=", user.id).execute(),
        [],
      );
      assert.deepEqual(
        await k.selectFrom("identity_membership").selectAll().where("user_id", "=", user.id).execute(),
        [],
      );
    });

    it("revocation events persist across a restart", async () => {
      const project = (
        await e.as("POST", "/v3/projects", 201, { project: { name: `rv-${tag}`, domain_id: "default" } })
      ).project;
      const member = (await e.as("GET", "/v3/roles?name=member", 200)).roles[0].id;
      const mk = async (n: string) => {
        const u = (
          await e.as("POST", "/v3/users", 201, {
            user: { name: `${n}-${tag}`, domain_id: "default", password: `pw-${n}` },
          })
        ).user;
        await e.as("PUT", `/v3/projects/${project.id}/users/${u.id}/roles/${member}`, 204);
        return { user: u, token: await e.token({ id: u.id }, `pw-${n}`, { project: { id: project.id } }) };
      };
      const disabled = await mk("rv-disabled");
      const selfRevoked = await mk("rv-self");
      const untouched = await mk("rv-untouched");
      for (const x of [disabled, selfRevoked, untouched]) assert.equal(await e.validate(x.token), 200);

      await e.as("PATCH", `/v3/users/${disabled.user.id}`, 200, { user: { enabled: false } });
      assert.equal(await e.validate(disabled.token), 404);
      await e.as("PATCH", `/v3/users/${disabled.user.id}`, 200, { user: { enabled: true } });
      assert.equal(
        await e.validate(disabled.token),
        404,
        "still revoked after re-enabling: the revocation event holds",
      );
      const del = await e.req("DELETE", "/v3/auth/tokens", {
        token: await e.adminToken(),
        headers: { "x-subject-token": selfRevoked.token },
      });
      assert.equal(del.status, 204);
      assert.equal(await e.validate(selfRevoked.token), 404);

      await e.restart(); // same database and data directory (token keys)
      assert.equal(await e.validate(disabled.token), 404, "user revocation survives the restart");
      assert.equal(await e.validate(selfRevoked.token), 404, "token revocation survives the restart");
      assert.equal(await e.validate(untouched.token), 200, "other tokens stay valid");
      const fresh = await e.token({ id: disabled.user.id }, "pw-rv-disabled", {
        project: { id: project.id },
      });
      assert.equal(await e.validate(fresh), 200, "a token issued after the event is valid");
    });

    it("stored values come back with portable JS types", async () => {
      const k = e.cloud!.db.kysely;
      const events = await k
        .selectFrom("identity_revocation_event")
        .select(["seq", "issued_before", "revoked_at"])
        .execute();
      assert.ok(events.length >= 2);
      for (const ev of events)
        for (const [col, v] of Object.entries(ev))
          assert.equal(typeof v, "number", `${col} (bigint) is a number, got ${typeof v} ${String(v)}`);
      const n = (
        await k
          .selectFrom("identity_user")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n;
      assert.equal(typeof n, "number", `count(*) is a number, got ${typeof n}`);
      const users = await k.selectFrom("identity_user").select(["enabled", "extra"]).execute();
      for (const u of users) {
        assert.ok(u.enabled === 0 || u.enabled === 1, `enabled is stored as 0/1, got ${String(u.enabled)}`);
        assert.equal(typeof u.extra, "string");
      }
      const del = await k
        .deleteFrom("identity_project_tag")
        .where("project_id", "=", "no-such-project")
        .executeTakeFirst();
      assert.equal(Number(del.numDeletedRows), 0);
    });
  });
}
