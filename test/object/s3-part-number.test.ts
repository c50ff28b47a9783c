// GetObject and HeadObject by part number (`?partNumber=N`, as S3 and Swift's s3api): a multipart upload's object
// answers each part (206, its Content-Range, x-amz-mp-parts-count, the multipart ETag), any other object has one
// part; the errors for parts past the end, bad values and a Range beside partNumber; an older version's parts;
// conditions (the multipart ETag in If-Match / If-None-Match, with and without partNumber); and the same
// authorization as a plain GET; and, against a scripted Swift, the read starting over when the object is replaced
// between its Swift requests. Parts of any size are allowed here (object.s3MinPartSize is 1).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type { Ctx } from "../../src/object/api/request.js";
import type { S3Error } from "../../src/object/s3/errors.js";
import { getObject } from "../../src/object/s3/object.js";
import type { SwiftClient, SwiftReq, SwiftRes } from "../../src/object/s3/swift.js";
import { bootS3Cloud, type S3Cloud, type S3Res } from "./s3-helpers.js";

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");
const code = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
const tag = (text: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1];
const multipartEtag = (parts: Buffer[]) =>
  `"${md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), "hex"))))}-${parts.length}"`;

let c: S3Cloud;
// Three parts of different sizes: two stored as files, the last small enough to be kept inline.
const PARTS = [randomBytes(150_001), randomBytes(70_003), randomBytes(12_345)];
const WHOLE = Buffer.concat(PARTS);
const ETAG = multipartEtag(PARTS);

