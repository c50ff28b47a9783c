// Functional tests for POST/GET/HEAD/DELETE /v3/auth/tokens and the /v3/auth/* helpers, against Keystone's behaviour.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  KeyRepository,
  TokenCodec,
  newAuditId,
  type TokenPayload,
} from "../../../src/identity/tokens/index.js";
import { bootCloud, isKeystoneError, passwordAuth, type TestCloud } from "../../helpers/cloud.js";

let c: TestCloud;
let admin: string;
let ids: {
  adminUser: string;
  demoUser: string;
  adminProject: string;
  demoProject: string;
  adminRole: string;
  memberRole: string;
  readerRole: string;
};

// Keystone's timestamps: 2015-11-09T01:42:57.527363Z (always six fractional digits, UTC).
const KEYSTONE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const AUDIT_ID = /^[A-Za-z0-9_-]{22}$/;

before(async () => {
  c = await bootCloud();
  admin = await c.adminToken();
  ids = {
    adminUser: await c.userId("admin"),
    demoUser: await c.userId("demo"),
    adminProject: await c.projectId("admin"),
    demoProject: await c.projectId("demo"),
    adminRole: await c.roleId("admin"),
    memberRole: await c.roleId("member"),
    readerRole: await c.roleId("reader"),
  };
});
after(() => c.close());

const subject = (token: string, extra: Record<string, string> = {}) => ({
  "x-subject-token": token,
  ...extra,
});

