// Regression tests of issue 8 items 4 and 5: a project reader cannot write to compute; the admin of some
// project is not a cloud admin; nobody grants a role they do not hold; the legacy switch restores the old rules.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bootCompute, type ComputeCloud } from "../compute/api/helpers.js";

const PW = "Passw0rd-secure";

/** Makes project `project` (created if needed) and a user with `role` on it; returns its id and a token. */
async function personaIn(c: ComputeCloud, user: string, project: string, role: string) {
  const t = c.t;
  const p = await t.projectId(project).catch(async () => (await t.createProject(project)).id as string);
  const u = (await t.createUser(user, PW)).id as string;
  const r = await t.req("PUT", `/v3/projects/${p}/users/${u}/roles/${await t.roleId(role)}`, {
    token: await t.adminToken(),
  });
  assert.equal(r.status, 204);
  return { projectId: p, userId: u, token: await t.token(user, PW, { project: { id: p } }) };
}

describe("secure RBAC defaults", () => {
  let c: ComputeCloud;
  before(async () => {
    c = await bootCompute();
  });
  after(() => c?.close());

  it("a project reader reads but cannot create, change, stop or lock servers, nor manage server groups", async () => {
    const member = await personaIn(c, "sd-member", "sd-p1", "member");
    const reader = await personaIn(c, "sd-reader", "sd-p1", "reader");
    const id = await c.createServer(member.token, { name: "sd-vm" });
    await c.waitStatus(member.token, id, "ACTIVE");
    const R = reader.token;
    assert.equal((await c.req("GET", `/v2.1/servers/${id}`, { token: R })).status, 200);
    assert.equal((await c.req("GET", "/v2.1/servers", { token: R })).status, 200);
    const refused = [
      await c.req("POST", "/v2.1/servers", {
        token: R,
        mv: "2.37",
        body: { server: { name: "x", imageRef: c.imageId, flavorRef: "42", networks: "none" } },
      }),
      await c.req("PUT", `/v2.1/servers/${id}`, { token: R, body: { server: { name: "y" } } }),
      await c.req("POST", `/v2.1/servers/${id}/action`, { token: R, body: { "os-stop": null } }),
      await c.req("POST", `/v2.1/servers/${id}/action`, { token: R, body: { lock: null } }),
      await c.req("POST", `/v2.1/servers/${id}/metadata`, { token: R, body: { metadata: { a: "b" } } }),
      await c.req("PUT", `/v2.1/servers/${id}/tags/t1`, { token: R, mv: "2.26" }),
      await c.req("DELETE", `/v2.1/servers/${id}`, { token: R }),
      await c.req("POST", "/v2.1/os-server-groups", {
        token: R,
        body: { server_group: { name: "g", policies: ["affinity"] } },
      }),
    ];
    assert.deepEqual(
      refused.map((r) => r.status),
      refused.map(() => 403),
    );
    const g = await c.req("POST", "/v2.1/os-server-groups", {
      token: member.token,
      body: { server_group: { name: "g", policies: ["affinity"] } },
    });
    assert.equal(g.status, 200);
    const gid = g.body.server_group.id;
    assert.equal((await c.req("GET", `/v2.1/os-server-groups/${gid}`, { token: R })).status, 200);
    assert.equal((await c.req("DELETE", `/v2.1/os-server-groups/${gid}`, { token: R })).status, 403);
    assert.equal(
      (await c.req("POST", `/v2.1/servers/${id}/action`, { token: member.token, body: { "os-stop": null } }))
        .status,
      202,
    );
  });

  it("the admin of one project is not a cloud admin; the bootstrap admin (admin project) is", async () => {
    const pa = await personaIn(c, "sd-padmin", "sd-p2", "admin");
    const demoServer = await c.createServer(c.demo, { name: "sd-demo" });
    await c.waitStatus(c.demo, demoServer, "ACTIVE");
    const all = await c.req("GET", "/v2.1/servers?all_tenants=1", { token: pa.token });
    assert.ok(!all.body.servers.some((s: { id: string }) => s.id === demoServer));
    assert.equal((await c.req("GET", `/v2.1/servers/${demoServer}`, { token: pa.token })).status, 404);
    assert.equal((await c.req("DELETE", `/v2.1/servers/${demoServer}`, { token: pa.token })).status, 404);
    const flavor = { flavor: { name: "sd-f", ram: 64, vcpus: 1, disk: 1 } };
    assert.equal((await c.req("POST", "/v2.1/flavors", { token: pa.token, body: flavor })).status, 403);
    const user = await c.t.req("POST", "/v3/users", {
      token: pa.token,
      body: { user: { name: "sd-x", domain_id: "default" } },
    });
    assert.equal(user.status, 403);
    const adminRole = await c.t.roleId("admin");
    const selfGrant = await c.t.req("PUT", `/v3/system/users/${pa.userId}/roles/${adminRole}`, {
      token: pa.token,
    });
    assert.equal(selfGrant.status, 403);

    // The credentials `stratus up` writes (admin user, admin project) and a system-scoped admin stay cloud admins.
    const asCloud = await c.req("GET", "/v2.1/servers?all_tenants=1", { token: c.admin });
    assert.ok(asCloud.body.servers.some((s: { id: string }) => s.id === demoServer));
    const made = await c.req("POST", "/v2.1/flavors", { token: c.admin, body: flavor });
    assert.equal(made.status, 200);
    const system = await c.t.token("admin", c.t.cloud.adminPassword, { system: { all: true } });
    assert.equal(
      (await c.req("DELETE", `/v2.1/flavors/${made.body.flavor.id}`, { token: system })).status,
      202,
    );
  });

  it("grants only roles the grantor holds at that scope: manager hands out member, not admin", async () => {
    const pm = await personaIn(c, "sd-pm", "sd-p3", "manager");
    const pa = await personaIn(c, "sd-pa3", "sd-p3", "admin");
    const other = await personaIn(c, "sd-o3", "sd-p4", "member");
    const target = (await c.t.createUser("sd-target", PW)).id as string;
    const role = async (n: string) => c.t.roleId(n);
    const put = (token: string, path: string) => c.t.req("PUT", path, { token });
    const onP3 = (r: string) => `/v3/projects/${pm.projectId}/users/${target}/roles/${r}`;
    assert.equal((await put(pm.token, onP3(await role("member")))).status, 204);
    assert.equal((await put(pm.token, onP3(await role("manager")))).status, 204);
    assert.equal((await put(pm.token, onP3(await role("admin")))).status, 403);
    assert.equal((await c.t.req("DELETE", onP3(await role("member")), { token: pm.token })).status, 204);
    assert.equal((await put(pa.token, onP3(await role("admin")))).status, 204);
    // Not on another project, not inherited to a domain, not on the system, not to itself.
    const onP4 = `/v3/projects/${other.projectId}/users/${target}/roles/${await role("member")}`;
    assert.equal((await put(pa.token, onP4)).status, 403);
    const sys = `/v3/system/users/${pa.userId}/roles/${await role("admin")}`;
    assert.equal((await put(pa.token, sys)).status, 403);
    const dom = `/v3/domains/default/users/${target}/roles/${await role("member")}`;
    assert.equal((await put(pa.token, dom)).status, 403);
    // A member (no manager role) cannot grant at all.
    assert.equal((await put(other.token, onP4)).status, 403);
  });
});

describe("legacy policy defaults (policy.defaults: legacy)", () => {
  let c: ComputeCloud;
  before(async () => {
    c = await bootCompute({ config: { policy: { defaults: "legacy" } } });
  });
  after(() => c?.close());

  it("restores upstream's old rules: any role in the project writes, admin anywhere is cloud admin", async () => {
    const reader = await personaIn(c, "lg-reader", "lg-p1", "reader");
    const g = await c.req("POST", "/v2.1/os-server-groups", {
      token: reader.token,
      body: { server_group: { name: "g", policies: ["affinity"] } },
    });
    assert.equal(g.status, 200);
    const pa = await personaIn(c, "lg-padmin", "lg-p2", "admin");
    const flavor = { flavor: { name: "lg-f", ram: 64, vcpus: 1, disk: 1 } };
    assert.equal((await c.req("POST", "/v2.1/flavors", { token: pa.token, body: flavor })).status, 200);
  });
});
