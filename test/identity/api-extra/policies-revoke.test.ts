// The deprecated /v3/policies blob API and GET /v3/OS-REVOKE/events.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "./helpers.js";

let env: Env;
before(async () => {
  env = await boot();
});
after(() => env.close());

describe("policies", () => {
  test("CRUD with a type filter and extra attributes", async () => {
    const { req, admin } = env;
    const blob = JSON.stringify({ "compute:create": "" });
    const c = await req("POST", "/v3/policies", admin, {
      policy: { type: "application/json", blob, note: "n" },
    });
    assert.equal(c.status, 201);
    const p = c.body.policy;
    assert.match(p.id, /^[0-9a-f]{32}$/);
    assert.equal(p.type, "application/json");
    assert.equal(p.blob, blob);
    assert.equal(p.note, "n");
    assert.ok(p.links.self.endsWith(`/identity/v3/policies/${p.id}`));
    await req("POST", "/v3/policies", admin, { policy: { type: "text/yaml", blob: "a: b" } });

    const all = await req("GET", "/v3/policies", admin);
    assert.equal(all.status, 200);
    assert.equal(all.body.policies.length, 2);
    const json = await req("GET", "/v3/policies?type=application/json", admin);
    assert.deepEqual(
      json.body.policies.map((x: any) => x.id),
      [p.id],
    );
    assert.equal((await req("GET", `/v3/policies/${p.id}`, admin)).body.policy.blob, blob);
    const upd = await req("PATCH", `/v3/policies/${p.id}`, admin, { policy: { blob: "{}" } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.policy.blob, "{}");
    assert.equal(upd.body.policy.type, "application/json");
    assert.equal((await req("DELETE", `/v3/policies/${p.id}`, admin)).status, 204);
    assert.equal((await req("GET", `/v3/policies/${p.id}`, admin)).status, 404);
  });

  test("errors: 400, 401, 403, 404", async () => {
    const { req, admin, demo } = env;
    assert.equal((await req("POST", "/v3/policies", admin, { policy: { type: "x" } })).status, 400);
    assert.equal((await req("POST", "/v3/policies", admin, { policy: { blob: "x" } })).status, 400);
    assert.equal((await req("POST", "/v3/policies", admin, { policy: { blob: {}, type: "x" } })).status, 400);
    assert.equal((await req("POST", "/v3/policies", admin, { policies: {} })).status, 400);
    const forbidden = await req("POST", "/v3/policies", demo, { policy: { type: "x", blob: "y" } });
    assert.equal(forbidden.status, 403);
    assert.ok(isKeystoneError(forbidden.body, 403));
    assert.equal((await req("GET", "/v3/policies", demo)).status, 403);
    assert.equal((await req("GET", "/v3/policies")).status, 401);
    const missing = await req("GET", "/v3/policies/nope", admin);
    assert.equal(missing.status, 404);
    assert.ok(isKeystoneError(missing.body, 404));
    assert.equal((await req("PATCH", "/v3/policies/nope", admin, { policy: { blob: "z" } })).status, 404);
    assert.equal((await req("DELETE", "/v3/policies/nope", admin)).status, 404);
  });
});

describe("OS-REVOKE events", () => {
  test("lists events in Keystone's format and filters with since", async () => {
    const { req, admin, auth } = env;
    const before = new Date(Date.now() - 2000).toISOString();
    const t = await auth({
      identity: {
        methods: ["password"],
        password: { user: { name: "demo", domain: { id: "default" }, password: env.cloud.demoPassword } },
      },
      scope: { project: { name: "demo", domain: { id: "default" } } },
    });
    const subject = t.headers["x-subject-token"] as string;
    const auditId = t.body.token.audit_ids[0];
    const del = await env.cloud.app.inject({
      method: "DELETE",
      url: "/identity/v3/auth/tokens",
      headers: { "x-auth-token": admin, "x-subject-token": subject },
    });
    assert.equal(del.statusCode, 204);

    const r = await req("GET", "/v3/OS-REVOKE/events", admin);
    assert.equal(r.status, 200);
    assert.equal(r.body.links.next, null);
    assert.equal(r.body.links.previous, null);
    assert.ok(r.body.links.self.endsWith("/identity/v3/OS-REVOKE/events"));
    const ev = r.body.events.find((e: any) => e.audit_id === auditId);
    assert.ok(ev, "the token revocation is listed");
    assert.match(ev.issued_before, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
    assert.match(ev.revoked_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$/);
    assert.equal(ev.user_id, undefined, "unset fields are left out");

    const since = await req("GET", `/v3/OS-REVOKE/events?since=${encodeURIComponent(before)}`, admin);
    assert.ok(since.body.events.some((e: any) => e.audit_id === auditId));
    const future = await req(
      "GET",
      `/v3/OS-REVOKE/events?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      admin,
    );
    assert.deepEqual(future.body.events, []);
    assert.equal((await req("GET", "/v3/OS-REVOKE/events?since=garbage", admin)).status, 400);
  });

  test("needs admin or service: 403 for demo, 401 without a token", async () => {
    assert.equal((await env.req("GET", "/v3/OS-REVOKE/events", env.demo)).status, 403);
    assert.equal((await env.req("GET", "/v3/OS-REVOKE/events")).status, 401);
  });
});