describe("password authentication", () => {
  test("by user name and domain id, project scoped by name and domain id", async () => {
    const r = await c.auth("demo", c.cloud.demoPassword, {
      project: { name: "demo", domain: { id: "default" } },
    });
    assert.equal(r.status, 201);
    assert.equal(typeof r.headers["x-subject-token"], "string");
    assert.equal(r.body.token.project.id, ids.demoProject);
  });

  test("by user id, project scoped by id", async () => {
    const r = await c.auth({ id: ids.demoUser }, c.cloud.demoPassword, { project: { id: ids.demoProject } });
    assert.equal(r.status, 201);
    assert.equal(r.body.token.user.id, ids.demoUser);
    assert.equal(r.body.token.project.id, ids.demoProject);
  });

  test("by user name and domain name, project scoped by name and domain name", async () => {
    const r = await c.auth({ name: "demo", domain: { name: "Default" } }, c.cloud.demoPassword, {
      project: { name: "demo", domain: { name: "Default" } },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.token.project.name, "demo");
    assert.deepEqual(r.body.token.project.domain, { id: "default", name: "Default" });
  });

  test("a project-scoped token has Keystone's body shape", async () => {
    const r = await c.auth("admin", c.cloud.adminPassword, "admin");
    assert.equal(r.status, 201);
    const t = r.body.token;
    assert.deepEqual(t.methods, ["password"]);
    assert.deepEqual(t.user, {
      domain: { id: "default", name: "Default" },
      id: ids.adminUser,
      name: "admin",
      password_expires_at: null,
    });
    assert.deepEqual(t.project, {
      domain: { id: "default", name: "Default" },
      id: ids.adminProject,
      name: "admin",
    });
    assert.equal(t.is_domain, false);
    assert.match(t.expires_at, KEYSTONE_TIME);
    assert.match(t.issued_at, KEYSTONE_TIME);
    const lifetime = Date.parse(t.expires_at) - Date.parse(t.issued_at);
    assert.equal(lifetime, 3600 * 1000);
    assert.ok(Array.isArray(t.audit_ids) && t.audit_ids.length === 1);
    assert.match(t.audit_ids[0], AUDIT_ID);
    // admin implies manager implies member implies reader: the token carries all four.
    const roleNames = t.roles.map((x: { name: string }) => x.name).sort();
    assert.deepEqual(roleNames, ["admin", "manager", "member", "reader"]);
    for (const role of t.roles) assert.deepEqual(Object.keys(role).sort(), ["id", "name"]);
    assert.ok(Array.isArray(t.catalog) && t.catalog.length > 0);
    for (const s of t.catalog) {
      assert.equal(typeof s.id, "string");
      assert.equal(typeof s.type, "string");
      assert.ok(Array.isArray(s.endpoints));
      for (const e of s.endpoints) {
        assert.ok(["public", "internal", "admin"].includes(e.interface));
        assert.equal(typeof e.url, "string");
        assert.equal(e.region_id, "RegionOne");
        assert.equal(e.region, "RegionOne");
      }
    }
    assert.ok(!("domain" in t));
    assert.ok(!("system" in t));
  });

  test("the catalog has $(project_id)s substituted with the scoped project", async () => {
    const admin = await c.adminToken();
    const svc = await c.req("POST", "/v3/services", {
      token: admin,
      body: { service: { type: "share", name: "manila-test" } },
    });
    assert.equal(svc.status, 201);
    const ep = await c.req("POST", "/v3/endpoints", {
      token: admin,
      body: {
        endpoint: {
          service_id: svc.body.service.id,
          interface: "public",
          region_id: "RegionOne",
          url: "http://share.example/v2/$(project_id)s",
        },
      },
    });
    assert.equal(ep.status, 201);
    const r = await c.auth("demo", c.cloud.demoPassword, "demo");
    const share = r.body.token.catalog.find((s: { type: string }) => s.type === "share");
    assert.ok(share, "share in the catalog");
    for (const e of share.endpoints) assert.ok(e.url.endsWith(`/v2/${ids.demoProject}`), e.url);
    const text = JSON.stringify(r.body);
    assert.ok(!text.includes("$(project_id)s") && !text.includes("%(project_id)s"));
    await c.req("DELETE", `/v3/endpoints/${ep.body.endpoint.id}`, { token: admin });
    await c.req("DELETE", `/v3/services/${svc.body.service.id}`, { token: admin });
  });

  test("every running service has endpoints (block storage under both of its types)", async () => {
    const r = await c.auth("demo", c.cloud.demoPassword, "demo");
    const withEndpoints = r.body.token.catalog
      .filter((s: { endpoints: unknown[] }) => s.endpoints.length > 0)
      .map((s: { type: string }) => s.type)
      .sort();
    assert.deepEqual(withEndpoints, [
      "block-storage",
      "compute",
      "identity",
      "image",
      "network",
      "object-store",
      "placement",
      "volumev3",
    ]);
  });

  test("?nocatalog leaves the catalog out", async () => {
    for (const q of ["?nocatalog", "?nocatalog=1", "?nocatalog=true"]) {
      const r = await c.auth("demo", c.cloud.demoPassword, "demo", q);
      assert.equal(r.status, 201);
      assert.ok(!("catalog" in r.body.token), q);
      assert.ok(Array.isArray(r.body.token.roles));
    }
  });

  test("no scope and a usable default project: scoped to the default project", async () => {
    const r = await c.auth("demo", c.cloud.demoPassword);
    assert.equal(r.status, 201);
    assert.equal(r.body.token.project.id, ids.demoProject);
    assert.deepEqual(r.body.token.roles.map((x: { name: string }) => x.name).sort(), ["member", "reader"]);
  });

  test("explicitly unscoped: no project, roles or catalog", async () => {
    const r = await c.auth("demo", c.cloud.demoPassword, "unscoped");
    assert.equal(r.status, 201);
    const t = r.body.token;
    assert.ok(!("project" in t) && !("domain" in t) && !("system" in t));
    assert.ok(!("roles" in t));
    assert.ok(!("catalog" in t));
    assert.deepEqual(t.methods, ["password"]);
  });

  test('the old keystoneauth form {"unscoped": {}} is an explicit unscoped request', async () => {
    const r = await c.auth("demo", c.cloud.demoPassword, { unscoped: {} });
    assert.equal(r.status, 201, r.text);
    assert.ok(!("project" in r.body.token) && !("roles" in r.body.token));
    const both = await c.auth("demo", c.cloud.demoPassword, {
      unscoped: {},
      project: { id: ids.demoProject },
    });
    assert.equal(both.status, 400);
  });

  test("no scope and no default project: unscoped", async () => {
    await c.createUser("nodefault", "nodefault-pw-1");
    const r = await c.auth("nodefault", "nodefault-pw-1");
    assert.equal(r.status, 201);
    assert.ok(!("project" in r.body.token));
  });

  test("a default project without a role on it gives an unscoped token", async () => {
    const p = await c.createProject("noaccess-default");
    await c.createUser("norole-default", "norole-pw-1", { default_project_id: p.id });
    const r = await c.auth("norole-default", "norole-pw-1");
    assert.equal(r.status, 201);
    assert.ok(!("project" in r.body.token));
  });

  test("system scope", async () => {
    const r = await c.auth("admin", c.cloud.adminPassword, { system: { all: true } });
    assert.equal(r.status, 201);
    const t = r.body.token;
    assert.deepEqual(t.system, { all: true });
    assert.ok(!("project" in t) && !("domain" in t));
    assert.ok(t.roles.some((x: { name: string }) => x.name === "admin"));
    // Endpoints that need a project id cannot be resolved for a system token, and are left out.
    assert.ok(!JSON.stringify(t.catalog).includes("$("));
  });

  test("a user without system roles cannot get a system-scoped token", async () => {
    const r = await c.auth("demo", c.cloud.demoPassword, { system: { all: true } });
    assert.equal(r.status, 401);
    assert.ok(isKeystoneError(r.body, 401));
  });

  test("domain scope by id and by name", async () => {
    const u = await c.createUser("domadmin", "domadmin-pw-1");
    const g = await c.req("PUT", `/v3/domains/default/users/${u.id}/roles/${ids.adminRole}`, {
      token: admin,
    });
    assert.equal(g.status, 204);
    for (const scope of [{ domain: { id: "default" } }, { domain: { name: "Default" } }]) {
      const r = await c.auth("domadmin", "domadmin-pw-1", scope);
      assert.equal(r.status, 201, JSON.stringify(scope));
      assert.deepEqual(r.body.token.domain, { id: "default", name: "Default" });
      assert.ok(!("project" in r.body.token));
      assert.ok(r.body.token.roles.some((x: { name: string }) => x.name === "admin"));
    }
  });

  test("scoping to a project or domain without a role is 401", async () => {
    const r1 = await c.auth("demo", c.cloud.demoPassword, "admin");
    assert.equal(r1.status, 401);
    assert.ok(isKeystoneError(r1.body, 401));
    const r2 = await c.auth("demo", c.cloud.demoPassword, { domain: { id: "default" } });
    assert.equal(r2.status, 401);
    const r3 = await c.auth("demo", c.cloud.demoPassword, { project: { id: "does-not-exist" } });
    assert.equal(r3.status, 401);
  });

  test("bad password, unknown user, disabled user and unknown domain give identical 401 bodies", async () => {
    const u = await c.createUser("tobedisabled", "disabled-pw-1");
    const d = await c.req("PATCH", `/v3/users/${u.id}`, { token: admin, body: { user: { enabled: false } } });
    assert.equal(d.status, 200);
    const bad = await c.auth("demo", "wrong-password");
    const unknown = await c.auth("no-such-user", "whatever");
    const unknownId = await c.auth({ id: "0123456789abcdef0123456789abcdef" }, "whatever");
    const disabled = await c.auth("tobedisabled", "disabled-pw-1");
    const unknownDomain = await c.auth(
      { name: "demo", domain: { name: "NoSuchDomain" } },
      c.cloud.demoPassword,
    );
    for (const r of [bad, unknown, unknownId, disabled, unknownDomain]) {
      assert.equal(r.status, 401);
      assert.ok(isKeystoneError(r.body, 401));
      assert.equal(r.headers["x-subject-token"], undefined);
    }
    assert.deepEqual(unknown.body, bad.body);
    assert.deepEqual(unknownId.body, bad.body);
    assert.deepEqual(disabled.body, bad.body);
    assert.deepEqual(unknownDomain.body, bad.body);
  });

  test("malformed auth requests are 400, 401 or 404, never 500", async () => {
    const bodies: unknown[] = [
      {},
      { auth: {} },
      { auth: { identity: {} } },
      { auth: { identity: { methods: [] } } },
      { auth: { identity: { methods: "password" } } },
      { auth: { identity: { methods: ["password"] } } },
      { auth: { identity: { methods: ["password"], password: {} } } },
      { auth: { identity: { methods: ["password"], password: { user: {} } } } },
      { auth: { identity: { methods: ["password"], password: { user: { name: "demo" } } } } },
      {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "demo", password: 12345, domain: { id: "default" } } },
          },
        },
      },
      {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "demo", password: null, domain: { id: "default" } } },
          },
        },
      },
      {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: { x: 1 }, password: "x", domain: { id: "default" } } },
          },
        },
      },
      { auth: { identity: { methods: ["password"], password: { user: { id: ["a"], password: "x" } } } } },
      {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "demo", password: "x", domain: { id: 7 } } },
          },
        },
      },
      {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "demo", password: "x", domain: "default" } },
          },
        },
      },
      { auth: { identity: { methods: ["password"], password: "x" } } },
      { auth: { identity: { methods: ["token"] } } },
      { auth: { identity: { methods: ["token"], token: {} } } },
      { auth: { identity: { methods: ["token"], token: { id: 42 } } } },
      { auth: { identity: { methods: ["token"], token: { id: "garbage" } } } },
      { auth: { identity: { methods: ["kerberos"] } } },
      { auth: { identity: { methods: ["password", "token"] } } },
      {
        auth: {
          identity: { methods: ["application_credential"], application_credential: { id: 5, secret: 6 } },
        },
      },
      { auth: { identity: { methods: ["application_credential"], application_credential: {} } } },
      passwordAuth("demo", "x", { project: "demo" }),
      passwordAuth("demo", "x", { project: { id: { a: 1 } } }),
      passwordAuth("demo", "x", { project: { name: ["demo"], domain: { id: "default" } } }),
      passwordAuth("demo", "x", { project: { name: "demo" } }),
      passwordAuth("demo", "x", { domain: { id: 1 } }),
      passwordAuth("demo", "x", { domain: "default" }),
      passwordAuth("demo", "x", { system: true }),
      passwordAuth("demo", "x", { system: { all: "yes" } }),
      passwordAuth("demo", "x", { project: { id: ids.demoProject }, domain: { id: "default" } }),
      passwordAuth("demo", "x", 5 as unknown as string),
      passwordAuth("demo", "x", { unknown: {} }),
      {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "demo", password: "x".repeat(100_000), domain: { id: "default" } } },
          },
        },
      },
      [],
      "string",
      null,
      42,
    ];
    for (const body of bodies) {
      const r = await c.req("POST", "/v3/auth/tokens", { body: body === null ? "null" : body });
      assert.ok(
        [400, 401, 404].includes(r.status),
        `${JSON.stringify(body).slice(0, 200)} → ${r.status} ${r.text}`,
      );
      assert.ok(isKeystoneError(r.body, r.status), r.text);
    }
  });
});

