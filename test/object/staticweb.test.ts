// Static websites (Swift's staticweb): index pages, HTML listings with a stylesheet, error pages, redirects of
// directories without their slash, web mode with a token, and the read ACL still deciding who may read.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
  const put = async (path: string, body: string) =>
    assert.equal((await o.sw("PUT", path, { body })).status, 201);
  assert.equal(
    (await o.sw("PUT", "/site", { headers: { "x-container-read": ".r:*,.rlistings" } })).status,
    201,
  );
  await put("/site/index.html", "<h1>home</h1>");
  await put("/site/docs/index.html", "<h1>docs</h1>");
  await put("/site/docs/a b.txt", "A");
  await put("/site/pics/cat.png", "meow");
  await put("/site/404error.html", "<p>not here</p>");
  assert.equal((await o.sw("PUT", "/private")).status, 201);
  await put("/private/index.html", "secret");
});
after(() => o.close());

const anon = { token: null };
const web = (headers: Record<string, string>, path = "/site") =>
  o.sw("POST", path, { headers }).then((r) => assert.equal(r.status, 204));

describe("static web", () => {
  test("/info lists staticweb; without web metadata a container answers as usual", async () => {
    assert.ok("staticweb" in (await o.sw("GET", "/object-store/info")).json);
    const r = await o.sw("GET", "/site/", anon);
    assert.equal(r.status, 200);
    assert.match(r.text, /^404error\.html\ndocs\/a b\.txt\n/);
  });

  test("web-index: the container and its directories answer their index; no slash redirects", async () => {
    await web({ "x-container-meta-web-index": "index.html" });
    const redirect = await o.sw("GET", "/site", anon);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, `/object-store/v1/${o.account}/site/`);
    const home = await o.sw("GET", "/site/", anon);
    assert.equal(home.status, 200);
    assert.equal(home.text, "<h1>home</h1>");
    assert.equal((await o.sw("GET", "/site/docs/", anon)).text, "<h1>docs</h1>");
    const dir = await o.sw("GET", "/site/docs", anon);
    assert.equal(dir.status, 301);
    assert.equal(dir.headers.location, `/object-store/v1/${o.account}/site/docs/`);
    // Objects themselves read as usual; with a token the container lists as usual.
    assert.equal((await o.sw("GET", "/site/pics/cat.png", anon)).text, "meow");
    assert.match((await o.sw("GET", "/site")).text, /^404error\.html\n/);
    // ...unless the caller asks for web mode.
    assert.equal((await o.sw("GET", "/site/", { headers: { "x-web-mode": "true" } })).text, "<h1>home</h1>");
  });

  test("web-listings: HTML listings of directories without an index, with the stylesheet", async () => {
    await web({ "x-container-meta-web-listings": "true", "x-container-meta-web-listings-css": "style.css" });
    const pics = await o.sw("GET", "/site/pics/", anon);
    assert.equal(pics.status, 200);
    assert.match(String(pics.headers["content-type"]), /^text\/html/);
    assert.match(pics.text, /<a href="cat\.png">cat\.png<\/a>/);
    assert.match(pics.text, /<link rel="stylesheet" type="text\/css" href="style\.css" \/>/);
    assert.match(pics.text, /<title>Listing of \/v1\/AUTH_[0-9a-f]+\/site\/pics\/<\/title>/);
    await web({ "x-remove-container-meta-web-index": "x" });
    const root = await o.sw("GET", "/site/", anon);
    assert.match(root.text, /<a href="docs\/">docs\/<\/a>/);
    assert.match(root.text, /<a href="404error\.html">404error\.html<\/a>/);
    // Names are escaped in the page.
    const docs = await o.sw("GET", "/site/docs/", anon);
    assert.match(docs.text, /<a href="a%20b\.txt">a b\.txt<\/a>/);
  });

  test("web-error: a missing object answers 404 with the container's error page", async () => {
    await web({ "x-container-meta-web-error": "error.html" });
    const r = await o.sw("GET", "/site/nothing.html", anon);
    assert.equal(r.status, 404);
    assert.equal(r.text, "<p>not here</p>");
    // Without the error object, Swift's own 404.
    await web({ "x-container-meta-web-error": "missing.html" });
    const plain = await o.sw("GET", "/site/nothing.html", anon);
    assert.equal(plain.status, 404);
    assert.notEqual(plain.text, "<p>not here</p>");
  });

  test("the read ACL still decides: a private web container answers 401 without a token", async () => {
    await web({ "x-container-meta-web-index": "index.html" }, "/private");
    const r = await o.sw("GET", "/private/", anon);
    assert.equal(r.status, 401);
    assert.doesNotMatch(r.text, /secret/);
  });
});