/** A multipart upload of `parts` to bucket/key (headers on its creation); the completed object's version id. */
async function upload(
  bucket: string,
  key: string,
  parts: Buffer[],
  headers: Record<string, string> = {},
): Promise<string | undefined> {
  const created = await c.s3("POST", `/${bucket}/${key}?uploads`, { headers });
  assert.equal(created.status, 200, created.text);
  const id = tag(created.text, "UploadId") as string;
  for (const [i, p] of parts.entries()) {
    const r = await c.s3("PUT", `/${bucket}/${key}?partNumber=${i + 1}&uploadId=${id}`, { body: p });
    assert.equal(r.status, 200, r.text);
  }
  const doc = `<CompleteMultipartUpload>${parts.map((p, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"${md5(p)}"</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
  const done = await c.s3("POST", `/${bucket}/${key}?uploadId=${id}`, { body: doc });
  assert.equal(done.status, 200, done.text);
  return done.headers["x-amz-version-id"] as string | undefined;
}

/** The bytes [start, end] of part n (1-based) of `parts`, as Content-Range shows them. */
function span(parts: Buffer[], n: number): string {
  const start = parts.slice(0, n - 1).reduce((a, p) => a + p.length, 0);
  const total = parts.reduce((a, p) => a + p.length, 0);
  return `bytes ${start}-${start + parts[n - 1].length - 1}/${total}`;
}

/** An S3 error answer: status, code, message (HEAD answers have no body: status only). */
function refused(r: S3Res, status: number, errorCode?: string, message?: string) {
  assert.equal(r.status, status, r.text);
  if (errorCode !== undefined) assert.equal(code(r.text), errorCode, r.text);
  if (message !== undefined) assert.equal(tag(r.text, "Message"), message, r.text);
}

before(async () => {
  c = await bootS3Cloud({ object: { reapInterval: 0.1, s3MinPartSize: 1 } });
  assert.equal((await c.s3("PUT", "/pnum")).status, 200);
  await upload("pnum", "mp", PARTS, { "content-type": "application/x-parts", "x-amz-meta-kind": "three" });
  assert.equal((await c.s3("PUT", "/pnum/plain", { body: "plain bytes" })).status, 200);
  assert.equal((await c.s3("PUT", "/pnum/empty", { body: "" })).status, 200);
});
after(() => c.close());

describe("S3 GET and HEAD by part number of a multipart upload's object", () => {
  test("GET ?partNumber=N answers exactly part N: 206, Content-Range, the multipart ETag and the parts count", async () => {
    const plain = await c.s3("GET", "/pnum/mp");
    assert.equal(plain.headers.etag, ETAG);
    assert.equal(plain.headers["x-amz-mp-parts-count"], undefined, "only a read by part number counts parts");
    for (const n of [1, 2, 3]) {
      const r = await c.s3("GET", `/pnum/mp?partNumber=${n}`);
      assert.equal(r.status, 206, r.text);
      assert.ok(r.body.equals(PARTS[n - 1]), `part ${n}'s bytes`);
      assert.equal(r.headers["content-length"], String(PARTS[n - 1].length));
      assert.equal(r.headers["content-range"], span(PARTS, n));
      assert.equal(r.headers.etag, ETAG);
      assert.equal(r.headers["x-amz-mp-parts-count"], "3");
      assert.equal(r.headers["content-type"], "application/x-parts");
      assert.equal(r.headers["x-amz-meta-kind"], "three");
      assert.equal(r.headers["last-modified"], plain.headers["last-modified"]);
    }
    // The parts are the object's bytes in order.
    const n1 = PARTS[0].length;
    assert.equal(span(PARTS, 2), `bytes ${n1}-${n1 + PARTS[1].length - 1}/${WHOLE.length}`);
  });

  test("HEAD ?partNumber=N has the GET's headers and no body", async () => {
    for (const n of [1, 2, 3]) {
      const get = await c.s3("GET", `/pnum/mp?partNumber=${n}`);
      const r = await c.s3("HEAD", `/pnum/mp?partNumber=${n}`);
      assert.equal(r.status, 206);
      assert.equal(r.body.length, 0);
      for (const h of [
        "content-length",
        "content-range",
        "etag",
        "x-amz-mp-parts-count",
        "content-type",
        "last-modified",
        "x-amz-meta-kind",
      ])
        assert.equal(r.headers[h], get.headers[h], h);
    }
  });

  test("response-* overrides apply to a part", async () => {
    const r = await c.s3("GET", "/pnum/mp?partNumber=2&response-content-type=text%2Fx-override");
    assert.equal(r.status, 206);
    assert.equal(r.headers["content-type"], "text/x-override");
    assert.ok(r.body.equals(PARTS[1]));
  });

  test("a part past the last is InvalidPartNumber (416); past 10,000 InvalidArgument", async () => {
    for (const n of [4, 10000]) {
      refused(
        await c.s3("GET", `/pnum/mp?partNumber=${n}`),
        416,
        "InvalidPartNumber",
        "The requested partnumber is not satisfiable",
      );
      refused(await c.s3("HEAD", `/pnum/mp?partNumber=${n}`), 416);
    }
    const big = await c.s3("GET", "/pnum/mp?partNumber=10001");
    refused(big, 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
    assert.equal(tag(big.text, "ArgumentName"), "partNumber");
    assert.equal(tag(big.text, "ArgumentValue"), "10001");
    refused(await c.s3("HEAD", "/pnum/mp?partNumber=10001"), 400);
  });

  test("a partNumber that is no integer of at least 1 is InvalidArgument, before the object is looked up", async () => {
    for (const v of ["0", "-1", "-0", "abc", "1.5", "1e3", "", "0x1"]) {
      const r = await c.s3("GET", `/pnum/mp?partNumber=${v}`);
      refused(r, 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
      assert.equal(tag(r.text, "ArgumentName"), "partNumber");
      refused(await c.s3("HEAD", `/pnum/mp?partNumber=${v}`), 400);
      // Even for a key that does not exist.
      refused(await c.s3("GET", `/pnum/nokey?partNumber=${v}`), 400, "InvalidArgument");
    }
    // An explicit sign or leading zeros are still an integer (Python's int(), which s3api parses it with).
    for (const v of ["%2B2", "002"]) {
      const r = await c.s3("GET", `/pnum/mp?partNumber=${v}`);
      assert.equal(r.status, 206, r.text);
      assert.ok(r.body.equals(PARTS[1]));
    }
  });

  test("a Range beside partNumber is InvalidRequest, whatever the part; a Range Swift would ignore is ignored", async () => {
    const msg = "Cannot specify both Range header and partNumber query parameter";
    for (const v of ["1", "0", "7"]) {
      refused(
        await c.s3("GET", `/pnum/mp?partNumber=${v}`, { headers: { range: "bytes=1-2" } }),
        400,
        "InvalidRequest",
        msg,
      );
      refused(await c.s3("HEAD", `/pnum/mp?partNumber=${v}`, { headers: { range: "bytes=-5" } }), 400);
    }
    refused(
      await c.s3("GET", "/pnum/plain?partNumber=1", { headers: { range: "bytes=0-" } }),
      400,
      "InvalidRequest",
    );
    // Malformed ranges (reversed, not bytes) are ignored by Swift, so they do not conflict.
    for (const range of ["bytes=5-2", "items=0-1"]) {
      const r = await c.s3("GET", "/pnum/mp?partNumber=2", { headers: { range } });
      assert.equal(r.status, 206, r.text);
      assert.ok(r.body.equals(PARTS[1]));
    }
  });

  test("a missing key or bucket is NoSuchKey / NoSuchBucket", async () => {
    refused(await c.s3("GET", "/pnum/nokey?partNumber=1"), 404, "NoSuchKey");
    refused(await c.s3("HEAD", "/pnum/nokey?partNumber=1"), 404);
    refused(await c.s3("GET", "/nobucket/mp?partNumber=1"), 404, "NoSuchBucket");
  });

  test("more than three parts: every part of a 12-part upload, including single-byte ones", async () => {
    const parts = Array.from({ length: 12 }, (_, i) => randomBytes(i % 3 === 0 ? 1 : 1000 + i * 17));
    await upload("pnum", "twelve", parts);
    for (let n = 1; n <= 12; n++) {
      const r = await c.s3("GET", `/pnum/twelve?partNumber=${n}`);
      assert.equal(r.status, 206);
      assert.ok(r.body.equals(parts[n - 1]), `part ${n}`);
      assert.equal(r.headers["content-range"], span(parts, n));
      assert.equal(r.headers["x-amz-mp-parts-count"], "12");
      assert.equal(r.headers.etag, multipartEtag(parts));
    }
  });
});

