import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { errorMediaType } from "../../src/image/errors.js";
import { bootCloud, type TestCloud } from "../helpers/cloud.js";

describe("Glance error bodies follow the Accept header (webob)", () => {
  let c: TestCloud;
  let admin: string;
  before(async () => {
    c = await bootCloud();
    admin = await c.adminToken();
  });
  after(() => c.close());

  const get = (accept?: string) =>
    c.cloud.app.inject({
      method: "GET",
      url: "/image/v2/images/00000000-0000-0000-0000-000000000000",
      headers: { "x-auth-token": admin, ...(accept !== undefined ? { accept } : {}) },
    });

  it("negotiates like webob", () => {
    assert.equal(errorMediaType(undefined), "html");
    assert.equal(errorMediaType("*/*"), "html");
    assert.equal(errorMediaType("application/json"), "json");
    assert.equal(errorMediaType("application/json, text/html;q=0.5"), "json");
    assert.equal(errorMediaType("text/plain"), "text");
  });

  it("JSON for application/json, HTML by default, text otherwise; always 404 with a request id", async () => {
    const json = await get("application/json");
    assert.equal(json.statusCode, 404);
    assert.match(String(json.headers["content-type"]), /application\/json/);
    assert.equal(json.json().code, "404 Not Found");
    assert.equal(json.json().title, "Not Found");
    const html = await get();
    assert.equal(html.statusCode, 404);
    assert.match(String(html.headers["content-type"]), /text\/html/);
    assert.match(html.body, /<title>404 Not Found<\/title>/);
    const text = await get("text/plain");
    assert.match(String(text.headers["content-type"]), /text\/plain/);
    assert.match(text.body, /^404 Not Found\n\n/);
    for (const r of [json, html, text]) assert.match(String(r.headers["x-openstack-request-id"]), /^req-/);
  });
});
