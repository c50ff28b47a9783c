// Object versioning (Swift's X-Versions-Enabled API) in process: versions kept on overwrite and delete, the
// ?versions listing, version-id reads and deletes, suspension, the rules against legacy versioned writes, and the
// hidden versions container.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
});
after(() => o.close());

const put = (path: string, body: string) =>
  o.sw("PUT", path, { body, headers: { "content-length": String(body.length) } });
interface Version {
  name?: string;
  subdir?: string;
  version_id: string;
  is_latest: boolean;
  content_type: string;
  bytes: number;
}
const versions = async (c: string, query = ""): Promise<Version[]> => {
  const r = await o.sw("GET", `/${c}?versions&format=json${query}`);
  assert.ok(r.status === 200 || r.status === 204, r.text);
  return r.status === 204 ? [] : (r.json as Version[]);
};
const MARKER = "application/x-deleted;swift_versions_deleted=1";

describe("object versioning", () => {
  test("X-Versions-Enabled is checked, shown, and refused beside legacy versioned writes", async () => {
    assert.equal((await o.sw("PUT", "/ov1", { headers: { "x-versions-enabled": "maybe" } })).status, 400);
    assert.equal((await o.sw("HEAD", "/ov1")).status, 404, "nothing made on a refused PUT");
    assert.equal((await o.sw("PUT", "/ov1", { headers: { "x-versions-enabled": "true" } })).status, 201);
    assert.equal((await o.sw("HEAD", "/ov1")).headers["x-versions-enabled"], "True");
    const legacy = await o.sw("POST", "/ov1", { headers: { "x-versions-location": "elsewhere" } });
    assert.equal(legacy.status, 400);
    assert.equal((await o.sw("PUT", "/ov-legacy", { headers: { "x-history-location": "h" } })).status, 201);
    const both = await o.sw("POST", "/ov-legacy", { headers: { "x-versions-enabled": "true" } });
    assert.equal(both.status, 400);
    // The hidden versions container is in no listing and no request can name it.
    const account = (await o.sw("GET", "/?format=json")).json as Array<{ name: string }>;
    assert.deepEqual(
      account.map((c) => c.name).filter((n) => !/^[\w-]+$/.test(n)),
      [],
    );
    const info = (await o.sw("GET", "/object-store/info", { token: null })).json as Record<string, unknown>;
    assert.ok(Object.hasOwn(info, "object_versioning"));
  });

  test("overwrites and deletes keep versions; ?versions lists them newest first with is_latest", async () => {
    await o.sw("PUT", "/ov2", { headers: { "x-versions-enabled": "true" } });
    const p1 = await put("/ov2/obj", "one");
    assert.equal(p1.status, 201);
    const v1 = p1.headers["x-object-version-id"] as string;
    assert.match(v1, /^\d{10}\.\d{5}$/);
    const v2 = (await put("/ov2/obj", "two")).headers["x-object-version-id"] as string;
    assert.notEqual(v1, v2);
    const cur = await o.sw("GET", "/ov2/obj");
    assert.equal(cur.text, "two");
    assert.equal(cur.headers["x-object-version-id"], v2);
    assert.equal((await o.sw("GET", `/ov2/obj?version-id=${v1}`)).text, "one");
    assert.equal((await o.sw("HEAD", `/ov2/obj?version-id=${v1}`)).headers["x-object-version-id"], v1);
    assert.equal((await o.sw("GET", `/ov2/obj?version-id=${v2}`)).text, "two");
    assert.equal((await o.sw("GET", "/ov2/obj?version-id=junk")).status, 400);
    assert.equal((await o.sw("GET", "/ov2/obj?version-id=1000000000.00000")).status, 404);
    // The plain listing shows the current object only.
    assert.deepEqual(
      ((await o.sw("GET", "/ov2?format=json")).json as Array<{ name: string }>).map((x) => x.name),
      ["obj"],
    );
    let list = await versions("ov2");
    assert.deepEqual(
      list.map((v) => [v.name, v.version_id, v.is_latest]),
      [
        ["obj", v2, true],
        ["obj", v1, false],
      ],
    );
    // DELETE leaves a delete marker as the latest version.
    const del = await o.sw("DELETE", "/ov2/obj");
    assert.equal(del.status, 204);
    const marker = del.headers["x-object-version-id"] as string;
    assert.equal((await o.sw("GET", "/ov2/obj")).status, 404);
    list = await versions("ov2");
    assert.deepEqual(
      list.map((v) => [v.version_id, v.is_latest, v.content_type === MARKER]),
      [
        [marker, true, true],
        [v2, false, false],
        [v1, false, false],
      ],
    );
    assert.equal((await o.sw("GET", `/ov2/obj?version-id=${marker}`)).status, 404);
    // Deleting the marker brings the previous version back.
    assert.equal((await o.sw("DELETE", `/ov2/obj?version-id=${marker}`)).status, 204);
    assert.equal((await o.sw("GET", "/ov2/obj")).text, "two");
    // Deleting the current version makes the one before it current.
    assert.equal((await o.sw("DELETE", `/ov2/obj?version-id=${v2}`)).status, 204);
    const back = await o.sw("GET", "/ov2/obj");
    assert.equal(back.text, "one");
    assert.equal(back.headers["x-object-version-id"], v1);
    assert.deepEqual(
      (await versions("ov2")).map((v) => [v.version_id, v.is_latest]),
      [[v1, true]],
    );
    // A container with versions is not empty; once they are gone it can be deleted.
    assert.equal((await o.sw("DELETE", `/ov2/obj?version-id=${v1}`)).status, 204);
    assert.equal((await o.sw("DELETE", "/ov2/obj")).status, 404, "a marker, but no object was there");
    assert.equal((await o.sw("DELETE", "/ov2")).status, 409);
    for (const v of await versions("ov2"))
      assert.equal((await o.sw("DELETE", `/ov2/obj?version-id=${v.version_id}`)).status, 204);
    assert.equal((await o.sw("DELETE", "/ov2")).status, 204);
  });

  test("suspended versioning writes null versions; older ones stay readable", async () => {
    await o.sw("PUT", "/ov3");
    await put("/ov3/obj", "null-before");
    await o.sw("POST", "/ov3", { headers: { "x-versions-enabled": "true" } });
    const v1 = (await put("/ov3/obj", "v1")).headers["x-object-version-id"] as string;
    assert.equal((await o.sw("GET", "/ov3/obj?version-id=null")).text, "null-before");
    assert.equal((await o.sw("POST", "/ov3", { headers: { "x-versions-enabled": "false" } })).status, 204);
    assert.equal((await o.sw("HEAD", "/ov3")).headers["x-versions-enabled"], "False");
    const s1 = await put("/ov3/obj", "s1");
    assert.equal(s1.headers["x-object-version-id"], undefined);
    const legacy = await o.sw("POST", "/ov3", { headers: { "x-versions-location": "other" } });
    assert.equal(legacy.status, 400, "no legacy versioned writes on a suspended container");
    await put("/ov3/obj", "s2");
    const list = await versions("ov3");
    assert.deepEqual(
      list.map((v) => [v.version_id, v.is_latest]),
      [
        ["null", true],
        [v1, false],
        ["null", false],
      ],
    );
    assert.equal((await o.sw("GET", "/ov3/obj")).text, "s2");
    assert.equal((await o.sw("GET", `/ov3/obj?version-id=${v1}`)).text, "v1");
  });

  test("?versions takes prefix, delimiter, marker with version_marker and limit", async () => {
    await o.sw("PUT", "/ov4", { headers: { "x-versions-enabled": "true" } });
    const ids: Record<string, string[]> = {};
    for (const name of ["a", "a", "b", "d/1", "d/2", "e", "e"]) {
      const r = await put(`/ov4/${name}`, name);
      (ids[name] ??= []).unshift(r.headers["x-object-version-id"] as string);
    }
    const all = await versions("ov4");
    assert.deepEqual(
      all.map((v) => v.name),
      ["a", "a", "b", "d/1", "d/2", "e", "e"],
    );
    const dir = await versions("ov4", "&delimiter=/");
    assert.deepEqual(
      dir.map((v) => v.name ?? v.subdir),
      ["a", "a", "b", "d/", "e", "e"],
    );
    assert.deepEqual(
      (await versions("ov4", "&prefix=d/")).map((v) => v.name),
      ["d/1", "d/2"],
    );
    const page = await versions("ov4", "&limit=3");
    assert.deepEqual(
      page.map((v) => v.name),
      ["a", "a", "b"],
    );
    const next = await versions("ov4", `&marker=a&version_marker=${ids.a[0]}&limit=2`);
    assert.deepEqual(
      next.map((v) => [v.name, v.version_id]),
      [
        ["a", ids.a[1]],
        ["b", ids.b[0]],
      ],
    );
    assert.deepEqual(
      (await versions("ov4", "&marker=d/2")).map((v) => v.name),
      ["e", "e"],
    );
  });
  test("copies name their source's version with ?version-id= (PUT with X-Copy-From, and COPY)", async () => {
    await o.sw("PUT", "/ov5", { headers: { "x-versions-enabled": "true" } });
    const p1 = await o.sw("PUT", "/ov5/src", {
      body: "old",
      headers: { "content-length": "3", "x-object-meta-era": "first" },
    });
    const v1 = p1.headers["x-object-version-id"] as string;
    await o.sw("PUT", "/ov5/src", {
      body: "newer",
      headers: { "content-length": "5", "x-object-meta-era": "second" },
    });
    const cp = await o.sw("PUT", `/ov5/dst?version-id=${v1}`, {
      headers: { "x-copy-from": "/ov5/src", "content-length": "0" },
    });
    assert.equal(cp.status, 201, cp.text);
    assert.equal(cp.headers["x-copied-from-version-id"], v1);
    const dst = await o.sw("GET", "/ov5/dst");
    assert.equal(dst.text, "old");
    assert.equal(dst.headers["x-object-meta-era"], "first");
    assert.notEqual(dst.headers["x-object-version-id"], v1, "the copy is a new version of its own");
    const viaCopy = await o.sw("COPY", `/ov5/src?version-id=${v1}`, { headers: { destination: "ov5/dst2" } });
    assert.equal(viaCopy.status, 201, viaCopy.text);
    assert.equal((await o.sw("GET", "/ov5/dst2")).text, "old");
    // The current version can be named too; a missing version, a delete marker and a bad id cannot.
    const cur = (await o.sw("HEAD", "/ov5/src")).headers["x-object-version-id"] as string;
    const copyOf = (id: string) =>
      o.sw("PUT", `/ov5/dst3?version-id=${id}`, {
        headers: { "x-copy-from": "/ov5/src", "content-length": "0" },
      });
    assert.equal((await copyOf(cur)).status, 201);
    assert.equal((await o.sw("GET", "/ov5/dst3")).text, "newer");
    assert.equal((await copyOf("1000000000.00000")).status, 404);
    assert.equal((await copyOf("junk")).status, 400);
    const marker = (await o.sw("DELETE", "/ov5/src")).headers["x-object-version-id"] as string;
    assert.equal((await copyOf(marker)).status, 404);
    // Other writes with ?version-id= are still refused.
    assert.equal(
      (await o.sw("PUT", `/ov5/src?version-id=${v1}`, { body: "", headers: { "content-length": "0" } }))
        .status,
      400,
    );
  });
});