describe("S3 GET and HEAD by part number of other objects", () => {
  test("a plain object is one part: part 1 is all of it (206 over the whole object), no parts count", async () => {
    const etag = `"${md5("plain bytes")}"`;
    const r = await c.s3("GET", "/pnum/plain?partNumber=1");
    assert.equal(r.status, 206, r.text);
    assert.equal(r.text, "plain bytes");
    assert.equal(r.headers["content-length"], "11");
    assert.equal(r.headers["content-range"], "bytes 0-10/11");
    assert.equal(r.headers.etag, etag);
    assert.equal(r.headers["x-amz-mp-parts-count"], undefined);
    const h = await c.s3("HEAD", "/pnum/plain?partNumber=1");
    assert.equal(h.status, 206);
    assert.equal(h.body.length, 0);
    assert.equal(h.headers["content-length"], "11");
    assert.equal(h.headers["content-range"], "bytes 0-10/11");
    assert.equal(h.headers.etag, etag);
  });

  test("a plain object's part 2 (up to 10,000) is InvalidPartNumber, past 10,000 InvalidArgument", async () => {
    for (const n of [2, 10000]) {
      refused(
        await c.s3("GET", `/pnum/plain?partNumber=${n}`),
        416,
        "InvalidPartNumber",
        "The requested partnumber is not satisfiable",
      );
      refused(await c.s3("HEAD", `/pnum/plain?partNumber=${n}`), 416);
    }
    refused(await c.s3("GET", "/pnum/plain?partNumber=10001"), 400, "InvalidArgument");
  });

  test("an empty object's part 1 is its (empty) whole: 200 without a Content-Range", async () => {
    for (const method of ["GET", "HEAD"]) {
      const r = await c.s3(method, "/pnum/empty?partNumber=1");
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.length, 0);
      assert.equal(r.headers["content-length"], "0");
      assert.equal(r.headers["content-range"], undefined);
      assert.equal(r.headers.etag, `"${md5("")}"`);
    }
    refused(await c.s3("GET", "/pnum/empty?partNumber=2"), 416, "InvalidPartNumber");
  });

  test("an upload of one part has that part only", async () => {
    const one = [randomBytes(3000)];
    await upload("pnum", "single", one);
    const r = await c.s3("GET", "/pnum/single?partNumber=1");
    assert.equal(r.status, 206);
    assert.ok(r.body.equals(one[0]));
    assert.equal(r.headers["content-range"], "bytes 0-2999/3000");
    assert.equal(r.headers["x-amz-mp-parts-count"], "1");
    assert.equal(r.headers.etag, multipartEtag(one));
    refused(await c.s3("GET", "/pnum/single?partNumber=2"), 416, "InvalidPartNumber");
  });
});

