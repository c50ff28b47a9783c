// Keystone's s3tokens and ec2tokens: a signature made with an EC2 key pair's secret is exchanged for a token scoped
// to the key pair's project; wrong signatures and unknown keys are 401. Signatures here are computed with node's
// crypto from AWS's documented algorithms, apart from the server's code.
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { boot, type Env } from "../api-extra/helpers.js";

let env: Env;
let project: string;
let keys: { access: string; secret: string };
before(async () => {
  env = await boot();
  project = (await env.req("GET", "/v3/auth/projects", env.demo)).body.projects[0].id;
  const c = await env.req("POST", `/v3/users/${env.demoId}/credentials/OS-EC2`, env.demo, {
    tenant_id: project,
  });
  keys = { access: c.body.credential.access, secret: c.body.credential.secret };
});
after(() => env.close());

const hmac = (k: Buffer | string, s: string) => createHmac("sha256", k).update(s).digest();
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** SigV4 of a string to sign whose scope is date/region/s3/aws4_request. */
function v4(secret: string, date: string, sts: string): string {
  let k = hmac(`AWS4${secret}`, date);
  for (const p of ["us-east-1", "s3", "aws4_request"]) k = hmac(k, p);
  return createHmac("sha256", k).update(sts).digest("hex");
}

describe("s3tokens and ec2tokens", () => {
  const amzDate = "20260102T030405Z";
  const scope = "20260102/us-east-1/s3/aws4_request";
  const sts = ["AWS4-HMAC-SHA256", amzDate, scope, sha("canonical request")].join("\n");

  test("s3tokens: a V4 or V2 signature of the string to sign gives a token for the key pair's project", async () => {
    const r = await env.req("POST", "/v3/s3tokens", undefined, {
      credentials: {
        access: keys.access,
        token: Buffer.from(sts).toString("base64"),
        signature: v4(keys.secret, "20260102", sts),
      },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token.project.id, project);
    assert.equal(r.body.token.user.id, env.demoId);
    assert.deepEqual(r.body.token.methods, ["ec2credential"]);
    const token = r.headers["x-subject-token"] as string;
    assert.ok(token);
    // The token works like any other.
    assert.equal((await env.req("GET", "/v3/auth/projects", token)).status, 200);
    const v2sts = "GET\n\n\nThu, 01 Jan 2026 00:00:00 GMT\n/bucket/key";
    const v2 = await env.req("POST", "/v3/s3tokens", undefined, {
      credentials: {
        access: keys.access,
        token: Buffer.from(v2sts).toString("base64"),
        signature: createHmac("sha1", keys.secret).update(v2sts).digest("base64"),
      },
    });
    assert.equal(v2.status, 200);
  });

  test("s3tokens: a wrong signature, an unknown key or a malformed body are refused", async () => {
    const token = Buffer.from(sts).toString("base64");
    const bad = await env.req("POST", "/v3/s3tokens", undefined, {
      credentials: { access: keys.access, token, signature: v4("not-the-secret", "20260102", sts) },
    });
    assert.equal(bad.status, 401);
    assert.match(bad.body.error.message, /Invalid EC2 signature/);
    const unknown = await env.req("POST", "/v3/s3tokens", undefined, {
      credentials: { access: "nope", token, signature: "x" },
    });
    assert.equal(unknown.status, 401);
    assert.match(unknown.body.error.message, /access key not found/);
    assert.equal(
      (await env.req("POST", "/v3/s3tokens", undefined, { credentials: { access: 1 } })).status,
      400,
    );
    assert.equal((await env.req("POST", "/v3/s3tokens", undefined, {})).status, 400);
  });

  test("ec2tokens: identity rebuilds the SigV4 canonical request from the request's parts", async () => {
    const headers = { host: "example:8080", "x-amz-date": amzDate };
    const canonical = [
      "GET",
      "/bucket/key",
      "a=1&b=two%20words",
      "host:example:8080",
      `x-amz-date:${amzDate}`,
      "",
      "host;x-amz-date",
      "UNSIGNED-PAYLOAD",
    ].join("\n");
    const sig = v4(keys.secret, "20260102", ["AWS4-HMAC-SHA256", amzDate, scope, sha(canonical)].join("\n"));
    const authorization = `AWS4-HMAC-SHA256 Credential=${keys.access}/${scope}, SignedHeaders=host;x-amz-date, Signature=${sig}`;
    const creds = {
      access: keys.access,
      signature: sig,
      host: "example:8080",
      verb: "GET",
      path: "/bucket/key",
      params: { b: "two words", a: "1" },
      headers: { ...headers, Authorization: authorization },
      body_hash: "UNSIGNED-PAYLOAD",
    };
    const r = await env.req("POST", "/v3/ec2tokens", undefined, { credentials: creds });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token.project.id, project);
    const wrong = await env.req("POST", "/v3/ec2tokens", undefined, {
      credentials: { ...creds, path: "/bucket/other" },
    });
    assert.equal(wrong.status, 401);
    const old = await env.req("POST", "/v3/ec2tokens", undefined, { ec2Credentials: creds });
    assert.equal(old.status, 200, "the older ec2Credentials wrapper is taken too");
  });

  test("a key pair's token is reused while valid, and a revoked one is replaced", async () => {
    const body = {
      credentials: {
        access: keys.access,
        token: Buffer.from(sts).toString("base64"),
        signature: v4(keys.secret, "20260102", sts),
      },
    };
    const a = await env.req("POST", "/v3/s3tokens", undefined, body);
    const b = await env.req("POST", "/v3/s3tokens", undefined, body);
    assert.equal(a.headers["x-subject-token"], b.headers["x-subject-token"]);
    const old = a.headers["x-subject-token"] as string;
    const del = await env.cloud.app.inject({
      method: "DELETE",
      url: "/identity/v3/auth/tokens",
      headers: { "x-auth-token": old, "x-subject-token": old },
    });
    assert.equal(del.statusCode, 204);
    const c = await env.req("POST", "/v3/s3tokens", undefined, body);
    assert.equal(c.status, 200);
    assert.notEqual(c.headers["x-subject-token"], old);
    assert.equal(
      (await env.req("GET", "/v3/auth/projects", c.headers["x-subject-token"] as string)).status,
      200,
    );
  });

  test("a deleted key pair no longer authenticates", async () => {
    const c = await env.req("POST", `/v3/users/${env.demoId}/credentials/OS-EC2`, env.demo, {
      tenant_id: project,
    });
    const k = c.body.credential;
    assert.equal(
      (await env.req("DELETE", `/v3/users/${env.demoId}/credentials/OS-EC2/${k.access}`, env.demo)).status,
      204,
    );
    const r = await env.req("POST", "/v3/s3tokens", undefined, {
      credentials: {
        access: k.access,
        token: Buffer.from(sts).toString("base64"),
        signature: v4(k.secret, "20260102", sts),
      },
    });
    assert.equal(r.status, 401);
  });
});
