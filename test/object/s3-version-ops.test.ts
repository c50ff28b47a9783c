// Operations on one object version through the S3 API: CopyObject and UploadPartCopy from
// `x-amz-copy-source: bucket/key?versionId=`, Get/Put/DeleteObjectTagging and Get/PutObjectAcl with `versionId`,
// and the errors for a version that is missing, malformed or a delete marker.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { bootS3Cloud, type S3Cloud } from "./s3-helpers.js";

let c: S3Cloud;
let v1: string;
let v2: string;
let marked: string;
before(async () => {
  c = await bootS3Cloud({ object: { reapInterval: 0.1, s3MinPartSize: 1 } });
  assert.equal((await c.s3("PUT", "/vops")).status, 200);
  const on = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
  assert.equal((await c.s3("PUT", "/vops?versioning", { body: on })).status, 200);
  const put = async (body: string, era: string): Promise<string> => {
    const r = await c.s3("PUT", "/vops/k", {
      body,
      headers: {
        "content-type": `text/x-${era}`,
        "x-amz-meta-era": era,
        "x-amz-tagging": `era=${era}`,
      },
    });
    assert.equal(r.status, 200, r.text);
    return r.headers["x-amz-version-id"] as string;
  };
  v1 = await put("old-bytes", "first");
  v2 = await put("newer-bytes", "second");
  // A key whose only version left is hidden behind a delete marker.
  await c.s3("PUT", "/vops/gone", { body: "x" });
  marked = (await c.s3("DELETE", "/vops/gone")).headers["x-amz-version-id"] as string;
});
after(() => c.close());

const code = (xml: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
const all = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
const copy = (to: string, source: string, headers: Record<string, string> = {}) =>
  c.s3("PUT", to, { headers: { "x-amz-copy-source": source, ...headers } });
const MISSING = "1000000000.00000";

describe("S3 copies from an object version", () => {
  test("CopyObject of an older version copies its bytes and metadata and names it in the answer", async () => {
    const r = await copy("/vops/copy1", `/vops/k?versionId=${v1}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers["x-amz-copy-source-version-id"], v1);
    assert.match(r.headers["x-amz-version-id"] as string, /^\d{10}\.\d{5}$/);
    const got = await c.s3("GET", "/vops/copy1");
    assert.equal(got.text, "old-bytes");
    assert.equal(got.headers["x-amz-meta-era"], "first");
    assert.equal(got.headers["content-type"], "text/x-first");
    assert.equal(got.headers["x-amz-tagging-count"], "1");
    // Without a versionId the current version is copied, and named too.
    const cur = await copy("/vops/copy2", "vops/k");
    assert.equal(cur.headers["x-amz-copy-source-version-id"], v2);
    assert.equal((await c.s3("GET", "/vops/copy2")).text, "newer-bytes");
  });

  test("metadata REPLACE keeps the copied version's tags; copying a version over its key restores it", async () => {
    const r = await copy("/vops/copy3", `vops/k?versionId=${v1}`, {
      "x-amz-metadata-directive": "REPLACE",
      "x-amz-meta-era": "replaced",
    });
    assert.equal(r.status, 200, r.text);
    const tags = await c.s3("GET", "/vops/copy3?tagging");
    assert.deepEqual(all(tags.text, "Value"), ["first"]);
    await c.s3("PUT", "/vops/r", { body: "r-one" });
    const r1 = (await c.s3("HEAD", "/vops/r")).headers["x-amz-version-id"] as string;
    await c.s3("PUT", "/vops/r", { body: "r-two" });
    // No metadata change is needed: naming a version makes it no copy of an object onto itself.
    const restore = await copy("/vops/r", `/vops/r?versionId=${r1}`);
    assert.equal(restore.status, 200, restore.text);
    assert.equal((await c.s3("GET", "/vops/r")).text, "r-one");
    assert.equal(all((await c.s3("GET", "/vops?versions&prefix=r")).text, "VersionId").length, 3);
    assert.equal(code((await copy("/vops/r", "/vops/r")).text), "InvalidRequest");
  });

  test("a missing version is NoSuchVersion, a malformed one InvalidArgument, a delete marker InvalidRequest", async () => {
    const missing = await copy("/vops/c4", `/vops/k?versionId=${MISSING}`);
    assert.equal(missing.status, 404);
    assert.equal(code(missing.text), "NoSuchVersion");
    const bad = await copy("/vops/c4", "/vops/k?versionId=junk");
    assert.equal(bad.status, 400);
    assert.equal(code(bad.text), "InvalidArgument");
    const marker = await copy("/vops/c4", `/vops/gone?versionId=${marked}`);
    assert.equal(marker.status, 400);
    assert.equal(code(marker.text), "InvalidRequest");
    assert.equal(code((await copy("/vops/c4", "/vops/k?other=1")).text), "InvalidArgument");
    assert.equal(code((await copy("/vops/c4", `/nobucket/k?versionId=${v1}`)).text), "NoSuchBucket");
    assert.equal(code((await copy("/nobucket/c4", `/vops/k?versionId=${v1}`)).text), "NoSuchBucket");
    assert.equal((await c.s3("HEAD", "/vops/c4")).status, 404, "nothing written");
    // GET of a missing version says so the same way.
    assert.equal(code((await c.s3("GET", `/vops/k?versionId=${MISSING}`)).text), "NoSuchVersion");
  });

  test("versionId=null copies the null version", async () => {
    await c.s3("PUT", "/plain");
    await c.s3("PUT", "/plain/n", { body: "null-version" });
    const r = await copy("/plain/n2", "/plain/n?versionId=null");
    assert.equal(r.status, 200, r.text);
    assert.equal((await c.s3("GET", "/plain/n2")).text, "null-version");
  });

  test("UploadPartCopy reads the version named, a range of it too", async () => {
    const init = await c.s3("POST", "/vops/mp?uploads");
    const id = all(init.text, "UploadId")[0];
    const part = await copy(`/vops/mp?partNumber=1&uploadId=${id}`, `vops/k?versionId=${v1}`, {
      "x-amz-copy-source-range": "bytes=0-3",
    });
    assert.equal(part.status, 200, part.text);
    assert.equal(part.headers["x-amz-copy-source-version-id"], v1);
    const etag = all(part.text, "ETag")[0].replace(/&quot;/g, '"');
    const missing = await copy(`/vops/mp?partNumber=2&uploadId=${id}`, `vops/k?versionId=${MISSING}`);
    assert.equal(code(missing.text), "NoSuchVersion");
    const marker = await copy(`/vops/mp?partNumber=2&uploadId=${id}`, `vops/gone?versionId=${marked}`);
    assert.equal(code(marker.text), "InvalidRequest");
    const done = await c.s3("POST", `/vops/mp?uploadId=${id}`, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`,
    });
    assert.equal(done.status, 200, done.text);
    assert.equal((await c.s3("GET", "/vops/mp")).text, "old-");
  });
});