describe("S3 GET by part number of object versions", () => {
  let v1: string;
  let v2: string;
  let v3: string;
  const old = [randomBytes(20_000), randomBytes(30_000), randomBytes(7)];
  const newer = [randomBytes(9_000), randomBytes(4_000)];
  before(async () => {
    assert.equal((await c.s3("PUT", "/pnver")).status, 200);
    const on = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    assert.equal((await c.s3("PUT", "/pnver?versioning", { body: on })).status, 200);
    v1 = (await upload("pnver", "k", old)) as string;
    v2 = (await upload("pnver", "k", newer)) as string;
    const put = await c.s3("PUT", "/pnver/k", { body: "now plain" });
    v3 = put.headers["x-amz-version-id"] as string;
    assert.ok(v1 && v2 && v3 && new Set([v1, v2, v3]).size === 3);
  });

  test("versionId with partNumber reads that version's parts", async () => {
    for (const n of [1, 2, 3]) {
      const r = await c.s3("GET", `/pnver/k?versionId=${v1}&partNumber=${n}`);
      assert.equal(r.status, 206, r.text);
      assert.ok(r.body.equals(old[n - 1]), `old part ${n}`);
      assert.equal(r.headers["content-range"], span(old, n));
      assert.equal(r.headers["x-amz-mp-parts-count"], "3");
      assert.equal(r.headers.etag, multipartEtag(old));
      assert.equal(r.headers["x-amz-version-id"], v1);
    }
    const h = await c.s3("HEAD", `/pnver/k?versionId=${v2}&partNumber=2`);
    assert.equal(h.status, 206);
    assert.equal(h.headers["content-range"], span(newer, 2));
    assert.equal(h.headers["x-amz-mp-parts-count"], "2");
    assert.equal(h.headers["x-amz-version-id"], v2);
    const g = await c.s3("GET", `/pnver/k?versionId=${v2}&partNumber=2`);
    assert.ok(g.body.equals(newer[1]));
    refused(await c.s3("GET", `/pnver/k?versionId=${v2}&partNumber=3`), 416, "InvalidPartNumber");
  });

  test("the current version is a plain object: part 1 is it, part 2 none", async () => {
    const r = await c.s3("GET", "/pnver/k?partNumber=1");
    assert.equal(r.status, 206);
    assert.equal(r.text, "now plain");
    assert.equal(r.headers["x-amz-version-id"], v3);
    assert.equal(r.headers["x-amz-mp-parts-count"], undefined);
    refused(await c.s3("GET", "/pnver/k?partNumber=2"), 416, "InvalidPartNumber");
  });

  test("a missing version is NoSuchVersion, a malformed one InvalidArgument, a delete marker MethodNotAllowed", async () => {
    refused(await c.s3("GET", "/pnver/k?versionId=1000000000.00000&partNumber=1"), 404, "NoSuchVersion");
    refused(await c.s3("GET", "/pnver/k?versionId=nope&partNumber=1"), 400, "InvalidArgument");
    await c.s3("PUT", "/pnver/gone", { body: "x" });
    const marker = (await c.s3("DELETE", "/pnver/gone")).headers["x-amz-version-id"] as string;
    const r = await c.s3("GET", `/pnver/gone?versionId=${marker}&partNumber=1`);
    refused(r, 405, "MethodNotAllowed");
    assert.equal(r.headers["x-amz-delete-marker"], "true");
  });
});

