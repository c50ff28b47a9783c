// Sharing images between the admin and demo projects (members), tags, schemas and the info documents.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootImageCloud, isGlanceError, type ImageCloud } from "./helpers.js";

let t: ImageCloud;
let other: string; // a third project's token
let otherProject: string;
before(async () => {
  t = await bootImageCloud();
  const p = await t.c.createProject("third");
  otherProject = p.id;
  await t.c.createUser("carol", "carol-pw", { default_project_id: p.id });
  const member = await t.c.roleId("member");
  const carol = await t.c.userId("carol");
  const r = await t.c.req("PUT", `/v3/projects/${p.id}/users/${carol}/roles/${member}`, { token: t.admin });
  assert.equal(r.status, 204, r.text);
  other = await t.c.token("carol", "carol-pw", "third");
});
after(() => t.close());

describe("members", () => {
  test("owner shares, member sees it, accepts, it lists; member cannot share further; owner removes", async () => {
    const img = await t.create({ name: "shared-one" });
    const base = `/v2/images/${img.id}/members`;
    // Not visible to demo before sharing.
    assert.equal((await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).status, 404);
    const add = await t.api("POST", base, { body: { member: t.demoProject } });
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(Object.keys(add.body).sort(), [
      "created_at",
      "image_id",
      "member_id",
      "schema",
      "status",
      "updated_at",
    ]);
    assert.equal(add.body.status, "pending");
    assert.equal(add.body.member_id, t.demoProject);
    assert.equal(add.body.image_id, img.id);
    assert.equal(add.body.schema, "/v2/schemas/member");
    const dup = await t.api("POST", base, { body: { member: t.demoProject } });
    assert.equal(dup.status, 409);
    // A pending member can see the image but it is not in its default list.
    assert.equal((await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).status, 200);
    const listed = async () =>
      (await t.api("GET", "/v2/images", { token: t.demo })).body.images.some((i: any) => i.id === img.id);
    assert.equal(await listed(), false);
    // Only the member answers; the owner may not.
    const ownerAnswers = await t.api("PUT", `${base}/${t.demoProject}`, {
      token: t.admin,
      body: { status: "accepted" },
    });
    assert.equal(ownerAnswers.status, 200, "admins may");
    await t.api("PUT", `${base}/${t.demoProject}`, { token: t.admin, body: { status: "pending" } });
    const bad = await t.api("PUT", `${base}/${t.demoProject}`, { token: t.demo, body: { status: "maybe" } });
    assert.equal(bad.status, 400);
    const noStatus = await t.api("PUT", `${base}/${t.demoProject}`, { token: t.demo, body: {} });
    assert.equal(noStatus.status, 400);
    const acc = await t.api("PUT", `${base}/${t.demoProject}`, {
      token: t.demo,
      body: { status: "accepted" },
    });
    assert.equal(acc.status, 200, acc.text);
    assert.equal(acc.body.status, "accepted");
    assert.equal(await listed(), true);
    // The member sees only its own membership; it may not add members.
    await t.api("POST", base, { body: { member: otherProject } });
    const memberView = await t.api("GET", base, { token: t.demo });
    assert.equal(memberView.status, 200);
    assert.deepEqual(
      memberView.body.members.map((m: any) => m.member_id),
      [t.demoProject],
    );
    assert.equal(memberView.body.schema, "/v2/schemas/members");
    const ownerView = await t.api("GET", base);
    assert.deepEqual(
      ownerView.body.members.map((m: any) => m.member_id).sort(),
      [t.demoProject, otherProject].sort(),
    );
    assert.equal((await t.api("GET", `${base}/${otherProject}`, { token: t.demo })).status, 404);
    assert.equal((await t.api("GET", `${base}/${t.demoProject}`, { token: t.demo })).status, 200);
    const reshare = await t.api("POST", base, { token: t.demo, body: { member: "someone" } });
    assert.equal(reshare.status, 403);
    assert.ok(isGlanceError(reshare.body, 403));
    // The member cannot answer for another project, nor remove memberships.
    const forOther = await t.api("PUT", `${base}/${otherProject}`, {
      token: t.demo,
      body: { status: "accepted" },
    });
    assert.equal(forOther.status, 404);
    assert.equal((await t.api("DELETE", `${base}/${t.demoProject}`, { token: t.demo })).status, 403);
    // Rejecting hides it from the default list again.
    await t.api("PUT", `${base}/${t.demoProject}`, { token: t.demo, body: { status: "rejected" } });
    assert.equal(await listed(), false);
    // The owner removes the membership: the image is gone for demo.
    assert.equal((await t.api("DELETE", `${base}/${t.demoProject}`)).status, 204);
    assert.equal((await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).status, 404);
    assert.equal((await t.api("DELETE", `${base}/${t.demoProject}`)).status, 404);
  });

  test("only shared images have members; bad bodies are 400", async () => {
    const priv = await t.create({ visibility: "private" });
    const r = await t.api("POST", `/v2/images/${priv.id}/members`, { body: { member: t.demoProject } });
    assert.equal(r.status, 403);
    assert.equal((await t.api("GET", `/v2/images/${priv.id}/members`)).status, 403);
    assert.equal((await t.api("GET", `/v2/images/${priv.id}/members/${t.demoProject}`)).status, 404);
    const pub = await t.create({ visibility: "public" });
    assert.equal(
      (await t.api("POST", `/v2/images/${pub.id}/members`, { body: { member: "x" } })).status,
      403,
    );
    const shared = await t.create({});
    for (const body of [{}, { member: "" }, ["x"]]) {
      const b = await t.api("POST", `/v2/images/${shared.id}/members`, { body });
      assert.equal(b.status, 400, JSON.stringify(body));
    }
    assert.equal(
      (
        await t.api("POST", "/v2/images/00000000-0000-0000-0000-000000000000/members", {
          body: { member: "x" },
        })
      ).status,
      404,
    );
  });

  test("demo shares its own image with the third project, which accepts and downloads it", async () => {
    const img = await t.create({ name: "demo-shared" }, t.demo);
    await t.upload(img.id, Buffer.from("shared bytes"), t.demo);
    assert.equal((await t.download(img.id, other)).status, 404);
    const add = await t.api("POST", `/v2/images/${img.id}/members`, {
      token: t.demo,
      body: { member: otherProject },
    });
    assert.equal(add.status, 200, add.text);
    const dl = await t.download(img.id, other);
    assert.equal(dl.status, 200);
    assert.equal(dl.body.toString(), "shared bytes");
    const acc = await t.api("PUT", `/v2/images/${img.id}/members/${otherProject}`, {
      token: other,
      body: { status: "accepted" },
    });
    assert.equal(acc.status, 200);
    const list = await t.api("GET", "/v2/images?visibility=shared", { token: other });
    assert.deepEqual(
      list.body.images.map((i: any) => i.name),
      ["demo-shared"],
    );
    // A member may not change or delete the image.
    assert.equal((await t.api("DELETE", `/v2/images/${img.id}`, { token: other })).status, 403);
  });
});

