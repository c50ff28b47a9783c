// API discovery: /extensions and the version documents the root document links.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ComputeCloud } from "../api/helpers.js";
import { bootAdmin } from "../admin/fixtures.js";

let c: ComputeCloud;
before(async () => {
  c = await bootAdmin();
});
after(() => c?.close());

test("extensions: every entry in Nova's shape, sorted by alias; show by alias or 404", async () => {
  const r = await c.req("GET", "/v2.1/extensions", { token: c.demo });
  assert.equal(r.status, 200);
  const exts = r.body.extensions as Array<Record<string, unknown>>;
  for (const e of exts)
    assert.deepEqual(Object.keys(e).sort(), [
      "alias",
      "description",
      "links",
      "name",
      "namespace",
      "updated",
    ]);
  const aliases = exts.map((e) => e.alias as string);
  assert.deepEqual(aliases, [...aliases].sort());
  for (const alias of [
    "os-hosts",
    "os-create-backup",
    "os-deferred-delete",
    "OS-EXT-IMG-SIZE",
    "os-consoles",
    "os-networks",
    "os-floating-ips",
  ])
    assert.ok(aliases.includes(alias), alias);
  assert.ok(exts.some((e) => e.name === "Hosts"));
  assert.ok(aliases.includes("os-volumes"), "the volume proxies and attachments");
  assert.ok(!aliases.includes("os-fping"), "no APIs Stratus lacks");
  const one = await c.req("GET", "/v2.1/extensions/os-consoles", { token: c.demo });
  assert.equal(one.status, 200);
  assert.equal(one.body.extension.alias, "os-consoles");
  assert.equal((await c.req("GET", "/v2.1/extensions/os-cells", { token: c.demo })).status, 404);
  assert.equal((await c.req("GET", "/v2.1/extensions")).status, 401);
});

test("every version the root lists answers its document at its self link", async () => {
  const root = await c.req("GET", "/");
  assert.equal(root.status, 200);
  for (const v of root.body.versions) {
    const self = v.links.find((l: any) => l.rel === "self").href as string;
    const path = new URL(self).pathname.replace(/^\/compute/, "");
    for (const p of [path, path.replace(/\/$/, "")]) {
      const r = await c.req("GET", p);
      assert.equal(r.status, 200, p);
      assert.equal(r.body.version.id, v.id);
      assert.equal(r.body.version.status, v.status);
      assert.deepEqual(
        r.body.version.links.filter((l: any) => l.rel === "self"),
        [{ rel: "self", href: self }],
      );
      assert.equal(r.body.version["media-types"][0].base, "application/json");
    }
  }
  const v21 = (await c.req("GET", "/v2.1/")).body.version;
  assert.equal(v21.version, "2.93");
  assert.equal(v21.min_version, "2.1");
  assert.equal(v21["media-types"][0].type, "application/vnd.openstack.compute+json;version=2.1");
  const v2 = (await c.req("GET", "/v2/")).body.version;
  assert.equal(v2["media-types"][0].type, "application/vnd.openstack.compute+json;version=2");
});
