// Token revocation (OSSA-2012-014 and friends): every change that takes access away invalidates the affected
// tokens at once, both as X-Subject-Token (404) and as X-Auth-Token on another API (401); other tokens keep working.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCloud, isKeystoneError, type TestCloud } from "../../helpers/cloud.js";

let c: TestCloud;
let admin: string;
let member: string;
let reader: string;
let n = 0;

before(async () => {
  c = await bootCloud();
  admin = await c.adminToken();
  member = await c.roleId("member");
  reader = await c.roleId("reader");
});
after(() => c.close());

async function assertValid(tok: string, what: string): Promise<void> {
  const v = await c.req("GET", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": tok } });
  assert.equal(v.status, 200, `${what}: validate → ${v.status} ${v.text}`);
  const use = await c.req("GET", "/v3/auth/projects", { token: tok });
  assert.equal(use.status, 200, `${what}: use → ${use.status} ${use.text}`);
}

async function assertInvalid(tok: string, what: string): Promise<void> {
  const v = await c.req("GET", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": tok } });
  assert.equal(v.status, 404, `${what}: validate → ${v.status} ${v.text}`);
  assert.ok(isKeystoneError(v.body, 404));
  const h = await c.req("HEAD", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": tok } });
  assert.equal(h.status, 404, `${what}: check → ${h.status}`);
  const use = await c.req("GET", "/v3/auth/projects", { token: tok });
  assert.equal(use.status, 401, `${what}: use → ${use.status} ${use.text}`);
  assert.ok(isKeystoneError(use.body, 401));
  const self = await c.req("GET", "/v3/auth/tokens", { token: tok, headers: { "x-subject-token": tok } });
  assert.equal(self.status, 401, `${what}: self-validate → ${self.status}`);
}

/** A fresh user with `member` on a fresh project; returns ids, password and a project-scoped token. */
async function fixture(): Promise<{ user: any; project: any; password: string; token: string }> {
  n++;
  const project = await c.createProject(`rev-p${n}`);
  const password = `rev-pw-${n}-secret`;
  const user = await c.createUser(`rev-u${n}`, password);
  const g = await c.req("PUT", `/v3/projects/${project.id}/users/${user.id}/roles/${member}`, {
    token: admin,
  });
  assert.equal(g.status, 204);
  const token = await c.token(user.name, password, project.name);
  await assertValid(token, "fresh token");
  return { user, project, password, token };
}

describe("revocation", () => {
  test("revoking a role assignment invalidates the user's tokens on that project only", async () => {
    const f = await fixture();
    const other = await fixture();
    // The same user also has a role on a second project; that token is unaffected.
    const p2 = await c.createProject(`rev-second-${n}`);
    await c.req("PUT", `/v3/projects/${p2.id}/users/${f.user.id}/roles/${member}`, { token: admin });
    const onP2 = await c.token(f.user.name, f.password, p2.name);
    const unscoped = await c.token(f.user.name, f.password, "unscoped");
    const r = await c.req("DELETE", `/v3/projects/${f.project.id}/users/${f.user.id}/roles/${member}`, {
      token: admin,
    });
    assert.equal(r.status, 204);
    await assertInvalid(f.token, "token on the project");
    await assertValid(onP2, "same user, other project");
    await assertValid(unscoped, "same user, unscoped");
    await assertValid(other.token, "other user");
    const again = await c.auth(f.user.name, f.password, f.project.name);
    assert.equal(again.status, 401);
  });

  test("a token loses a revoked role even when another role remains", async () => {
    const f = await fixture();
    await c.req("PUT", `/v3/projects/${f.project.id}/users/${f.user.id}/roles/${reader}`, { token: admin });
    const both = await c.token(f.user.name, f.password, f.project.name);
    await c.req("DELETE", `/v3/projects/${f.project.id}/users/${f.user.id}/roles/${member}`, {
      token: admin,
    });
    const v = await c.req("GET", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": both } });
    if (v.status === 200)
      assert.ok(
        !v.body.token.roles.some((x: { name: string }) => x.name === "member"),
        "member must be gone",
      );
    else assert.equal(v.status, 404);
  });

  test("removing the user from the group that gave the role invalidates the token", async () => {
    n++;
    const project = await c.createProject(`rev-gp${n}`);
    const user = await c.createUser(`rev-gu${n}`, "group-pw-secret");
    const g = await c.req("POST", "/v3/groups", { token: admin, body: { group: { name: `rev-g${n}` } } });
    const gid = g.body.group.id;
    assert.equal((await c.req("PUT", `/v3/groups/${gid}/users/${user.id}`, { token: admin })).status, 204);
    assert.equal(
      (await c.req("PUT", `/v3/projects/${project.id}/groups/${gid}/roles/${member}`, { token: admin }))
        .status,
      204,
    );
    const tok = await c.token(user.name, "group-pw-secret", project.name);
    await assertValid(tok, "group token");
    assert.equal((await c.req("DELETE", `/v3/groups/${gid}/users/${user.id}`, { token: admin })).status, 204);
    await assertInvalid(tok, "after leaving the group");
  });

  test("revoking a group's grant invalidates members' tokens", async () => {
    n++;
    const project = await c.createProject(`rev-gg${n}`);
    const user = await c.createUser(`rev-ggu${n}`, "group-pw-secret");
    const g = await c.req("POST", "/v3/groups", { token: admin, body: { group: { name: `rev-gg${n}` } } });
    const gid = g.body.group.id;
    await c.req("PUT", `/v3/groups/${gid}/users/${user.id}`, { token: admin });
    await c.req("PUT", `/v3/projects/${project.id}/groups/${gid}/roles/${member}`, { token: admin });
    const tok = await c.token(user.name, "group-pw-secret", project.name);
    assert.equal(
      (await c.req("DELETE", `/v3/projects/${project.id}/groups/${gid}/roles/${member}`, { token: admin }))
        .status,
      204,
    );
    await assertInvalid(tok, "after the group grant was revoked");
  });

  test("disabling a user invalidates all their tokens, and re-enabling does not bring them back", async () => {
    const f = await fixture();
    const other = await fixture();
    const unscoped = await c.token(f.user.name, f.password, "unscoped");
    assert.equal(
      (await c.req("PATCH", `/v3/users/${f.user.id}`, { token: admin, body: { user: { enabled: false } } }))
        .status,
      200,
    );
    await assertInvalid(f.token, "disabled user, scoped");
    await assertInvalid(unscoped, "disabled user, unscoped");
    await assertValid(other.token, "other user");
    assert.equal(
      (await c.req("PATCH", `/v3/users/${f.user.id}`, { token: admin, body: { user: { enabled: true } } }))
        .status,
      200,
    );
    await assertInvalid(f.token, "re-enabled user, old token");
    const fresh = await c.token(f.user.name, f.password, f.project.name);
    await assertValid(fresh, "re-enabled user, new token");
  });

  test("disabling a project invalidates tokens scoped to it only", async () => {
    const f = await fixture();
    const other = await fixture();
    const unscoped = await c.token(f.user.name, f.password, "unscoped");
    assert.equal(
      (
        await c.req("PATCH", `/v3/projects/${f.project.id}`, {
          token: admin,
          body: { project: { enabled: false } },
        })
      ).status,
      200,
    );
    await assertInvalid(f.token, "token on the disabled project");
    await assertValid(unscoped, "same user, unscoped");
    await assertValid(other.token, "other project");
    assert.equal((await c.auth(f.user.name, f.password, f.project.name)).status, 401);
    assert.equal(
      (
        await c.req("PATCH", `/v3/projects/${f.project.id}`, {
          token: admin,
          body: { project: { enabled: true } },
        })
      ).status,
      200,
    );
    await assertInvalid(f.token, "re-enabled project, old token");
    await assertValid(
      await c.token(f.user.name, f.password, f.project.name),
      "re-enabled project, new token",
    );
  });

  test("disabling a domain invalidates tokens of its users and of its projects", async () => {
    n++;
    const d = await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: `rev-dom${n}` } } });
    assert.equal(d.status, 201);
    const did = d.body.domain.id;
    const p = await c.req("POST", "/v3/projects", {
      token: admin,
      body: { project: { name: "inner", domain_id: did } },
    });
    const u = await c.req("POST", "/v3/users", {
      token: admin,
      body: { user: { name: "inner-user", domain_id: did, password: "inner-pw-secret" } },
    });
    assert.equal(p.status, 201);
    assert.equal(u.status, 201);
    await c.req("PUT", `/v3/projects/${p.body.project.id}/users/${u.body.user.id}/roles/${member}`, {
      token: admin,
    });
    await c.req("PUT", `/v3/domains/${did}/users/${u.body.user.id}/roles/${reader}`, { token: admin });
    // A Default-domain user with a role on the new domain's project.
    const outsider = await fixture();
    await c.req("PUT", `/v3/projects/${p.body.project.id}/users/${outsider.user.id}/roles/${member}`, {
      token: admin,
    });
    const innerUser = { name: "inner-user", domain: { id: did } };
    const projTok = await c.token(innerUser, "inner-pw-secret", { project: { id: p.body.project.id } });
    const domTok = await c.token(innerUser, "inner-pw-secret", { domain: { id: did } });
    const unscoped = await c.token(innerUser, "inner-pw-secret", "unscoped");
    const outsiderOnInner = await c.token(outsider.user.name, outsider.password, {
      project: { id: p.body.project.id },
    });
    assert.equal(
      (await c.req("PATCH", `/v3/domains/${did}`, { token: admin, body: { domain: { enabled: false } } }))
        .status,
      200,
    );
    await assertInvalid(projTok, "project token in the disabled domain");
    await assertInvalid(domTok, "domain token");
    await assertInvalid(unscoped, "unscoped token of a user in the domain");
    await assertInvalid(outsiderOnInner, "outsider's token on a project of the domain");
    await assertValid(outsider.token, "outsider's own project token");
    assert.equal((await c.auth(innerUser, "inner-pw-secret", "unscoped")).status, 401);
  });

  test("changing the password with PATCH invalidates the user's tokens", async () => {
    const f = await fixture();
    const other = await fixture();
    const r = await c.req("PATCH", `/v3/users/${f.user.id}`, {
      token: admin,
      body: { user: { password: "brand-new-password" } },
    });
    assert.equal(r.status, 200);
    await assertInvalid(f.token, "after PATCH password");
    await assertValid(other.token, "other user");
    assert.equal((await c.auth(f.user.name, f.password, f.project.name)).status, 401);
    await assertValid(await c.token(f.user.name, "brand-new-password", f.project.name), "new password");
  });

  test("changing the password with POST /v3/users/{id}/password invalidates the user's tokens", async () => {
    const f = await fixture();
    const other = await fixture();
    const bad = await c.req("POST", `/v3/users/${f.user.id}/password`, {
      token: f.token,
      body: { user: { original_password: "not-it", password: "self-chosen-password" } },
    });
    assert.equal(bad.status, 401);
    assert.ok(isKeystoneError(bad.body, 401));
    await assertValid(f.token, "after a failed change");
    const r = await c.req("POST", `/v3/users/${f.user.id}/password`, {
      token: f.token,
      body: { user: { original_password: f.password, password: "self-chosen-password" } },
    });
    assert.equal(r.status, 204, r.text);
    await assertInvalid(f.token, "after POST password");
    await assertValid(other.token, "other user");
    assert.equal((await c.auth(f.user.name, f.password, f.project.name)).status, 401);
    await assertValid(await c.token(f.user.name, "self-chosen-password", f.project.name), "new password");
  });

  test("deleting a user invalidates their tokens", async () => {
    const f = await fixture();
    const other = await fixture();
    assert.equal((await c.req("DELETE", `/v3/users/${f.user.id}`, { token: admin })).status, 204);
    await assertInvalid(f.token, "deleted user");
    await assertValid(other.token, "other user");
  });

  test("deleting a project invalidates tokens scoped to it", async () => {
    const f = await fixture();
    const unscoped = await c.token(f.user.name, f.password, "unscoped");
    assert.equal((await c.req("DELETE", `/v3/projects/${f.project.id}`, { token: admin })).status, 204);
    await assertInvalid(f.token, "deleted project");
    await assertValid(unscoped, "same user, unscoped");
  });

  test("DELETE /v3/auth/tokens invalidates that token everywhere, and tokens rescoped from it survive", async () => {
    const f = await fixture();
    const second = await c.token(f.user.name, f.password, f.project.name);
    assert.equal(
      (await c.req("DELETE", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": f.token } }))
        .status,
      204,
    );
    await assertInvalid(f.token, "revoked token");
    await assertValid(second, "another token of the same user");
  });

  test("a token rescoped from a token of a later-disabled user is invalid too", async () => {
    const f = await fixture();
    const r = await c.req("POST", "/v3/auth/tokens", {
      body: {
        auth: {
          identity: { methods: ["token"], token: { id: f.token } },
          scope: { project: { id: f.project.id } },
        },
      },
    });
    assert.equal(r.status, 201);
    const rescoped = r.headers["x-subject-token"] as string;
    await c.req("PATCH", `/v3/users/${f.user.id}`, { token: admin, body: { user: { enabled: false } } });
    await assertInvalid(rescoped, "rescoped token of a disabled user");
  });

  test("a revoked token cannot be used to get a new token", async () => {
    const f = await fixture();
    await c.req("DELETE", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": f.token } });
    const r = await c.req("POST", "/v3/auth/tokens", {
      body: {
        auth: {
          identity: { methods: ["token"], token: { id: f.token } },
          scope: { project: { id: f.project.id } },
        },
      },
    });
    assert.equal(r.status, 404);
  });

  test("a token issued right after a revocation event is valid", async () => {
    const f = await fixture();
    await c.req("PATCH", `/v3/users/${f.user.id}`, {
      token: admin,
      body: { user: { password: "after-event-pass" } },
    });
    const fresh = await c.token(f.user.name, "after-event-pass", f.project.name);
    await assertValid(fresh, "token issued after the event");
    // And rescoping immediately after a revocation still gives a valid token.
    const un = await c.token(f.user.name, "after-event-pass", "unscoped");
    await c.req("DELETE", `/v3/projects/${f.project.id}/users/${f.user.id}/roles/${member}`, {
      token: admin,
    });
    await c.req("PUT", `/v3/projects/${f.project.id}/users/${f.user.id}/roles/${member}`, { token: admin });
    const r = await c.req("POST", "/v3/auth/tokens", {
      body: {
        auth: {
          identity: { methods: ["token"], token: { id: un } },
          scope: { project: { id: f.project.id } },
        },
      },
    });
    assert.equal(r.status, 201);
    await assertValid(r.headers["x-subject-token"] as string, "rescoped right after a grant revocation");
  });
});

describe("validation caches", () => {
  test("a change that lands while a token is being issued is not hidden by the issue-time cache", async () => {
    const f = await fixture();
    const tokens = c.cloud.identity.tokens;
    const revocations = c.cloud.identity.revocations;
    const original = revocations.isRevoked.bind(revocations);
    let calls = 0;
    // isRevoked runs inside the view build: simulate an identity write landing right then.
    revocations.isRevoked = (t) => {
      if (calls++ === 0) c.cloud.identity.core.changed();
      return original(t);
    };
    try {
      const { id } = await tokens.issue({
        identity: { methods: ["password"], password: { user: { id: f.user.id, password: f.password } } },
        scope: { project: { id: f.project.id } },
      });
      await tokens.validate(id);
      assert.equal(calls, 2, "the view built before the change must be rebuilt on the next validation");
    } finally {
      revocations.isRevoked = original;
    }
  });
});