describe("token validation", () => {
  test("GET /v3/auth/tokens returns the token with its catalog and X-Subject-Token", async () => {
    const demo = await c.demoToken();
    const r = await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(demo) });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-subject-token"], demo);
    assert.equal(r.body.token.user.name, "demo");
    assert.equal(r.body.token.project.id, ids.demoProject);
    assert.ok(Array.isArray(r.body.token.catalog));
    const nc = await c.req("GET", "/v3/auth/tokens?nocatalog", { token: admin, headers: subject(demo) });
    assert.equal(nc.status, 200);
    assert.ok(!("catalog" in nc.body.token));
  });

  test("validation returns the same issued_at, expires_at and audit ids as issuance", async () => {
    const issued = await c.auth("demo", c.cloud.demoPassword, "demo");
    const tok = issued.headers["x-subject-token"] as string;
    const r = await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(tok) });
    for (const k of ["issued_at", "expires_at", "audit_ids", "methods", "user", "project", "roles"])
      assert.deepEqual(r.body.token[k], issued.body.token[k], k);
  });

  test("a user may validate their own token", async () => {
    const demo = await c.demoToken();
    const r = await c.req("GET", "/v3/auth/tokens", { token: demo, headers: subject(demo) });
    assert.equal(r.status, 200);
  });

  test("HEAD /v3/auth/tokens is 200 with no body", async () => {
    const demo = await c.demoToken();
    const r = await c.req("HEAD", "/v3/auth/tokens", { token: admin, headers: subject(demo) });
    assert.equal(r.status, 200);
    assert.equal(r.text, "");
    assert.equal(r.headers["x-subject-token"], demo);
  });

  test("garbage, tampered or missing subject tokens are 404 in Keystone's error format", async () => {
    const demo = await c.demoToken();
    const flipped = demo.slice(0, 30) + (demo[30] === "A" ? "B" : "A") + demo.slice(31);
    for (const bad of ["garbage", "x".repeat(5000), flipped, demo + "A", "gAAAAABk", "%%%"]) {
      for (const method of ["GET", "HEAD"]) {
        const r = await c.req(method, "/v3/auth/tokens", { token: admin, headers: subject(bad) });
        assert.equal(r.status, 404, `${method} ${bad.slice(0, 40)}`);
        if (method === "GET") assert.ok(isKeystoneError(r.body, 404), r.text);
      }
    }
    const missing = await c.req("GET", "/v3/auth/tokens", { token: admin });
    assert.equal(missing.status, 404);
    assert.ok(isKeystoneError(missing.body, 404));
  });

  test("validating without X-Auth-Token is 401; a garbage X-Auth-Token is 401", async () => {
    const demo = await c.demoToken();
    const r = await c.req("GET", "/v3/auth/tokens", { headers: subject(demo) });
    assert.equal(r.status, 401);
    assert.ok(isKeystoneError(r.body, 401));
    const r2 = await c.req("GET", "/v3/auth/tokens", { token: "garbage", headers: subject(demo) });
    assert.equal(r2.status, 401);
    assert.ok(isKeystoneError(r2.body, 401));
  });

  test("DELETE /v3/auth/tokens revokes the subject token only", async () => {
    const t1 = await c.demoToken();
    const t2 = await c.demoToken();
    const d = await c.req("DELETE", "/v3/auth/tokens", { token: admin, headers: subject(t1) });
    assert.equal(d.status, 204);
    assert.equal(d.text, "");
    assert.equal((await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(t1) })).status, 404);
    assert.equal(
      (await c.req("HEAD", "/v3/auth/tokens", { token: admin, headers: subject(t1) })).status,
      404,
    );
    assert.equal((await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(t2) })).status, 200);
    // Deleting it again is a 404.
    assert.equal(
      (await c.req("DELETE", "/v3/auth/tokens", { token: admin, headers: subject(t1) })).status,
      404,
    );
  });

  test("a member may neither validate nor revoke another user's token", async () => {
    const demo = await c.demoToken();
    const other = await c.token("admin", c.cloud.adminPassword, "admin");
    assert.equal(
      (await c.req("GET", "/v3/auth/tokens", { token: demo, headers: subject(other) })).status,
      403,
    );
    assert.equal(
      (await c.req("DELETE", "/v3/auth/tokens", { token: demo, headers: subject(other) })).status,
      403,
    );
    assert.equal(
      (await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(other) })).status,
      200,
    );
  });

  test("a user may revoke their own token", async () => {
    const t = await c.demoToken();
    assert.equal((await c.req("DELETE", "/v3/auth/tokens", { token: t, headers: subject(t) })).status, 204);
    assert.equal((await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(t) })).status, 404);
  });
});

