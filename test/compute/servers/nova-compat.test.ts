// Regressions found by tempest's compute suite: behaviours where Stratus answered differently from Nova.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

let c: ComputeCloud;
before(async () => {
  c = await bootCompute({ compute: { hosts: 2 } });
  const project = await c.t.projectId("demo");
  await c.req("PUT", `/v2.1/os-quota-sets/${project}`, {
    token: c.admin,
    body: { quota_set: { instances: 50, cores: 100, ram: 512000 } },
  });
});
after(() => c?.close());

const create = (server: Record<string, unknown>, mv = "2.1") =>
  c.req("POST", "/v2.1/servers", {
    token: c.demo,
    mv,
    body: { server: { name: "compat", imageRef: c.imageId, flavorRef: "42", ...server } },
  });

test("flavors may be created with an integer id", async () => {
  const r = await c.req("POST", "/v2.1/flavors", {
    token: c.admin,
    body: { flavor: { name: "int-id", ram: 64, vcpus: 1, disk: 1, id: 123456 } },
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.flavor.id, "123456");
});

test("update responses carry Nova's reduced field set before 2.75 and the full one from 2.75", async () => {
  const id = await c.createServer(c.demo, { name: "upd-view" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const old = await c.req("PUT", `/v2.1/servers/${id}`, { token: c.demo, body: { server: { name: "a" } } });
  assert.equal(old.status, 200);
  assert.equal(old.body.server["OS-EXT-STS:vm_state"], undefined);
  assert.equal(old.body.server.key_name, undefined);
  assert.equal(old.body.server.name, "a");
  const full = await c.req("PUT", `/v2.1/servers/${id}`, {
    token: c.demo,
    mv: "2.75",
    body: { server: { name: "b" } },
  });
  assert.equal(full.body.server["OS-EXT-STS:vm_state"], "active");
});

test("server groups list their live members", async () => {
  const g = await c.req("POST", "/v2.1/os-server-groups", {
    token: c.demo,
    body: { server_group: { name: "g", policies: ["anti-affinity"] } },
  });
  const gid = g.body.server_group.id;
  const id = await c.createServer(c.demo, { name: "member" }, { hints: { group: gid } });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const shown = await c.req("GET", `/v2.1/os-server-groups/${gid}`, { token: c.demo });
  assert.deepEqual(shown.body.server_group.members, [id]);
  await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
  await c.waitGone(c.demo, id);
  assert.deepEqual(
    (await c.req("GET", `/v2.1/os-server-groups/${gid}`, { token: c.demo })).body.server_group.members,
    [],
  );
});

test("access IPs are validated, and IPv6 is shown in canonical form", async () => {
  assert.equal((await create({ accessIPv4: "1.1.1.1.1.1" })).status, 400);
  assert.equal((await create({ accessIPv6: "notanip" })).status, 400);
  const r = await create({ accessIPv4: "1.1.1.1", accessIPv6: "0000:0000:0000:0000:0000:babe:220.12.22.2" });
  assert.equal(r.status, 202);
  const s = await c.waitStatus(c.demo, r.body.server.id, "ACTIVE");
  assert.equal(s.accessIPv6, "::babe:dc0c:1602");
  assert.equal(s.accessIPv4, "1.1.1.1");
});

test("an unknown security group, undecodable or too many personality files are refused", async () => {
  const sg = await create({ security_groups: [{ name: "does_not_exist" }] });
  assert.equal(sg.status, 400);
  assert.equal((await create({ personality: [{ path: "/a", contents: "not base64!!" }] })).status, 400);
  const files = Array.from({ length: 6 }, (_, i) => ({ path: `/f${i}`, contents: "YQ==" }));
  const many = await create({ personality: files });
  assert.equal(many.status, 403);
  assert.equal((await create({ personality: [] }, "2.57")).status, 400, "personality is gone in 2.57");
});

test("list filters: a non-ISO changes-since is 400, an unknown status matches nothing", async () => {
  assert.equal((await c.req("GET", "/v2.1/servers?changes-since=2011/01/01", { token: c.demo })).status, 400);
  const none = await c.req("GET", "/v2.1/servers/detail?status=invalid_status", { token: c.admin });
  assert.equal(none.status, 200);
  assert.deepEqual(none.body.servers, []);
});

test("key pair names allow '@' and '.' only from 2.92", async () => {
  const body = (name: string) => ({ keypair: { name } });
  assert.equal(
    (await c.req("POST", "/v2.1/os-keypairs", { token: c.demo, body: body("key_/.\\@:") })).status,
    400,
  );
  assert.equal(
    (await c.req("POST", "/v2.1/os-keypairs", { token: c.demo, body: body("a@b.c") })).status,
    400,
  );
  const ok = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    mv: "2.92",
    body: { keypair: { name: "a@b.c", public_key: (await gen()).public_key } },
  });
  assert.equal(ok.status, 201);
});

async function gen(): Promise<{ public_key: string }> {
  const r = await c.req("POST", "/v2.1/os-keypairs", {
    token: c.demo,
    body: { keypair: { name: "gen-key" } },
  });
  return r.body.keypair;
}

test("resize keeps the requested OS-DCF:diskConfig", async () => {
  const id = await c.createServer(c.demo, { name: "dc", "OS-DCF:diskConfig": "MANUAL" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const r = await c.req("POST", `/v2.1/servers/${id}/action`, {
    token: c.demo,
    body: { resize: { flavorRef: "84", "OS-DCF:diskConfig": "AUTO" } },
  });
  assert.equal(r.status, 202);
  const s = await c.waitStatus(c.demo, id, "VERIFY_RESIZE");
  assert.equal(s["OS-DCF:diskConfig"], "AUTO");
});

test("a multi-create into an anti-affinity group spreads its servers over hosts", async () => {
  const g = await c.req("POST", "/v2.1/os-server-groups", {
    token: c.demo,
    body: { server_group: { name: "spread", policies: ["anti-affinity"] } },
  });
  const r = await c.req("POST", "/v2.1/servers", {
    token: c.demo,
    body: {
      server: { name: "aa", imageRef: c.imageId, flavorRef: "42", min_count: 2, return_reservation_id: true },
      "os:scheduler_hints": { group: g.body.server_group.id },
    },
  });
  assert.equal(r.status, 202);
  const list = await c.req("GET", `/v2.1/servers/detail?reservation_id=${r.body.reservation_id}`, {
    token: c.demo,
    mv: "2.3",
  });
  assert.equal(list.body.servers.length, 2);
  const hosts = [];
  for (const s of list.body.servers) {
    await c.waitStatus(c.demo, s.id, "ACTIVE");
    hosts.push(
      (await c.req("GET", `/v2.1/servers/${s.id}`, { token: c.admin })).body.server["OS-EXT-SRV-ATTR:host"],
    );
  }
  assert.equal(new Set(hosts).size, 2, JSON.stringify(hosts));
});

test("rebuild keeps OS-DCF:diskConfig and shows key_name from 2.54; deleting an extra spec is 200", async () => {
  const id = await c.createServer(c.demo, { name: "rb" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const r = await c.req("POST", `/v2.1/servers/${id}/action`, {
    token: c.demo,
    mv: "2.54",
    body: { rebuild: { imageRef: c.imageId, "OS-DCF:diskConfig": "AUTO" } },
  });
  assert.equal(r.status, 202);
  assert.ok("key_name" in r.body.server);
  assert.equal((await c.waitStatus(c.demo, id, "ACTIVE"))["OS-DCF:diskConfig"], "AUTO");
  await c.req("POST", "/v2.1/flavors/42/os-extra_specs", {
    token: c.admin,
    body: { extra_specs: { k1: "v" } },
  });
  assert.equal((await c.req("DELETE", "/v2.1/flavors/42/os-extra_specs/k1", { token: c.admin })).status, 200);
  assert.equal((await c.req("GET", "/v2.1/os-simple-tenant-usage/", { token: c.admin })).status, 404);
});
