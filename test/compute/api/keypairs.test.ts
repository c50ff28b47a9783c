// Nova API key pairs: import with fingerprints, generation below 2.92, types, duplicates, pagination, admins.
import assert from "node:assert/strict";
import { X509Certificate, createHash, generateKeyPairSync } from "node:crypto";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "./helpers.js";

let c: ComputeCloud;
before(async () => {
  c = await bootCompute();
});
after(() => c.close());

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An ed25519 key in OpenSSH format and its MD5 fingerprint. */
function ed25519(): { key: string; fp: string } {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]);
  const fp = createHash("md5").update(blob).digest("hex").match(/../g)!.join(":");
  return { key: `ssh-ed25519 ${blob.toString("base64")} me@host`, fp };
}

test("import computes Nova's fingerprint; show, list, delete", async () => {
  const { key, fp } = ed25519();
  const r = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    mv: "2.2",
    body: { keypair: { name: "k1", public_key: key } },
  });
  assert.equal(r.status, 201);
  assert.equal(r.body.keypair.fingerprint, fp);
  assert.equal(r.body.keypair.type, "ssh");
  assert.equal(r.body.keypair.private_key, undefined);
  const dup = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    body: { keypair: { name: "k1", public_key: key } },
  });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.conflictingRequest.code, 409);
  const show = await c.req("GET", "/v2.1/os-keypairs/k1", { token: c.demo });
  assert.equal(show.body.keypair.fingerprint, fp);
  assert.equal(show.body.keypair.type, undefined);
  assert.equal(show.body.keypair.user_id, await c.t.userId("demo"));
  const list = await c.req("GET", "/v2.1/os-keypairs", { token: c.demo, mv: "2.2" });
  assert.deepEqual(
    list.body.keypairs.map((k: any) => [k.keypair.name, k.keypair.type]),
    [["k1", "ssh"]],
  );
  assert.equal((await c.req("GET", "/v2.1/os-keypairs", { token: c.admin })).body.keypairs.length, 0);
  assert.equal((await c.req("DELETE", "/v2.1/os-keypairs/k1", { token: c.demo, mv: "2.2" })).status, 204);
  const gone = await c.req("GET", "/v2.1/os-keypairs/k1", { token: c.demo });
  assert.equal(gone.status, 404);
  assert.equal(gone.body.itemNotFound.code, 404);
  assert.equal((await c.req("DELETE", "/v2.1/os-keypairs/k1", { token: c.demo })).status, 404);
});

test("bad public keys and bodies are 400", async () => {
  for (const keypair of [
    { name: "b1", public_key: "not a key" },
    { name: "b2", public_key: "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA==" },
    { name: "", public_key: ed25519().key },
    { name: "b3", public_key: ed25519().key, bogus: 1 },
  ]) {
    const r = await c.req("POST", "/v2.1/os-keypairs", { token: c.demo, body: { keypair } });
    assert.equal(r.status, 400, JSON.stringify(keypair));
    assert.equal(r.body.badRequest.code, 400);
  }
});

test("generation below 2.92 returns the private key once; 2.92 requires public_key", async () => {
  const r = await c.req("POST", "/v2.1/os-keypairs", { token: c.demo, body: { keypair: { name: "gen" } } });
  assert.equal(r.status, 200);
  assert.match(r.body.keypair.private_key, /BEGIN RSA PRIVATE KEY/);
  assert.match(r.body.keypair.public_key, /^ssh-rsa AAAA/);
  assert.match(r.body.keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  const shown = await c.req("GET", "/v2.1/os-keypairs/gen", { token: c.demo });
  assert.equal(shown.body.keypair.private_key, undefined);
  assert.equal(shown.body.keypair.fingerprint, r.body.keypair.fingerprint);
  const v292 = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    mv: "2.92",
    body: { keypair: { name: "gen2" } },
  });
  assert.equal(v292.status, 400);
  const badName = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    mv: "2.92",
    body: { keypair: { name: "bad/name", public_key: ed25519().key } },
  });
  assert.equal(badName.status, 400);
});

