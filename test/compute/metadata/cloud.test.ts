// The metadata service as the cloud runs it: started by startCloud on its own loopback listener, serving what the
// servers API stored (name, key pair, user data, metadata), and the password it takes reaching os-server-password.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { identityHeaders } from "../../../src/compute/metadata/signing.js";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

let c: ComputeCloud;
before(async () => {
  c = await bootCompute();
});
after(async () => {
  await c?.close();
});

test("a server created through the API is served by the cloud's metadata service", async () => {
  const kp = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    mv: "2.92",
    body: {
      keypair: {
        name: "k1",
        public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlQGx1PH4BVV4DWEQBD5YEvZzgrj1A0tH0e1s6xCc4I k1",
      },
    },
  });
  assert.equal(kp.status, 201, kp.text);
  const userData = Buffer.from("#!/bin/sh\necho from-user-data\n").toString("base64");
  const id = await c.createServer(c.demo, {
    name: "web-1",
    key_name: "k1",
    user_data: userData,
    metadata: { role: "web" },
  });
  const server = await c.waitStatus(c.demo, id, "ACTIVE");
  const md = c.t.cloud.metadata;
  assert.match(md.url, /^http:\/\/127\.0\.0\.1:\d+$/, "its own loopback listener");
  const headers = identityHeaders(md.secret, { instanceId: id, projectId: server.tenant_id });
  const r = await fetch(`${md.url}/openstack/latest/meta_data.json`, { headers });
  assert.equal(r.status, 200);
  const doc = (await r.json()) as Record<string, any>;
  assert.equal(doc.uuid, id);
  assert.equal(doc.name, "web-1");
  assert.equal(doc.hostname, "web-1.novalocal");
  assert.equal(doc.project_id, server.tenant_id);
  assert.deepEqual(doc.meta, { role: "web" });
  assert.deepEqual(
    doc.keys.map((k: any) => [k.name, k.type]),
    [["k1", "ssh"]],
  );
  const ud = await fetch(`${md.url}/latest/user-data`, { headers });
  assert.equal(await ud.text(), "#!/bin/sh\necho from-user-data\n");
  const post = await fetch(`${md.url}/openstack/latest/password`, {
    method: "POST",
    headers,
    body: "enc-pw",
  });
  assert.equal(post.status, 200);
  const pw = await c.req("GET", `/v2.1/servers/${id}/os-server-password`, { token: c.demo });
  assert.equal(pw.status, 200);
  assert.deepEqual(pw.body, { password: "enc-pw" });
  // The public API listener does not serve metadata.
  const pub = await c.t.cloud.app.inject({ method: "GET", url: "/openstack/latest/meta_data.json", headers });
  assert.notEqual(pub.statusCode, 200);
});
