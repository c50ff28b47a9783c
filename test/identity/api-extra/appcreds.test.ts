// Application credentials and access rules (/v3/users/{user_id}/application_credentials, /v3/users/{user_id}/access_rules).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "./helpers.js";

let env: Env;
before(async () => {
  env = await boot();
});
after(() => env.close());

const base = (uid: string) => `/v3/users/${uid}/application_credentials`;
const byId = (id: string, secret: string) => ({
  methods: ["application_credential"],
  application_credential: { id, secret },
});

async function create(token: string, uid: string, body: Record<string, unknown>) {
  return env.req("POST", base(uid), token, { application_credential: body });
}

async function appCredToken(id: string, secret: string): Promise<{ token: string; body: any }> {
  const r = await env.auth({ identity: byId(id, secret) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { token: r.headers["x-subject-token"] as string, body: r.body };
}

describe("application credentials", () => {
  test("create returns the secret once; get and list never do", async () => {
    const { req, admin, adminId } = env;
    const c = await create(admin, adminId, {
      name: "monitoring",
      description: "for the monitor",
      expires_at: "2999-01-01T00:00:00",
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const ac = c.body.application_credential;
    assert.match(ac.id, /^[0-9a-f]{32}$/);
    assert.equal(ac.name, "monitoring");
    assert.equal(ac.description, "for the monitor");
    assert.equal(typeof ac.secret, "string");
    assert.ok(ac.secret.length >= 40);
    assert.equal(ac.unrestricted, false);
    assert.equal(ac.expires_at, "2999-01-01T00:00:00.000000");
    assert.deepEqual(ac.access_rules, []);
    assert.ok(ac.links.self.endsWith(`/identity/v3/users/${adminId}/application_credentials/${ac.id}`));
    const names = ac.roles.map((r: any) => r.name).sort();
    assert.deepEqual(names, ["admin", "manager", "member", "reader"], "defaults to the token's roles");
    const adminProject = (await req("GET", "/v3/auth/projects", admin)).body.projects.find(
      (p: any) => p.name === "admin",
    );
    assert.equal(ac.project_id, adminProject.id);

    const got = await req("GET", `${base(adminId)}/${ac.id}`, admin);
    assert.equal(got.status, 200);
    assert.equal(got.body.application_credential.secret, undefined);
    assert.equal(got.body.application_credential.name, "monitoring");

    const list = await req("GET", base(adminId), admin);
    assert.equal(list.status, 200);
    assert.ok(list.body.application_credentials.some((x: any) => x.id === ac.id));
    assert.ok(list.body.application_credentials.every((x: any) => x.secret === undefined));
    assert.ok(list.body.links.self.endsWith(base(adminId)));
    const filtered = await req("GET", `${base(adminId)}?name=monitoring`, admin);
    assert.deepEqual(
      filtered.body.application_credentials.map((x: any) => x.id),
      [ac.id],
    );
    assert.equal(
      (await req("GET", `${base(adminId)}?name=nothing`, admin)).body.application_credentials.length,
      0,
    );
  });

  test("authenticate by id+secret and by name+user; the token is project-scoped and carries the credential", async () => {
    const { admin, adminId } = env;
    const ac = (await create(admin, adminId, { name: "auth-test", secret: "my-own-secret" })).body
      .application_credential;
    assert.equal(ac.secret, "my-own-secret");
    const { body } = await appCredToken(ac.id, "my-own-secret");
    assert.deepEqual(body.token.methods, ["application_credential"]);
    assert.equal(body.token.project.id, ac.project_id);
    assert.equal(body.token.user.id, adminId);
    assert.equal(body.token.application_credential.id, ac.id);
    assert.equal(body.token.application_credential.restricted, true);
    assert.ok(Array.isArray(body.token.catalog));

    const byName = await env.auth({
      identity: {
        methods: ["application_credential"],
        application_credential: { name: "auth-test", secret: "my-own-secret", user: { id: adminId } },
      },
    });
    assert.equal(byName.status, 201);
    const byUserName = await env.auth({
      identity: {
        methods: ["application_credential"],
        application_credential: {
          name: "auth-test",
          secret: "my-own-secret",
          user: { name: "admin", domain: { name: "Default" } },
        },
      },
    });
    assert.equal(byUserName.status, 201);

    const wrong = await env.auth({ identity: byId(ac.id, "wrong") });
    assert.equal(wrong.status, 401);
    assert.ok(isKeystoneError(wrong.body, 401));
    assert.equal((await env.auth({ identity: byId("0".repeat(32), "x") })).status, 401);
  });

  test("roles are a subset of the caller's token roles; tokens only carry them", async () => {
    const { req, admin, adminId, demo, demoId } = env;
    const c = await create(admin, adminId, { name: "reader-only", roles: [{ name: "reader" }] });
    assert.equal(c.status, 201);
    assert.deepEqual(
      c.body.application_credential.roles.map((r: any) => r.name),
      ["reader"],
    );
    const { token, body } = await appCredToken(
      c.body.application_credential.id,
      c.body.application_credential.secret,
    );
    assert.deepEqual(
      body.token.roles.map((r: any) => r.name),
      ["reader"],
    );
    assert.equal((await req("GET", "/v3/users", token)).status, 403, "reader cannot act as admin");
    assert.equal((await req("GET", "/v3/users", admin)).status, 200);

    // By id works too.
    const memberId = (await req("GET", "/v3/roles?name=member", admin)).body.roles[0].id;
    const byRoleId = await create(admin, adminId, { name: "member-by-id", roles: [{ id: memberId }] });
    assert.equal(byRoleId.status, 201);
    assert.deepEqual(
      byRoleId.body.application_credential.roles.map((r: any) => r.id),
      [memberId],
    );

    // demo holds member (and implied reader) on demo, not admin.
    const escalate = await create(demo, demoId, { name: "escalate", roles: [{ name: "admin" }] });
    assert.equal(escalate.status, 400);
    assert.ok(isKeystoneError(escalate.body, 400));
    assert.equal(
      (await create(demo, demoId, { name: "ghost-role", roles: [{ name: "no-such-role" }] })).status,
      404,
    );
    const ok = await create(demo, demoId, { name: "demo-cred" });
    assert.equal(ok.status, 201);
    assert.deepEqual(ok.body.application_credential.roles.map((r: any) => r.name).sort(), [
      "member",
      "reader",
    ]);
  });

  test("policy: only the owner creates; owner or admin reads and deletes; others get 403; no token 401", async () => {
    const { req, admin, adminId, demo, demoId } = env;
    const other = await create(admin, demoId, { name: "for-demo" });
    assert.equal(other.status, 403);
    assert.ok(isKeystoneError(other.body, 403));
    assert.equal((await create(demo, adminId, { name: "for-admin" })).status, 403);
    assert.equal((await req("GET", base(adminId), demo)).status, 403);
    const demoCred = (await create(demo, demoId, { name: "demo-owned" })).body.application_credential;
    assert.equal((await req("GET", base(demoId), demo)).status, 200);
    assert.equal((await req("GET", base(demoId), admin)).status, 200, "admin may list anyone's");
    assert.equal((await req("GET", `${base(demoId)}/${demoCred.id}`, admin)).status, 200);
    assert.equal((await req("GET", base(demoId))).status, 401);
    assert.equal(
      (await req("POST", base(demoId), undefined, { application_credential: { name: "x" } })).status,
      401,
    );
    assert.equal((await req("GET", `${base(demoId)}/${"f".repeat(32)}`, demo)).status, 404);
    assert.equal(
      (await req("GET", `${base(adminId)}/${demoCred.id}`, admin)).status,
      404,
      "looked up under its owner only",
    );
    assert.equal((await req("DELETE", `${base(demoId)}/${"f".repeat(32)}`, demo)).status, 404);
  });

  test("validation: 400 for bad bodies, unscoped tokens and past or malformed expiry; 409 for a duplicate name", async () => {
    const { admin, adminId, demoId, demo } = env;
    assert.equal((await create(admin, adminId, { description: "no name" })).status, 400);
    assert.equal((await create(admin, adminId, { name: "" })).status, 400);
    assert.equal((await create(admin, adminId, { name: "x", roles: [{ id: "a", name: "b" }] })).status, 400);
    assert.equal((await create(admin, adminId, { name: "x", unrestricted: "yes" })).status, 400);
    assert.equal(
      (
        await create(admin, adminId, {
          name: "x",
          access_rules: [{ service: "identity", path: "/v3", method: "FETCH" }],
        })
      ).status,
      400,
    );
    assert.equal(
      (
        await create(admin, adminId, {
          name: "x",
          access_rules: [{ service: "identity", path: "no-slash", method: "GET" }],
        })
      ).status,
      400,
    );
    assert.equal(
      (await create(admin, adminId, { name: "x", expires_at: "2001-01-01T00:00:00Z" })).status,
      400,
    );
    assert.equal((await create(admin, adminId, { name: "x", expires_at: "next tuesday" })).status, 400);
    assert.equal((await env.req("POST", base(adminId), admin, { application_credentials: {} })).status, 400);
    const unscoped = await env.token("demo", env.cloud.demoPassword, null);
    assert.equal((await create(unscoped, demoId, { name: "unscoped" })).status, 400);
    assert.equal((await create(demo, demoId, { name: "twice" })).status, 201);
    const dup = await create(demo, demoId, { name: "twice" });
    assert.equal(dup.status, 409);
    assert.ok(isKeystoneError(dup.body, 409));
    assert.equal((await create(admin, adminId, { name: "twice" })).status, 201, "names are per user");
  });

  test("a restricted credential's token cannot manage application credentials; an unrestricted one can", async () => {
    const { req, admin, adminId } = env;
    const restricted = (await create(admin, adminId, { name: "restricted" })).body.application_credential;
    const rt = (await appCredToken(restricted.id, restricted.secret)).token;
    const denied = await create(rt, adminId, { name: "child" });
    assert.equal(denied.status, 403);
    assert.ok(isKeystoneError(denied.body, 403));
    assert.equal((await req("DELETE", `${base(adminId)}/${restricted.id}`, rt)).status, 403);
    assert.equal((await req("GET", base(adminId), rt)).status, 200, "reading is fine");

    const unrestricted = (await create(admin, adminId, { name: "unrestricted", unrestricted: true })).body
      .application_credential;
    assert.equal(unrestricted.unrestricted, true);
    const ut = (await appCredToken(unrestricted.id, unrestricted.secret)).token;
    const child = await create(ut, adminId, { name: "child-of-unrestricted" });
    assert.equal(child.status, 201);
    assert.equal(
      (await req("DELETE", `${base(adminId)}/${child.body.application_credential.id}`, ut)).status,
      204,
    );
  });

  test("deleting a credential invalidates its tokens and records a revocation event", async () => {
    const { req, admin, adminId } = env;
    const ac = (await create(admin, adminId, { name: "to-delete" })).body.application_credential;
    const { token } = await appCredToken(ac.id, ac.secret);
    assert.equal((await req("GET", "/v3/auth/catalog", token)).status, 200);
    assert.equal((await req("DELETE", `${base(adminId)}/${ac.id}`, admin)).status, 204);
    assert.equal((await req("GET", "/v3/auth/catalog", token)).status, 401);
    const check = await env.cloud.app.inject({
      method: "GET",
      url: "/identity/v3/auth/tokens",
      headers: { "x-auth-token": admin, "x-subject-token": token },
    });
    assert.equal(check.statusCode, 404);
    assert.equal((await env.auth({ identity: byId(ac.id, ac.secret) })).status, 401);
    assert.equal((await req("GET", `${base(adminId)}/${ac.id}`, admin)).status, 404);
    const events = await req("GET", "/v3/OS-REVOKE/events", admin);
    assert.ok(events.body.events.some((e: any) => e.app_cred_id === ac.id));
  });

  test("an expired credential cannot authenticate; tokens never outlive the credential", async () => {
    const { admin, adminId } = env;
    const soon = new Date(Date.now() + 10 * 60_000).toISOString();
    const ac = (await create(admin, adminId, { name: "expiring", expires_at: soon })).body
      .application_credential;
    const { body } = await appCredToken(ac.id, ac.secret);
    assert.ok(Date.parse(body.token.expires_at) <= Date.parse(soon));
    await env.cloud.identity.core.db
      .updateTable("identity_app_cred")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", ac.id)
      .execute();
    env.cloud.identity.core.changed();
    const r = await env.auth({ identity: byId(ac.id, ac.secret) });
    assert.equal(r.status, 401);
  });
});

describe("access rules", () => {
  test("a credential's access rules restrict what its tokens may call", async () => {
    const { req, admin, adminId } = env;
    const c = await create(admin, adminId, {
      name: "users-reader",
      access_rules: [{ service: "identity", path: "/v3/users", method: "GET" }],
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const ac = c.body.application_credential;
    assert.equal(ac.access_rules.length, 1);
    assert.deepEqual(
      { ...ac.access_rules[0], id: undefined },
      { id: undefined, service: "identity", path: "/v3/users", method: "GET" },
    );
    const { token, body } = await appCredToken(ac.id, ac.secret);
    assert.equal(body.token.application_credential.access_rules.length, 1);
    assert.equal((await req("GET", "/v3/users", token)).status, 200);
    const denied = await req("GET", "/v3/projects", token);
    assert.equal(denied.status, 403);
    assert.ok(isKeystoneError(denied.body, 403));
    assert.equal((await req("POST", "/v3/users", token, { user: { name: "nope" } })).status, 403);
  });

  test("list, get, filters, delete refused while in use, then allowed", async () => {
    const { req, admin, adminId, demo } = env;
    const c = await create(admin, adminId, {
      name: "two-rules",
      access_rules: [
        { service: "compute", path: "/v2.1/servers", method: "GET" },
        { service: "image", path: "/v2/images/*", method: "GET" },
      ],
    });
    assert.equal(c.status, 201);
    const ruleIds = c.body.application_credential.access_rules.map((r: any) => r.id);
    // Same rule again reuses the stored one.
    const again = await create(admin, adminId, {
      name: "same-rule",
      access_rules: [{ service: "compute", path: "/v2.1/servers", method: "GET" }],
    });
    assert.equal(again.body.application_credential.access_rules[0].id, ruleIds[0]);
    // And by id.
    const byRuleId = await create(admin, adminId, { name: "rule-by-id", access_rules: [{ id: ruleIds[1] }] });
    assert.equal(byRuleId.status, 201);
    assert.equal(byRuleId.body.application_credential.access_rules[0].path, "/v2/images/*");

    const list = await req("GET", `/v3/users/${adminId}/access_rules`, admin);
    assert.equal(list.status, 200);
    for (const id of ruleIds) assert.ok(list.body.access_rules.some((r: any) => r.id === id));
    assert.ok(list.body.access_rules[0].links.self.includes(`/v3/users/${adminId}/access_rules/`));
    const compute = await req("GET", `/v3/users/${adminId}/access_rules?service=compute`, admin);
    assert.deepEqual(
      compute.body.access_rules.map((r: any) => r.id),
      [ruleIds[0]],
    );
    const one = await req("GET", `/v3/users/${adminId}/access_rules/${ruleIds[1]}`, admin);
    assert.equal(one.status, 200);
    assert.equal(one.body.access_rule.service, "image");
    assert.equal((await req("GET", `/v3/users/${adminId}/access_rules/nope`, admin)).status, 404);
    assert.equal((await req("GET", `/v3/users/${adminId}/access_rules`, demo)).status, 403);

    const inUse = await req("DELETE", `/v3/users/${adminId}/access_rules/${ruleIds[1]}`, admin);
    assert.equal(inUse.status, 403);
    assert.ok(isKeystoneError(inUse.body, 403));
    for (const cred of [c, byRuleId])
      assert.equal(
        (await req("DELETE", `${base(adminId)}/${cred.body.application_credential.id}`, admin)).status,
        204,
      );
    assert.equal((await req("DELETE", `/v3/users/${adminId}/access_rules/${ruleIds[1]}`, admin)).status, 204);
    assert.equal((await req("GET", `/v3/users/${adminId}/access_rules/${ruleIds[1]}`, admin)).status, 404);
    assert.equal((await req("DELETE", `/v3/users/${adminId}/access_rules/${ruleIds[1]}`, admin)).status, 404);
  });
});

test("generated secrets never start with '-' (a CLI would read it as an option)", async () => {
  const { generatedSecret } = await import("../../../src/identity/store/appcreds.js");
  for (let i = 0; i < 2000; i++) {
    const s = generatedSecret();
    assert.ok(!s.startsWith("-"), s);
    assert.match(s, /^[A-Za-z0-9_-]{86}$/);
  }
});