describe("rescoping with the token method", () => {
  const tokenAuth = (id: string, scope?: unknown) => ({
    auth: { identity: { methods: ["token"], token: { id } }, ...(scope !== undefined ? { scope } : {}) },
  });

  test("an unscoped token rescoped to a project keeps the expiry and extends the audit chain", async () => {
    const un = await c.auth("admin", c.cloud.adminPassword, "unscoped");
    assert.equal(un.status, 201);
    const unId = un.headers["x-subject-token"] as string;
    const r = await c.req("POST", "/v3/auth/tokens", {
      body: tokenAuth(unId, { project: { id: ids.adminProject } }),
    });
    assert.equal(r.status, 201, r.text);
    const t = r.body.token;
    assert.equal(t.project.id, ids.adminProject);
    assert.equal(t.expires_at, un.body.token.expires_at);
    assert.ok(t.methods.includes("token") && t.methods.includes("password"), JSON.stringify(t.methods));
    assert.equal(t.audit_ids.length, 2);
    assert.notEqual(t.audit_ids[0], un.body.token.audit_ids[0]);
    assert.equal(t.audit_ids[1], un.body.token.audit_ids[0]);
    assert.ok(Array.isArray(t.catalog));

    // Rescoping the rescoped token keeps the original chain id.
    const again = await c.req("POST", "/v3/auth/tokens", {
      body: tokenAuth(r.headers["x-subject-token"] as string, { system: { all: true } }),
    });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.body.token.audit_ids[1], un.body.token.audit_ids[0]);
    assert.equal(again.body.token.expires_at, un.body.token.expires_at);
  });

  test("rescoping to a project without a role is 401; an invalid token is 404 as in Keystone", async () => {
    const un = await c.token("demo", c.cloud.demoPassword, "unscoped");
    const r = await c.req("POST", "/v3/auth/tokens", {
      body: tokenAuth(un, { project: { id: ids.adminProject } }),
    });
    assert.equal(r.status, 401);
    assert.ok(isKeystoneError(r.body, 401));
    const bad = await c.req("POST", "/v3/auth/tokens", {
      body: tokenAuth("garbage", { project: { id: ids.demoProject } }),
    });
    assert.equal(bad.status, 404);
    assert.ok(isKeystoneError(bad.body, 404));
  });

  test("revoking the original token's chain is honoured for the rescoped token via DELETE of the parent", async () => {
    const un = await c.token("demo", c.cloud.demoPassword, "unscoped");
    const scoped = await c.req("POST", "/v3/auth/tokens", {
      body: tokenAuth(un, { project: { id: ids.demoProject } }),
    });
    assert.equal(scoped.status, 201);
    const scopedId = scoped.headers["x-subject-token"] as string;
    // Revoking the rescoped token does not revoke its parent.
    assert.equal(
      (await c.req("DELETE", "/v3/auth/tokens", { token: admin, headers: subject(scopedId) })).status,
      204,
    );
    assert.equal((await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(un) })).status, 200);
    assert.equal(
      (await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(scopedId) })).status,
      404,
    );
  });
});

