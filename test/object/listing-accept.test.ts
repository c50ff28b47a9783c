// Listing formats as Swift's listing_formats picks them: format= stands for Accept, Accept is matched by quality
// and order against text/plain, application/json, application/xml and text/xml; malformed is 400, none 406.
import { strict as assert } from "node:assert";
import { after, before, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let oc: ObjectCloud;
before(async () => {
  oc = await bootObjectCloud();
  assert.equal((await oc.sw("PUT", "/la")).status, 201);
  assert.equal((await oc.sw("PUT", "/la/o", { body: "x" })).status, 201);
});
after(() => oc.close());

const type = (r: { headers: Record<string, unknown> }) => String(r.headers["content-type"]);

test("Accept picks the listing's type by quality and order, format= overrides it", async () => {
  const cases: Array<[string, string]> = [
    ["text/plain, application/json", "text/plain"],
    ["application/json;q=0.5, application/xml", "application/xml"],
    ["text/xml", "text/xml"],
    ["*/*", "text/plain"],
    ["application/*", "application/json"],
    ["image/png, */*;q=0.1", "text/plain"],
  ];
  for (const path of ["", "/la"])
    for (const [accept, want] of cases) {
      for (const method of ["GET", "HEAD"]) {
        const r = await oc.sw(method, path, { headers: { accept } });
        assert.equal(type(r), `${want}; charset=utf-8`, `${method} ${path} Accept: ${accept}`);
      }
    }
  const xml = await oc.sw("GET", "/la", { headers: { accept: "text/xml" } });
  assert.match(
    xml.text,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<container name="la"><object><name>o<\/name>/,
  );
  const json = await oc.sw("GET", "/la?format=json", { headers: { accept: "text/xml" } });
  assert.equal(type(json), "application/json; charset=utf-8");
  assert.equal(json.json[0].name, "o");
  const other = await oc.sw("GET", "/la?format=txt", { headers: { accept: "application/json" } });
  assert.equal(type(other), "text/plain; charset=utf-8");
  assert.equal(other.text, "o\n");
});

test("an Accept no listing type meets is 406, a malformed one 400, before authorization", async () => {
  for (const token of [undefined, null]) {
    for (const method of ["GET", "HEAD"]) {
      const none = await oc.sw(method, "/la", { token, headers: { accept: "image/png" } });
      assert.equal(none.status, 406, `${method} token=${token}`);
      const bad = await oc.sw(method, "", { token, headers: { accept: "json" } });
      assert.equal(bad.status, 400);
      if (method === "GET") assert.equal(bad.text, "Invalid Accept header");
    }
  }
  const none = await oc.sw("GET", "/la", { headers: { accept: "image/png" } });
  assert.equal(
    none.text,
    "<html><h1>Not Acceptable</h1><p>The resource is not available in a format acceptable to your browser.</p></html>",
  );
});