test("type x509 below 2.92 generates a self-signed certificate and a PKCS#12 private key (issue 8 item 17)", async () => {
  const r = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    mv: "2.2",
    body: { keypair: { name: "win", type: "x509" } },
  });
  assert.equal(r.status, 201);
  assert.equal(r.body.keypair.type, "x509");
  const cert = new X509Certificate(r.body.keypair.public_key);
  assert.equal(cert.subject, `CN=${await c.t.userId("demo")}`);
  assert.equal(r.body.keypair.fingerprint, cert.fingerprint.toLowerCase());
  assert.equal(Buffer.from(r.body.keypair.private_key, "base64")[0], 0x30);
  const shown = await c.req("GET", "/v2.1/os-keypairs/win", { token: c.demo, mv: "2.2" });
  assert.equal(shown.body.keypair.type, "x509");
  assert.equal(shown.body.keypair.public_key, r.body.keypair.public_key);
  assert.equal(shown.body.keypair.fingerprint, r.body.keypair.fingerprint);
  const v292 = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    mv: "2.92",
    body: { keypair: { name: "win2", type: "x509" } },
  });
  assert.equal(v292.status, 400);
  assert.equal((await c.req("DELETE", "/v2.1/os-keypairs/win", { token: c.demo, mv: "2.2" })).status, 204);
});

test("pagination from 2.35 and other users' key pairs for admins from 2.10", async () => {
  for (const n of ["p1", "p2", "p3"])
    await c.req("POST", "/v2.1/os-keypairs", {
      token: c.admin,
      body: { keypair: { name: n, public_key: ed25519().key } },
    });
  const p1 = await c.req("GET", "/v2.1/os-keypairs?limit=2", { token: c.admin, mv: "2.35" });
  assert.deepEqual(
    p1.body.keypairs.map((k: any) => k.keypair.name),
    ["p1", "p2"],
  );
  assert.match(p1.body.keypairs_links[0].href, /marker=p2/);
  const p2 = await c.req("GET", "/v2.1/os-keypairs?limit=2&marker=p2", { token: c.admin, mv: "2.35" });
  assert.deepEqual(
    p2.body.keypairs.map((k: any) => k.keypair.name),
    ["p3"],
  );
  assert.equal(
    (await c.req("GET", "/v2.1/os-keypairs?marker=zz", { token: c.admin, mv: "2.35" })).status,
    400,
  );
  assert.equal((await c.req("GET", "/v2.1/os-keypairs?limit=2", { token: c.admin })).body.keypairs.length, 3);
  const demoId = await c.t.userId("demo");
  const other = await c.req("GET", `/v2.1/os-keypairs?user_id=${demoId}`, { token: c.admin, mv: "2.10" });
  assert.deepEqual(
    other.body.keypairs.map((k: any) => k.keypair.name),
    ["gen"],
  );
  const adminId = await c.t.userId("admin");
  assert.equal(
    (await c.req("GET", `/v2.1/os-keypairs?user_id=${adminId}`, { token: c.demo, mv: "2.10" })).status,
    403,
  );
  const made = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.admin,
    mv: "2.10",
    body: { keypair: { name: "for-demo", public_key: ed25519().key, user_id: demoId } },
  });
  assert.equal(made.status, 201);
  assert.equal(made.body.keypair.user_id, demoId);
});

test("the key_pairs quota: the user's key pairs count against it, also when created at once", async () => {
  const project = await c.t.projectId("demo");
  const u = await c.t.createUser("kpq", "pw-kpq-123456");
  const member = await c.t.roleId("member");
  await c.t.req("PUT", `/v3/projects/${project}/users/${u.id}/roles/${member}`, { token: c.admin });
  const tok = await c.t.token("kpq", "pw-kpq-123456", "demo");
  const set = await c.req("PUT", `/v2.1/os-quota-sets/${project}`, {
    token: c.admin,
    body: { quota_set: { key_pairs: 3 } },
  });
  assert.equal(set.status, 200);
  try {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        c.req("POST", "/v2.1/os-keypairs", {
          token: tok,
          mv: "2.2",
          body: { keypair: { name: `q${i}`, public_key: ed25519().key } },
        }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 201, 201, 403, 403, 403]);
    const refused = results.find((r) => r.status === 403)!;
    assert.deepEqual(refused.body, {
      forbidden: { code: 403, message: "Quota exceeded, too many key pairs." },
    });
    const list = await c.req("GET", "/v2.1/os-keypairs", { token: tok });
    assert.equal(list.body.keypairs.length, 3);
  } finally {
    await c.req("DELETE", `/v2.1/os-quota-sets/${project}`, { token: c.admin });
  }
});
