// The default policy as a table of persona × API call → status (Keystone's defaults, where the admin role on any
// scope is the legacy cloud admin), domain-scoped list filtering, and policy.yaml overrides with reload.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bootCloud, isKeystoneError, type TestCloud } from "../../helpers/cloud.js";

let c: TestCloud;
type Persona = "admin" | "demo" | "reader" | "sysadmin" | "domadmin";
const personas: Persona[] = ["admin", "demo", "reader", "sysadmin", "domadmin"];
const tokens = {} as Record<Persona, string>;
const userIds = {} as Record<Persona, string>;
let victim: { id: string; token: string };
let otherDomain: string;
let n = 0;

before(async () => {
  c = await bootCloud();
  const admin = await c.adminToken();
  const reader = await c.roleId("reader");
  const adminRole = await c.roleId("admin");
  tokens.admin = admin;
  tokens.demo = await c.demoToken();
  const r = await c.createUser("pol-reader", "pol-reader-secret");
  await c.req("PUT", `/v3/projects/${await c.projectId("demo")}/users/${r.id}/roles/${reader}`, {
    token: admin,
  });
  tokens.reader = await c.token("pol-reader", "pol-reader-secret", "demo");
  tokens.sysadmin = await c.token("admin", c.cloud.adminPassword, { system: { all: true } });
  otherDomain = (
    await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "pol-other" } } })
  ).body.domain.id;
  const da = await c.req("POST", "/v3/users", {
    token: admin,
    body: { user: { name: "pol-domadmin", domain_id: otherDomain, password: "pol-domadmin-secret" } },
  });
  await c.req("PUT", `/v3/domains/${otherDomain}/users/${da.body.user.id}/roles/${adminRole}`, {
    token: admin,
  });
  tokens.domadmin = await c.token(
    { name: "pol-domadmin", domain: { id: otherDomain } },
    "pol-domadmin-secret",
    { domain: { id: otherDomain } },
  );
  userIds.admin = await c.userId("admin");
  userIds.demo = await c.userId("demo");
  userIds.reader = r.id;
  userIds.sysadmin = userIds.admin;
  userIds.domadmin = da.body.user.id;
  const v = await c.createUser("pol-victim", "pol-victim-secret");
  await c.req("PUT", `/v3/projects/${await c.projectId("demo")}/users/${v.id}/roles/${reader}`, {
    token: admin,
  });
  victim = { id: v.id, token: await c.token("pol-victim", "pol-victim-secret", "demo") };
});
after(() => c.close());

type Call = {
  name: string;
  run: (p: Persona) => Promise<{ status: number; body: any; text: string }>;
  expect: Record<Persona, number>;
};
const ALL = (s: number, except: Partial<Record<Persona, number>> = {}): Record<Persona, number> => ({
  admin: s,
  demo: s,
  reader: s,
  sysadmin: s,
  domadmin: s,
  ...except,
});
const ADMINS_ONLY = (s: number): Record<Persona, number> => ({
  admin: s,
  demo: 403,
  reader: 403,
  sysadmin: s,
  domadmin: s,
});

/** Cloud-wide calls: a domain admin administers its own domain only (secure RBAC), not the cloud. */
const CLOUD_ADMINS_ONLY = (s: number): Record<Persona, number> => ({ ...ADMINS_ONLY(s), domadmin: 403 });

