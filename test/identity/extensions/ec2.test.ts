// EC2 credentials (/v3/users/{user_id}/credentials/OS-EC2), stored as "ec2" v3 credentials.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "../api-extra/helpers.js";

let env: Env;
let demoProject: string;
before(async () => {
  env = await boot();
  demoProject = (await env.req("GET", "/v3/auth/projects", env.demo)).body.projects[0].id;
});
after(() => env.close());

describe("OS-EC2 credentials", () => {
  test("a user creates, lists, shows and deletes their own key pairs; they are v3 credentials too", async () => {
    const { req, demo, demoId } = env;
    const base = `/v3/users/${demoId}/credentials/OS-EC2`;
    const c = await req("POST", base, demo, { tenant_id: demoProject });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const cred = c.body.credential;
    assert.equal(cred.user_id, demoId);
    assert.equal(cred.tenant_id, demoProject);
    assert.match(cred.access, /^[0-9a-f]{32}$/);
    assert.match(cred.secret, /^[0-9a-f]{32}$/);
    assert.equal(cred.trust_id, null);
    assert.ok(cred.links.self.endsWith(`/identity${base}/${cred.access}`));

    const second = (await req("POST", base, demo, { tenant_id: demoProject })).body.credential;
    const list = await req("GET", base, demo);
    assert.equal(list.status, 200);
    const accesses = list.body.credentials.map((x: any) => x.access);
    assert.ok(accesses.includes(cred.access) && accesses.includes(second.access));
    assert.ok(list.body.links.self.endsWith(base));

    const shown = await req("GET", `${base}/${cred.access}`, demo);
    assert.equal(shown.status, 200);
    for (const k of ["access", "secret", "user_id", "tenant_id", "trust_id"])
      assert.equal(shown.body.credential[k], cred[k]);

    const id = createHash("sha256").update(cred.access).digest("hex");
    const v3 = await req("GET", `/v3/credentials/${id}`, demo);
    assert.equal(v3.status, 200);
    assert.equal(v3.body.credential.type, "ec2");
    assert.equal(v3.body.credential.project_id, demoProject);
    assert.deepEqual(JSON.parse(v3.body.credential.blob), {
      access: cred.access,
      secret: cred.secret,
      project_id: demoProject,
    });
    const typed = await req("GET", "/v3/credentials?type=ec2", demo);
    assert.ok(typed.body.credentials.some((x: any) => x.id === id));

    assert.equal((await req("DELETE", `${base}/${cred.access}`, demo)).status, 204);
    const gone = await req("GET", `${base}/${cred.access}`, demo);
    assert.equal(gone.status, 404);
    assert.ok(isKeystoneError(gone.body, 404));
    assert.equal((await req("GET", `/v3/credentials/${id}`, env.admin)).status, 404);
    assert.equal((await req("DELETE", `${base}/${cred.access}`, demo)).status, 404);
    assert.equal((await req("DELETE", `${base}/${second.access}`, demo)).status, 204);
  });

  test("policy: owners (members) or admins; other users are refused", async () => {
    const { req, admin, adminId, demo, demoId } = env;
    const mine = `/v3/users/${demoId}/credentials/OS-EC2`;
    const theirs = `/v3/users/${adminId}/credentials/OS-EC2`;
    assert.equal((await req("POST", theirs, demo, { tenant_id: demoProject })).status, 403);
    assert.equal((await req("GET", theirs, demo)).status, 403);
    const byAdmin = await req("POST", mine, admin, { tenant_id: demoProject });
    assert.equal(byAdmin.status, 201);
    assert.equal(byAdmin.body.credential.user_id, demoId);
    const adminOwn = (await req("POST", theirs, admin, { tenant_id: demoProject })).body.credential;
    // The access key of another user's credential is not reachable through one's own path or by the owner check.
    assert.equal((await req("GET", `${mine}/${adminOwn.access}`, demo)).status, 404);
    assert.equal((await req("GET", `${theirs}/${adminOwn.access}`, demo)).status, 403);
    assert.equal((await req("DELETE", `${theirs}/${adminOwn.access}`, demo)).status, 403);
    assert.equal((await req("GET", mine, admin)).status, 200);
    assert.equal((await req("GET", mine)).status, 401);
  });

  test("errors: unknown project or user is 404; a non-ec2 credential id is not an access key", async () => {
    const { req, admin, demo, demoId } = env;
    const base = `/v3/users/${demoId}/credentials/OS-EC2`;
    const noProject = await req("POST", base, demo, { tenant_id: "nope" });
    assert.equal(noProject.status, 404);
    assert.match(noProject.body.error.message, /project: nope/);
    assert.equal((await req("POST", base, demo, {})).status, 404);
    assert.equal((await req("GET", "/v3/users/nobody/credentials/OS-EC2", admin)).status, 404);
    assert.equal((await req("GET", `${base}/not-a-key`, demo)).status, 404);
  });
});