describe("S3 tagging and ACLs of an object version", () => {
  test("each version has its own tags; only the current version's can change", async () => {
    const of = async (id: string) =>
      all((await c.s3("GET", `/vops/k?tagging&versionId=${id}`)).text, "Value");
    assert.deepEqual(await of(v1), ["first"]);
    assert.deepEqual(await of(v2), ["second"]);
    const get = await c.s3("GET", `/vops/k?tagging&versionId=${v1}`);
    assert.equal(get.headers["x-amz-version-id"], v1);
    const body = "<Tagging><TagSet><Tag><Key>era</Key><Value>changed</Value></Tag></TagSet></Tagging>";
    const put = await c.s3("PUT", `/vops/k?tagging&versionId=${v2}`, { body });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.headers["x-amz-version-id"], v2);
    assert.deepEqual(await of(v2), ["changed"]);
    assert.deepEqual(all((await c.s3("GET", "/vops/k?tagging")).text, "Value"), ["changed"]);
    assert.deepEqual(await of(v1), ["first"], "the older version's tags stay");
    const old = await c.s3("PUT", `/vops/k?tagging&versionId=${v1}`, { body });
    assert.equal(old.status, 501);
    assert.equal(code(old.text), "NotImplemented");
    assert.equal(code((await c.s3("DELETE", `/vops/k?tagging&versionId=${v1}`)).text), "NotImplemented");
    assert.equal((await c.s3("DELETE", `/vops/k?tagging&versionId=${v2}`)).status, 204);
    assert.deepEqual(await of(v2), []);
    assert.deepEqual(await of(v1), ["first"]);
    const missing = await c.s3("GET", `/vops/k?tagging&versionId=${MISSING}`);
    assert.equal(code(missing.text), "NoSuchVersion");
    assert.equal(
      code((await c.s3("PUT", `/vops/k?tagging&versionId=${MISSING}`, { body })).text),
      "NoSuchVersion",
    );
    assert.equal(code((await c.s3("GET", "/vops/k?tagging&versionId=junk")).text), "InvalidArgument");
    assert.equal((await c.s3("GET", `/vops/gone?tagging&versionId=${marked}`)).status, 405);
  });

  test("a version's ACL is its bucket's once it exists; PutObjectAcl on it as on the object", async () => {
    const acl = await c.s3("GET", `/vops/k?acl&versionId=${v1}`);
    assert.equal(acl.status, 200, acl.text);
    assert.deepEqual(all(acl.text, "Permission"), ["FULL_CONTROL"]);
    assert.equal(code((await c.s3("GET", `/vops/k?acl&versionId=${MISSING}`)).text), "NoSuchVersion");
    assert.equal(code((await c.s3("GET", "/vops/k?acl&versionId=junk")).text), "InvalidArgument");
    const markerAcl = await c.s3("GET", `/vops/gone?acl&versionId=${marked}`);
    assert.equal(markerAcl.status, 405);
    assert.equal(markerAcl.headers["x-amz-delete-marker"], "true");
    const same = await c.s3("PUT", `/vops/k?acl&versionId=${v1}`, { headers: { "x-amz-acl": "private" } });
    assert.equal(same.status, 200, same.text);
    const other = await c.s3("PUT", `/vops/k?acl&versionId=${v1}`, {
      headers: { "x-amz-acl": "public-read" },
    });
    assert.equal(code(other.text), "NotImplemented");
    const none = await c.s3("PUT", `/vops/k?acl&versionId=${MISSING}`, {
      headers: { "x-amz-acl": "private" },
    });
    assert.equal(code(none.text), "NoSuchVersion");
  });
});