const calls: Call[] = [
  {
    name: "list users",
    run: (p) => c.req("GET", "/v3/users", { token: tokens[p] }),
    expect: ADMINS_ONLY(200),
  },
  {
    name: "create user",
    run: (p) =>
      c.req("POST", "/v3/users", { token: tokens[p], body: { user: { name: `pol-new-${p}-${++n}` } } }),
    expect: ADMINS_ONLY(201),
  },
  {
    name: "list projects",
    run: (p) => c.req("GET", "/v3/projects", { token: tokens[p] }),
    expect: ADMINS_ONLY(200),
  },
  {
    name: "create project",
    run: (p) =>
      c.req("POST", "/v3/projects", { token: tokens[p], body: { project: { name: `pol-new-${p}-${++n}` } } }),
    expect: ADMINS_ONLY(201),
  },
  {
    name: "get own user",
    run: (p) => c.req("GET", `/v3/users/${userIds[p]}`, { token: tokens[p] }),
    expect: ALL(200),
  },
  {
    name: "get another user",
    run: (p) => c.req("GET", `/v3/users/${victim.id}`, { token: tokens[p] }),
    expect: CLOUD_ADMINS_ONLY(200),
  },
  {
    name: "list roles",
    run: (p) => c.req("GET", "/v3/roles", { token: tokens[p] }),
    // Keystone 2024.2: a manager on a domain (admin implies manager) lists roles.
    expect: ADMINS_ONLY(200),
  },
  {
    name: "create role",
    run: (p) =>
      c.req("POST", "/v3/roles", { token: tokens[p], body: { role: { name: `pol-role-${p}-${++n}` } } }),
    expect: CLOUD_ADMINS_ONLY(201),
  },
  {
    name: "list role assignments",
    run: (p) => c.req("GET", "/v3/role_assignments", { token: tokens[p] }),
    expect: ADMINS_ONLY(200),
  },
  {
    name: "validate own token",
    run: (p) =>
      c.req("GET", "/v3/auth/tokens", { token: tokens[p], headers: { "x-subject-token": tokens[p] } }),
    expect: ALL(200),
  },
  {
    name: "validate another user's token",
    run: (p) =>
      c.req("GET", "/v3/auth/tokens", { token: tokens[p], headers: { "x-subject-token": victim.token } }),
    expect: CLOUD_ADMINS_ONLY(200),
  },
  {
    name: "check another user's token",
    run: (p) =>
      c.req("HEAD", "/v3/auth/tokens", { token: tokens[p], headers: { "x-subject-token": victim.token } }),
    expect: CLOUD_ADMINS_ONLY(200),
  },
  {
    name: "list domains",
    run: (p) => c.req("GET", "/v3/domains", { token: tokens[p] }),
    expect: CLOUD_ADMINS_ONLY(200),
  },
  {
    name: "list groups",
    run: (p) => c.req("GET", "/v3/groups", { token: tokens[p] }),
    expect: ADMINS_ONLY(200),
  },
  {
    name: "list own projects",
    run: (p) => c.req("GET", `/v3/users/${userIds[p]}/projects`, { token: tokens[p] }),
    expect: ALL(200),
  },
];

describe("policy matrix", () => {
  for (const call of calls) {
    for (const p of personas) {
      test(`${p}: ${call.name} → ${call.expect[p]}`, async () => {
        const r = await call.run(p);
        assert.equal(r.status, call.expect[p], JSON.stringify(r.body));
        if (r.status >= 400 && r.text) assert.ok(isKeystoneError(r.body, r.status));
      });
    }
  }

  test("the matrix covers what the brief asks: demo may not list users", async () => {
    const r = await c.req("GET", "/v3/users", { token: tokens.demo });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /identity:list_users/);
  });
});

