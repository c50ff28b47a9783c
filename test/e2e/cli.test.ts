// End to end: `bin/stratus up` as a child process, driven by the real OpenStack CLI (Debian's python3-openstackclient,
// /usr/bin/openstack under /usr/bin/python3) through the clouds.yaml that Stratus writes.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { until } from "../helpers/wait.js";
import {
  exec,
  killStratus,
  OPENSTACK,
  openstack,
  pyEnv,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";

const uniq = () => randomBytes(4).toString("hex");

describe("openstack CLI against `stratus up`", { concurrency: false }, () => {
  let s: StratusProcess;
  let authUrl = "";

  /** Run `openstack ARGS` as a cloud of clouds.yaml; fails the test unless it exits 0. */
  async function os(args: string[], cloud = "stratus-admin"): Promise<string> {
    const r = await osResult(args, cloud);
    assert.equal(
      r.code,
      0,
      `openstack ${args.join(" ")} (OS_CLOUD=${cloud}) exited ${r.code}:\n${r.stderr}${r.stdout}`,
    );
    return r.stdout;
  }
  const osResult = (args: string[], cloud = "stratus-admin") => openstack(s, args, cloud);
  const osJson = async <T = any>(args: string[], cloud?: string): Promise<T> =>
    JSON.parse(await os([...args, "-f", "json"], cloud)) as T;
  /** `openstack ARGS` must fail; returns its stderr. */
  async function osFails(args: string[], cloud = "stratus-admin"): Promise<string> {
    const r = await osResult(args, cloud);
    assert.notEqual(
      r.code,
      0,
      `openstack ${args.join(" ")} (OS_CLOUD=${cloud}) should have failed:\n${r.stdout}`,
    );
    return r.stderr;
  }
  const names = (rows: Array<{ Name: string }>) => rows.map((r) => r.Name);

  before(async () => {
    assert.ok(
      existsSync(OPENSTACK),
      `${OPENSTACK} is missing: apt-get install python3-openstackclient (npm test does this)`,
    );
    s = await startStratus("stratus-e2e-");
    assert.deepEqual(Object.keys(s.clouds).sort(), ["stratus-admin", "stratus-demo", "stratus-system"]);
    authUrl = s.clouds["stratus-admin"].auth.auth_url;
  });

  after(() => killStratus(s));

  test("stratus up prints that it is ready", async () => {
    // clouds.yaml (what startStratus waits for) is written just before the message is printed.
    await until("stratus up says it is ready", () => /Stratus is ready/.test(s.output()));
  });

  test("token issue", async () => {
    const t = await osJson(["token", "issue"]);
    assert.match(t.id, /^\S{20,}$/);
    assert.match(t.project_id, /^[0-9a-f]{32}$/);
    assert.match(t.user_id, /^[0-9a-f]{32}$/);
    assert.ok(Date.parse(t.expires) > Date.now(), `expires ${t.expires} is not in the future`);
  });

  test("project create, list, show, set, delete", async () => {
    const name = `e2e-project-${uniq()}`;
    const p = await osJson([
      "project",
      "create",
      name,
      "--domain",
      "default",
      "--description",
      "made by e2e",
    ]);
    assert.equal(p.name, name);
    assert.equal(p.description, "made by e2e");
    assert.equal(p.enabled, true);
    assert.ok(names(await osJson(["project", "list"])).includes(name));
    assert.equal((await osJson(["project", "show", p.id])).name, name);
    await os(["project", "set", name, "--description", "changed", "--disable", "--tag", "blue"]);
    const shown = await osJson(["project", "show", name]);
    assert.equal(shown.description, "changed");
    assert.equal(shown.enabled, false);
    assert.deepEqual(shown.tags, ["blue"]);
    await os(["project", "delete", p.id]);
    assert.ok(!names(await osJson(["project", "list"])).includes(name));
    await osFails(["project", "show", p.id]);
  });

  test("user create, list, show, set, delete", async () => {
    const name = `e2e-user-${uniq()}`;
    const u = await osJson([
      "user",
      "create",
      name,
      "--domain",
      "default",
      "--password",
      "secret-1",
      "--email",
      "a@example.org",
      "--project",
      "demo",
    ]);
    assert.equal(u.name, name);
    assert.equal(u.email, "a@example.org");
    assert.equal(u.enabled, true);
    assert.ok(!("password" in u), "the password must not be shown");
    assert.ok(names(await osJson(["user", "list"])).includes(name));
    assert.equal((await osJson(["user", "show", u.id])).name, name);
    await os(["user", "set", name, "--email", "b@example.org", "--description", "e2e", "--disable"]);
    const shown = await osJson(["user", "show", name]);
    assert.equal(shown.email, "b@example.org");
    assert.equal(shown.description, "e2e");
    assert.equal(shown.enabled, false);
    await os(["user", "delete", u.id]);
    assert.ok(!names(await osJson(["user", "list"])).includes(name));
    await osFails(["user", "show", u.id]);
  });

  test("group create, list, show, set, add user, delete", async () => {
    const name = `e2e-group-${uniq()}`;
    const user = `e2e-member-${uniq()}`;
    const g = await osJson(["group", "create", name, "--domain", "default", "--description", "made by e2e"]);
    assert.equal(g.name, name);
    assert.equal(g.description, "made by e2e");
    assert.ok(names(await osJson(["group", "list"])).includes(name));
    assert.equal((await osJson(["group", "show", g.id])).name, name);
    await os(["group", "set", name, "--description", "changed"]);
    assert.equal((await osJson(["group", "show", name])).description, "changed");
    await os(["user", "create", user, "--domain", "default", "--password", "secret-1"]);
    await os(["group", "add", "user", name, user]);
    assert.match(await os(["group", "contains", "user", name, user]), /in group/);
    assert.deepEqual(names(await osJson(["user", "list", "--group", name])), [user]);
    await os(["group", "remove", "user", name, user]);
    assert.deepEqual(names(await osJson(["user", "list", "--group", name])), []);
    await os(["group", "delete", g.id]);
    assert.ok(!names(await osJson(["group", "list"])).includes(name));
    await osFails(["group", "show", g.id]);
    await os(["user", "delete", user]);
  });

  test("role create, list, show, set, delete", async () => {
    const name = `e2e-role-${uniq()}`;
    const r = await osJson(["role", "create", name, "--description", "made by e2e"]);
    assert.equal(r.name, name);
    const listed = names(await osJson(["role", "list"]));
    for (const n of [name, "admin", "member", "reader"])
      assert.ok(listed.includes(n), `role list lacks ${n}`);
    assert.equal((await osJson(["role", "show", r.id])).name, name);
    await os(["role", "set", name, "--description", "changed", "--name", `${name}-renamed`]);
    const shown = await osJson(["role", "show", r.id]);
    assert.equal(shown.name, `${name}-renamed`);
    assert.equal(shown.description, "changed");
    await os(["role", "delete", r.id]);
    assert.ok(!names(await osJson(["role", "list"])).includes(`${name}-renamed`));
    await osFails(["role", "show", r.id]);
  });

  test("role add, role assignment list --names --effective, role remove", async () => {
    const id = uniq();
    const [project, user, group, role] = ["project", "user", "group", "role"].map((k) => `e2e-ra-${k}-${id}`);
    await os(["project", "create", project, "--domain", "default"]);
    await os(["user", "create", user, "--domain", "default", "--password", "secret-1"]);
    await os(["group", "create", group, "--domain", "default"]);
    await os(["role", "create", role]);
    await os(["role", "add", "--user", user, "--project", project, role]);
    await os(["group", "add", "user", group, user]);
    await os(["role", "add", "--group", group, "--project", project, "member"]);

    type Row = { Role: string; User: string; Group: string; Project: string };
    const effective = await osJson<Row[]>([
      "role",
      "assignment",
      "list",
      "--names",
      "--effective",
      "--user",
      user,
    ]);
    const seen = effective.map((r) => `${r.Role} ${r.User} ${r.Project}`).sort();
    // Direct role, the group's member role, and member's implied reader role, all as the user's own.
    assert.deepEqual(
      seen,
      [
        `${role} ${user}@Default ${project}@Default`,
        `member ${user}@Default ${project}@Default`,
        `reader ${user}@Default ${project}@Default`,
      ].sort(),
    );
    const all = await osJson<Row[]>(["role", "assignment", "list", "--names", "--effective"]);
    assert.ok(
      all.some((r) => r.Role === "admin" && r.User === "admin@Default" && r.Project === "admin@Default"),
      "admin's bootstrap assignment is missing",
    );
    const direct = await osJson<Row[]>(["role", "assignment", "list", "--names", "--project", project]);
    assert.ok(
      direct.some((r) => r.Role === "member" && r.Group === `${group}@Default`),
      "the group assignment is not listed without --effective",
    );

    await os(["role", "remove", "--user", user, "--project", project, role]);
    const after = await osJson<Row[]>([
      "role",
      "assignment",
      "list",
      "--names",
      "--effective",
      "--user",
      user,
      "--project",
      project,
    ]);
    assert.ok(!after.some((r) => r.Role === role), `${role} still assigned after role remove`);
    for (const [kind, name] of [
      ["role", role],
      ["group", group],
      ["user", user],
      ["project", project],
    ])
      await os([kind, "delete", name]);
  });

  test("application credential create, then token issue with it", async () => {
    const name = `e2e-appcred-${uniq()}`;
    const ac = await osJson(["application", "credential", "create", name, "--description", "e2e"]);
    assert.equal(ac.name, name);
    assert.match(ac.id, /^[0-9a-f]{32}$/);
    assert.ok(
      typeof ac.secret === "string" && ac.secret.length >= 16,
      "the secret is returned once, on create",
    );
    assert.ok(names(await osJson(["application", "credential", "list"])).includes(name));

    const args = [
      "--os-auth-type",
      "v3applicationcredential",
      "--os-auth-url",
      authUrl,
      "--os-application-credential-id",
      ac.id,
      // One argument: a generated secret may start with "-", which argparse would take for an option.
      `--os-application-credential-secret=${ac.secret}`,
      "token",
      "issue",
      "-f",
      "json",
    ];
    const r = await exec(OPENSTACK, args, pyEnv({}));
    assert.equal(r.code, 0, `token issue with the application credential exited ${r.code}:\n${r.stderr}`);
    const t = JSON.parse(r.stdout);
    const admin = await osJson(["token", "issue"]);
    assert.equal(t.user_id, admin.user_id, "the token is the credential owner's");
    assert.equal(t.project_id, admin.project_id, "the token is scoped to the credential's project");

    const bad = await exec(
      OPENSTACK,
      [...args.slice(0, 6), "--os-application-credential-secret=wrong-secret", ...args.slice(7)],
      pyEnv({}),
    );
    assert.notEqual(bad.code, 0, "a wrong secret must not authenticate");
    assert.match(bad.stderr, /401/);

    await os(["application", "credential", "delete", name]);
    const gone = await exec(OPENSTACK, args, pyEnv({}));
    assert.notEqual(gone.code, 0, "a deleted application credential must not authenticate");
  });

  test("catalog list", async () => {
    const catalog = await osJson<Array<{ Name: string; Type: string; Endpoints: unknown }>>([
      "catalog",
      "list",
    ]);
    const identity = catalog.find((c) => c.Type === "identity");
    assert.ok(identity, `no identity service in ${JSON.stringify(catalog)}`);
    assert.equal(identity.Name, "keystone");
    const base = authUrl.replace(/\/v3$/, "");
    assert.ok(
      JSON.stringify(identity.Endpoints).includes(base),
      `identity endpoints ${JSON.stringify(identity.Endpoints)} lack ${base}`,
    );
  });

  test("endpoint list", async () => {
    type Ep = { "Service Type": string; Interface: string; URL: string; Region: string; Enabled: boolean };
    const eps = await osJson<Ep[]>(["endpoint", "list"]);
    const identity = eps.filter((e) => e["Service Type"] === "identity");
    assert.deepEqual(identity.map((e) => e.Interface).sort(), ["admin", "internal", "public"]);
    for (const e of identity) {
      assert.equal(e.Region, "RegionOne");
      assert.equal(e.URL, authUrl.replace(/\/v3$/, ""));
    }
  });

  test("the demo user gets 403 on user list", async () => {
    assert.ok((await osJson(["token", "issue"], "stratus-demo")).id, "the demo user can get a token");
    const stderr = await osFails(["user", "list"], "stratus-demo");
    assert.match(stderr, /403/);
  });

  test("SIGTERM stops stratus cleanly (exit 0)", async () => {
    const { code, signal } = await terminateStratus(s);
    assert.equal(signal, null, `stratus died of ${signal}:\n${s.output()}`);
    assert.equal(code, 0, `stratus exited ${code}:\n${s.output()}`);
  });
});