describe("/v3/auth helpers", () => {
  test("GET /v3/auth/catalog returns the scoped catalog", async () => {
    const demo = await c.demoToken();
    const r = await c.req("GET", "/v3/auth/catalog", { token: demo });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body.catalog) && r.body.catalog.length > 0);
    assert.equal(typeof r.body.links.self, "string");
    assert.ok(JSON.stringify(r.body.catalog).includes("/compute/v2.1"));
  });

  test("GET /v3/auth/catalog with an unscoped token is 403", async () => {
    const un = await c.token("demo", c.cloud.demoPassword, "unscoped");
    const r = await c.req("GET", "/v3/auth/catalog", { token: un });
    assert.equal(r.status, 403);
    assert.ok(isKeystoneError(r.body, 403));
  });

  test("GET /v3/auth/projects lists the projects the caller can scope to", async () => {
    const un = await c.token("demo", c.cloud.demoPassword, "unscoped");
    const r = await c.req("GET", "/v3/auth/projects", { token: un });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.projects.map((p: { id: string }) => p.id),
      [ids.demoProject],
    );
    const p = r.body.projects[0];
    assert.equal(p.domain_id, "default");
    assert.equal(p.enabled, true);
    assert.equal(typeof p.links.self, "string");
    const a = await c.req("GET", "/v3/auth/projects", { token: admin });
    assert.ok(a.body.projects.some((x: { id: string }) => x.id === ids.adminProject));
    assert.ok(!a.body.projects.some((x: { id: string }) => x.id === ids.demoProject));
  });

  test("GET /v3/auth/domains lists domains with a role", async () => {
    const demo = await c.demoToken();
    const r = await c.req("GET", "/v3/auth/domains", { token: demo });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.domains, []);
    const u = await c.createUser("authdomains", "authdomains-pw-1");
    assert.equal(
      (await c.req("PUT", `/v3/domains/default/users/${u.id}/roles/${ids.readerRole}`, { token: admin }))
        .status,
      204,
    );
    const t = await c.token("authdomains", "authdomains-pw-1", "unscoped");
    const r2 = await c.req("GET", "/v3/auth/domains", { token: t });
    assert.deepEqual(
      r2.body.domains.map((d: { id: string }) => d.id),
      ["default"],
    );
    assert.equal(r2.body.domains[0].name, "Default");
  });

  test("GET /v3/auth/system says whether the caller has system roles", async () => {
    const r = await c.req("GET", "/v3/auth/system", { token: admin });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.system, [{ all: true }]);
    const demo = await c.demoToken();
    const r2 = await c.req("GET", "/v3/auth/system", { token: demo });
    assert.equal(r2.status, 200);
    assert.deepEqual(r2.body.system, []);
  });

  test("the /v3/auth helpers need a token", async () => {
    for (const p of ["/v3/auth/catalog", "/v3/auth/projects", "/v3/auth/domains", "/v3/auth/system"]) {
      const r = await c.req("GET", p);
      assert.equal(r.status, 401, p);
      assert.ok(isKeystoneError(r.body, 401));
    }
  });
});

