// Bucket versioning through the S3 API (onto Swift's object versioning): Get/PutBucketVersioning, versions kept on
// overwrite, reads and deletes by versionId, delete markers, ListObjectVersions paging, multipart versions and
// their S3 ETags in listings.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { bootS3Cloud, type S3Cloud } from "./s3-helpers.js";

let c: S3Cloud;
before(async () => {
  c = await bootS3Cloud({ object: { reapInterval: 0.1, s3MinPartSize: 1 } });
});
after(() => c.close());

const code = (xml: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
const all = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
const versioning = (status: string) =>
  `<VersioningConfiguration><Status>${status}</Status></VersioningConfiguration>`;
const blocks = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1]);

describe("S3 bucket versioning", () => {
  test("GetBucketVersioning is empty, then Enabled, then Suspended; bad documents are MalformedXML", async () => {
    assert.equal((await c.s3("PUT", "/vb1")).status, 200);
    const none = await c.s3("GET", "/vb1?versioning");
    assert.equal(none.status, 200);
    assert.deepEqual(all(none.text, "Status"), []);
    assert.equal((await c.s3("PUT", "/vb1?versioning", { body: versioning("Enabled") })).status, 200);
    assert.deepEqual(all((await c.s3("GET", "/vb1?versioning")).text, "Status"), ["Enabled"]);
    assert.equal((await c.s3("PUT", "/vb1?versioning", { body: versioning("Suspended") })).status, 200);
    assert.deepEqual(all((await c.s3("GET", "/vb1?versioning")).text, "Status"), ["Suspended"]);
    assert.equal(
      code((await c.s3("PUT", "/vb1?versioning", { body: versioning("On") })).text),
      "MalformedXML",
    );
    assert.equal(code((await c.s3("PUT", "/vb1?versioning", { body: "x" })).text), "MalformedXML");
    const missing = await c.s3("PUT", "/no-such-vb?versioning", { body: versioning("Enabled") });
    assert.equal(code(missing.text), "NoSuchBucket");
  });

  test("versions kept on overwrite, read by versionId, delete markers and their removal", async () => {
    await c.s3("PUT", "/vb2");
    await c.s3("PUT", "/vb2?versioning", { body: versioning("Enabled") });
    const p1 = await c.s3("PUT", "/vb2/k", { body: "first" });
    const v1 = p1.headers["x-amz-version-id"] as string;
    assert.match(v1, /^\d{10}\.\d{5}$/);
    const v2 = (await c.s3("PUT", "/vb2/k", { body: "second" })).headers["x-amz-version-id"] as string;
    const cur = await c.s3("GET", "/vb2/k");
    assert.equal(cur.text, "second");
    assert.equal(cur.headers["x-amz-version-id"], v2);
    assert.equal((await c.s3("GET", `/vb2/k?versionId=${v1}`)).text, "first");
    assert.equal((await c.s3("HEAD", `/vb2/k?versionId=${v1}`)).headers["x-amz-version-id"], v1);
    assert.equal((await c.s3("GET", "/vb2/k?versionId=bogus")).status, 400);
    const list = await c.s3("GET", "/vb2?versions");
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(all(list.text, "VersionId"), [v2, v1]);
    assert.deepEqual(all(list.text, "IsLatest"), ["true", "false"]);
    // DeleteObject leaves a delete marker.
    const del = await c.s3("DELETE", "/vb2/k");
    assert.equal(del.status, 204);
    assert.equal(del.headers["x-amz-delete-marker"], "true");
    const marker = del.headers["x-amz-version-id"] as string;
    assert.equal(code((await c.s3("GET", "/vb2/k")).text), "NoSuchKey");
    const withMarker = await c.s3("GET", "/vb2?versions");
    assert.deepEqual(
      blocks(withMarker.text, "DeleteMarker").map((b) => all(b, "VersionId")[0]),
      [marker],
    );
    assert.deepEqual(
      blocks(withMarker.text, "Version").map((b) => all(b, "VersionId")[0]),
      [v2, v1],
    );
    // Markers and versions interleave newest first.
    assert.deepEqual(all(withMarker.text, "VersionId"), [marker, v2, v1]);
    assert.ok(withMarker.text.indexOf("<DeleteMarker>") < withMarker.text.indexOf("<Version>"));
    const readMarker = await c.s3("GET", `/vb2/k?versionId=${marker}`);
    assert.equal(readMarker.status, 405);
    assert.equal(readMarker.headers["x-amz-delete-marker"], "true");
    // Removing the marker brings the object back; removing a version leaves the others.
    const undo = await c.s3("DELETE", `/vb2/k?versionId=${marker}`);
    assert.equal(undo.status, 204);
    assert.equal(undo.headers["x-amz-delete-marker"], "true");
    assert.equal((await c.s3("GET", "/vb2/k")).text, "second");
    assert.equal((await c.s3("DELETE", `/vb2/k?versionId=${v2}`)).status, 204);
    assert.equal((await c.s3("GET", "/vb2/k")).text, "first");
    assert.equal(
      (await c.s3("DELETE", `/vb2/k?versionId=${v2}`)).status,
      204,
      "a missing version is no error",
    );
    // Deleting a key that is not there leaves a delete marker too.
    const ghost = await c.s3("DELETE", "/vb2/ghost");
    assert.equal(ghost.status, 204);
    assert.equal(ghost.headers["x-amz-delete-marker"], "true");
    const gid = ghost.headers["x-amz-version-id"] as string;
    assert.equal((await c.s3("DELETE", `/vb2/ghost?versionId=${gid}`)).status, 204);
    // A bucket with versions is not empty.
    assert.equal(code((await c.s3("DELETE", "/vb2")).text), "BucketNotEmpty");
    const multi = await c.s3("POST", "/vb2?delete", {
      body: `<Delete><Object><Key>k</Key><VersionId>${v1}</VersionId></Object></Delete>`,
    });
    assert.equal(multi.status, 200, multi.text);
    assert.deepEqual(all(multi.text, "VersionId"), [v1]);
    assert.equal((await c.s3("DELETE", "/vb2")).status, 204);
  });

  test("ListObjectVersions pages with key-marker and version-id-marker, and takes prefix and delimiter", async () => {
    await c.s3("PUT", "/vb3");
    await c.s3("PUT", "/vb3?versioning", { body: versioning("Enabled") });
    for (const k of ["a", "a", "a", "dir/x", "z"]) await c.s3("PUT", `/vb3/${k}`, { body: k });
    const seen: Array<[string, string]> = [];
    let q = "max-keys=2";
    for (let i = 0; i < 10; i++) {
      const r = await c.s3("GET", `/vb3?versions&${q}`);
      assert.equal(r.status, 200, r.text);
      const vs = blocks(r.text, "Version").map((b): [string, string] => [
        all(b, "Key")[0],
        all(b, "VersionId")[0],
      ]);
      seen.push(...vs);
      if (all(r.text, "IsTruncated")[0] !== "true") break;
      const km = all(r.text, "NextKeyMarker")[0];
      const vm = all(r.text, "NextVersionIdMarker")[0];
      q = `max-keys=2&key-marker=${encodeURIComponent(km)}&version-id-marker=${vm}`;
    }
    assert.deepEqual(
      seen.map(([k]) => k),
      ["a", "a", "a", "dir/x", "z"],
    );
    assert.equal(new Set(seen.map(([, v]) => v)).size, 5);
    const dir = await c.s3("GET", "/vb3?versions&delimiter=/");
    assert.deepEqual(all(dir.text, "Prefix").filter(Boolean), ["dir/"]);
    const pre = await c.s3("GET", "/vb3?versions&prefix=dir/");
    assert.deepEqual(all(pre.text, "Key"), ["dir/x"]);
    const bad = await c.s3("GET", "/vb3?versions&version-id-marker=1");
    assert.equal(code(bad.text), "InvalidArgument");
  });

  test("a multipart object's versions keep their parts; deleting a version removes them", async () => {
    await c.s3("PUT", "/vb4");
    await c.s3("PUT", "/vb4?versioning", { body: versioning("Enabled") });
    const upload = async (data: string): Promise<string> => {
      const init = await c.s3("POST", "/vb4/mp?uploads");
      const id = all(init.text, "UploadId")[0];
      const part = await c.s3("PUT", `/vb4/mp?partNumber=1&uploadId=${id}`, { body: data });
      const done = await c.s3("POST", `/vb4/mp?uploadId=${id}`, {
        body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers.etag}</ETag></Part></CompleteMultipartUpload>`,
      });
      assert.equal(done.status, 200, done.text);
      return done.headers["x-amz-version-id"] as string;
    };
    const v1 = await upload("one-one");
    const v2 = await upload("two-two");
    assert.equal((await c.s3("GET", `/vb4/mp?versionId=${v1}`)).text, "one-one");
    const etag = (await c.s3("HEAD", `/vb4/mp?versionId=${v1}`)).headers.etag as string;
    assert.match(etag, /-1"$/);
    assert.equal((await c.s3("GET", "/vb4/mp")).text, "two-two");
    // Listings show the S3 ETag of multipart objects (s3_etag in Swift's JSON listing), as GET/HEAD do.
    const headV2 = (await c.s3("HEAD", "/vb4/mp")).headers.etag as string;
    assert.deepEqual(all((await c.s3("GET", "/vb4")).text, "ETag"), [headV2.replace(/"/g, "&quot;")]);
    const vlist = await c.s3("GET", "/vb4?versions");
    assert.deepEqual(
      all(vlist.text, "ETag"),
      [headV2, etag].map((e) => e.replace(/"/g, "&quot;")),
    );
    const swiftList = (await c.o.sw("GET", "/vb4?format=json")).json as Array<Record<string, unknown>>;
    assert.equal(swiftList[0].s3_etag, headV2);
    assert.equal(swiftList[0].content_type, "application/octet-stream");
    assert.equal((await c.s3("HEAD", "/vb4/mp")).headers["content-type"], "application/octet-stream");
    // DeleteObject leaves a marker and keeps both uploads' parts.
    assert.equal((await c.s3("DELETE", "/vb4/mp")).headers["x-amz-delete-marker"], "true");
    assert.equal((await c.s3("GET", `/vb4/mp?versionId=${v2}`)).text, "two-two");
    assert.equal((await c.s3("DELETE", `/vb4/mp?versionId=${v1}`)).status, 204);
    const segs = await c.o.sw("GET", "/vb4+segments?format=json");
    const names = (segs.json as Array<{ name: string }>).map((x) => x.name);
    assert.equal(names.length, 1, names.join(","));
  });

  test("suspended versioning: writes carry no version id and earlier versions stay", async () => {
    await c.s3("PUT", "/vb5");
    await c.s3("PUT", "/vb5?versioning", { body: versioning("Enabled") });
    const v1 = (await c.s3("PUT", "/vb5/k", { body: "kept" })).headers["x-amz-version-id"] as string;
    await c.s3("PUT", "/vb5?versioning", { body: versioning("Suspended") });
    const p = await c.s3("PUT", "/vb5/k", { body: "null" });
    assert.equal(p.headers["x-amz-version-id"], undefined);
    assert.equal((await c.s3("GET", `/vb5/k?versionId=${v1}`)).text, "kept");
    assert.equal((await c.s3("GET", "/vb5/k?versionId=null")).text, "null");
    const list = await c.s3("GET", "/vb5?versions");
    assert.deepEqual(all(list.text, "VersionId"), ["null", v1]);
  });
});
