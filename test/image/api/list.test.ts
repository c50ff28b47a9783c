// GET /v2/images: who sees what, filters (with operators), sorting in both syntaxes, and limit/marker paging
// with Glance's first/next/schema keys.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootImageCloud, sleep, type ImageCloud } from "./helpers.js";

let t: ImageCloud;
const ids: Record<string, string> = {};
let between = "";

before(async () => {
  t = await bootImageCloud();
  // demo's own images, a..e, created a few ms apart so created_at orders them.
  for (const [i, n] of ["alpha", "bravo", "charlie", "delta", "echo"].entries()) {
    const img = await t.create(
      { name: n, color: i % 2 ? "red" : "blue", tags: i < 2 ? ["small", "x86"] : ["x86"], min_ram: i * 10 },
      t.demo,
    );
    ids[n] = img.id;
    if (n === "charlie") between = new Date().toISOString();
    await sleep(5);
  }
  await t.upload(ids.bravo, Buffer.alloc(1000, 1), t.demo);
  await t.upload(ids.delta, Buffer.alloc(5000, 2), t.demo);
  ids.hidden = (await t.create({ name: "hidden", os_hidden: true }, t.demo)).id;
  ids.adminPrivate = (await t.create({ name: "admin-private", visibility: "private" })).id;
  ids.adminPublic = (await t.create({ name: "admin-public", visibility: "public" })).id;
  ids.adminCommunity = (await t.create({ name: "admin-community", visibility: "community" })).id;
  ids.adminShared = (await t.create({ name: "admin-shared", visibility: "shared" })).id;
});
after(() => t.close());

async function list(query: string, token = t.demo): Promise<any> {
  const r = await t.api("GET", `/v2/images${query}`, { token });
  assert.equal(r.status, 200, `${query}: ${r.text}`);
  return r.body;
}
const names = (body: any): string[] => body.images.map((i: any) => i.name);

describe("visibility", () => {
  test("a project sees its own, public and accepted shared images; community of others only on request", async () => {
    const all = names(await list(""));
    assert.deepEqual(all, ["admin-public", "echo", "delta", "charlie", "bravo", "alpha"]);
    for (const n of ["echo", "delta", "charlie", "bravo", "alpha", "admin-public"])
      assert.ok(all.includes(n), n);
    for (const n of ["admin-private", "admin-community", "admin-shared", "hidden"])
      assert.ok(!all.includes(n), n);
    assert.deepEqual(names(await list("?visibility=community")), ["admin-community"]);
    assert.deepEqual(names(await list("?os_hidden=true")), ["hidden"]);
    // Shared with demo: pending is not listed by default, but is with member_status.
    const m = await t.api("POST", `/v2/images/${ids.adminShared}/members`, {
      body: { member: t.demoProject },
    });
    assert.equal(m.status, 200, m.text);
    assert.ok(!names(await list("")).includes("admin-shared"));
    assert.deepEqual(names(await list(`?visibility=shared&member_status=pending&owner=${t.adminProject}`)), [
      "admin-shared",
    ]);
    assert.ok(names(await list("?member_status=all")).includes("admin-shared"));
    await t.api("PUT", `/v2/images/${ids.adminShared}/members/${t.demoProject}`, {
      token: t.demo,
      body: { status: "accepted" },
    });
    assert.ok(names(await list("")).includes("admin-shared"));
  });

  test("admins see every image except others' community ones by default", async () => {
    const all = names(await list("?limit=100", t.admin));
    for (const n of ["alpha", "hidden", "admin-private", "admin-public", "admin-shared"].filter(
      (x) => x !== "hidden",
    ))
      assert.ok(all.includes(n), n);
    assert.ok(all.includes("admin-community"), "own community image");
  });
});

