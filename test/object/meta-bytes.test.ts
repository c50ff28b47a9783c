// Metadata limits count the bytes a client sent: UTF-8 in a header value arrives one character per byte.
import { strict as assert } from "node:assert";
import { after, before, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let oc: ObjectCloud;
before(async () => {
  oc = await bootObjectCloud();
  assert.equal((await oc.sw("PUT", "/m")).status, 201);
});
after(() => oc.close());

/** A header value as Node receives UTF-8 text: each byte one character. */
const wire = (s: string): string => Buffer.from(s, "utf8").toString("latin1");

test("a 256-byte UTF-8 metadata value is within Swift's limit, 257 bytes is not", async () => {
  const ok = "é".repeat(128); // 256 bytes in UTF-8
  const put = await oc.sw("PUT", "/m/o", { headers: { "x-object-meta-x": wire(ok) }, body: "x" });
  assert.equal(put.status, 201, put.text);
  const head = await oc.sw("HEAD", "/m/o");
  assert.equal(Buffer.from(String(head.headers["x-object-meta-x"]), "latin1").toString("utf8"), ok);
  const over = await oc.sw("POST", "/m/o", { headers: { "x-object-meta-x": wire(`${ok}a`) } });
  assert.equal(over.status, 400);
  assert.match(over.text, /Metadata value longer than 256/);
  const c = await oc.sw("POST", "/m", { headers: { "x-container-meta-y": wire(ok) } });
  assert.equal(c.status, 204, c.text);
});