describe("S3 conditions with the multipart ETag", () => {
  test("If-Match / If-None-Match with a part number compare the multipart ETag", async () => {
    const ok = await c.s3("GET", "/pnum/mp?partNumber=2", { headers: { "if-match": ETAG } });
    assert.equal(ok.status, 206, ok.text);
    assert.ok(ok.body.equals(PARTS[1]));
    const star = await c.s3("GET", "/pnum/mp?partNumber=2", { headers: { "if-match": "*" } });
    assert.equal(star.status, 206);
    refused(
      await c.s3("GET", "/pnum/mp?partNumber=2", { headers: { "if-match": `"${md5("x")}-3"` } }),
      412,
      "PreconditionFailed",
    );
    refused(await c.s3("GET", "/pnum/mp?partNumber=2", { headers: { "if-match": '"nope"' } }), 412);
    const nm = await c.s3("GET", "/pnum/mp?partNumber=2", { headers: { "if-none-match": ETAG } });
    assert.equal(nm.status, 304);
    assert.equal(nm.body.length, 0);
    assert.equal(nm.headers.etag, ETAG);
    assert.equal(
      (await c.s3("HEAD", "/pnum/mp?partNumber=1", { headers: { "if-none-match": ETAG } })).status,
      304,
    );
    const other = await c.s3("GET", "/pnum/mp?partNumber=3", {
      headers: { "if-none-match": `"${md5("x")}-3"` },
    });
    assert.equal(other.status, 206);
    assert.ok(other.body.equals(PARTS[2]));
  });

  test("date conditions with a part number: If-Modified-Since (304), If-Unmodified-Since (412)", async () => {
    const future = new Date(Date.now() + 3600_000).toUTCString();
    const past = new Date(Date.now() - 3600_000 * 24).toUTCString();
    assert.equal(
      (await c.s3("GET", "/pnum/mp?partNumber=1", { headers: { "if-modified-since": future } })).status,
      304,
    );
    assert.equal(
      (await c.s3("GET", "/pnum/mp?partNumber=1", { headers: { "if-modified-since": past } })).status,
      206,
    );
    refused(
      await c.s3("GET", "/pnum/mp?partNumber=1", { headers: { "if-unmodified-since": past } }),
      412,
      "PreconditionFailed",
    );
    // If-Match wins over If-Unmodified-Since, as in a plain GET.
    const both = await c.s3("GET", "/pnum/mp?partNumber=1", {
      headers: { "if-match": ETAG, "if-unmodified-since": past },
    });
    assert.equal(both.status, 206);
    // On a plain object part 1, If-Match takes its MD5 ETag.
    assert.equal(
      (await c.s3("GET", "/pnum/plain?partNumber=1", { headers: { "if-match": `"${md5("plain bytes")}"` } }))
        .status,
      206,
    );
  });

  test("a plain GET and HEAD of a multipart object honour its multipart ETag in If-Match / If-None-Match", async () => {
    const m = await c.s3("GET", "/pnum/mp", { headers: { "if-match": ETAG } });
    assert.equal(m.status, 200, m.text);
    assert.ok(m.body.equals(WHOLE));
    assert.equal(m.headers.etag, ETAG);
    assert.equal((await c.s3("HEAD", "/pnum/mp", { headers: { "if-match": ETAG } })).status, 200);
    const n = await c.s3("GET", "/pnum/mp", { headers: { "if-none-match": ETAG } });
    assert.equal(n.status, 304);
    assert.equal(n.headers.etag, ETAG);
    refused(
      await c.s3("GET", "/pnum/mp", { headers: { "if-match": `"${md5("x")}-3"` } }),
      412,
      "PreconditionFailed",
    );
    const ranged = await c.s3("GET", "/pnum/mp", {
      headers: { "if-match": ETAG, range: "bytes=150000-150002" },
    });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers["content-range"], `bytes 150000-150002/${WHOLE.length}`);
    assert.ok(ranged.body.equals(WHOLE.subarray(150000, 150003)));
    assert.equal(ranged.headers.etag, ETAG);
    // A list naming another ETag too still matches.
    const listed = await c.s3("GET", "/pnum/mp", { headers: { "if-match": `"${md5("x")}", ${ETAG}` } });
    assert.equal(listed.status, 200);
  });

  test("a 304 Swift itself answers (If-None-Match: *, If-Modified-Since) shows the multipart ETag", async () => {
    const later = new Date(Date.now() + 3_600_000).toUTCString();
    const conditions: Array<Record<string, string>> = [
      { "if-none-match": "*" },
      { "if-modified-since": later },
    ];
    for (const headers of conditions)
      for (const method of ["GET", "HEAD"]) {
        const r = await c.s3(method, "/pnum/mp", { headers });
        assert.equal(r.status, 304, JSON.stringify(headers));
        assert.equal(r.headers.etag, ETAG, `${method} ${JSON.stringify(headers)}`);
        const plain = await c.s3(method, "/pnum/plain", { headers });
        assert.equal(plain.status, 304);
        assert.equal(plain.headers.etag, `"${md5("plain bytes")}"`);
      }
  });
});

