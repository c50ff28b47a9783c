// Role grants (projects, domains, system; users and groups; OS-INHERIT) and GET /v3/role_assignments.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCloud, isKeystoneError, type TestCloud } from "../../helpers/cloud.js";

let c: TestCloud;
let admin: string;
let R: { admin: string; member: string; reader: string };
let n = 0;

before(async () => {
  c = await bootCloud();
  admin = await c.adminToken();
  R = { admin: await c.roleId("admin"), member: await c.roleId("member"), reader: await c.roleId("reader") };
});
after(() => c.close());

const put = (path: string) => c.req("PUT", path, { token: admin });
const head = (path: string) => c.req("HEAD", path, { token: admin });
const del = (path: string) => c.req("DELETE", path, { token: admin });
const ra = async (query: string) => {
  const r = await c.req("GET", `/v3/role_assignments${query ? `?${query}` : ""}`, { token: admin });
  assert.equal(r.status, 200, `${query}: ${r.text}`);
  return r.body.role_assignments as any[];
};
/** A compact, order-free picture of an assignment list. */
const summary = (list: any[]) =>
  list
    .map((a) => {
      const who = a.user ? `u:${a.user.id}` : `g:${a.group.id}`;
      const where = a.scope.project
        ? `p:${a.scope.project.id}`
        : a.scope.domain
          ? `d:${a.scope.domain.id}`
          : "system";
      return `${who} ${a.role.id} ${where}${a.scope["OS-INHERIT:inherited_to"] ? " inherited" : ""}`;
    })
    .sort();

async function fresh(prefix: string) {
  n++;
  const user = await c.createUser(`${prefix}-u${n}`, `${prefix}-secret-${n}`);
  const project = await c.createProject(`${prefix}-p${n}`);
  const group = (
    await c.req("POST", "/v3/groups", { token: admin, body: { group: { name: `${prefix}-g${n}` } } })
  ).body.group;
  return { user, project, group, password: `${prefix}-secret-${n}` };
}

