// /v3/users: CRUD, list filters, extra attributes, password change, a user's groups and projects.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCloud, isKeystoneError, type TestCloud } from "../../helpers/cloud.js";

let c: TestCloud;
let admin: string;

before(async () => {
  c = await bootCloud();
  admin = await c.adminToken();
});
after(() => c.close());

const create = (body: Record<string, unknown>) =>
  c.req("POST", "/v3/users", { token: admin, body: { user: body } });
const names = (r: { body: { users: Array<{ name: string }> } }) => r.body.users.map((u) => u.name).sort();

describe("users", () => {
  test("create returns 201 with Keystone's user shape and never the password", async () => {
    const demoProject = await c.projectId("demo");
    const r = await create({
      name: "u-shape",
      password: "u-shape-secret",
      default_project_id: demoProject,
      email: "u@example.com",
      description: "hi",
    });
    assert.equal(r.status, 201);
    const u = r.body.user;
    assert.match(u.id, /^[0-9a-f]{32}$/);
    assert.equal(u.name, "u-shape");
    assert.equal(u.domain_id, "default");
    assert.equal(u.enabled, true);
    assert.equal(u.default_project_id, demoProject);
    assert.equal(u.password_expires_at, null);
    assert.deepEqual(u.options, {});
    assert.equal(u.email, "u@example.com");
    assert.equal(u.description, "hi");
    assert.equal(u.links.self, `http://localhost:80/identity/v3/users/${u.id}`);
    assert.ok(!("password" in u) && !("password_hash" in u));
    assert.ok(!r.text.includes("u-shape-secret"));
    const g = await c.req("GET", `/v3/users/${u.id}`, { token: admin });
    assert.equal(g.status, 200);
    assert.deepEqual(g.body.user, u);
    const l = await c.req("GET", "/v3/users?name=u-shape", { token: admin });
    assert.deepEqual(l.body.users, [u]);
    assert.ok(!l.text.includes("password_hash") && !l.text.includes("scrypt"));
  });

  test("a user without a password cannot authenticate", async () => {
    const r = await create({ name: "u-nopass" });
    assert.equal(r.status, 201);
    assert.equal((await c.auth("u-nopass", "")).status, 401);
    assert.equal((await c.auth("u-nopass", "anything")).status, 401);
  });

  test("duplicate names in a domain are 409; the same name in another domain is fine", async () => {
    assert.equal((await create({ name: "u-dup" })).status, 201);
    const r = await create({ name: "u-dup" });
    assert.equal(r.status, 409);
    assert.ok(isKeystoneError(r.body, 409));
    const d = await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "u-dup-dom" } } });
    assert.equal((await create({ name: "u-dup", domain_id: d.body.domain.id })).status, 201);
  });

  test("bad references are rejected", async () => {
    // Keystone (and tempest's negative tests): an unknown domain is a 404.
    assert.equal((await create({ name: "u-baddom", domain_id: "no-such-domain" })).status, 404);
    assert.equal((await create({ name: "u-badproj", default_project_id: "no-such-project" })).status, 400);
    assert.equal((await create({ name: "u-domproj", default_project_id: "default" })).status, 400);
  });

  test("list filters: name, domain_id, enabled", async () => {
    const d = await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "u-list-dom" } } });
    const did = d.body.domain.id;
    await create({ name: "u-list-a", domain_id: did });
    await create({ name: "u-list-b", domain_id: did, enabled: false });
    const all = await c.req("GET", "/v3/users", { token: admin });
    assert.equal(all.status, 200);
    assert.ok(names(all).includes("admin") && names(all).includes("u-list-a"));
    assert.equal(typeof all.body.links.self, "string");
    assert.deepEqual(names(await c.req("GET", `/v3/users?domain_id=${did}`, { token: admin })), [
      "u-list-a",
      "u-list-b",
    ]);
    assert.deepEqual(
      names(await c.req("GET", `/v3/users?domain_id=${did}&enabled=false`, { token: admin })),
      ["u-list-b"],
    );
    assert.deepEqual(names(await c.req("GET", `/v3/users?domain_id=${did}&enabled=true`, { token: admin })), [
      "u-list-a",
    ]);
    assert.deepEqual(names(await c.req("GET", "/v3/users?name=demo", { token: admin })), ["demo"]);
    assert.deepEqual(names(await c.req("GET", "/v3/users?name=nobody", { token: admin })), []);
    assert.equal((await c.req("GET", "/v3/users?enabled=perhaps", { token: admin })).status, 400);
  });

  test("update name, enabled, default project and extra attributes; other extras are kept", async () => {
    const u = (await create({ name: "u-upd", email: "a@x", title: "t" })).body.user;
    const r = await c.req("PATCH", `/v3/users/${u.id}`, {
      token: admin,
      body: { user: { name: "u-upd2", email: "b@x", enabled: false } },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.user.name, "u-upd2");
    assert.equal(r.body.user.email, "b@x");
    assert.equal(r.body.user.title, "t");
    assert.equal(r.body.user.enabled, false);
    const g = await c.req("GET", `/v3/users/${u.id}`, { token: admin });
    assert.deepEqual(g.body.user, r.body.user);
    assert.equal(
      (await c.req("PATCH", `/v3/users/${u.id}`, { token: admin, body: { user: { name: "demo" } } })).status,
      409,
    );
    assert.equal(
      (await c.req("PATCH", "/v3/users/nope", { token: admin, body: { user: { name: "x" } } })).status,
      404,
    );
    const d = await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "u-upd-dom" } } });
    assert.equal(
      (
        await c.req("PATCH", `/v3/users/${u.id}`, {
          token: admin,
          body: { user: { domain_id: d.body.domain.id } },
        })
      ).status,
      400,
    );
  });

  test("delete: 204, then 404", async () => {
    const u = (await create({ name: "u-del" })).body.user;
    const r = await c.req("DELETE", `/v3/users/${u.id}`, { token: admin });
    assert.equal(r.status, 204);
    assert.equal(r.text, "");
    assert.equal((await c.req("GET", `/v3/users/${u.id}`, { token: admin })).status, 404);
    assert.equal((await c.req("DELETE", `/v3/users/${u.id}`, { token: admin })).status, 404);
  });

  test("a deleted user's name can be reused and the new user does not inherit the old roles", async () => {
    const member = await c.roleId("member");
    const demoProject = await c.projectId("demo");
    const u = (await create({ name: "u-reuse", password: "reuse-secret-1" })).body.user;
    await c.req("PUT", `/v3/projects/${demoProject}/users/${u.id}/roles/${member}`, { token: admin });
    await c.req("DELETE", `/v3/users/${u.id}`, { token: admin });
    const again = (await create({ name: "u-reuse", password: "reuse-secret-1" })).body.user;
    assert.notEqual(again.id, u.id);
    assert.equal((await c.auth("u-reuse", "reuse-secret-1", "demo")).status, 401);
    const ra = await c.req("GET", `/v3/role_assignments?user.id=${u.id}`, { token: admin });
    assert.deepEqual(ra.body.role_assignments, []);
  });

  test("POST /v3/users/{id}/password: wrong original is 401, right one is 204", async () => {
    const u = (await create({ name: "u-pw", password: "u-pw-original" })).body.user;
    const tok = await c.token("u-pw", "u-pw-original", "unscoped");
    const wrong = await c.req("POST", `/v3/users/${u.id}/password`, {
      token: tok,
      body: { user: { original_password: "nope", password: "u-pw-next" } },
    });
    assert.equal(wrong.status, 401);
    assert.ok(isKeystoneError(wrong.body, 401));
    const missing = await c.req("POST", `/v3/users/${u.id}/password`, {
      token: tok,
      body: { user: { password: "u-pw-next" } },
    });
    assert.equal(missing.status, 400);
    const ok = await c.req("POST", `/v3/users/${u.id}/password`, {
      token: tok,
      body: { user: { original_password: "u-pw-original", password: "u-pw-next" } },
    });
    assert.equal(ok.status, 204);
    assert.equal((await c.auth("u-pw", "u-pw-original")).status, 401);
    assert.equal((await c.auth("u-pw", "u-pw-next")).status, 201);
    const unknown = await c.req("POST", "/v3/users/0123456789abcdef0123456789abcdef/password", {
      body: { user: { original_password: "a", password: "b" } },
    });
    assert.equal(unknown.status, 401);
  });

  test("POST /v3/users/{id}/password needs no token, and a stale one does not get in the way", async () => {
    const u = (await create({ name: "u-pw-notoken", password: "u-pw-notoken-1" })).body.user;
    const r = await c.req("POST", `/v3/users/${u.id}/password`, {
      body: { user: { original_password: "u-pw-notoken-1", password: "u-pw-notoken-2" } },
    });
    assert.equal(r.status, 204);
    const stale = await c.req("POST", `/v3/users/${u.id}/password`, {
      token: "expired-or-garbage",
      body: { user: { original_password: "u-pw-notoken-2", password: "u-pw-notoken-3" } },
    });
    assert.equal(stale.status, 204);
    assert.equal((await c.auth("u-pw-notoken", "u-pw-notoken-3")).status, 201);
  });

  test("one user cannot change another user's password even knowing nothing", async () => {
    const demo = await c.demoToken();
    const adminId = await c.userId("admin");
    const r = await c.req("POST", `/v3/users/${adminId}/password`, {
      token: demo,
      body: { user: { original_password: "guess", password: "pwned-password" } },
    });
    assert.equal(r.status, 401);
    assert.equal((await c.auth("admin", c.cloud.adminPassword, "admin")).status, 201);
  });

  test("GET /v3/users/{id}/projects and /v3/users/{id}/groups", async () => {
    const demoId = await c.userId("demo");
    const demoProject = await c.projectId("demo");
    const p = await c.req("GET", `/v3/users/${demoId}/projects`, { token: admin });
    assert.equal(p.status, 200);
    assert.deepEqual(
      p.body.projects.map((x: { id: string }) => x.id),
      [demoProject],
    );
    const g = await c.req("POST", "/v3/groups", { token: admin, body: { group: { name: "u-groups" } } });
    await c.req("PUT", `/v3/groups/${g.body.group.id}/users/${demoId}`, { token: admin });
    const gs = await c.req("GET", `/v3/users/${demoId}/groups`, { token: admin });
    assert.equal(gs.status, 200);
    assert.deepEqual(
      gs.body.groups.map((x: { id: string }) => x.id),
      [g.body.group.id],
    );
    // A user may list their own projects and groups.
    const demo = await c.demoToken();
    assert.equal((await c.req("GET", `/v3/users/${demoId}/projects`, { token: demo })).status, 200);
    assert.equal((await c.req("GET", `/v3/users/${demoId}/groups`, { token: demo })).status, 200);
    const adminId = await c.userId("admin");
    assert.equal((await c.req("GET", `/v3/users/${adminId}/projects`, { token: demo })).status, 403);
    assert.equal((await c.req("GET", "/v3/users/nope/projects", { token: admin })).status, 404);
  });

  test("a user may show but not update or delete themselves", async () => {
    const demo = await c.demoToken();
    const demoId = await c.userId("demo");
    assert.equal((await c.req("GET", `/v3/users/${demoId}`, { token: demo })).status, 200);
    assert.equal(
      (await c.req("PATCH", `/v3/users/${demoId}`, { token: demo, body: { user: { enabled: true } } }))
        .status,
      403,
    );
    assert.equal((await c.req("DELETE", `/v3/users/${demoId}`, { token: demo })).status, 403);
  });
});