describe("S3 GET by part number is authorized as a plain GET", () => {
  test("a project reader reads parts; without a role on the project both reads are AccessDenied", async () => {
    const t = c.o.t;
    const admin = await t.adminToken();
    const user = await t.req("POST", "/identity/v3/users", {
      token: admin,
      body: { user: { name: "pn-reader", password: "pn-secret", domain_id: "default" } },
    });
    assert.equal(user.status, 201, user.text);
    const uid = user.body.user.id as string;
    const project = await t.projectId("demo");
    const roles = await t.req("GET", "/identity/v3/roles?name=reader", { token: admin });
    const role = roles.body.roles[0].id as string;
    const grant = `/identity/v3/projects/${project}/users/${uid}/roles/${role}`;
    assert.equal((await t.req("PUT", grant, { token: admin })).status, 204);
    const cred = await t.req("POST", `/identity/v3/users/${uid}/credentials/OS-EC2`, {
      token: admin,
      body: { tenant_id: project },
    });
    assert.equal(cred.status, 201, cred.text);
    const keys = { access: cred.body.credential.access, secret: cred.body.credential.secret };
    const part = await c.s3("GET", "/pnum/mp?partNumber=2", { keys });
    assert.equal(part.status, 206, part.text);
    assert.ok(part.body.equals(PARTS[1]));
    assert.equal((await c.s3("GET", "/pnum/mp", { keys })).status, 200);
    // A reader may not write, by part or otherwise.
    assert.equal(code((await c.s3("PUT", "/pnum/by-reader", { keys, body: "x" })).text), "AccessDenied");
    assert.equal((await t.req("DELETE", grant, { token: admin })).status, 204);
    const plain = await c.s3("GET", "/pnum/mp", { keys });
    const byPart = await c.s3("GET", "/pnum/mp?partNumber=2", { keys });
    assert.equal(plain.status, 403, plain.text);
    assert.equal(byPart.status, plain.status, byPart.text);
    assert.equal(code(byPart.text), code(plain.text));
    assert.equal((await c.s3("HEAD", "/pnum/mp?partNumber=2", { keys })).status, 403);
  });
});

