// Cross-origin requests (Swift's CORS, strict mode): plain OPTIONS lists the methods; a preflight is allowed only
// for origins the container names (or *), with its max age and the asked headers; actual requests from an allowed
// origin get Allow-Origin and Expose-Headers (with the object's metadata and the container's extra headers).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
  const made = await o.sw("PUT", "/web", {
    headers: {
      "x-container-meta-access-control-allow-origin": "https://app.example https://other.example",
      "x-container-meta-access-control-max-age": "600",
      "x-container-meta-access-control-expose-headers": "x-custom",
    },
  });
  assert.equal(made.status, 201);
  assert.equal(
    (await o.sw("PUT", "/web/a.txt", { body: "a", headers: { "x-object-meta-color": "red" } })).status,
    201,
  );
  assert.equal((await o.sw("PUT", "/closed")).status, 201);
  assert.equal(
    (await o.sw("PUT", "/any", { headers: { "x-container-meta-access-control-allow-origin": "*" } })).status,
    201,
  );
});
after(() => o.close());

const preflight = (path: string, origin: string, method = "GET", extra: Record<string, string> = {}) =>
  o.sw("OPTIONS", path, {
    token: null,
    headers: { origin, "access-control-request-method": method, ...extra },
  });

describe("CORS", () => {
  test("OPTIONS without a preflight's headers lists the allowed methods", async () => {
    const r = await o.sw("OPTIONS", "/web/a.txt", { token: null });
    assert.equal(r.status, 200);
    assert.equal(r.headers.allow, "HEAD, GET, PUT, POST, DELETE, COPY, OPTIONS");
    assert.equal(
      (await o.sw("OPTIONS", "/web", { token: null })).headers.allow,
      "HEAD, GET, PUT, POST, DELETE, OPTIONS",
    );
  });

  test("a preflight from an allowed origin: origin, methods, max age, asked headers", async () => {
    const r = await preflight("/web/a.txt", "https://app.example", "PUT", {
      "access-control-request-headers": "x-auth-token, content-type",
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers["access-control-allow-origin"], "https://app.example");
    assert.match(String(r.headers["access-control-allow-methods"]), /\bPUT\b/);
    assert.equal(r.headers["access-control-max-age"], "600");
    assert.equal(r.headers["access-control-allow-headers"], "x-auth-token, content-type");
    const star = await preflight("/any/x", "https://anything.example");
    assert.equal(star.status, 200);
    assert.equal(star.headers["access-control-allow-origin"], "*");
  });

  test("a preflight is refused (401) for other origins, containers without CORS, unknown methods", async () => {
    assert.equal((await preflight("/web/a.txt", "https://evil.example")).status, 401);
    assert.equal((await preflight("/closed/a.txt", "https://app.example")).status, 401);
    assert.equal((await preflight("/web/a.txt", "https://app.example", "TRACE")).status, 401);
    assert.equal((await preflight("/nothing/a.txt", "https://app.example")).status, 401);
  });

  test("actual requests from an allowed origin carry Allow-Origin and Expose-Headers; others do not", async () => {
    const r = await o.sw("GET", "/web/a.txt", { headers: { origin: "https://other.example" } });
    assert.equal(r.status, 200);
    assert.equal(r.headers["access-control-allow-origin"], "https://other.example");
    const exposed = String(r.headers["access-control-expose-headers"]).split(", ");
    for (const h of ["etag", "x-trans-id", "x-object-meta-color", "x-custom"])
      assert.ok(exposed.includes(h), h);
    const evil = await o.sw("GET", "/web/a.txt", { headers: { origin: "https://evil.example" } });
    assert.equal(evil.status, 200);
    assert.equal(evil.headers["access-control-allow-origin"], undefined);
    const closed = await o.sw("GET", "/closed", { headers: { origin: "https://app.example" } });
    assert.equal(closed.headers["access-control-allow-origin"], undefined);
  });
});
