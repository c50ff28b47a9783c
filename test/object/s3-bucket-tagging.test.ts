// Bucket tagging through the S3 API: Get/Put/DeleteBucketTagging, S3's bounds and errors, and tags that need
// several metadata pieces.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { bootS3Cloud, type S3Cloud } from "./s3-helpers.js";

let c: S3Cloud;
before(async () => {
  c = await bootS3Cloud();
  assert.equal((await c.s3("PUT", "/tagb")).status, 200);
});
after(() => c.close());

const code = (xml: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
const all = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
const tagDoc = (tags: Array<[string, string]>) =>
  `<Tagging><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join("")}</TagSet></Tagging>`;

describe("S3 bucket tagging", () => {
  test("a bucket without tags is NoSuchTagSet; put, get, replace and delete a tag set", async () => {
    const none = await c.s3("GET", "/tagb?tagging");
    assert.equal(none.status, 404);
    assert.equal(code(none.text), "NoSuchTagSet");
    const put = await c.s3("PUT", "/tagb?tagging", {
      body: tagDoc([
        ["env", "prod"],
        ["owner", "a &amp; b"],
      ]),
    });
    assert.equal(put.status, 204, put.text);
    const got = await c.s3("GET", "/tagb?tagging");
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(all(got.text, "Key"), ["env", "owner"]);
    assert.deepEqual(all(got.text, "Value"), ["prod", "a &amp; b"]);
    assert.equal((await c.s3("PUT", "/tagb?tagging", { body: tagDoc([["one", "1"]]) })).status, 204);
    assert.deepEqual(all((await c.s3("GET", "/tagb?tagging")).text, "Key"), ["one"]);
    // The bucket's objects and listing are untouched by its tags.
    assert.equal((await c.s3("GET", "/tagb")).status, 200);
    assert.equal((await c.s3("DELETE", "/tagb?tagging")).status, 204);
    assert.equal(code((await c.s3("GET", "/tagb?tagging")).text), "NoSuchTagSet");
  });

  test("a large tag set is kept in several pieces and read back whole", async () => {
    const tags = Array.from({ length: 12 }, (_, i): [string, string] => [
      `key-${i}`,
      `${"v".repeat(60)}${i}`,
    ]);
    const put = await c.s3("PUT", "/tagb?tagging", { body: tagDoc(tags) });
    assert.equal(put.status, 204, put.text);
    const got = await c.s3("GET", "/tagb?tagging");
    assert.deepEqual(
      all(got.text, "Key"),
      tags.map(([k]) => k),
    );
    assert.deepEqual(
      all(got.text, "Value"),
      tags.map(([, v]) => v),
    );
    // A smaller set replaces it without leftovers of the old pieces.
    assert.equal((await c.s3("PUT", "/tagb?tagging", { body: tagDoc([["k", "v"]]) })).status, 204);
    assert.deepEqual(all((await c.s3("GET", "/tagb?tagging")).text, "Key"), ["k"]);
  });

  test("S3's bounds and malformed documents are refused; a missing bucket is NoSuchBucket", async () => {
    const many = Array.from({ length: 51 }, (_, i): [string, string] => [`k${i}`, "v"]);
    const tooMany = await c.s3("PUT", "/tagb?tagging", { body: tagDoc(many) });
    assert.equal(tooMany.status, 400);
    const longKey = await c.s3("PUT", "/tagb?tagging", { body: tagDoc([["k".repeat(129), "v"]]) });
    assert.equal(code(longKey.text), "InvalidTag");
    const longValue = await c.s3("PUT", "/tagb?tagging", { body: tagDoc([["k", "v".repeat(257)]]) });
    assert.equal(code(longValue.text), "InvalidTag");
    const dup = await c.s3("PUT", "/tagb?tagging", {
      body: tagDoc([
        ["d", "1"],
        ["d", "2"],
      ]),
    });
    assert.equal(code(dup.text), "InvalidTag");
    assert.equal(code((await c.s3("PUT", "/tagb?tagging", { body: "nope" })).text), "MalformedXML");
    const noValue = "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>";
    assert.equal(code((await c.s3("PUT", "/tagb?tagging", { body: noValue })).text), "MalformedXML");
    assert.equal(code((await c.s3("GET", "/missing-b?tagging")).text), "NoSuchBucket");
    assert.equal(code((await c.s3("PUT", "/missing-b?tagging", { body: tagDoc([]) })).text), "NoSuchBucket");
    assert.equal(code((await c.s3("DELETE", "/missing-b?tagging")).text), "NoSuchBucket");
  });
});