describe("filters", () => {
  test("name, in:, status, tags, properties, owner, protected", async () => {
    assert.deepEqual(names(await list("?name=charlie")), ["charlie"]);
    assert.deepEqual(names(await list("?name=eq:charlie")), ["charlie"]);
    assert.deepEqual(names(await list('?name=in:alpha,"echo"&sort_key=name&sort_dir=asc')), [
      "alpha",
      "echo",
    ]);
    assert.deepEqual(names(await list("?status=active&sort_key=name&sort_dir=asc")), ["bravo", "delta"]);
    assert.deepEqual(names(await list("?tag=small&sort=name:asc")), ["alpha", "bravo"]);
    assert.deepEqual(names(await list("?tag=small&tag=x86&tag=nope")), []);
    assert.deepEqual(names(await list("?color=red&sort=name")), ["delta", "bravo"]);
    assert.deepEqual(names(await list(`?owner=${t.demoProject}&name=alpha`)), ["alpha"]);
    assert.deepEqual(names(await list("?protected=true")), []);
    assert.deepEqual(names(await list("?min_ram=20")), ["charlie"]);
  });

  test("size ranges and created_at operators", async () => {
    assert.deepEqual(names(await list("?size_min=2000")), ["delta"]);
    assert.deepEqual(names(await list("?size_max=2000")), ["bravo"]);
    assert.deepEqual(names(await list("?size_min=500&size_max=6000&sort=size:asc")), ["bravo", "delta"]);
    const after = names(await list(`?created_at=gt:${encodeURIComponent(between)}`));
    assert.deepEqual(
      after.filter((n) => ["alpha", "bravo", "charlie", "delta", "echo"].includes(n)),
      ["echo", "delta"],
    );
    const before = names(await list(`?created_at=lte:${encodeURIComponent(between)}&sort=name:asc`));
    assert.deepEqual(before, ["alpha", "bravo", "charlie"]);
  });

  test("bad filters and parameters are 400", async () => {
    for (const q of [
      "?limit=abc",
      "?limit=-1",
      "?visibility=galaxy",
      "?member_status=maybe",
      "?sort_key=color",
      "?sort_dir=up",
      "?sort=name:up",
      "?sort=name&sort_key=name",
      "?sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc&sort_dir=asc",
      "?size_min=big",
      "?created_at=gt:yesterday",
      "?created_at=around:2020-01-01T00:00:00Z",
      "?name=like:abc",
      '?name=in:"a',
      "?os_hidden=maybe",
      "?protected=yes",
      "?changes-since=2020-01-01",
      "?marker=00000000-0000-0000-0000-000000000000",
    ]) {
      const r = await t.api("GET", `/v2/images${q}`, { token: t.demo });
      assert.equal(r.status, 400, `${q}: ${r.status} ${r.text}`);
    }
  });
});

describe("sorting and paging", () => {
  test("default is created_at desc; both sort syntaxes", async () => {
    const mine = (b: any) =>
      names(b).filter((n) => ["alpha", "bravo", "charlie", "delta", "echo"].includes(n));
    assert.deepEqual(mine(await list("")), ["echo", "delta", "charlie", "bravo", "alpha"]);
    assert.deepEqual(mine(await list("?sort_key=name&sort_dir=asc")), [
      "alpha",
      "bravo",
      "charlie",
      "delta",
      "echo",
    ]);
    assert.deepEqual(mine(await list("?sort=status:asc,name:desc")), [
      "delta",
      "bravo",
      "echo",
      "charlie",
      "alpha",
    ]);
    assert.deepEqual(mine(await list("?sort_key=status&sort_key=name&sort_dir=asc")), [
      "bravo",
      "delta",
      "alpha",
      "charlie",
      "echo",
    ]);
  });

  test("limit/marker pages follow next links to the same list; first and schema as Glance", async () => {
    const full = await list("?sort=name:asc&limit=100");
    assert.equal(full.first, "/v2/images?sort=name%3Aasc&limit=100");
    assert.equal(full.schema, "/v2/schemas/images");
    assert.ok(!("next" in full));
    const seen: string[] = [];
    let url = "/v2/images?sort=name:asc&limit=2";
    let pages = 0;
    for (;;) {
      const page = await list(url.replace(/^\/v2\/images/, ""));
      assert.ok(page.images.length <= 2);
      seen.push(...page.images.map((i: any) => i.id));
      pages++;
      if (!page.next) break;
      assert.match(page.next, /^\/v2\/images\?sort=name%3Aasc&limit=2&marker=/);
      url = page.next;
    }
    assert.deepEqual(
      seen,
      full.images.map((i: any) => i.id),
    );
    assert.ok(pages >= 3);
    const zero = await list("?limit=0");
    assert.deepEqual(zero.images, []);
    assert.ok(!("next" in zero));
  });

  test("the default page size is 25", async () => {
    for (let i = 0; i < 22; i++) await t.create({ name: `bulk-${String(i).padStart(2, "0")}` }, t.demo);
    const page = await list("");
    assert.equal(page.images.length, 25);
    assert.ok(page.next);
    assert.equal(page.first, "/v2/images");
  });
});
