// Security properties: spoofed identity headers are ignored; logs never contain passwords or tokens.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Logger } from "pino";
import { createLogger } from "../../../src/shared/log.js";
import { bootCloud, isKeystoneError, type TestCloud } from "../../helpers/cloud.js";

describe("spoofed identity headers", () => {
  let c: TestCloud;
  before(async () => {
    c = await bootCloud();
  });
  after(() => c.close());

  const spoof = (adminId: string, adminProject: string): Record<string, string> => ({
    "x-roles": "admin",
    "x-role": "admin",
    "x-user-id": adminId,
    "x-user-name": "admin",
    "x-user-domain-id": "default",
    "x-project-id": adminProject,
    "x-project-name": "admin",
    "x-tenant-id": adminProject,
    "x-domain-id": "default",
    "x-identity-status": "Confirmed",
    "x-service-identity-status": "Confirmed",
    "x-is-admin-project": "True",
    "x-system-scope": "all",
    "x-service-roles": "admin,service",
    "x-service-catalog": "[]",
  });

  test("a demo token with X-Roles: admin (and friends) is still a demo token", async () => {
    const demo = await c.demoToken();
    const h = spoof(await c.userId("admin"), await c.projectId("admin"));
    const r = await c.req("GET", "/v3/users", { token: demo, headers: h });
    assert.equal(r.status, 403);
    assert.ok(isKeystoneError(r.body, 403));
    assert.equal(
      (await c.req("POST", "/v3/roles", { token: demo, headers: h, body: { role: { name: "spoofed" } } }))
        .status,
      403,
    );
    assert.equal(
      (await c.req("GET", `/v3/users/${await c.userId("admin")}`, { token: demo, headers: h })).status,
      403,
    );
    const admin = await c.adminToken();
    assert.equal(
      (await c.req("GET", "/v3/auth/tokens", { token: demo, headers: { ...h, "x-subject-token": admin } }))
        .status,
      403,
    );
  });

  test("identity headers without a token are 401", async () => {
    const h = spoof(await c.userId("admin"), await c.projectId("admin"));
    for (const [m, p] of [
      ["GET", "/v3/users"],
      ["GET", "/v3/role_assignments"],
      ["GET", "/v3/auth/projects"],
    ]) {
      const r = await c.req(m, p, { headers: h });
      assert.equal(r.status, 401, `${m} ${p}`);
    }
  });

  test("the caller's identity comes from the token only: own-user checks use the token's user", async () => {
    const demo = await c.demoToken();
    const adminId = await c.userId("admin");
    const r = await c.req("GET", `/v3/users/${adminId}/projects`, {
      token: demo,
      headers: { "x-user-id": adminId },
    });
    assert.equal(r.status, 403);
  });

  test("a token in the query string is not accepted", async () => {
    const admin = await c.adminToken();
    const r = await c.req("GET", `/v3/users?token=${admin}&X-Auth-Token=${admin}`);
    assert.equal(r.status, 401);
  });
});

describe("logs", () => {
  let dir: string;
  let file: string;
  let log: Logger;
  let c: TestCloud;
  const secrets: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stratus-log-"));
    file = join(dir, "stratus.log");
    log = createLogger("debug", file);
    c = await bootCloud({ log });
  });
  after(async () => {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The file destination is asynchronous: log a marker and wait until it reaches the file. */
  const flush = async (): Promise<string> => {
    const marker = `flush-marker-${Math.random()}`;
    log.info(marker);
    for (let i = 0; i < 500; i++) {
      let text = "";
      try {
        text = readFileSync(file, "utf8");
      } catch {
        // not created yet
      }
      if (text.includes(marker)) return text;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error("the log never reached the file");
  };

  test("issuing tokens, creating users and changing passwords logs no secrets", async () => {
    secrets.push(c.cloud.adminPassword, c.cloud.demoPassword);
    const admin = await c.adminToken();
    const demo = await c.demoToken();
    secrets.push(admin, demo);
    const u = await c.createUser("log-user", "log-user-first-secret");
    secrets.push("log-user-first-secret");
    const t = await c.token("log-user", "log-user-first-secret", "unscoped");
    secrets.push(t);
    await c.req("GET", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": demo } });
    await c.req("HEAD", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": t } });
    await c.req("PATCH", `/v3/users/${u.id}`, {
      token: admin,
      body: { user: { password: "log-user-second-secret" } },
    });
    secrets.push("log-user-second-secret");
    await c.req("POST", `/v3/users/${u.id}/password`, {
      body: { user: { original_password: "log-user-second-secret", password: "log-user-third-secret" } },
    });
    secrets.push("log-user-third-secret");
    // Failures too: bad passwords, bad tokens, malformed bodies carrying secrets.
    await c.auth("admin", "log-wrong-password-secret");
    secrets.push("log-wrong-password-secret");
    await c.req("GET", "/v3/users", { token: `${admin}x` });
    await c.req("POST", "/v3/users", {
      token: admin,
      body: `{"user": {"name": "x", "password": "log-broken-json-secret"`,
    });
    secrets.push("log-broken-json-secret");
    await c.req("POST", "/v3/users", {
      token: admin,
      body: { user: { name: 5, password: "log-invalid-body-secret" } },
    });
    secrets.push("log-invalid-body-secret");
    await c.req("DELETE", "/v3/auth/tokens", { token: admin, headers: { "x-subject-token": demo } });
    const text = await flush();
    for (const s of secrets) assert.ok(!text.includes(s), `log contains a secret: ${s.slice(0, 12)}…`);
  });

  test("the process logger redacts the shapes services log", async () => {
    const token = await c.adminToken();
    const pw = "log-direct-secret-password";
    c.cloud.log.info({ headers: { "x-auth-token": token, "x-subject-token": token } }, "headers");
    c.cloud.log.info({ req: { headers: { "x-auth-token": token } } }, "request");
    c.cloud.log.info({ user: { name: "x", password: pw } }, "body");
    c.cloud.log.info({ user: { password: pw, original_password: pw } }, "password change body");
    c.cloud.log.info({ body: { user: { password: pw } } }, "nested body");
    c.cloud.log.info(
      { auth: { identity: { methods: ["password"], password: { user: { name: "x", password: pw } } } } },
      "auth",
    );
    c.cloud.log.info({ body: { auth: { identity: { password: { user: { password: pw } } } } } }, "auth body");
    c.cloud.log.info({ ctx: { token, userId: "u" } }, "auth context");
    c.cloud.log.info({ application_credential: { secret: pw } }, "app cred");
    const text = await flush();
    assert.ok(text.includes("auth context"), "the log file is written");
    assert.ok(!text.includes(pw), "password in log");
    assert.ok(!text.includes(token), "token in log");
  });

  // Regression: the logger used to redact fixed paths only (up to four levels deep).
  test("deeply nested request bodies are redacted too", async () => {
    const token = await c.adminToken();
    const pw = "log-deep-secret-password";
    c.cloud.log.info({ auth: { identity: { methods: ["token"], token: { id: token } } } }, "token auth");
    c.cloud.log.info(
      { req: { body: { auth: { identity: { password: { user: { password: pw } } } } } } },
      "deep",
    );
    c.cloud.log.info({ body: { user: { original_password: pw } } }, "password change body");
    const text = await flush();
    assert.ok(!text.includes(pw), "password in log");
    assert.ok(!text.includes(token), "token in log");
  });
});