describe("S3 GET by part number of an object replaced while it is read", () => {
  /** One scripted Swift answer: what the request must be, and the answer. */
  interface Step {
    method: string;
    manifest?: boolean;
    check?: (headers: Record<string, string | undefined>) => void;
    res: { status: number; headers: Record<string, string>; body?: string };
  }
  /** A SwiftClient answering `steps` in order (each request checked against its step). */
  const scripted = (steps: Step[]) => {
    const left = [...steps];
    const sw = {
      async call(method: string, _c?: string, _o?: string, req: SwiftReq = {}): Promise<SwiftRes> {
        const step = left.shift();
        assert.ok(step, `unexpected ${method}`);
        assert.equal(method, step.method);
        assert.equal(req.query?.["multipart-manifest"] === "get", step.manifest === true, "a manifest read");
        step.check?.(req.headers ?? {});
        const body = Buffer.from(step.res.body ?? "");
        return { status: step.res.status, headers: step.res.headers, body, stream: Readable.from([body]) };
      },
    };
    return { sw: sw as unknown as SwiftClient, left };
  };
  /** An SLO's HEAD answer and raw manifest read, for a write at `ts` of parts of these sizes. */
  const write = (ts: string, sizes: number[]) => {
    const etag = `"${md5(ts)}"`;
    const head = {
      status: 200,
      headers: {
        etag,
        "x-timestamp": ts,
        "x-static-large-object": "True",
        "content-length": String(sizes.reduce((a, b) => a + b, 0)),
      },
    };
    const manifest = {
      status: 200,
      headers: { "x-timestamp": ts, "x-static-large-object": "True" },
      body: JSON.stringify(
        sizes.map((n, i) => ({
          path: `/b+segments/k/${"0".repeat(32)}/${i + 1}`,
          etag: md5(`${ts}${i}`),
          size_bytes: n,
        })),
      ),
    };
    return { etag, head, manifest };
  };
  const ctx = { url: "/b/k?partNumber=2", headers: {}, method: "GET" } as unknown as Ctx;

  test("a manifest of another write than the HEAD saw starts the read over", async () => {
    const a = write("1000000001.00000", [10, 20, 30]);
    const b = write("1000000002.00000", [5, 6]);
    const { sw, left } = scripted([
      { method: "HEAD", res: a.head },
      { method: "GET", manifest: true, res: b.manifest },
      { method: "HEAD", res: b.head },
      { method: "GET", manifest: true, res: b.manifest },
      {
        method: "GET",
        check: (h) => {
          assert.equal(h["if-match"], b.etag, "the data read is pinned to the HEAD's ETag");
          assert.equal(h.range, "bytes=5-10");
        },
        res: { status: 206, headers: { "content-range": "bytes 5-10/11" }, body: "bbbbbb" },
      },
    ]);
    const r = await getObject(ctx, sw, "b", "k", false);
    assert.equal(r.status, 206);
    assert.equal(r.headers["content-range"], "bytes 5-10/11");
    assert.equal(r.headers["content-length"], "6");
    assert.equal(r.headers["x-amz-mp-parts-count"], "2");
    assert.deepEqual(left, []);
  });

  test("data no longer matching the HEAD's ETag (412) starts the read over; a read that never settles fails", async () => {
    const a = write("1000000001.00000", [10, 20, 30]);
    const b = write("1000000002.00000", [4, 4, 4]);
    const changed = { method: "GET", res: { status: 412, headers: {} } };
    const { sw, left } = scripted([
      { method: "HEAD", res: a.head },
      { method: "GET", manifest: true, res: a.manifest },
      { ...changed, check: (h) => assert.equal(h["if-match"], a.etag) },
      { method: "HEAD", res: b.head },
      { method: "GET", manifest: true, res: b.manifest },
      {
        method: "GET",
        check: (h) => assert.equal(h.range, "bytes=4-7"),
        res: { status: 206, headers: {}, body: "bbbb" },
      },
    ]);
    const r = await getObject(ctx, sw, "b", "k", false);
    assert.equal(r.status, 206);
    assert.equal(r.headers["content-range"], "bytes 4-7/12");
    assert.deepEqual(left, []);
    const again = [
      { method: "HEAD", res: a.head },
      { method: "GET", manifest: true, res: a.manifest },
      changed,
    ];
    const never = scripted([...again, ...again, ...again]);
    await assert.rejects(
      getObject(ctx, never.sw, "b", "k", false),
      (e: S3Error) => e.code === "InternalError",
    );
    assert.deepEqual(never.left, []);
  });
});