describe("token lifetime and keys", () => {
  const forge = async (over: Partial<TokenPayload>, keys = c.cloud.identity.keys): Promise<string> => {
    const now = Date.now();
    return new TokenCodec(keys).encode({
      userId: ids.demoUser,
      methods: ["password"],
      scope: { kind: "project", id: ids.demoProject },
      issuedAt: now - 1000,
      expiresAt: now + 3_600_000,
      auditIds: [newAuditId()],
      ...over,
    });
  };

  test("a token sealed with this cloud's keys validates; an expired one is 404 as subject and 401 as caller", async () => {
    const good = await forge({});
    assert.equal(
      (await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(good) })).status,
      200,
    );
    const expired = await forge({ issuedAt: Date.now() - 7_200_000, expiresAt: Date.now() - 1000 });
    const v = await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(expired) });
    assert.equal(v.status, 404);
    assert.ok(isKeystoneError(v.body, 404));
    assert.equal((await c.req("GET", "/v3/auth/projects", { token: expired })).status, 401);
    const rescope = await c.req("POST", "/v3/auth/tokens", {
      body: {
        auth: {
          identity: { methods: ["token"], token: { id: expired } },
          scope: { project: { id: ids.demoProject } },
        },
      },
    });
    assert.equal(rescope.status, 404); // Keystone: TokenNotFound for the token method
  });

  test("a token sealed with another cloud's keys is rejected", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stratus-foreign-keys-"));
    try {
      const foreign = new KeyRepository(join(dir, "keys"));
      await foreign.init();
      const t = await forge({}, foreign);
      assert.equal(
        (await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(t) })).status,
        404,
      );
      assert.equal((await c.req("GET", "/v3/auth/projects", { token: t })).status, 401);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a token for a user who does not exist, or for a project the user has no role on, is invalid", async () => {
    const ghost = await forge({ userId: "0123456789abcdef0123456789abcdef" });
    assert.equal(
      (await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(ghost) })).status,
      404,
    );
    const noRole = await forge({ scope: { kind: "project", id: ids.adminProject } });
    assert.equal(
      (await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(noRole) })).status,
      404,
    );
    assert.equal((await c.req("GET", "/v3/users", { token: noRole })).status, 401);
  });

  test("key rotation: old tokens validate until their key is dropped", async () => {
    // Any identity write empties the validation caches, so every check below really decrypts the token.
    let g = 0;
    const bump = () =>
      c.req("POST", "/v3/groups", { token: admin, body: { group: { name: `rotation-${++g}` } } });
    const valid = async (t: string) => {
      await bump();
      return (await c.req("GET", "/v3/auth/tokens", { token: admin, headers: subject(t) })).status;
    };
    const first = await c.demoToken();
    await c.cloud.identity.keys.rotate(3);
    admin = await c.token("admin", c.cloud.adminPassword, "admin");
    assert.equal(await valid(first), 200, "sealed with what is now a secondary key");
    const second = await c.demoToken();
    assert.equal(await valid(second), 200);
    await c.cloud.identity.keys.rotate(3);
    admin = await c.token("admin", c.cloud.adminPassword, "admin");
    assert.equal(await valid(first), 404, "its key was dropped");
    assert.equal(await valid(second), 200);
  });
});