describe("domain-scoped tokens see their own domain only", () => {
  test("a domain admin's lists are filtered to the domain", async () => {
    const users = await c.req("GET", "/v3/users", { token: tokens.domadmin });
    assert.ok(users.body.users.length > 0);
    assert.ok(
      users.body.users.every((u: { domain_id: string }) => u.domain_id === otherDomain),
      JSON.stringify(users.body.users.map((u: any) => u.name)),
    );
    const projects = await c.req("GET", "/v3/projects", { token: tokens.domadmin });
    assert.ok(projects.body.projects.every((p: { domain_id: string }) => p.domain_id === otherDomain));
    const groups = await c.req("GET", "/v3/groups", { token: tokens.domadmin });
    assert.ok(groups.body.groups.every((g: { domain_id: string }) => g.domain_id === otherDomain));
    const ras = await c.req("GET", "/v3/role_assignments", { token: tokens.domadmin });
    assert.ok(ras.body.role_assignments.length > 0);
    assert.ok(
      ras.body.role_assignments.every((a: any) => a.scope.domain?.id === otherDomain || a.scope.project),
    );
    assert.ok(!ras.body.role_assignments.some((a: any) => a.scope.system));
  });

  test("a domain reader may list their domain's users, and only those", async () => {
    const admin = await c.adminToken();
    const reader = await c.roleId("reader");
    const u = await c.req("POST", "/v3/users", {
      token: admin,
      body: { user: { name: "pol-domreader", domain_id: otherDomain, password: "pol-domreader-secret" } },
    });
    await c.req("PUT", `/v3/domains/${otherDomain}/users/${u.body.user.id}/roles/${reader}`, {
      token: admin,
    });
    const t = await c.token({ name: "pol-domreader", domain: { id: otherDomain } }, "pol-domreader-secret", {
      domain: { id: otherDomain },
    });
    const list = await c.req("GET", "/v3/users", { token: t });
    assert.equal(list.status, 200);
    const names = list.body.users.map((x: { name: string }) => x.name);
    assert.ok(names.includes("pol-domreader"));
    assert.ok(!names.includes("admin") && !names.includes("demo"), JSON.stringify(names));
    assert.equal(
      (await c.req("GET", `/v3/users?domain_id=default`, { token: t })).body.users?.length ?? 0,
      0,
    );
    const projects = await c.req("GET", "/v3/projects", { token: t });
    assert.equal(projects.status, 200);
    assert.ok(projects.body.projects.every((p: { domain_id: string }) => p.domain_id === otherDomain));
    // Reading is not writing.
    assert.equal(
      (await c.req("POST", "/v3/users", { token: t, body: { user: { name: "pol-by-domreader" } } })).status,
      403,
    );
    // And another domain's entities stay out of reach.
    assert.equal((await c.req("GET", `/v3/users/${userIds.demo}`, { token: t })).status, 403);
  });
});

describe("policy.yaml overrides", () => {
  const file = () => join(c.dataDir, "policy.yaml");
  const reload = async () => {
    // reloadIfChanged stats the file at most once a second; the cloud's own timer may also get there first.
    await new Promise((r) => setTimeout(r, 1100));
    try {
      c.cloud.policy.reloadIfChanged();
    } catch {
      // A bad file is reported (once) by whoever reloads first; the old rules stay.
    }
  };

  test("an override lets the demo user list users, and removing it restores the default", async () => {
    assert.equal((await c.req("GET", "/v3/users", { token: tokens.demo })).status, 403);
    writeFileSync(file(), `"identity:list_users": "@"\n`);
    await reload();
    assert.equal(c.cloud.policy.explain("identity:list_users"), "@");
    const r = await c.req("GET", "/v3/users", { token: tokens.demo });
    assert.equal(r.status, 200);
    assert.ok(r.body.users.some((u: { name: string }) => u.name === "demo"));
    // Other rules are unchanged.
    assert.equal(
      (await c.req("POST", "/v3/users", { token: tokens.demo, body: { user: { name: "pol-override" } } }))
        .status,
      403,
    );
    // A bad file is rejected and the previous rules stay in force.
    writeFileSync(file(), `"identity:list_users": "role:(("\n`);
    await reload();
    assert.equal((await c.req("GET", "/v3/users", { token: tokens.demo })).status, 200);
    rmSync(file());
    await reload();
    assert.equal((await c.req("GET", "/v3/users", { token: tokens.demo })).status, 403);
  });

  test("an override can also take access away", async () => {
    writeFileSync(file(), `"identity:get_user": "!"\n`);
    await reload();
    assert.equal((await c.req("GET", `/v3/users/${userIds.admin}`, { token: tokens.admin })).status, 403);
    rmSync(file());
    await reload();
    assert.equal((await c.req("GET", `/v3/users/${userIds.admin}`, { token: tokens.admin })).status, 200);
  });
});
