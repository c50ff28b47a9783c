// Versioned writes in process: X-Versions-Location (stack mode: overwrites are archived, DELETE restores the
// newest), X-History-Location (history mode: DELETE archives and leaves a delete marker), their header rules.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
});
after(() => o.close());

let n = 0;
/** A base container keeping versions in a fresh versions container. */
const pair = async (mode: "versions" | "history"): Promise<{ base: string; vers: string }> => {
  const base = `base${++n}`;
  const vers = `vers${n}`;
  assert.equal((await o.sw("PUT", `/${vers}`)).status, 201);
  const r = await o.sw("PUT", `/${base}`, { headers: { [`x-${mode}-location`]: vers } });
  assert.equal(r.status, 201);
  return { base, vers };
};
const put = (path: string, body: string) =>
  o.sw("PUT", path, { body, headers: { "content-length": String(body.length) } });
const names = async (c: string): Promise<string[]> =>
  (await o.sw("GET", `/${c}?format=json`)).json?.map((x: { name: string }) => x.name) ?? [];

describe("versioned writes", () => {
  test("stack mode: overwrites go to the versions container, DELETE pops them back newest first", async () => {
    const { base, vers } = await pair("versions");
    const h = await o.sw("HEAD", `/${base}`);
    assert.equal(h.headers["x-versions-location"], vers);
    assert.equal(Object.keys(h.headers).filter((k) => k.includes("sysmeta")).length, 0);
    await put(`/${base}/obj`, "one");
    await put(`/${base}/obj`, "two");
    await put(`/${base}/obj`, "three");
    const archived = await names(vers);
    assert.equal(archived.length, 2);
    for (const a of archived) assert.match(a, /^003obj\/\d{10}\.\d{5}$/);
    assert.equal((await o.sw("GET", `/${base}/obj`)).text, "three");
    assert.equal((await o.sw("GET", `/${vers}/${archived[0]}`)).text, "one");
    assert.equal((await o.sw("DELETE", `/${base}/obj`)).status, 204);
    assert.equal((await o.sw("GET", `/${base}/obj`)).text, "two");
    assert.equal((await o.sw("DELETE", `/${base}/obj`)).status, 204);
    assert.equal((await o.sw("GET", `/${base}/obj`)).text, "one");
    assert.deepEqual(await names(vers), []);
    assert.equal((await o.sw("DELETE", `/${base}/obj`)).status, 204);
    assert.equal((await o.sw("GET", `/${base}/obj`)).status, 404);
    assert.equal((await o.sw("DELETE", `/${base}/obj`)).status, 404);
    // A copy onto a versioned object archives it too.
    await put(`/${base}/a`, "A");
    await put(`/${base}/b`, "B");
    assert.equal((await o.sw("COPY", `/${base}/a`, { headers: { destination: `${base}/b` } })).status, 201);
    assert.equal((await names(vers)).length, 1);
  });

  test("history mode: DELETE archives the object and writes a delete marker", async () => {
    const { base, vers } = await pair("history");
    assert.equal((await o.sw("HEAD", `/${base}`)).headers["x-history-location"], vers);
    await put(`/${base}/doc`, "v1");
    await put(`/${base}/doc`, "v2");
    assert.equal((await o.sw("DELETE", `/${base}/doc`)).status, 204);
    assert.equal((await o.sw("GET", `/${base}/doc`)).status, 404);
    const l = (await o.sw("GET", `/${vers}?format=json`)).json;
    assert.equal(l.length, 3);
    assert.deepEqual(
      l.map((x: { content_type: string }) => x.content_type),
      [
        "application/octet-stream",
        "application/octet-stream",
        "application/x-deleted;swift_versions_deleted=1",
      ],
    );
  });

  test("header rules: both at once 400, a slash 412, empty or X-Remove-* turns versioning off; a missing versions container is 412 on overwrite", async () => {
    const c = `rules${++n}`;
    let r = await o.sw("PUT", `/${c}`, {
      headers: { "x-versions-location": "a", "x-history-location": "b" },
    });
    assert.equal(r.status, 400);
    assert.equal(r.text, "Only one of X-Versions-Location or X-History-Location may be specified");
    r = await o.sw("PUT", `/${c}`, { headers: { "x-versions-location": "a/b" } });
    assert.equal(r.status, 412);
    assert.equal((await o.sw("PUT", `/${c}`, { headers: { "x-versions-location": "nowhere" } })).status, 201);
    await put(`/${c}/x`, "1");
    assert.equal((await put(`/${c}/x`, "2")).status, 412);
    assert.equal(
      (await o.sw("POST", `/${c}`, { headers: { "x-remove-versions-location": "1" } })).status,
      204,
    );
    assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-versions-location"], undefined);
    assert.equal((await put(`/${c}/x`, "2")).status, 201);
    await o.sw("POST", `/${c}`, { headers: { "x-history-location": "nowhere" } });
    assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-history-location"], "nowhere");
    await o.sw("POST", `/${c}`, { headers: { "x-history-location": "" } });
    assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-history-location"], undefined);
  });
});
