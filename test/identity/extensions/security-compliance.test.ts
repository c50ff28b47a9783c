// Security compliance (identity.securityCompliance): password regex, lockout, minimum age, password history.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startCloud, type Cloud } from "../../../src/cloud/start.js";
import { loadConfig } from "../../../src/shared/config.js";

interface Res {
  status: number;
  headers: Record<string, unknown>;
  body: any;
}

/** A cloud with the given security compliance rules, and request helpers. */
async function bootWith(rules: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "stratus-sc-"));
  const cfg = loadConfig(
    {
      dataDir: dir,
      port: 0,
      logLevel: "silent",
      identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 10, securityCompliance: rules },
    } as any,
    {},
  );
  const cloud: Cloud = await startCloud(cfg, { listen: false });
  const req = async (method: string, path: string, token?: string, payload?: unknown): Promise<Res> => {
    const r = await cloud.app.inject({
      method: method as any,
      url: `/identity${path}`,
      headers: token ? { "x-auth-token": token } : {},
      ...(payload !== undefined ? { payload: payload as any } : {}),
    });
    return { status: r.statusCode, headers: r.headers, body: r.body ? JSON.parse(r.body) : undefined };
  };
  const login = (userId: string, password: string) =>
    req("POST", "/v3/auth/tokens", undefined, {
      auth: { identity: { methods: ["password"], password: { user: { id: userId, password } } } },
    });
  let admin = "";
  for (let i = 0; i < 100 && !admin; i++) {
    const r = await req("POST", "/v3/auth/tokens", undefined, {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "admin", domain: { id: "default" }, password: cloud.adminPassword } },
        },
        scope: { project: { name: "admin", domain: { id: "default" } } },
      },
    });
    if (r.status === 201) admin = r.headers["x-subject-token"] as string;
    else await new Promise((res) => setTimeout(res, 20));
  }
  let n = 0;
  const newUser = async (password: string, extra: Record<string, unknown> = {}) => {
    const r = await req("POST", "/v3/users", admin, {
      user: { name: `sc-user-${++n}`, password, domain_id: "default", ...extra },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.user.id as string;
  };
  const changePassword = (userId: string, original: string, password: string) =>
    req("POST", `/v3/users/${userId}/password`, undefined, {
      user: { original_password: original, password },
    });
  return {
    cloud,
    req,
    login,
    admin,
    newUser,
    changePassword,
    async close() {
      await cloud.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("security compliance: off by default", () => {
  let env: Awaited<ReturnType<typeof bootWith>>;
  before(async () => {
    env = await bootWith({});
  });
  after(() => env.close());

  test("no lockout, no history, no regex", async () => {
    const u = await env.newUser("a");
    for (let i = 0; i < 5; i++) assert.equal((await env.login(u, "wrong")).status, 401);
    assert.equal((await env.login(u, "a")).status, 201);
    assert.equal((await env.changePassword(u, "a", "b")).status, 204);
    assert.equal((await env.changePassword(u, "b", "a")).status, 204);
  });
});

describe("security compliance: rules on", () => {
  let env: Awaited<ReturnType<typeof bootWith>>;
  before(async () => {
    env = await bootWith({
      lockoutFailureAttempts: 2,
      lockoutDuration: 1,
      uniqueLastPasswordCount: 2,
      passwordRegex: "(?=.*\\d)(?=.*[a-zA-Z]).{7,}$",
      passwordRegexDescription: "at least 7 characters, one letter and one digit",
    });
  });
  after(() => env.close());

  test("passwords must match the regex on create, admin update and self-service change", async () => {
    const bad = await env.req("POST", "/v3/users", env.admin, {
      user: { name: "weak", password: "short", domain_id: "default" },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /does not match the requirements: at least 7 characters/);
    const u = await env.newUser("passw0rd1");
    assert.equal(
      (await env.req("PATCH", `/v3/users/${u}`, env.admin, { user: { password: "nodigits" } })).status,
      400,
    );
    assert.equal((await env.changePassword(u, "passw0rd1", "nodigitshere")).status, 400);
    // The regex is readable by anyone through the domain config API.
    const user = (await env.login(u, "passw0rd1")).headers["x-subject-token"] as string;
    const sc = await env.req("GET", "/v3/domains/default/config/security_compliance", user);
    assert.equal(sc.status, 200);
    assert.equal(sc.body.config.security_compliance.password_regex, "(?=.*\\d)(?=.*[a-zA-Z]).{7,}$");
  });

  test("lockout after N failures, even with the right password, until the duration passes", async () => {
    const u = await env.newUser("passw0rd1");
    assert.equal((await env.login(u, "wrong")).status, 401);
    assert.equal((await env.login(u, "passw0rd1")).status, 201, "a success resets the count");
    assert.equal((await env.login(u, "wrong")).status, 401);
    assert.equal((await env.login(u, "wrong")).status, 401);
    const locked = await env.login(u, "passw0rd1");
    assert.equal(locked.status, 401);
    assert.match(locked.body.error.message, /locked/);
    assert.equal((await env.changePassword(u, "passw0rd1", "passw0rd2")).status, 401);
    await new Promise((res) => setTimeout(res, 1100));
    assert.equal((await env.login(u, "passw0rd1")).status, 201);
    // ignore_lockout_failure_attempts exempts a user.
    const exempt = await env.newUser("passw0rd1", { options: { ignore_lockout_failure_attempts: true } });
    for (let i = 0; i < 3; i++) assert.equal((await env.login(exempt, "wrong")).status, 401);
    assert.equal((await env.login(exempt, "passw0rd1")).status, 201);
  });

  test("self-service changes may not reuse the last N passwords; admin resets may", async () => {
    const u = await env.newUser("passw0rd1");
    assert.equal((await env.changePassword(u, "passw0rd1", "passw0rd2")).status, 204);
    const reuse = await env.changePassword(u, "passw0rd2", "passw0rd1");
    assert.equal(reuse.status, 400);
    assert.match(reuse.body.error.message, /cannot be identical to a previous password/);
    assert.equal((await env.changePassword(u, "passw0rd2", "passw0rd3")).status, 204);
    // passw0rd1 is now three passwords back: allowed again with a count of 2.
    assert.equal((await env.changePassword(u, "passw0rd3", "passw0rd1")).status, 204);
    assert.equal((await env.login(u, "passw0rd1")).status, 201);
    // An admin may set the same password again.
    assert.equal(
      (await env.req("PATCH", `/v3/users/${u}`, env.admin, { user: { password: "passw0rd1" } })).status,
      200,
    );
  });
});

describe("security compliance: minimum password age", () => {
  let env: Awaited<ReturnType<typeof bootWith>>;
  before(async () => {
    env = await bootWith({ minimumPasswordAge: 1 });
  });
  after(() => env.close());

  test("a self-service password must be kept for the minimum age; admin-set ones need not", async () => {
    const u = await env.newUser("first");
    assert.equal((await env.changePassword(u, "first", "second")).status, 204);
    const tooSoon = await env.changePassword(u, "second", "third");
    assert.equal(tooSoon.status, 400);
    assert.match(tooSoon.body.error.message, /minimum password age/);
    assert.equal(
      (await env.req("PATCH", `/v3/users/${u}`, env.admin, { user: { password: "reset" } })).status,
      200,
    );
    assert.equal((await env.changePassword(u, "reset", "mine")).status, 204);
  });
});