describe("tags", () => {
  test("PUT and DELETE a tag are 204; deleting a missing tag is 404", async () => {
    const img = await t.create({}, t.demo);
    const tag = `/v2/images/${img.id}/tags`;
    assert.equal((await t.api("PUT", `${tag}/web`, { token: t.demo })).status, 204);
    assert.equal((await t.api("PUT", `${tag}/web`, { token: t.demo })).status, 204);
    assert.equal((await t.api("PUT", `${tag}/db%20server`, { token: t.demo })).status, 204);
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.deepEqual([...shown.tags].sort(), ["db server", "web"]);
    assert.equal((await t.api("DELETE", `${tag}/web`, { token: t.demo })).status, 204);
    assert.equal((await t.api("DELETE", `${tag}/web`, { token: t.demo })).status, 404);
    assert.deepEqual((await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body.tags, [
      "db server",
    ]);
    assert.equal((await t.api("PUT", `${tag}/${"t".repeat(256)}`, { token: t.demo })).status, 400);
    const pub = await t.create({ visibility: "public" });
    assert.equal((await t.api("PUT", `/v2/images/${pub.id}/tags/mine`, { token: t.demo })).status, 403);
    assert.equal(
      (await t.api("PUT", "/v2/images/00000000-0000-0000-0000-000000000000/tags/x", { token: t.demo }))
        .status,
      404,
    );
  });
});

describe("schemas and info", () => {
  test("the image schema lists every property with Glance's types; images/member/members too", async () => {
    const r = await t.api("GET", "/v2/schemas/image", { token: t.demo });
    assert.equal(r.status, 200);
    const s = r.body;
    assert.equal(s.name, "image");
    assert.deepEqual(s.additionalProperties, { type: "string" });
    for (const p of [
      "id",
      "name",
      "status",
      "visibility",
      "protected",
      "os_hidden",
      "checksum",
      "os_hash_algo",
      "os_hash_value",
      "owner",
      "size",
      "virtual_size",
      "container_format",
      "disk_format",
      "created_at",
      "updated_at",
      "tags",
      "direct_url",
      "min_ram",
      "min_disk",
      "self",
      "file",
      "stores",
      "schema",
      "locations",
      "kernel_id",
      "os_distro",
    ])
      assert.ok(p in s.properties, p);
    assert.ok(s.properties.disk_format.enum.includes("qcow2"));
    assert.equal(s.properties.disk_format.enum[0], null);
    assert.deepEqual(s.properties.visibility.enum, ["community", "public", "private", "shared"]);
    assert.deepEqual(
      s.links.map((l: any) => l.rel),
      ["self", "enclosure", "describedby"],
    );
    const images = (await t.api("GET", "/v2/schemas/images", { token: t.demo })).body;
    assert.equal(images.name, "images");
    assert.deepEqual(images.properties.images.items, s);
    assert.deepEqual(Object.keys(images.properties), ["images", "first", "next", "schema"]);
    const member = (await t.api("GET", "/v2/schemas/member", { token: t.demo })).body;
    assert.equal(member.name, "member");
    assert.deepEqual(member.properties.status.enum, ["pending", "accepted", "rejected"]);
    const members = (await t.api("GET", "/v2/schemas/members", { token: t.demo })).body;
    assert.deepEqual(members.properties.members.items, member);
    assert.equal((await t.api("GET", "/v2/schemas/image", { token: null })).status, 401);
  });

  test("info: import methods, stores, usage", async () => {
    const imp = await t.api("GET", "/v2/info/import", { token: t.demo });
    assert.deepEqual(imp.body, {
      "import-methods": { description: "Import methods available.", type: "array", value: ["glance-direct"] },
    });
    const stores = await t.api("GET", "/v2/info/stores", { token: t.demo });
    assert.equal(stores.body.stores.length, 1);
    assert.equal(stores.body.stores[0].id, "file");
    assert.equal(stores.body.stores[0].default, "true");
    const usage = await t.api("GET", "/v2/info/usage", { token: t.demo });
    assert.equal(usage.status, 200);
    assert.ok(usage.body.usage.image_count_total.usage >= 1);
    assert.equal(usage.body.usage.image_count_total.limit, -1);
  });
});
