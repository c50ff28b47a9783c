// The S3 API in process, beyond the basics: SigV4 streaming (aws-chunked) uploads with every chunk's signature
// checked, canned and document ACLs as container ACLs, UploadPartCopy, object tagging, uploads of more than 1,000 parts (nested
// manifests), removal of an overwritten upload's parts, and virtual-hosted-style addressing (parts of 1 byte are
// allowed here: object.s3MinPartSize is 1).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { signChunked, signHeaders } from "../helpers/sigv4.js";
import { bootS3Cloud, demoKeys, type S3Cloud } from "./s3-helpers.js";

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");
const code = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
const all = (text: string, tag: string) =>
  [...text.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
const MiB = 1024 * 1024;

let c: S3Cloud;
before(async () => {
  c = await bootS3Cloud({ object: { s3Domain: "s3.test", reapInterval: 0.1, s3MinPartSize: 1 } });
  assert.equal((await c.s3("PUT", "/feat")).status, 200);
});
after(() => c.close());

/** A streaming upload of `data` to `url` (below /s3) in chunks of `chunk` bytes. */
const chunked = (url: string, data: Buffer, chunk: number, extra: { tamper?: number } = {}) => {
  const { headers, body } = signChunked(c.keys, {
    method: "PUT",
    url: `/s3${url}`,
    headers: { "content-type": "text/x-chunked" },
    data,
    chunk,
    ...extra,
  });
  return c.raw("PUT", url, headers, body);
};

describe("S3 streaming (aws-chunked) uploads", () => {
  test("a chunked PutObject stores the decoded data; aws-chunked is not kept as the object's encoding", async () => {
    const data = Buffer.from("x".repeat(200_000) + "end");
    const r = await chunked("/feat/chunked.txt", data, 65536);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, `"${md5(data)}"`);
    const got = await c.s3("GET", "/feat/chunked.txt");
    assert.ok(got.body.equals(data));
    assert.equal(got.headers["content-type"], "text/x-chunked");
    assert.equal(got.headers["content-encoding"], undefined);
    const empty = await chunked("/feat/empty", Buffer.alloc(0), 65536);
    assert.equal(empty.status, 200, empty.text);
    assert.equal((await c.s3("GET", "/feat/empty")).body.length, 0);
  });

  test("a chunk whose data does not match its signature fails the upload and stores nothing", async () => {
    const data = Buffer.from("abcdefghij".repeat(20_000));
    const r = await chunked("/feat/tampered", data, 65536, { tamper: 1 });
    assert.equal(r.status, 403, r.text);
    assert.equal(code(r.text), "SignatureDoesNotMatch");
    assert.equal((await c.s3("HEAD", "/feat/tampered")).status, 404);
    // The final (empty) chunk's signature counts too.
    const { headers, body } = signChunked(c.keys, {
      method: "PUT",
      url: "/s3/feat/tail",
      data,
      chunk: 65536,
    });
    const cut = body
      .toString("latin1")
      .replace(/\r\n0;chunk-signature=[0-9a-f]{64}/, `\r\n0;chunk-signature=${"0".repeat(64)}`);
    const bad = await c.raw("PUT", "/feat/tail", headers, Buffer.from(cut, "latin1"));
    assert.equal(bad.status, 403, bad.text);
    assert.equal((await c.s3("HEAD", "/feat/tail")).status, 404);
  });

  test("bad framing is IncompleteBody; a decoded length is required; other streaming payloads are NotImplemented", async () => {
    const data = Buffer.from("0123456789".repeat(1000));
    const { headers, body } = signChunked(c.keys, {
      method: "PUT",
      url: "/s3/feat/framing",
      data,
      chunk: 4096,
    });
    const broken = Buffer.from(body.toString("latin1").replace(/^1000;/, "zzzz;"), "latin1");
    const r = await c.raw("PUT", "/feat/framing", headers, broken);
    assert.equal(r.status, 400, r.text);
    assert.equal(code(r.text), "IncompleteBody");
    assert.equal((await c.s3("HEAD", "/feat/framing")).status, 404);
    const noLength = { ...headers };
    delete noLength["x-amz-decoded-content-length"];
    const signedAgain = signHeaders(c.keys, {
      method: "PUT",
      url: "/s3/feat/framing",
      headers: { "content-length": String(body.length), "content-encoding": "aws-chunked" },
      payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    });
    const missing = await c.raw("PUT", "/feat/framing", signedAgain, body);
    assert.equal(missing.status, 411, missing.text);
    const trailer = signHeaders(c.keys, {
      method: "PUT",
      url: "/s3/feat/framing",
      headers: { "content-length": "0" },
      payload: "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    });
    assert.equal(code((await c.raw("PUT", "/feat/framing", trailer, "")).text), "NotImplemented");
  });

  test("UploadPart takes a streaming body too", async () => {
    const id = all((await c.s3("POST", "/feat/parts?uploads")).text, "UploadId")[0];
    const part = Buffer.alloc(5 * MiB + 10, 7);
    const r = await chunked(`/feat/parts?partNumber=1&uploadId=${id}`, part, 1 * MiB);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, `"${md5(part)}"`);
    const doc = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${r.headers.etag}</ETag></Part></CompleteMultipartUpload>`;
    assert.equal((await c.s3("POST", `/feat/parts?uploadId=${id}`, { body: doc })).status, 200);
    assert.equal((await c.s3("HEAD", "/feat/parts")).headers["content-length"], String(part.length));
  });
});

describe("S3 ACLs", () => {
  test("canned ACLs on CreateBucket and PutBucketAcl are the container's read and write ACLs", async () => {
    const r = await c.s3("PUT", "/pubbucket", { headers: { "x-amz-acl": "public-read" } });
    assert.equal(r.status, 200, r.text);
    const sw = await c.o.sw("HEAD", "/pubbucket");
    assert.equal(sw.headers["x-container-read"], ".r:*,.rlistings");
    await c.s3("PUT", "/pubbucket/doc", { body: "public data" });
    // Anyone reads it through Swift, without a token.
    const anon = await c.o.sw("GET", "/pubbucket/doc", { token: null });
    assert.equal(anon.status, 200);
    assert.equal(anon.text, "public data");
    const acl = await c.s3("GET", "/pubbucket?acl");
    assert.equal(acl.status, 200, acl.text);
    assert.deepEqual(all(acl.text, "Permission"), ["FULL_CONTROL", "READ"]);
    assert.match(
      acl.text,
      /xsi:type="Group"><URI>http:\/\/acs.amazonaws.com\/groups\/global\/AllUsers<\/URI>/,
    );
    assert.deepEqual(all((await c.s3("GET", "/pubbucket/doc?acl")).text, "Permission"), [
      "FULL_CONTROL",
      "READ",
    ]);
    // Back to private: the ACL is removed.
    assert.equal((await c.s3("PUT", "/pubbucket?acl", { headers: { "x-amz-acl": "private" } })).status, 200);
    assert.equal((await c.o.sw("HEAD", "/pubbucket")).headers["x-container-read"], undefined);
    assert.equal((await c.o.sw("GET", "/pubbucket/doc", { token: null })).status, 401);
    assert.deepEqual(all((await c.s3("GET", "/pubbucket?acl")).text, "Permission"), ["FULL_CONTROL"]);
    const rw = await c.s3("PUT", "/pubbucket?acl", { headers: { "x-amz-acl": "public-read-write" } });
    assert.equal(rw.status, 200);
    assert.equal((await c.o.sw("HEAD", "/pubbucket")).headers["x-container-write"], "*:*");
    assert.deepEqual(all((await c.s3("GET", "/pubbucket?acl")).text, "Permission"), [
      "FULL_CONTROL",
      "READ",
      "WRITE",
    ]);
  });

  test("an AccessControlPolicy document sets the same grants; unsupported grants and names are refused", async () => {
    assert.equal((await c.s3("PUT", "/aclbucket")).status, 200);
    const doc = (grants: string) =>
      `<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
    const group = (g: string, p: string) =>
      `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/${g}</URI></Grantee><Permission>${p}</Permission></Grant>`;
    const r = await c.s3("PUT", "/aclbucket?acl", { body: doc(group("AuthenticatedUsers", "READ")) });
    assert.equal(r.status, 200, r.text);
    assert.equal((await c.o.sw("HEAD", "/aclbucket")).headers["x-container-read"], "*:*");
    assert.match((await c.s3("GET", "/aclbucket?acl")).text, /AuthenticatedUsers/);
    const acp = await c.s3("PUT", "/aclbucket?acl", { body: doc(group("AllUsers", "READ_ACP")) });
    assert.equal(code(acp.text), "NotImplemented");
    const bad = await c.s3("PUT", "/aclbucket?acl", { headers: { "x-amz-acl": "nonsense" } });
    assert.equal(bad.status, 400);
    assert.equal(code(bad.text), "InvalidArgument");
    assert.equal(code((await c.s3("PUT", "/aclbucket?acl", { body: "<nope/>" })).text), "MalformedACLError");
    const grant = await c.s3("PUT", "/aclbucket?acl", { headers: { "x-amz-grant-read": "uri=x" } });
    assert.equal(code(grant.text), "NotImplemented");
    assert.equal(code((await c.s3("GET", "/nosuchbucket?acl")).text), "NoSuchBucket");
    assert.equal(code((await c.s3("GET", "/aclbucket/nokey?acl")).text), "NoSuchKey");
  });

  test("objects have their bucket's ACL: the same canned ACL is accepted, another is NotImplemented", async () => {
    assert.equal((await c.s3("PUT", "/objacl")).status, 200);
    const priv = await c.s3("PUT", "/objacl/a", { body: "a", headers: { "x-amz-acl": "private" } });
    assert.equal(priv.status, 200, priv.text);
    const owner = await c.s3("PUT", "/objacl/b", {
      body: "b",
      headers: { "x-amz-acl": "bucket-owner-full-control" },
    });
    assert.equal(owner.status, 200, owner.text);
    const pub = await c.s3("PUT", "/objacl/c", { body: "c", headers: { "x-amz-acl": "public-read" } });
    assert.equal(pub.status, 501);
    assert.equal(code(pub.text), "NotImplemented");
    assert.equal((await c.s3("HEAD", "/objacl/c")).status, 404);
    assert.equal((await c.s3("PUT", "/objacl/a?acl", { headers: { "x-amz-acl": "private" } })).status, 200);
    assert.equal(
      (await c.s3("PUT", "/objacl/a?acl", { headers: { "x-amz-acl": "public-read" } })).status,
      501,
    );
  });
});

describe("S3 UploadPartCopy", () => {
  test("parts copied from objects, whole or by range, complete into the object", async () => {
    const src = Buffer.concat([Buffer.alloc(5 * MiB, 3), Buffer.from("0123456789")]);
    assert.equal((await c.s3("PUT", "/feat/copy-src", { body: src })).status, 200);
    const id = all((await c.s3("POST", "/feat/copied?uploads")).text, "UploadId")[0];
    const whole = await c.s3("PUT", `/feat/copied?partNumber=1&uploadId=${id}`, {
      headers: { "x-amz-copy-source": "/feat/copy-src" },
    });
    assert.equal(whole.status, 200, whole.text);
    assert.equal(all(whole.text, "ETag")[0], `&quot;${md5(src)}&quot;`);
    assert.match(whole.text, /<CopyPartResult[^>]*><LastModified>\d{4}-/);
    const ranged = await c.s3("PUT", `/feat/copied?partNumber=2&uploadId=${id}`, {
      headers: {
        "x-amz-copy-source": "feat/copy-src",
        "x-amz-copy-source-range": `bytes=${5 * MiB + 2}-${5 * MiB + 5}`,
      },
    });
    assert.equal(ranged.status, 200, ranged.text);
    assert.equal(all(ranged.text, "ETag")[0], `&quot;${md5("2345")}&quot;`);
    const doc = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"${md5(src)}"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>"${md5("2345")}"</ETag></Part></CompleteMultipartUpload>`;
    const done = await c.s3("POST", `/feat/copied?uploadId=${id}`, { body: doc });
    assert.equal(done.status, 200, done.text);
    const got = await c.s3("GET", "/feat/copied");
    assert.ok(got.body.equals(Buffer.concat([src, Buffer.from("2345")])));
  });

  test("bad ranges, missing sources, failed conditions", async () => {
    await c.s3("PUT", "/feat/small-src", { body: "small" });
    const id = all((await c.s3("POST", "/feat/bad-copy?uploads")).text, "UploadId")[0];
    const put = (headers: Record<string, string>) =>
      c.s3("PUT", `/feat/bad-copy?partNumber=1&uploadId=${id}`, { headers });
    const past = await put({
      "x-amz-copy-source": "feat/small-src",
      "x-amz-copy-source-range": "bytes=2-10",
    });
    assert.equal(code(past.text), "InvalidRange");
    const form = await put({ "x-amz-copy-source": "feat/small-src", "x-amz-copy-source-range": "2-3" });
    assert.equal(code(form.text), "InvalidArgument");
    assert.equal(code((await put({ "x-amz-copy-source": "feat/none" })).text), "NoSuchKey");
    assert.equal(code((await put({ "x-amz-copy-source": "nobucket/x" })).text), "NoSuchBucket");
    const cond = await put({ "x-amz-copy-source": "feat/small-src", "x-amz-copy-source-if-match": '"nope"' });
    assert.equal(cond.status, 412);
    assert.equal(code(cond.text), "PreconditionFailed");
    const lp = await c.s3("GET", `/feat/bad-copy?uploadId=${id}`);
    assert.deepEqual(all(lp.text, "PartNumber"), [], "no part was stored");
  });
});

describe("S3 large uploads and overwrites", () => {
  /** Upload parts (in parallel batches) and complete them; the parts' data. */
  const upload = async (key: string, count: number, tag: string) => {
    const id = all((await c.s3("POST", `/feat/${key}?uploads`)).text, "UploadId")[0];
    const parts = Array.from({ length: count }, (_, i) => Buffer.from(`${tag}${i + 1};`));
    for (let i = 0; i < count; i += 25)
      await Promise.all(
        parts.slice(i, i + 25).map(async (p, j) => {
          const r = await c.s3("PUT", `/feat/${key}?partNumber=${i + j + 1}&uploadId=${id}`, { body: p });
          assert.equal(r.status, 200, r.text);
        }),
      );
    const doc = `<CompleteMultipartUpload>${parts.map((p, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"${md5(p)}"</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
    const done = await c.s3("POST", `/feat/${key}?uploadId=${id}`, { body: doc });
    assert.equal(done.status, 200, done.text);
    const etag = `"${md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), "hex"))))}-${count}"`;
    assert.equal(all(done.text, "ETag")[0], etag.replace(/"/g, "&quot;"));
    return { id, data: Buffer.concat(parts), etag };
  };
  const segments = async () =>
    ((await c.o.sw("GET", "/feat+segments?format=json")).json as Array<{ name: string }>).map((o) => o.name);

  test("more than 1,000 parts complete into nested manifests; ETag, data and ranges are the whole upload's", async () => {
    const { id, data, etag } = await upload("many", 1003, "p");
    const got = await c.s3("GET", "/feat/many");
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(data));
    assert.equal(got.headers.etag, etag);
    assert.equal((await c.s3("HEAD", "/feat/many")).headers.etag, etag);
    const tail = await c.s3("GET", "/feat/many", { headers: { range: `bytes=${data.length - 6}-` } });
    assert.equal(tail.text, "p1003;");
    // By part number, the parts are the upload's, not the sub-manifests.
    for (const n of [1, 1000, 1001, 1003]) {
      const part = await c.s3("GET", `/feat/many?partNumber=${n}`);
      assert.equal(part.status, 206, part.text);
      assert.equal(part.text, `p${n};`);
      assert.equal(part.headers["x-amz-mp-parts-count"], "1003");
      assert.equal(part.headers.etag, etag);
      const start = data.indexOf(`p${n};`);
      assert.equal(
        part.headers["content-range"],
        `bytes ${start}-${start + part.text.length - 1}/${data.length}`,
      );
    }
    assert.equal(code((await c.s3("GET", "/feat/many?partNumber=1004")).text), "InvalidPartNumber");
    const names = await segments();
    assert.ok(names.includes(`many/${id}/manifest-1`) && names.includes(`many/${id}/manifest-2`));
    // Overwritten by a plain object: the upload's parts and sub-manifests go.
    assert.equal((await c.s3("PUT", "/feat/many", { body: "plain now" })).status, 200);
    assert.deepEqual(
      (await segments()).filter((n) => n.startsWith("many/")),
      [],
    );
    assert.equal((await c.s3("GET", "/feat/many")).text, "plain now");
  });

  test("an upload completed over another upload's object removes the old parts; a copy over one does too", async () => {
    const first = await upload("twice", 3, "a");
    const second = await upload("twice", 2, "b");
    const names = (await segments()).filter((n) => n.startsWith("twice/"));
    assert.ok(
      names.every((n) => n.startsWith(`twice/${second.id}/`)),
      names.join(","),
    );
    assert.ok(!names.some((n) => n.includes(first.id)));
    assert.ok((await c.s3("GET", "/feat/twice")).body.equals(second.data));
    const cp = await c.s3("PUT", "/feat/twice", {
      headers: { "x-amz-copy-source": "/feat/twice", "x-amz-metadata-directive": "REPLACE" },
    });
    assert.equal(cp.status, 200, cp.text);
    assert.ok((await c.s3("GET", "/feat/twice")).body.equals(second.data), "the copy flattened the data");
    assert.deepEqual(
      (await segments()).filter((n) => n.startsWith("twice/")),
      [],
    );
  });
});

describe("S3 object tagging", () => {
  const tagDoc = (tags: Array<[string, string]>) =>
    `<Tagging><TagSet>${tags.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join("")}</TagSet></Tagging>`;

  test("x-amz-tagging on PUT, Get/Put/DeleteObjectTagging, the count on GET, user metadata untouched", async () => {
    const put = await c.s3("PUT", "/feat/tagged", {
      body: "t",
      headers: { "x-amz-tagging": "color=blue&size=big%20one", "x-amz-meta-keep": "me" },
    });
    assert.equal(put.status, 200, put.text);
    const get = await c.s3("GET", "/feat/tagged?tagging");
    assert.equal(get.status, 200, get.text);
    assert.deepEqual(all(get.text, "Key"), ["color", "size"]);
    assert.deepEqual(all(get.text, "Value"), ["blue", "big one"]);
    const obj = await c.s3("GET", "/feat/tagged");
    assert.equal(obj.headers["x-amz-tagging-count"], "2");
    assert.equal(obj.headers["x-amz-meta-keep"], "me");
    assert.equal(obj.headers["x-amz-meta-s3api-tagging"], undefined);
    const set = await c.s3("PUT", "/feat/tagged?tagging", { body: tagDoc([["only", "one"]]) });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(all((await c.s3("GET", "/feat/tagged?tagging")).text, "Key"), ["only"]);
    assert.equal((await c.s3("HEAD", "/feat/tagged")).headers["x-amz-meta-keep"], "me");
    assert.equal((await c.s3("DELETE", "/feat/tagged?tagging")).status, 204);
    assert.deepEqual(all((await c.s3("GET", "/feat/tagged?tagging")).text, "Key"), []);
    assert.equal((await c.s3("HEAD", "/feat/tagged")).headers["x-amz-tagging-count"], undefined);
  });

  test("copies keep or replace tags; bad tag sets and missing objects are refused", async () => {
    await c.s3("PUT", "/feat/tsrc", { body: "s", headers: { "x-amz-tagging": "a=1" } });
    await c.s3("PUT", "/feat/tdst", { headers: { "x-amz-copy-source": "/feat/tsrc" } });
    assert.deepEqual(all((await c.s3("GET", "/feat/tdst?tagging")).text, "Key"), ["a"]);
    await c.s3("PUT", "/feat/tdst", {
      headers: { "x-amz-copy-source": "/feat/tsrc", "x-amz-metadata-directive": "REPLACE" },
    });
    assert.deepEqual(all((await c.s3("GET", "/feat/tdst?tagging")).text, "Key"), ["a"], "tags copied");
    await c.s3("PUT", "/feat/tdst", {
      headers: {
        "x-amz-copy-source": "/feat/tsrc",
        "x-amz-tagging-directive": "REPLACE",
        "x-amz-tagging": "b=2",
      },
    });
    assert.deepEqual(all((await c.s3("GET", "/feat/tdst?tagging")).text, "Key"), ["b"]);
    const many = Array.from({ length: 11 }, (_, i): [string, string] => [`k${i}`, "v"]);
    assert.equal((await c.s3("PUT", "/feat/tsrc?tagging", { body: tagDoc(many) })).status, 400);
    const dup = await c.s3("PUT", "/feat/tsrc?tagging", {
      body: tagDoc([
        ["x", "1"],
        ["x", "2"],
      ]),
    });
    assert.equal(code(dup.text), "InvalidTag");
    assert.equal(code((await c.s3("PUT", "/feat/tsrc?tagging", { body: "<nope/>" })).text), "MalformedXML");
    assert.equal(code((await c.s3("GET", "/feat/none?tagging")).text), "NoSuchKey");
    assert.equal(code((await c.s3("GET", "/feat?tagging")).text), "NoSuchTagSet");
    assert.equal(
      code((await c.s3("PUT", "/feat/x", { body: "x", headers: { "x-amz-tagging": "%zz" } })).text),
      "InvalidArgument",
    );
  });
});

describe("S3 key pairs checked in the S3 layer", () => {
  test("a key pair deleted in identity is refused at once, though it was just used; a wrong secret still fails", async () => {
    const keys = await demoKeys(c.o);
    assert.equal((await c.s3("GET", "/", { keys })).status, 200);
    assert.equal((await c.s3("GET", "/feat?max-keys=1", { keys })).status, 200, "from the kept secret");
    const wrong = await c.s3("GET", "/", { keys: { access: keys.access, secret: "not-it" } });
    assert.equal(wrong.status, 403);
    assert.equal(code(wrong.text), "SignatureDoesNotMatch");
    const uid = await c.o.t.userId("demo");
    const del = await c.o.t.req("DELETE", `/identity/v3/users/${uid}/credentials/OS-EC2/${keys.access}`, {
      token: c.o.demo,
    });
    assert.equal(del.status, 204, del.text);
    const after = await c.s3("GET", "/", { keys });
    assert.equal(after.status, 403);
    assert.equal(code(after.text), "InvalidAccessKeyId");
  });
});

describe("S3 virtual-hosted-style addressing", () => {
  /** A signed request with the bucket in the Host header (<bucket>.s3.test). */
  const hosted = (method: string, bucket: string, path: string, body?: string) => {
    const host = `${bucket}.s3.test`;
    const headers = signHeaders(c.keys, {
      method,
      url: `/s3${path}`,
      host,
      headers: body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {},
      body,
    });
    return c.raw(method, path, headers, body);
  };

  test("the Host names the bucket and the path the key; listings and path-style see the same objects", async () => {
    assert.equal((await hosted("PUT", "vhost", "/")).status, 200);
    const put = await hosted("PUT", "vhost", "/dir/key.txt", "virtually hosted");
    assert.equal(put.status, 200, put.text);
    assert.equal((await hosted("GET", "vhost", "/dir/key.txt")).text, "virtually hosted");
    assert.equal((await c.s3("GET", "/vhost/dir/key.txt")).text, "virtually hosted");
    const list = await hosted("GET", "vhost", "/?list-type=2");
    assert.deepEqual(all(list.text, "Key"), ["dir/key.txt"]);
    assert.equal(all(list.text, "Name")[0], "vhost");
    assert.equal(code((await hosted("GET", "nosuch", "/k")).text), "NoSuchBucket");
    // A host outside the domain is path-style as before.
    const plain = signHeaders(c.keys, {
      method: "GET",
      url: "/s3/vhost/dir/key.txt",
      host: "other.example:80",
    });
    assert.equal((await c.raw("GET", "/vhost/dir/key.txt", plain)).text, "virtually hosted");
  });
});
