// Symlinks in process: soft links (followed, Content-Location, dangling 404, loops 409, ?symlink=get, across
// accounts' rules), static links (X-Symlink-Target-Etag checked when made and when read), POST 307, copies.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

const md5 = (b: string) => createHash("md5").update(b).digest("hex");

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
});
after(() => o.close());

let n = 0;
const fresh = async (): Promise<string> => {
  const c = `sym${++n}`;
  assert.equal((await o.sw("PUT", `/${c}`)).status, 201);
  return c;
};
const put = (path: string, body: string, headers: Record<string, string> = {}) =>
  o.sw("PUT", path, { body, headers: { "content-length": String(body.length), ...headers } });
const link = (path: string, target: string, headers: Record<string, string> = {}) =>
  put(path, "", { "x-symlink-target": target, ...headers });

describe("symlinks", () => {
  test("a soft link reads as its target with Content-Location; ?symlink=get reads the link; dangling is 404", async () => {
    const c = await fresh();
    await put(`/${c}/target`, "hello", { "content-type": "text/x-hello" });
    const r = await link(`/${c}/ln`, `${c}/target`);
    assert.equal(r.status, 201, r.text);
    const g = await o.sw("GET", `/${c}/ln`);
    assert.equal(g.status, 200);
    assert.equal(g.text, "hello");
    assert.equal(g.headers["content-type"], "text/x-hello");
    assert.equal(g.headers["content-location"], `/v1/${o.account}/${c}/target`);
    const self = await o.sw("HEAD", `/${c}/ln?symlink=get`);
    assert.equal(self.headers["x-symlink-target"], `${c}/target`);
    assert.equal(self.headers["content-type"], "application/symlink");
    assert.equal(self.headers["content-length"], "0");
    assert.equal(Object.keys(self.headers).filter((k) => k.includes("sysmeta")).length, 0);
    const range = await o.sw("GET", `/${c}/ln`, { headers: { range: "bytes=1-2" } });
    assert.equal(range.text, "el");
    await o.sw("DELETE", `/${c}/target`);
    const d = await o.sw("GET", `/${c}/ln`);
    assert.equal(d.status, 404);
    assert.equal(d.headers["content-location"], `/v1/${o.account}/${c}/target`);
    // Deleting a link deletes only the link.
    assert.equal((await o.sw("DELETE", `/${c}/ln`)).status, 204);
  });

  test("chains follow at most 2 links (409 past that); bad targets and bodies are refused as Swift", async () => {
    const c = await fresh();
    await put(`/${c}/t`, "x");
    await link(`/${c}/l1`, `${c}/t`);
    await link(`/${c}/l2`, `${c}/l1`);
    await link(`/${c}/l3`, `${c}/l2`);
    assert.equal((await o.sw("GET", `/${c}/l2`)).text, "x");
    const loop = await o.sw("GET", `/${c}/l3`);
    assert.equal(loop.status, 409);
    assert.equal(loop.text, "Too many levels of symbolic links, maximum allowed is 2");
    let r = await link(`/${c}/bad`, `/${c}/t`);
    assert.equal(r.status, 412);
    assert.equal(r.text, "X-Symlink-Target header must be of the form <container name>/<object name>");
    assert.equal((await link(`/${c}/bad`, "noslash")).status, 412);
    r = await link(`/${c}/me`, `${c}/me`);
    assert.equal(r.status, 400);
    assert.equal(r.text, "Symlink cannot target itself");
    r = await put(`/${c}/body`, "data", { "x-symlink-target": `${c}/t` });
    assert.equal(r.status, 400);
    assert.equal(r.text, "Symlink requests require a zero byte body");
    r = await link(`/${c}/acct`, `${c}/t`, { "x-symlink-target-account": "a/b" });
    assert.equal(r.status, 412);
  });

  test("static links: the target must exist with that ETag; a changed target makes GET 409", async () => {
    const c = await fresh();
    await put(`/${c}/t`, "v1", { "content-type": "text/x-one" });
    let r = await link(`/${c}/s`, `${c}/missing`, { "x-symlink-target-etag": md5("v1") });
    assert.equal(r.status, 409);
    assert.equal(r.text, "X-Symlink-Target does not exist");
    r = await link(`/${c}/s`, `${c}/t`, { "x-symlink-target-etag": md5("other") });
    assert.equal(r.status, 409);
    assert.equal(
      r.text,
      `Object Etag '${md5("v1")}' does not match X-Symlink-Target-Etag header '${md5("other")}'`,
    );
    r = await link(`/${c}/s`, `${c}/t`, { "x-symlink-target-etag": `"${md5("v1")}"` });
    assert.equal(r.status, 201, r.text);
    const self = await o.sw("HEAD", `/${c}/s?symlink=get`);
    assert.equal(self.headers["x-symlink-target-etag"], md5("v1"));
    assert.equal(self.headers["x-symlink-target-bytes"], "2");
    assert.equal(self.headers["content-type"], "text/x-one");
    assert.equal((await o.sw("GET", `/${c}/s`)).text, "v1");
    await put(`/${c}/t`, "v2");
    const g = await o.sw("GET", `/${c}/s`);
    assert.equal(g.status, 409);
    assert.match(g.text, /does not match X-Symlink-Target-Etag header/);
  });

  test("POST to a link updates the link and answers 307 to the target; X-Symlink-Target on POST is 400; COPY copies the target", async () => {
    const c = await fresh();
    await put(`/${c}/t`, "data");
    await link(`/${c}/l`, `${c}/t`);
    const p = await o.sw("POST", `/${c}/l`, { headers: { "x-object-meta-color": "red" } });
    assert.equal(p.status, 307);
    assert.equal(p.headers.location, `/v1/${o.account}/${c}/t`);
    assert.equal((await o.sw("HEAD", `/${c}/l?symlink=get`)).headers["x-object-meta-color"], "red");
    assert.equal((await o.sw("HEAD", `/${c}/t`)).headers["x-object-meta-color"], undefined);
    const bad = await o.sw("POST", `/${c}/t`, { headers: { "x-symlink-target": `${c}/l` } });
    assert.equal(bad.status, 400);
    assert.equal(bad.text, "A PUT request is required to set a symlink target");
    assert.equal((await o.sw("COPY", `/${c}/l`, { headers: { destination: `${c}/copy` } })).status, 201);
    assert.equal((await o.sw("GET", `/${c}/copy?symlink=get`)).text, "data");
    assert.equal(
      (await o.sw("COPY", `/${c}/l?symlink=get`, { headers: { destination: `${c}/l2` } })).status,
      201,
    );
    assert.equal((await o.sw("HEAD", `/${c}/l2?symlink=get`)).headers["x-symlink-target"], `${c}/t`);
  });

  test("a link into a container the caller cannot read is refused (the target is read with the caller's rights)", async () => {
    const c = await fresh();
    await put(`/${c}/t`, "secret");
    await link(`/${c}/l`, `${c}/t`);
    await o.sw("POST", `/${c}`, { headers: { "x-container-read": ".r:*" } });
    assert.equal((await o.sw("GET", `/${c}/l`, { token: null })).text, "secret");
    const d = await fresh();
    await put(`/${d}/t`, "private");
    await link(`/${c}/into`, `${d}/t`);
    assert.equal((await o.sw("GET", `/${c}/into`, { token: null })).status, 401);
  });
});
