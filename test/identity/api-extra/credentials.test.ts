// Credentials (/v3/credentials): EC2 ids, owner-based policy, filtering, blob encryption at rest.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "./helpers.js";

let env: Env;
let demoProject: string;
before(async () => {
  env = await boot();
  demoProject = (await env.req("GET", "/v3/auth/projects", env.demo)).body.projects[0].id;
});
after(() => env.close());

const ec2 = (access: string, secret = "s3cr3t") => JSON.stringify({ access, secret });

describe("credentials", () => {
  test("an EC2 credential's id is the sha256 of its access key; CRUD round trip", async () => {
    const { req, admin, demoId } = env;
    const c = await req("POST", "/v3/credentials", admin, {
      credential: {
        type: "ec2",
        user_id: demoId,
        project_id: demoProject,
        blob: ec2("AKIA-one"),
        label: "x",
      },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const cred = c.body.credential;
    assert.equal(cred.id, createHash("sha256").update("AKIA-one").digest("hex"));
    assert.equal(cred.type, "ec2");
    assert.equal(cred.user_id, demoId);
    assert.equal(cred.project_id, demoProject);
    assert.equal(typeof cred.blob, "string");
    assert.deepEqual(JSON.parse(cred.blob), { access: "AKIA-one", secret: "s3cr3t" });
    assert.equal(cred.label, "x");
    assert.ok(cred.links.self.endsWith(`/identity/v3/credentials/${cred.id}`));

    const got = await req("GET", `/v3/credentials/${cred.id}`, admin);
    assert.equal(got.status, 200);
    assert.equal(got.body.credential.blob, cred.blob);

    const upd = await req("PATCH", `/v3/credentials/${cred.id}`, admin, {
      credential: { blob: ec2("AKIA-one", "rotated") },
    });
    assert.equal(upd.status, 200);
    assert.equal(JSON.parse(upd.body.credential.blob).secret, "rotated");
    assert.equal(upd.body.credential.id, cred.id);

    assert.equal((await req("DELETE", `/v3/credentials/${cred.id}`, admin)).status, 204);
    assert.equal((await req("GET", `/v3/credentials/${cred.id}`, admin)).status, 404);
    assert.equal((await req("DELETE", `/v3/credentials/${cred.id}`, admin)).status, 404);
  });

  test("other types get generated ids; blobs are not stored in clear text", async () => {
    const { req, admin, adminId } = env;
    const c = await req("POST", "/v3/credentials", admin, {
      credential: { type: "totp", user_id: adminId, blob: "JBSWY3DPEHPK3PXP" },
    });
    assert.equal(c.status, 201);
    assert.match(c.body.credential.id, /^[0-9a-f]{32}$/);
    assert.equal(c.body.credential.project_id, null);
    const row = await env.cloud.identity.core.db
      .selectFrom("identity_credential")
      .select("blob")
      .where("id", "=", c.body.credential.id)
      .executeTakeFirstOrThrow();
    assert.ok(!row.blob.includes("JBSWY3DPEHPK3PXP"), "blob encrypted at rest");
    assert.equal(
      (await req("GET", `/v3/credentials/${c.body.credential.id}`, admin)).body.credential.blob,
      "JBSWY3DPEHPK3PXP",
    );
  });

  test("list filters by user_id and type; non-admins only see their own", async () => {
    const { req, admin, adminId, demo, demoId } = env;
    await req("POST", "/v3/credentials", admin, {
      credential: { type: "ec2", user_id: adminId, project_id: null, blob: ec2("AKIA-admin") },
    });
    const own = await req("POST", "/v3/credentials", demo, {
      credential: { type: "ec2", user_id: demoId, project_id: demoProject, blob: ec2("AKIA-demo") },
    });
    assert.equal(own.status, 201, "users manage their own credentials");
    const all = await req("GET", "/v3/credentials", admin);
    assert.equal(all.status, 200);
    assert.ok(all.body.credentials.some((c: any) => c.user_id === adminId));
    assert.ok(all.body.credentials.some((c: any) => c.user_id === demoId));
    const adminsOnly = await req("GET", `/v3/credentials?user_id=${adminId}`, admin);
    assert.ok(
      adminsOnly.body.credentials.length > 0 &&
        adminsOnly.body.credentials.every((c: any) => c.user_id === adminId),
    );
    const totp = await req("GET", "/v3/credentials?type=totp", admin);
    assert.ok(totp.body.credentials.every((c: any) => c.type === "totp"));
    const mine = await req("GET", "/v3/credentials", demo);
    assert.equal(mine.status, 200);
    assert.ok(
      mine.body.credentials.length > 0 && mine.body.credentials.every((c: any) => c.user_id === demoId),
    );
    assert.equal((await req("GET", `/v3/credentials?user_id=${adminId}`, demo)).body.credentials.length, 0);
  });

  test("policy: a user cannot read, change, take over or create others' credentials", async () => {
    const { req, admin, adminId, demo, demoId } = env;
    const adminCred = (
      await req("POST", "/v3/credentials", admin, {
        credential: { type: "ec2", user_id: adminId, blob: ec2("AKIA-private") },
      })
    ).body.credential;
    assert.equal((await req("GET", `/v3/credentials/${adminCred.id}`, demo)).status, 403);
    assert.equal(
      (
        await req("PATCH", `/v3/credentials/${adminCred.id}`, demo, {
          credential: { blob: ec2("AKIA-private", "x") },
        })
      ).status,
      403,
    );
    assert.equal((await req("DELETE", `/v3/credentials/${adminCred.id}`, demo)).status, 403);
    const forOther = await req("POST", "/v3/credentials", demo, {
      credential: { type: "ec2", user_id: adminId, blob: ec2("AKIA-sneaky") },
    });
    assert.equal(forOther.status, 403);
    assert.ok(isKeystoneError(forOther.body, 403));
    const demoCred = (
      await req("POST", "/v3/credentials", demo, {
        credential: { type: "ec2", user_id: demoId, blob: ec2("AKIA-mine") },
      })
    ).body.credential;
    const takeover = await req("PATCH", `/v3/credentials/${demoCred.id}`, demo, {
      credential: { user_id: adminId },
    });
    assert.equal(takeover.status, 403, "cannot hand a credential to someone else");
    assert.equal(
      (await req("GET", `/v3/credentials/${"a".repeat(64)}`, demo)).status,
      403,
      "non-admins learn nothing about unknown ids",
    );
    assert.equal((await req("GET", "/v3/credentials")).status, 401);
  });

  test("validation: 400 for bad bodies and EC2 blobs, 409 for a duplicate access key, no changing scope keys", async () => {
    const { req, admin, adminId } = env;
    const post = (credential: unknown) => req("POST", "/v3/credentials", admin, { credential });
    assert.equal((await post({ type: "ec2", blob: ec2("a") })).status, 400, "user_id required");
    assert.equal((await post({ user_id: adminId, blob: "x" })).status, 400, "type required");
    assert.equal(
      (await post({ type: "ec2", user_id: adminId, blob: { access: "a" } })).status,
      400,
      "blob is a string",
    );
    const notJson = await post({ type: "ec2", user_id: adminId, blob: "not json" });
    assert.equal(notJson.status, 400);
    assert.ok(isKeystoneError(notJson.body, 400));
    assert.equal(
      (await post({ type: "ec2", user_id: adminId, blob: JSON.stringify({ secret: "x" }) })).status,
      400,
      "access required",
    );
    assert.equal((await post({ type: "ec2", user_id: adminId, blob: "[]" })).status, 400);
    assert.equal((await post({ type: "ec2", user_id: adminId, blob: ec2("AKIA-dup") })).status, 201);
    const dup = await post({ type: "ec2", user_id: adminId, blob: ec2("AKIA-dup") });
    assert.equal(dup.status, 409);
    assert.ok(isKeystoneError(dup.body, 409));

    const scoped = (
      await post({
        type: "ec2",
        user_id: adminId,
        blob: JSON.stringify({ access: "AKIA-scoped", secret: "s", trust_id: "t1" }),
      })
    ).body.credential;
    const change = await req("PATCH", `/v3/credentials/${scoped.id}`, admin, {
      credential: { blob: JSON.stringify({ access: "AKIA-scoped", secret: "s" }) },
    });
    assert.equal(change.status, 400);
    assert.equal(
      (await req("PATCH", `/v3/credentials/${scoped.id}`, admin, { credential: { id: "other" } })).status,
      400,
    );
    assert.equal(
      (await req("PATCH", "/v3/credentials/nope", admin, { credential: { type: "x" } })).status,
      404,
    );
  });
});
