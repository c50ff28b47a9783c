// How the server sends the built dashboard: index.html revalidated, hashed assets immutable, brotli/gzip copies by
// Accept-Encoding, client routes answered with index.html, no way out of the build directory, and a page saying
// how to build when there is no build.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import { acceptedEncodings, mountDashboard } from "../../src/dashboard/assets.js";

const JS = "console.log('stratus');\n".repeat(50);

describe("dashboard assets", () => {
  let dir = "";
  let app: FastifyInstance;
  let empty: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stratus-dash-assets-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>app</title>");
    writeFileSync(join(dir, "assets", "index-abc123.js"), JS);
    writeFileSync(join(dir, "assets", "index-abc123.js.gz"), gzipSync(JS));
    writeFileSync(join(dir, "assets", "index-abc123.js.br"), brotliCompressSync(JS));
    writeFileSync(join(dir, "assets", "font-x.woff2"), Buffer.from([1, 2, 3]));
    writeFileSync(join(dir, "secret.txt"), "no");
    app = Fastify();
    mountDashboard(app, { dir, missing: () => "not built" });
    empty = Fastify();
    mountDashboard(empty, {
      dir: join(dir, "nothing"),
      missing: () => "<p>The web dashboard is not built. Run npm start.</p>",
    });
  });
  after(async () => {
    await app?.close();
    await empty?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("index.html at / and at the app's routes, revalidated every time", async () => {
    for (const url of ["/", "/login", "/project", "/project/instances", "/project/instances/abc?x=1"]) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
      assert.equal(r.headers["cache-control"], "no-cache");
      assert.equal(r.payload, "<!doctype html><title>app</title>");
    }
  });

  test("hashed assets are immutable, typed, and precompressed by Accept-Encoding", async () => {
    const plain = await app.inject({ url: "/assets/index-abc123.js" });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(plain.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(plain.headers.vary, "Accept-Encoding");
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.payload, JS);
    const br = await app.inject({
      url: "/assets/index-abc123.js",
      headers: { "accept-encoding": "gzip, deflate, br" },
    });
    assert.equal(br.headers["content-encoding"], "br");
    assert.deepEqual(br.rawPayload, brotliCompressSync(JS));
    const gz = await app.inject({
      url: "/assets/index-abc123.js",
      headers: { "accept-encoding": "gzip, br;q=0" },
    });
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.deepEqual(gz.rawPayload, gzipSync(JS));
    const font = await app.inject({ url: "/assets/font-x.woff2", headers: { "accept-encoding": "gzip" } });
    assert.equal(font.headers["content-type"], "font/woff2");
    assert.equal(font.headers["content-encoding"], undefined);
  });

  test("nothing outside the assets directory is reachable", async () => {
    for (const url of [
      "/assets/..%2Fsecret.txt",
      "/assets/..%2F..%2Fpackage.json",
      "/assets/%2e%2e%2Fsecret.txt",
      "/assets/../secret.txt",
      "/assets/.hidden.js",
      "/assets/missing-1.js",
      "/assets/index-abc123.js.map",
      "/secret.txt",
    ]) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.doesNotMatch(r.payload, /^no$/, url);
    }
  });

  test("without a build, / says how to build it", async () => {
    const r = await empty.inject({ url: "/" });
    assert.equal(r.statusCode, 200);
    assert.match(r.payload, /not built/);
    assert.equal(r.headers["cache-control"], "no-cache");
  });

  test("Accept-Encoding parsing honours q=0", () => {
    assert.deepEqual([...acceptedEncodings("gzip;q=0.5, br;q=0, identity")], ["gzip", "identity"]);
    assert.deepEqual([...acceptedEncodings(undefined)], []);
  });
});