describe("grants", () => {
  test("user on project: PUT, HEAD, GET, list, DELETE, and 404 once gone", async () => {
    const { user, project } = await fresh("gp");
    const base = `/v3/projects/${project.id}/users/${user.id}/roles`;
    assert.equal((await head(`${base}/${R.member}`)).status, 404);
    const p = await put(`${base}/${R.member}`);
    assert.equal(p.status, 204);
    assert.equal(p.text, "");
    assert.equal((await put(`${base}/${R.member}`)).status, 204, "granting twice is idempotent");
    assert.equal((await head(`${base}/${R.member}`)).status, 204);
    assert.equal((await c.req("GET", `${base}/${R.member}`, { token: admin })).status, 204);
    const list = await c.req("GET", base, { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.roles.map((r: { id: string }) => r.id),
      [R.member],
    );
    assert.equal(list.body.roles[0].name, "member");
    assert.equal(typeof list.body.links.self, "string");
    assert.equal((await del(`${base}/${R.member}`)).status, 204);
    const again = await del(`${base}/${R.member}`);
    assert.equal(again.status, 404);
    assert.ok(isKeystoneError(again.body, 404));
    assert.deepEqual((await c.req("GET", base, { token: admin })).body.roles, []);
  });

  test("missing role, user, group, project or domain is 404", async () => {
    const { user, project, group } = await fresh("gm");
    const ghost = "0123456789abcdef0123456789abcdef";
    for (const path of [
      `/v3/projects/${project.id}/users/${user.id}/roles/${ghost}`,
      `/v3/projects/${project.id}/users/${ghost}/roles/${R.member}`,
      `/v3/projects/${ghost}/users/${user.id}/roles/${R.member}`,
      `/v3/projects/${project.id}/groups/${ghost}/roles/${R.member}`,
      `/v3/domains/${ghost}/users/${user.id}/roles/${R.member}`,
      `/v3/domains/default/groups/${group.id}/roles/${ghost}`,
      `/v3/system/users/${ghost}/roles/${R.reader}`,
      `/v3/system/users/${user.id}/roles/${ghost}`,
      `/v3/OS-INHERIT/domains/${ghost}/users/${user.id}/roles/${R.member}/inherited_to_projects`,
    ]) {
      for (const method of ["PUT", "HEAD", "DELETE"]) {
        const r = await c.req(method, path, { token: admin });
        assert.equal(r.status, 404, `${method} ${path}`);
      }
    }
    assert.equal(
      (await c.req("GET", `/v3/projects/${ghost}/users/${user.id}/roles`, { token: admin })).status,
      404,
    );
    // A domain is not a project and a project is not a domain.
    assert.equal((await put(`/v3/projects/default/users/${user.id}/roles/${R.member}`)).status, 404);
    assert.equal((await put(`/v3/domains/${project.id}/users/${user.id}/roles/${R.member}`)).status, 404);
  });

  test("group on project: members get the role in their tokens", async () => {
    const { user, project, group, password } = await fresh("gg");
    await put(`/v3/groups/${group.id}/users/${user.id}`);
    assert.equal((await put(`/v3/projects/${project.id}/groups/${group.id}/roles/${R.member}`)).status, 204);
    assert.equal((await head(`/v3/projects/${project.id}/groups/${group.id}/roles/${R.member}`)).status, 204);
    const list = await c.req("GET", `/v3/projects/${project.id}/groups/${group.id}/roles`, { token: admin });
    assert.deepEqual(
      list.body.roles.map((r: { id: string }) => r.id),
      [R.member],
    );
    const r = await c.auth(user.name, password, project.name);
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.token.roles.map((x: { name: string }) => x.name).sort(), ["member", "reader"]);
  });

  test("user and group on domain: domain-scoped tokens", async () => {
    const { user, group, password } = await fresh("gd");
    assert.equal((await put(`/v3/domains/default/users/${user.id}/roles/${R.reader}`)).status, 204);
    assert.equal((await head(`/v3/domains/default/users/${user.id}/roles/${R.reader}`)).status, 204);
    const r = await c.auth(user.name, password, { domain: { id: "default" } });
    assert.equal(r.status, 201);
    assert.deepEqual(
      r.body.token.roles.map((x: { name: string }) => x.name),
      ["reader"],
    );
    assert.equal((await put(`/v3/domains/default/groups/${group.id}/roles/${R.member}`)).status, 204);
    await put(`/v3/groups/${group.id}/users/${user.id}`);
    const r2 = await c.auth(user.name, password, { domain: { id: "default" } });
    assert.deepEqual(r2.body.token.roles.map((x: { name: string }) => x.name).sort(), ["member", "reader"]);
    // A domain grant is not a grant on the domain's projects.
    const demo = await c.auth(user.name, password, "demo");
    assert.equal(demo.status, 401);
  });

  test("system grants for users and groups", async () => {
    const { user, group, password } = await fresh("gs");
    assert.equal((await c.auth(user.name, password, { system: { all: true } })).status, 401);
    assert.equal((await put(`/v3/system/users/${user.id}/roles/${R.reader}`)).status, 204);
    assert.equal((await head(`/v3/system/users/${user.id}/roles/${R.reader}`)).status, 204);
    const list = await c.req("GET", `/v3/system/users/${user.id}/roles`, { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.roles.map((r: { id: string }) => r.id),
      [R.reader],
    );
    const r = await c.auth(user.name, password, { system: { all: true } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.token.system, { all: true });
    assert.equal((await put(`/v3/system/groups/${group.id}/roles/${R.member}`)).status, 204);
    assert.equal((await head(`/v3/system/groups/${group.id}/roles/${R.member}`)).status, 204);
    await put(`/v3/groups/${group.id}/users/${user.id}`);
    const r2 = await c.auth(user.name, password, { system: { all: true } });
    assert.deepEqual(r2.body.token.roles.map((x: { name: string }) => x.name).sort(), ["member", "reader"]);
    assert.equal((await del(`/v3/system/users/${user.id}/roles/${R.reader}`)).status, 204);
    assert.equal((await del(`/v3/system/users/${user.id}/roles/${R.reader}`)).status, 404);
    assert.equal((await del(`/v3/system/groups/${group.id}/roles/${R.member}`)).status, 204);
    assert.equal((await c.auth(user.name, password, { system: { all: true } })).status, 401);
  });

  test("OS-INHERIT on a domain: every project of the domain, not the domain itself", async () => {
    const d = (
      await c.req("POST", "/v3/domains", { token: admin, body: { domain: { name: "inherit-dom" } } })
    ).body.domain;
    const before = (
      await c.req("POST", "/v3/projects", {
        token: admin,
        body: { project: { name: "before", domain_id: d.id } },
      })
    ).body.project;
    const u = (
      await c.req("POST", "/v3/users", {
        token: admin,
        body: { user: { name: "heir", domain_id: d.id, password: "heir-secret" } },
      })
    ).body.user;
    const path = `/v3/OS-INHERIT/domains/${d.id}/users/${u.id}/roles/${R.member}/inherited_to_projects`;
    assert.equal((await put(path)).status, 204);
    assert.equal((await head(path)).status, 204);
    const list = await c.req(
      "GET",
      `/v3/OS-INHERIT/domains/${d.id}/users/${u.id}/roles/inherited_to_projects`,
      { token: admin },
    );
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.roles.map((r: { id: string }) => r.id),
      [R.member],
    );
    // Not a direct domain grant.
    assert.equal((await head(`/v3/domains/${d.id}/users/${u.id}/roles/${R.member}`)).status, 404);
    const after = (
      await c.req("POST", "/v3/projects", {
        token: admin,
        body: { project: { name: "after", domain_id: d.id } },
      })
    ).body.project;
    const heir = { name: "heir", domain: { id: d.id } };
    for (const p of [before, after]) {
      const r = await c.auth(heir, "heir-secret", { project: { id: p.id } });
      assert.equal(r.status, 201, p.name);
      assert.ok(r.body.token.roles.some((x: { name: string }) => x.name === "member"));
    }
    assert.equal((await c.auth(heir, "heir-secret", { domain: { id: d.id } })).status, 401);
    const eff = await ra(`effective&user.id=${u.id}`);
    assert.ok(
      eff.some(
        (a) =>
          a.scope.project?.id === before.id && a.role.id === R.member && a.links.assignment.endsWith(path),
      ),
    );
    assert.equal((await del(path)).status, 204);
    assert.equal((await c.auth(heir, "heir-secret", { project: { id: before.id } })).status, 401);
  });

  test("OS-INHERIT on a project: its subprojects, not the project itself", async () => {
    const { user, project, password } = await fresh("ip");
    const child = await c.createProject(`ip-child-${n}`, { parent_id: project.id });
    const grandchild = await c.createProject(`ip-grandchild-${n}`, { parent_id: child.id });
    const path = `/v3/OS-INHERIT/projects/${project.id}/users/${user.id}/roles/${R.reader}/inherited_to_projects`;
    assert.equal((await put(path)).status, 204);
    assert.equal((await head(path)).status, 204);
    assert.equal((await c.auth(user.name, password, project.name)).status, 401);
    assert.equal((await c.auth(user.name, password, child.name)).status, 201);
    assert.equal((await c.auth(user.name, password, grandchild.name)).status, 201);
  });

  test("group grants inherited on a domain reach members on every project", async () => {
    const { user, group, password } = await fresh("ig");
    await put(`/v3/groups/${group.id}/users/${user.id}`);
    assert.equal(
      (await put(`/v3/OS-INHERIT/domains/default/groups/${group.id}/roles/${R.reader}/inherited_to_projects`))
        .status,
      204,
    );
    assert.equal((await c.auth(user.name, password, "demo")).status, 201);
    assert.equal(
      (await del(`/v3/OS-INHERIT/domains/default/groups/${group.id}/roles/${R.reader}/inherited_to_projects`))
        .status,
      204,
    );
    assert.equal((await c.auth(user.name, password, "demo")).status, 401);
  });
});

describe("/v3/role_assignments", () => {
  let f: Awaited<ReturnType<typeof fresh>>;
  let child: any;
  before(async () => {
    f = await fresh("ra");
    child = await c.createProject(`ra-child-${n}`, { parent_id: f.project.id });
    await put(`/v3/projects/${f.project.id}/users/${f.user.id}/roles/${R.admin}`);
    await put(`/v3/projects/${child.id}/groups/${f.group.id}/roles/${R.member}`);
    await put(`/v3/groups/${f.group.id}/users/${f.user.id}`);
    await put(`/v3/domains/default/users/${f.user.id}/roles/${R.reader}`);
    await put(`/v3/system/users/${f.user.id}/roles/${R.reader}`);
    await put(
      `/v3/OS-INHERIT/projects/${f.project.id}/groups/${f.group.id}/roles/${R.reader}/inherited_to_projects`,
    );
  });

  test("the unfiltered list includes bootstrap's grants with Keystone's entry shape", async () => {
    const all = await ra("");
    const adminUser = await c.userId("admin");
    const adminProject = await c.projectId("admin");
    const entry = all.find((a) => a.user?.id === adminUser && a.scope.project?.id === adminProject);
    assert.deepEqual(entry, {
      role: { id: R.admin },
      scope: { project: { id: adminProject } },
      user: { id: adminUser },
      links: {
        assignment: `http://localhost:80/identity/v3/projects/${adminProject}/users/${adminUser}/roles/${R.admin}`,
      },
    });
    const sys = all.find((a) => a.user?.id === adminUser && a.scope.system);
    assert.deepEqual(sys.scope, { system: { all: true } });
    assert.equal(
      sys.links.assignment,
      `http://localhost:80/identity/v3/system/users/${adminUser}/roles/${R.admin}`,
    );
  });

  test("user.id lists the user's direct grants only", async () => {
    assert.deepEqual(
      summary(await ra(`user.id=${f.user.id}`)),
      [
        `u:${f.user.id} ${R.admin} p:${f.project.id}`,
        `u:${f.user.id} ${R.reader} d:default`,
        `u:${f.user.id} ${R.reader} system`,
      ].sort(),
    );
  });

  test("group.id lists the group's grants, with the inherited flag", async () => {
    const list = await ra(`group.id=${f.group.id}`);
    assert.deepEqual(
      summary(list),
      [
        `g:${f.group.id} ${R.member} p:${child.id}`,
        `g:${f.group.id} ${R.reader} p:${f.project.id} inherited`,
      ].sort(),
    );
    const inh = list.find((a) => a.scope["OS-INHERIT:inherited_to"]);
    assert.equal(
      inh.links.assignment,
      `http://localhost:80/identity/v3/OS-INHERIT/projects/${f.project.id}/groups/${f.group.id}/roles/${R.reader}/inherited_to_projects`,
    );
  });

  test("role.id, scope.project.id, scope.domain.id, scope.system and inherited_to filters", async () => {
    const byRole = await ra(`role.id=${R.admin}&user.id=${f.user.id}`);
    assert.deepEqual(summary(byRole), [`u:${f.user.id} ${R.admin} p:${f.project.id}`]);
    const onProject = await ra(`scope.project.id=${f.project.id}`);
    assert.deepEqual(
      summary(onProject),
      [
        `u:${f.user.id} ${R.admin} p:${f.project.id}`,
        `g:${f.group.id} ${R.reader} p:${f.project.id} inherited`,
      ].sort(),
    );
    const onDomain = await ra(`scope.domain.id=default&user.id=${f.user.id}`);
    assert.deepEqual(summary(onDomain), [`u:${f.user.id} ${R.reader} d:default`]);
    const onSystem = await ra(`scope.system=all&user.id=${f.user.id}`);
    assert.deepEqual(summary(onSystem), [`u:${f.user.id} ${R.reader} system`]);
    const inherited = await ra(`scope.OS-INHERIT:inherited_to=projects&group.id=${f.group.id}`);
    assert.deepEqual(summary(inherited), [`g:${f.group.id} ${R.reader} p:${f.project.id} inherited`]);
    assert.deepEqual(await ra(`user.id=0123456789abcdef0123456789abcdef`), []);
  });

  test("effective: groups expanded to members, inheritance applied, implied roles added", async () => {
    const eff = await ra(`effective&user.id=${f.user.id}`);
    const s = summary(eff);
    // Direct admin on the project, with member and reader implied.
    for (const r of [R.admin, R.member, R.reader])
      assert.ok(s.includes(`u:${f.user.id} ${r} p:${f.project.id}`), r);
    // member on the child through the group; reader on the child through the group's inherited grant.
    assert.ok(s.includes(`u:${f.user.id} ${R.member} p:${child.id}`));
    assert.ok(s.includes(`u:${f.user.id} ${R.reader} p:${child.id}`));
    assert.ok(s.includes(`u:${f.user.id} ${R.reader} d:default`));
    assert.ok(s.includes(`u:${f.user.id} ${R.reader} system`));
    assert.ok(
      eff.every((a) => a.user && !a.group),
      "no group entries in effective mode",
    );
    assert.ok(
      eff.every((a) => !a.scope["OS-INHERIT:inherited_to"]),
      "no inherited entries in effective mode",
    );
    const viaGroup = eff.find((a) => a.scope.project?.id === child.id && a.role.id === R.member);
    assert.equal(
      viaGroup.links.membership,
      `http://localhost:80/identity/v3/groups/${f.group.id}/users/${f.user.id}`,
    );
    assert.equal(
      viaGroup.links.assignment,
      `http://localhost:80/identity/v3/projects/${child.id}/groups/${f.group.id}/roles/${R.member}`,
    );
    const implied = eff.find((a) => a.scope.project?.id === f.project.id && a.role.id === R.member);
    assert.equal(implied.links.prior_role, `http://localhost:80/identity/v3/roles/${R.admin}`);
    // Effective on one project.
    const onChild = await ra(`effective&scope.project.id=${child.id}&user.id=${f.user.id}`);
    assert.deepEqual([...new Set(onChild.map((a) => a.role.id))].sort(), [R.member, R.reader].sort());
  });

  test("contradictory filters are 400, as in Keystone", async () => {
    for (const q of [
      `effective&group.id=${f.group.id}`,
      `scope.project.id=${f.project.id}&scope.domain.id=default`,
      `scope.system=all&scope.domain.id=default`,
      `scope.system=all&scope.project.id=${f.project.id}`,
      `user.id=${f.user.id}&group.id=${f.group.id}`,
      "effective&scope.domain.id=default&scope.OS-INHERIT:inherited_to=projects",
      "include_subtree",
    ]) {
      const r = await c.req("GET", `/v3/role_assignments?${q}`, { token: admin });
      assert.equal(r.status, 400, q);
      assert.ok(isKeystoneError(r.body, 400));
    }
  });

  test("include_names adds names to roles, users, groups, projects and domains", async () => {
    const list = await ra(`include_names&user.id=${f.user.id}`);
    const onProject = list.find((a) => a.scope.project);
    assert.deepEqual(onProject.role, { id: R.admin, name: "admin" });
    assert.deepEqual(onProject.user, {
      id: f.user.id,
      name: f.user.name,
      domain: { id: "default", name: "Default" },
    });
    assert.deepEqual(onProject.scope.project, {
      id: f.project.id,
      name: f.project.name,
      domain: { id: "default", name: "Default" },
    });
    const onDomain = list.find((a) => a.scope.domain);
    assert.deepEqual(onDomain.scope.domain, { id: "default", name: "Default" });
    const g = (await ra(`include_names&group.id=${f.group.id}`))[0];
    assert.deepEqual(g.group, {
      id: f.group.id,
      name: f.group.name,
      domain: { id: "default", name: "Default" },
    });
    // Without include_names there are ids only.
    assert.deepEqual(Object.keys((await ra(`user.id=${f.user.id}`))[0].role), ["id"]);
  });

  test("include_subtree lists the project's and its subtree's grants", async () => {
    const list = await ra(`scope.project.id=${f.project.id}&include_subtree`);
    assert.deepEqual(
      summary(list),
      [
        `u:${f.user.id} ${R.admin} p:${f.project.id}`,
        `g:${f.group.id} ${R.reader} p:${f.project.id} inherited`,
        `g:${f.group.id} ${R.member} p:${child.id}`,
      ].sort(),
    );
    const eff = await ra(`scope.project.id=${f.project.id}&include_subtree&effective`);
    const s = summary(eff);
    assert.ok(s.includes(`u:${f.user.id} ${R.member} p:${child.id}`));
    assert.ok(s.includes(`u:${f.user.id} ${R.admin} p:${f.project.id}`));
    assert.ok(eff.every((a) => a.scope.project && [f.project.id, child.id].includes(a.scope.project.id)));
  });

  test("members may not list role assignments", async () => {
    const demo = await c.demoToken();
    assert.equal((await c.req("GET", "/v3/role_assignments", { token: demo })).status, 403);
    const demoUser = await c.userId("demo");
    assert.equal(
      (await c.req("GET", `/v3/role_assignments?user.id=${demoUser}`, { token: demo })).status,
      403,
    );
  });

  test("members may not grant roles, not even to themselves", async () => {
    const demo = await c.demoToken();
    const demoUser = await c.userId("demo");
    const demoProject = await c.projectId("demo");
    const r = await c.req("PUT", `/v3/projects/${demoProject}/users/${demoUser}/roles/${R.admin}`, {
      token: demo,
    });
    assert.equal(r.status, 403);
    assert.equal(
      (await c.req("PUT", `/v3/system/users/${demoUser}/roles/${R.admin}`, { token: demo })).status,
      403,
    );
    assert.equal(
      (await c.req("PUT", `/v3/domains/default/users/${demoUser}/roles/${R.admin}`, { token: demo })).status,
      403,
    );
  });
});
