// The Swift v1 API in process (file driver in a temporary data directory): /info, keystoneauth-style access,
// accounts, containers, objects, metadata limits, listings, ranges, conditional requests, copies and expiry.
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { until } from "../helpers/wait.js";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";
import { BULK_DELETE_INFO, deleteTestHooks } from "../../src/object/api/bulk.js";

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
});
after(() => o.close());

/** A fresh container name per test. */
let n = 0;
const fresh = async (): Promise<string> => {
  const name = `c${++n}`;
  const r = await o.sw("PUT", `/${name}`);
  assert.equal(r.status, 201, r.text);
  return name;
};

describe("info and errors", () => {
  test("/info lists the core limits, DLO, SLO, TempURL, container and account quotas, bulk delete, versioned writes, object versioning, symlinks, FormPOST, static web, keystoneauth's account ACLs, container sync and s3api only (nothing is claimed before it exists)", async () => {
    const r = await o.sw("GET", "/object-store/info", { token: null });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json), [
      "swift",
      "dlo",
      "slo",
      "tempurl",
      "container_quotas",
      "account_quotas",
      "crossdomain",
      "staticweb",
      "bulk_delete",
      "bulk_upload",
      "versioned_writes",
      "object_versioning",
      "symlink",
      "formpost",
      "keystoneauth",
      "container_sync",
      "s3api",
    ]);
    // s3api's keys, with the limits the S3 handlers enforce (min_segment_size is object.s3MinPartSize).
    assert.deepEqual(r.json.s3api, {
      max_bucket_listing: 1000,
      max_parts_listing: 1000,
      max_upload_part_num: 10000,
      max_multi_delete_objects: 1000,
      allow_multipart_uploads: true,
      min_segment_size: 5 * 1024 ** 2,
      s3_acl: false,
    });
    // No realms configured: none listed.
    assert.deepEqual(r.json.container_sync, { realms: {} });
    assert.equal(r.json.swift.max_file_size, 5 * 1024 ** 3 + 2);
    assert.equal(r.json.swift.max_meta_count, 90);
    assert.equal(r.json.swift.container_listing_limit, 10000);
  });

  test("every answer carries X-Trans-Id (in Swift's form) and X-Openstack-Request-Id; errors are Swift's HTML pages", async () => {
    const r = await o.sw("GET", "/nope");
    assert.equal(r.status, 404);
    assert.equal(r.headers["content-type"], "text/html; charset=UTF-8");
    assert.equal(r.text, "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>");
    assert.ok(r.headers["x-trans-id"]);
    // Swift's form (tempest checks it): tx + 21 hex digits + "-" + the time in 10 hex digits.
    assert.match(r.headers["x-trans-id"] as string, /^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
    assert.ok(r.headers["x-openstack-request-id"]);
  });
});

describe("access (keystoneauth)", () => {
  test("no token 401, a bad token 401, another project's member 403, its reader reads only, ResellerAdmin all", async () => {
    const c = await fresh();
    assert.equal((await o.sw("GET", `/${c}`, { token: null })).status, 401);
    assert.equal((await o.sw("GET", `/${c}`, { token: "garbage" })).status, 401);
    const t = o.t;
    const pw = "Passw0rd-object";
    const other = await t.createProject("obj-other");
    const member = await t.createUser("obj-member", pw);
    const reader = await t.createUser("obj-reader", pw);
    const reseller = await t.createUser("obj-reseller", pw);
    const admin = await t.adminToken();
    const demoId = await t.projectId("demo");
    const grant = async (project: string, user: string, role: string) => {
      const r = await t.req("PUT", `/v3/projects/${project}/users/${user}/roles/${await t.roleId(role)}`, {
        token: admin,
      });
      assert.equal(r.status, 204, r.text);
    };
    await grant(other.id, member.id, "member");
    await grant(demoId, reader.id, "reader");
    // The ResellerAdmin role comes with the cloud (bootstrap: block storage's service user holds it for backups).
    await grant(other.id, reseller.id, "ResellerAdmin");
    const otherTok = await t.token("obj-member", pw, "obj-other");
    const readerTok = await t.token("obj-reader", pw, "demo");
    const resellerTok = await t.token("obj-reseller", pw, "obj-other");
    assert.equal((await o.sw("GET", `/${c}`, { token: otherTok })).status, 403);
    assert.equal((await o.sw("PUT", `/${c}/x`, { token: otherTok, body: "x" })).status, 403);
    assert.equal((await o.sw("HEAD", `/${c}`, { token: readerTok })).status, 204);
    // Temp-URL keys are the owners' alone: a reader who saw one could sign writes.
    await o.sw("POST", "", {
      headers: { "x-account-meta-temp-url-key": "owner-secret", "x-account-meta-x": "1" },
    });
    await o.sw("POST", `/${c}`, { headers: { "x-container-meta-temp-url-key-2": "c-secret" } });
    const asReader = await o.sw("HEAD", "", { token: readerTok });
    assert.equal(asReader.headers["x-account-meta-temp-url-key"], undefined);
    assert.equal(asReader.headers["x-account-meta-x"], "1");
    assert.equal(
      (await o.sw("HEAD", `/${c}`, { token: readerTok })).headers["x-container-meta-temp-url-key-2"],
      undefined,
    );
    assert.equal((await o.sw("HEAD", "")).headers["x-account-meta-temp-url-key"], "owner-secret");
    assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-container-meta-temp-url-key-2"], "c-secret");
    await o.sw("POST", "", { headers: { "x-remove-account-meta-temp-url-key": "x" } });
    assert.equal((await o.sw("PUT", `/${c}/x`, { token: readerTok, body: "x" })).status, 403);
    assert.equal((await o.sw("PUT", `/${c}/x`, { token: resellerTok, body: "x" })).status, 201);
    // A reader learns nothing from a COPY: refused before the missing Destination would be a 412.
    assert.equal((await o.sw("COPY", `/${c}/x`, { token: readerTok })).status, 403);
    assert.equal(
      (await o.sw("COPY", `/${c}/x`, { token: readerTok, headers: { destination: `${c}/y` } })).status,
      403,
    );
    // A member of another project has its own account.
    assert.equal((await o.sw("PUT", "/mine", { token: otherTok, account: `AUTH_${other.id}` })).status, 201);
  });

  test("account PUT and DELETE are 405 (no account management)", async () => {
    assert.equal((await o.sw("PUT", "")).status, 405);
    assert.equal((await o.sw("DELETE", "")).status, 405);
  });
});

describe("containers", () => {
  test("PUT 201 then 202, HEAD 204 with counts, POST metadata and removal, DELETE 409 when not empty, 204, 404", async () => {
    const c = `cont-${++n}`;
    assert.equal((await o.sw("PUT", `/${c}`, { headers: { "x-container-meta-a": "1" } })).status, 201);
    assert.equal((await o.sw("PUT", `/${c}`, { headers: { "x-container-meta-b": "2" } })).status, 202);
    let h = await o.sw("HEAD", `/${c}`);
    assert.equal(h.status, 204);
    assert.equal(h.headers["x-container-meta-a"], "1");
    assert.equal(h.headers["x-container-meta-b"], "2");
    assert.equal(h.headers["x-container-object-count"], "0");
    assert.ok(/^\d{10}\.\d{5}$/.test(String(h.headers["x-timestamp"])));
    const p = await o.sw("POST", `/${c}`, {
      headers: { "x-remove-container-meta-a": "x", "x-container-meta-b": "", "x-container-meta-c": "3" },
    });
    assert.equal(p.status, 204);
    h = await o.sw("HEAD", `/${c}`);
    assert.equal(h.headers["x-container-meta-a"], undefined);
    assert.equal(h.headers["x-container-meta-b"], undefined);
    assert.equal(h.headers["x-container-meta-c"], "3");
    assert.equal((await o.sw("PUT", `/${c}/obj`, { body: "abc" })).status, 201);
    assert.equal((await o.sw("DELETE", `/${c}`)).status, 409);
    assert.equal((await o.sw("DELETE", `/${c}/obj`)).status, 204);
    assert.equal((await o.sw("DELETE", `/${c}`)).status, 204);
    assert.equal((await o.sw("DELETE", `/${c}`)).status, 404);
    assert.equal((await o.sw("POST", `/${c}`)).status, 404);
  });

  test("name and metadata limits: 400 with Swift's words", async () => {
    assert.equal((await o.sw("PUT", `/${"x".repeat(257)}`)).status, 400);
    const long = await o.sw("PUT", "/ok", { headers: { [`x-container-meta-${"n".repeat(129)}`]: "v" } });
    assert.equal(long.status, 400);
    assert.match(long.text, /Metadata name too long/);
    const big = await o.sw("PUT", "/ok", { headers: { "x-container-meta-v": "v".repeat(257) } });
    assert.match(big.text, /Metadata value longer than 256/);
    const many: Record<string, string> = {};
    for (let i = 0; i < 91; i++) many[`x-container-meta-m${i}`] = "v";
    assert.match((await o.sw("PUT", "/ok", { headers: many })).text, /Too many metadata items; max 90/);
    const total: Record<string, string> = {};
    for (let i = 0; i < 20; i++) total[`x-container-meta-m${i}`] = "v".repeat(250);
    assert.match((await o.sw("PUT", "/ok", { headers: total })).text, /Total metadata too large; max 4096/);
    assert.equal((await o.sw("PUT", `/ok/${"o".repeat(1025)}`, { body: "" })).status, 400);
    const bad = await o.sw("GET", "/%FF");
    assert.equal(bad.status, 400);
    assert.match(bad.text, /^<html><h1>Bad Request<\/h1>/);
  });
});

describe("objects", () => {
  test("PUT 201 with ETag, GET the bytes and headers, HEAD, POST replaces metadata (202), DELETE 204 then 404", async () => {
    const c = await fresh();
    const put = await o.sw("PUT", `/${c}/dir/file.txt`, {
      body: "hello world",
      headers: { "x-object-meta-color": "blue", "content-disposition": "inline" },
    });
    assert.equal(put.status, 201);
    assert.equal(put.headers.etag, md5("hello world"));
    assert.ok(put.headers["last-modified"]);
    const get = await o.sw("GET", `/${c}/dir/file.txt`);
    assert.equal(get.status, 200);
    assert.equal(get.text, "hello world");
    assert.equal(get.headers["content-type"], "text/plain");
    assert.equal(get.headers["content-length"], "11");
    assert.equal(get.headers["x-object-meta-color"], "blue");
    assert.equal(get.headers["content-disposition"], "inline");
    assert.equal(get.headers.etag, md5("hello world"));
    const head = await o.sw("HEAD", `/${c}/dir/file.txt`);
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], "11");
    assert.equal(head.body.length, 0);
    const post = await o.sw("POST", `/${c}/dir/file.txt`, {
      headers: { "x-object-meta-size": "big", "content-type": "text/x-test" },
    });
    assert.equal(post.status, 202);
    const after = await o.sw("HEAD", `/${c}/dir/file.txt`);
    assert.equal(after.headers["x-object-meta-color"], undefined);
    assert.equal(after.headers["x-object-meta-size"], "big");
    assert.equal(after.headers["content-type"], "text/x-test");
    assert.equal((await o.sw("DELETE", `/${c}/dir/file.txt`)).status, 204);
    assert.equal((await o.sw("GET", `/${c}/dir/file.txt`)).status, 404);
    assert.equal((await o.sw("DELETE", `/${c}/dir/file.txt`)).status, 404);
    assert.equal((await o.sw("PUT", `/nocontainer-${n}/x`, { body: "x" })).status, 404);
  });

  test("Content-Type by extension, X-Detect-Content-Type, names with slashes, spaces, unicode and a trailing slash", async () => {
    const c = await fresh();
    const names = ["a b/c.json", "ünï/cödé.png", "pseudo/dir/", "plain"];
    for (const name of names)
      assert.equal(
        (await o.sw("PUT", `/${c}/${encodeURIComponent(name).replace(/%2F/g, "/")}`, { body: name })).status,
        201,
      );
    const types = new Map(
      (await o.sw("GET", `/${c}?format=json`)).json.map((x: any) => [x.name, x.content_type] as const),
    );
    assert.equal(types.get("a b/c.json"), "application/json");
    assert.equal(types.get("ünï/cödé.png"), "image/png");
    assert.equal(types.get("plain"), "application/octet-stream");
    assert.ok(types.has("pseudo/dir/"));
    await o.sw("PUT", `/${c}/x.html`, {
      body: "<p>",
      headers: { "content-type": "application/octet-stream", "x-detect-content-type": "true" },
    });
    assert.equal((await o.sw("HEAD", `/${c}/x.html`)).headers["content-type"], "text/html");
  });

  test("ETag mismatch is 422 and stores nothing; a body shorter than Content-Length is refused", async () => {
    const c = await fresh();
    const r = await o.sw("PUT", `/${c}/e`, { body: "data", headers: { etag: md5("other") } });
    assert.equal(r.status, 422);
    assert.equal((await o.sw("GET", `/${c}/e`)).status, 404);
    const ok = await o.sw("PUT", `/${c}/e`, { body: "data", headers: { etag: `"${md5("data")}"` } });
    assert.equal(ok.status, 201);
    const h = await o.sw("HEAD", `/${c}`);
    assert.equal(h.headers["x-container-object-count"], "1");
    assert.equal(h.headers["x-container-bytes-used"], "4");
  });

  test("If-None-Match: * on PUT is 412 when the object exists; other values than ETags are compared", async () => {
    const c = await fresh();
    assert.equal(
      (await o.sw("PUT", `/${c}/x`, { body: "1", headers: { "if-none-match": "*" } })).status,
      201,
    );
    assert.equal(
      (await o.sw("PUT", `/${c}/x`, { body: "2", headers: { "if-none-match": "*" } })).status,
      412,
    );
    assert.equal((await o.sw("GET", `/${c}/x`)).text, "1");
  });

  test("conditional GET: If-Match, If-None-Match (304), If-Modified-Since, If-Unmodified-Since", async () => {
    const c = await fresh();
    const put = await o.sw("PUT", `/${c}/x`, { body: "abc" });
    const etag = String(put.headers.etag);
    const lm = String(put.headers["last-modified"]);
    assert.equal((await o.sw("GET", `/${c}/x`, { headers: { "if-match": `"${etag}"` } })).status, 200);
    assert.equal((await o.sw("GET", `/${c}/x`, { headers: { "if-match": '"nope"' } })).status, 412);
    const nm = await o.sw("GET", `/${c}/x`, { headers: { "if-none-match": etag } });
    assert.equal(nm.status, 304);
    assert.equal(nm.body.length, 0);
    assert.equal(nm.headers.etag, etag);
    assert.equal((await o.sw("GET", `/${c}/x`, { headers: { "if-none-match": "other" } })).status, 200);
    assert.equal((await o.sw("GET", `/${c}/x`, { headers: { "if-modified-since": lm } })).status, 304);
    const past = new Date(Date.parse(lm) - 3600_000).toUTCString();
    assert.equal((await o.sw("GET", `/${c}/x`, { headers: { "if-modified-since": past } })).status, 200);
    assert.equal((await o.sw("GET", `/${c}/x`, { headers: { "if-unmodified-since": past } })).status, 412);
    assert.equal((await o.sw("HEAD", `/${c}/x`, { headers: { "if-unmodified-since": lm } })).status, 200);
  });

  test("Range: one range 206, suffix, open-ended, several as multipart/byteranges, unsatisfiable 416, bad syntax ignored", async () => {
    const c = await fresh();
    const data = "0123456789abcdefghij";
    await o.sw("PUT", `/${c}/r`, { body: data });
    const one = await o.sw("GET", `/${c}/r`, { headers: { range: "bytes=2-5" } });
    assert.equal(one.status, 206);
    assert.equal(one.text, "2345");
    assert.equal(one.headers["content-range"], "bytes 2-5/20");
    assert.equal((await o.sw("GET", `/${c}/r`, { headers: { range: "bytes=-3" } })).text, "hij");
    assert.equal((await o.sw("GET", `/${c}/r`, { headers: { range: "bytes=18-" } })).text, "ij");
    const multi = await o.sw("GET", `/${c}/r`, { headers: { range: "bytes=0-1,10-12" } });
    assert.equal(multi.status, 206);
    const boundary = /boundary=(\w+)/.exec(String(multi.headers["content-type"]))![1];
    assert.equal(Number(multi.headers["content-length"]), multi.body.length);
    const parts = multi.text.split(`--${boundary}`).slice(1, -1);
    assert.equal(parts.length, 2);
    assert.match(parts[0], /Content-Range: bytes 0-1\/20\r\n\r\n01\r\n$/);
    assert.match(parts[1], /Content-Range: bytes 10-12\/20\r\n\r\nabc\r\n$/);
    const bad = await o.sw("GET", `/${c}/r`, { headers: { range: "bytes=30-40" } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers["content-range"], "bytes */20");
    assert.equal((await o.sw("GET", `/${c}/r`, { headers: { range: "pages=1-2" } })).status, 200);
  });

  test("copy: COPY with Destination and PUT with X-Copy-From keep metadata unless X-Fresh-Metadata", async () => {
    const c = await fresh();
    const d = await fresh();
    await o.sw("PUT", `/${c}/src`, { body: "payload", headers: { "x-object-meta-k": "v" } });
    const cp = await o.sw("COPY", `/${c}/src`, {
      headers: { destination: `${d}/dst`, "x-object-meta-extra": "e" },
    });
    assert.equal(cp.status, 201, cp.text);
    assert.equal(cp.headers["x-copied-from"], `${c}/src`);
    const got = await o.sw("GET", `/${d}/dst`);
    assert.equal(got.text, "payload");
    assert.equal(got.headers["x-object-meta-k"], "v");
    assert.equal(got.headers["x-object-meta-extra"], "e");
    const put = await o.sw("PUT", `/${d}/dst2`, {
      headers: { "x-copy-from": `/${c}/src`, "x-fresh-metadata": "true", "content-length": "0" },
    });
    assert.equal(put.status, 201, put.text);
    const h = await o.sw("HEAD", `/${d}/dst2`);
    assert.equal(h.headers["x-object-meta-k"], undefined);
    assert.equal(h.headers.etag, md5("payload"));
    assert.equal((await o.sw("COPY", `/${c}/missing`, { headers: { destination: `${d}/x` } })).status, 404);
    assert.equal((await o.sw("COPY", `/${c}/src`)).status, 412);
  });

  test("PUT without Content-Length or chunked encoding is 411; over max_file_size 413", async () => {
    const c = await fresh();
    const r = await o.t.cloud.app.inject({
      method: "PUT",
      url: `/object-store/v1/${o.account}/${c}/x`,
      headers: { "x-auth-token": o.demo, "content-length": String(6 * 1024 ** 3) },
      payload: "",
    });
    assert.ok([411, 413].includes(r.statusCode), String(r.statusCode));
  });
});

describe("listings", () => {
  let c: string;
  const names = ["a", "b/1", "b/2", "b/c/3", "c", "d.txt", "e/"];
  before(async () => {
    c = await fresh();
    for (const name of names) assert.equal((await o.sw("PUT", `/${c}/${name}`, { body: name })).status, 201);
  });
  const plain = async (q: string) => (await o.sw("GET", `/${c}?${q}`)).text.split("\n").filter(Boolean);

  test("plain, json and xml formats; format by Accept", async () => {
    assert.deepEqual(await plain(""), names);
    const j = (await o.sw("GET", `/${c}?format=json`)).json;
    assert.deepEqual(Object.keys(j[0]).sort(), ["bytes", "content_type", "hash", "last_modified", "name"]);
    assert.match(j[0].last_modified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(j[0].hash, md5("a"));
    const x = await o.sw("GET", `/${c}`, { headers: { accept: "application/xml" } });
    assert.equal(x.headers["content-type"], "application/xml; charset=utf-8");
    assert.match(
      x.text,
      new RegExp(
        `^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<container name="${c}"><object><name>a</name>`,
      ),
    );
  });

  test("prefix, delimiter (subdirs), marker, end_marker, limit, reverse, path", async () => {
    assert.deepEqual(await plain("prefix=b/"), ["b/1", "b/2", "b/c/3"]);
    assert.deepEqual(await plain("delimiter=/"), ["a", "b/", "c", "d.txt", "e/"]);
    assert.deepEqual(await plain("prefix=b/&delimiter=/"), ["b/1", "b/2", "b/c/"]);
    const subdirs = (await o.sw("GET", `/${c}?delimiter=/&format=json`)).json;
    assert.deepEqual(subdirs[1], { subdir: "b/" });
    assert.deepEqual(await plain("marker=b/2"), ["b/c/3", "c", "d.txt", "e/"]);
    assert.deepEqual(await plain("marker=a&end_marker=c"), ["b/1", "b/2", "b/c/3"]);
    assert.deepEqual(await plain("limit=2"), ["a", "b/1"]);
    assert.deepEqual(await plain("reverse=true"), [...names].reverse());
    assert.deepEqual(await plain("reverse=true&delimiter=/"), ["e/", "d.txt", "c", "b/", "a"]);
    assert.deepEqual(await plain("reverse=true&marker=c&limit=2"), ["b/c/3", "b/2"]);
    assert.deepEqual(await plain("reverse=true&prefix=b/"), ["b/c/3", "b/2", "b/1"]);
    assert.deepEqual(await plain("path=b"), ["b/1", "b/2"]);
    assert.deepEqual(await plain("delimiter=/&marker=b/"), ["c", "d.txt", "e/"]);
  });

  test("delimiter listings across many pages of pseudo-directories, forward and reverse, with limit", async () => {
    const m = await fresh();
    const dirs = Array.from({ length: 130 }, (_, i) => `d${String(i).padStart(3, "0")}/`);
    for (let i = 0; i < dirs.length; i++) {
      await o.sw("PUT", `/${m}/${dirs[i]}a`, { body: "", headers: { "content-length": "0" } });
      await o.sw("PUT", `/${m}/${dirs[i]}b`, { body: "", headers: { "content-length": "0" } });
    }
    await o.sw("PUT", `/${m}/top`, { body: "", headers: { "content-length": "0" } });
    const list = async (q: string) => (await o.sw("GET", `/${m}?${q}`)).text.split("\n").filter(Boolean);
    assert.deepEqual(await list("delimiter=/"), [...dirs, "top"]);
    assert.deepEqual(await list("delimiter=/&limit=120"), dirs.slice(0, 120));
    assert.deepEqual(await list("delimiter=/&reverse=true"), ["top", ...[...dirs].reverse()]);
    assert.deepEqual(await list("delimiter=/&marker=d100/"), [...dirs.slice(101), "top"]);
    assert.deepEqual(await list("prefix=d12&delimiter=/"), dirs.slice(120, 130));
  });

  test("limits: over 10000 is 412, not a number 400; an empty plain listing is 204, empty json 200 []", async () => {
    assert.equal((await o.sw("GET", `/${c}?limit=10001`)).status, 412);
    assert.equal((await o.sw("GET", `/${c}?limit=x`)).status, 400);
    const e = await fresh();
    assert.equal((await o.sw("GET", `/${e}`)).status, 204);
    const j = await o.sw("GET", `/${e}?format=json`);
    assert.equal(j.status, 200);
    assert.equal(j.text, "[]");
  });

  test("account listing and totals", async () => {
    const acct = await o.sw("GET", "?format=json");
    assert.equal(acct.status, 200);
    const mine = acct.json.find((x: any) => x.name === c);
    assert.equal(mine.count, names.length);
    assert.equal(mine.bytes, names.join("").length);
    const h = await o.sw("HEAD", "");
    assert.equal(h.headers["x-account-container-count"], String(acct.json.length));
    assert.equal(
      h.headers["x-account-bytes-used"],
      String(acct.json.reduce((s: number, x: any) => s + x.bytes, 0)),
    );
    assert.equal((await o.sw("POST", "", { headers: { "x-account-meta-quota": "1" } })).status, 204);
    assert.equal((await o.sw("HEAD", "")).headers["x-account-meta-quota"], "1");
  });
});

describe("expiry and consistency", () => {
  test("X-Delete-After hides the object once due and the reaper removes it and its data; past X-Delete-At is 400", async () => {
    const c = await fresh();
    assert.equal(
      (await o.sw("PUT", `/${c}/x`, { body: "x", headers: { "x-delete-at": "1000" } })).status,
      400,
    );
    assert.equal(
      (await o.sw("PUT", `/${c}/x`, { body: "x", headers: { "x-delete-at": "soon" } })).status,
      400,
    );
    // X-Delete-At is the whole second of now + X-Delete-After (as Swift), so after 1 the object may be gone within
    // milliseconds (CI saw the HEAD find it expired); after 2 it lives at least one more second.
    const put = await o.sw("PUT", `/${c}/x`, { body: "bye", headers: { "x-delete-after": "2" } });
    assert.equal(put.status, 201);
    const h = await o.sw("HEAD", `/${c}/x`);
    assert.equal(h.status, 200);
    assert.ok(Number(h.headers["x-delete-at"]) > Date.now() / 1000);
    await until("the object expires", async () => (await o.sw("GET", `/${c}/x`)).status === 404, 30_000);
    await until(
      "the reaper removes it from the counts",
      async () => (await o.sw("HEAD", `/${c}`)).headers["x-container-object-count"] === "0",
      30_000,
    );
  });

  test("counts stay exact under concurrent writes, overwrites and deletes of the same names", async () => {
    const c = await fresh();
    const writes = [];
    for (let i = 0; i < 40; i++) writes.push(o.sw("PUT", `/${c}/o${i % 10}`, { body: "x".repeat(i + 1) }));
    for (const r of await Promise.all(writes)) assert.equal(r.status, 201);
    const dels = [];
    for (let i = 0; i < 5; i++) dels.push(o.sw("DELETE", `/${c}/o${i}`));
    await Promise.all(dels);
    const list = (await o.sw("GET", `/${c}?format=json`)).json as Array<{ bytes: number }>;
    const h = await o.sw("HEAD", `/${c}`);
    assert.equal(h.headers["x-container-object-count"], String(list.length));
    assert.equal(list.length, 5);
    assert.equal(h.headers["x-container-bytes-used"], String(list.reduce((s, x) => s + x.bytes, 0)));
  });
});

describe("dynamic large objects", () => {
  test("a manifest reads as its segments in name order: length, quoted ETag of ETags, ranges across segments, multipart-manifest=get", async () => {
    const c = await fresh();
    const segs = await fresh();
    const parts = ["first-", "second-", "third"];
    // Uploaded out of order: the name decides.
    for (const i of [2, 0, 1])
      assert.equal(
        (await o.sw("PUT", `/${segs}/big/${String(i).padStart(4, "0")}`, { body: parts[i] })).status,
        201,
      );
    await o.sw("PUT", `/${segs}/other`, { body: "not a segment" });
    const put = await o.sw("PUT", `/${c}/big`, {
      body: "",
      headers: { "x-object-manifest": `${segs}/big/`, "content-type": "text/plain", "content-length": "0" },
    });
    assert.equal(put.status, 201);
    const whole = parts.join("");
    const get = await o.sw("GET", `/${c}/big`);
    assert.equal(get.status, 200);
    assert.equal(get.text, whole);
    assert.equal(get.headers["content-length"], String(whole.length));
    const etag = md5(parts.map((p) => md5(p)).join(""));
    assert.equal(get.headers.etag, `"${etag}"`);
    assert.equal(get.headers["x-object-manifest"], `${segs}/big/`);
    const head = await o.sw("HEAD", `/${c}/big`);
    assert.equal(head.headers["content-length"], String(whole.length));
    const range = await o.sw("GET", `/${c}/big`, { headers: { range: "bytes=4-8" } });
    assert.equal(range.status, 206);
    assert.equal(range.text, whole.slice(4, 9));
    assert.equal(range.headers["content-range"], `bytes 4-8/${whole.length}`);
    assert.equal((await o.sw("GET", `/${c}/big`, { headers: { "if-none-match": etag } })).status, 304);
    const raw = await o.sw("GET", `/${c}/big?multipart-manifest=get`);
    assert.equal(raw.text, "");
    assert.equal(raw.headers.etag, md5(""));
    // A new segment shows up at once.
    await o.sw("PUT", `/${segs}/big/0003`, { body: "+more" });
    assert.equal((await o.sw("GET", `/${c}/big`)).text, `${whole}+more`);
    assert.equal(
      (
        await o.sw("PUT", `/${c}/bad`, {
          body: "",
          headers: { "x-object-manifest": "no-slash", "content-length": "0" },
        })
      ).status,
      400,
    );
  });
});

describe("temporary URLs", () => {
  const sign = (digest: string, key: string, method: string, expires: number | string, path: string) =>
    createHmac(digest, key).update(`${method}\n${expires}\n${path}`).digest("hex");

  test("GET and HEAD without a token with an account key (sha1, sha256, sha512 base64); expired, wrong key or method 401", async () => {
    const c = await fresh();
    await o.sw("PUT", `/${c}/dir/file.txt`, { body: "temp!", headers: { "x-object-meta-secret": "s" } });
    assert.equal((await o.sw("POST", "", { headers: { "x-account-meta-temp-url-key": "k1" } })).status, 204);
    const path = `/v1/${o.account}/${c}/dir/file.txt`;
    const exp = Math.floor(Date.now() / 1000) + 600;
    const url = (sig: string, extra = "", e: number | string = exp) =>
      `/object-store${path}?temp_url_sig=${sig}&temp_url_expires=${e}${extra}`;
    const get = await o.sw("GET", url(sign("sha256", "k1", "GET", exp, path)), { token: null });
    assert.equal(get.status, 200, get.text);
    assert.equal(get.text, "temp!");
    assert.equal(
      get.headers["content-disposition"],
      `attachment; filename="file.txt"; filename*=UTF-8''file.txt`,
    );
    assert.equal(get.headers["x-object-meta-secret"], undefined);
    assert.equal((await o.sw("GET", url(sign("sha1", "k1", "GET", exp, path)), { token: null })).status, 200);
    const b64 = createHmac("sha512", "k1").update(`GET\n${exp}\n${path}`).digest("base64url");
    assert.equal((await o.sw("GET", url(`sha512:${b64}`), { token: null })).status, 200);
    assert.equal(
      (await o.sw("HEAD", url(sign("sha256", "k1", "GET", exp, path)), { token: null })).status,
      200,
    );
    const inline = await o.sw("GET", url(sign("sha256", "k1", "GET", exp, path), "&inline"), { token: null });
    assert.equal(inline.headers["content-disposition"], "inline");
    const named = await o.sw("GET", url(sign("sha256", "k1", "GET", exp, path), "&filename=x.bin"), {
      token: null,
    });
    assert.match(String(named.headers["content-disposition"]), /^attachment; filename="x.bin"/);
    const past = Math.floor(Date.now() / 1000) - 10;
    const expired = await o.sw("GET", url(sign("sha256", "k1", "GET", past, path), "", past), {
      token: null,
    });
    assert.equal(expired.status, 401);
    assert.equal(expired.text, "401 Unauthorized: Temp URL invalid\n");
    assert.equal(
      (await o.sw("GET", url(sign("sha256", "nope", "GET", exp, path)), { token: null })).status,
      401,
    );
    assert.equal(
      (await o.sw("DELETE", url(sign("sha256", "k1", "GET", exp, path)), { token: null })).status,
      401,
    );
    // Signed for another object of the container: refused.
    const other = `/object-store/v1/${o.account}/${c}/other?temp_url_sig=${sign("sha256", "k1", "GET", exp, path)}&temp_url_expires=${exp}`;
    assert.equal((await o.sw("GET", other, { token: null })).status, 401);
  });

  test("PUT with a container key, and a prefix URL for every object under it", async () => {
    const c = await fresh();
    await o.sw("POST", `/${c}`, { headers: { "x-container-meta-temp-url-key": "ck" } });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const path = `/v1/${o.account}/${c}/up/new.txt`;
    const put = await o.sw(
      "PUT",
      `/object-store${path}?temp_url_sig=${sign("sha256", "ck", "PUT", exp, path)}&temp_url_expires=${exp}`,
      { token: null, body: "uploaded" },
    );
    assert.equal(put.status, 201, put.text);
    const prefixSig = sign("sha256", "ck", "GET", exp, `prefix:/v1/${o.account}/${c}/up/`);
    const q = `?temp_url_sig=${prefixSig}&temp_url_expires=${exp}&temp_url_prefix=up/`;
    const got = await o.sw("GET", `/object-store${path}${q}`, { token: null });
    assert.equal(got.text, "uploaded");
    await o.sw("PUT", `/${c}/elsewhere`, { body: "x" });
    assert.equal(
      (await o.sw("GET", `/object-store/v1/${o.account}/${c}/elsewhere${q}`, { token: null })).status,
      401,
    );
  });
});

describe("container quotas", () => {
  test("Quota-Bytes and Quota-Count refuse uploads past them with 413; bad values 400; removing lifts them", async () => {
    const c = await fresh();
    assert.equal(
      (await o.sw("POST", `/${c}`, { headers: { "x-container-meta-quota-bytes": "x" } })).status,
      400,
    );
    assert.equal(
      (await o.sw("POST", `/${c}`, { headers: { "x-container-meta-quota-count": "-1" } })).status,
      400,
    );
    await o.sw("POST", `/${c}`, {
      headers: { "x-container-meta-quota-bytes": "10", "x-container-meta-quota-count": "2" },
    });
    assert.equal((await o.sw("PUT", `/${c}/a`, { body: "123456" })).status, 201);
    const over = await o.sw("PUT", `/${c}/b`, { body: "123456" });
    assert.equal(over.status, 413);
    assert.equal(over.text, "Upload exceeds quota.");
    assert.equal((await o.sw("PUT", `/${c}/b`, { body: "1234" })).status, 201);
    assert.equal(
      (await o.sw("PUT", `/${c}/c`, { body: "", headers: { "content-length": "0" } })).status,
      413,
    );
    assert.equal((await o.sw("COPY", `/${c}/b`, { headers: { destination: `${c}/d` } })).status, 413);
    await o.sw("POST", `/${c}`, { headers: { "x-remove-container-meta-quota-count": "x" } });
    assert.equal(
      (await o.sw("PUT", `/${c}/c`, { body: "", headers: { "content-length": "0" } })).status,
      201,
    );
  });
});

describe("bulk delete", () => {
  test("POST ?bulk-delete removes listed objects and empty containers; JSON and plain summaries; non-empty containers are errors", async () => {
    const c = await fresh();
    const full = await fresh();
    await o.sw("PUT", `/${c}/a b`, { body: "1" });
    await o.sw("PUT", `/${c}/ü`, { body: "2" });
    await o.sw("PUT", `/${full}/keep`, { body: "3" });
    const body = [
      `/${c}/a%20b`,
      `/${c}/${encodeURIComponent("ü")}`,
      `/${c}/missing`,
      `/${c}`,
      `/${full}`,
    ].join("\n");
    const r = await o.sw("POST", "?bulk-delete", {
      body,
      headers: { "content-type": "text/plain", accept: "application/json" },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["Number Deleted"], 3);
    assert.equal(r.json["Number Not Found"], 1);
    assert.equal(r.json["Response Status"], "400 Bad Request");
    assert.deepEqual(r.json.Errors, [[`/${full}`, "409 Conflict"]]);
    assert.equal((await o.sw("HEAD", `/${c}`)).status, 404);
    const plain = await o.sw("DELETE", "?bulk-delete", {
      body: `/${full}/keep\n`,
      headers: { "content-type": "text/plain" },
    });
    assert.match(plain.text, /^Number Deleted: 1\nNumber Not Found: 0\n/);
    assert.match(plain.text, /Response Status: 200 OK/);
    const reader = await o.sw("POST", "?bulk-delete", { token: null, body: `/${full}` });
    assert.equal(reader.status, 401);
  });

  test("objects go before containers whatever the order listed; a container may end in slashes; an empty list is Swift's 'Invalid bulk delete.'", async () => {
    const c = await fresh();
    const d = await fresh();
    await o.sw("PUT", `/${c}/a`, { body: "1" });
    const r = await o.sw("POST", "?bulk-delete", {
      body: `/${c}\n/${d}/\n/${c}/a\n`,
      headers: { "content-type": "text/plain", accept: "application/json" },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["Response Status"], "200 OK", r.text);
    assert.equal(r.json["Number Deleted"], 3);
    assert.equal((await o.sw("HEAD", `/${c}`)).status, 404);
    assert.equal((await o.sw("HEAD", `/${d}`)).status, 404);
    const empty = await o.sw("POST", "?bulk-delete", {
      body: "\n\n",
      headers: { "content-type": "text/plain", accept: "application/json" },
    });
    assert.equal(empty.status, 200);
    assert.equal(empty.json["Response Status"], "400 Bad Request");
    assert.equal(empty.json["Response Body"], "Invalid bulk delete.");
  });

  test("max_failed_deletes failures stop the work: 'Max delete failures exceeded', nothing after is deleted", async () => {
    const c = await fresh();
    await o.sw("PUT", `/${c}/last`, { body: "1" });
    // Undecodable names fail with 412 without touching the store; the real object comes after the limit.
    const bad = Array.from({ length: BULK_DELETE_INFO.max_failed_deletes }, (_, i) => `/${c}/%ZZ${i}`);
    const r = await o.sw("POST", "?bulk-delete", {
      body: [...bad, `/${c}/last`].join("\n"),
      headers: { "content-type": "text/plain", accept: "application/json" },
    });
    assert.equal(r.status, 200);
    assert.equal(r.json["Response Status"], "400 Bad Request");
    assert.equal(r.json["Response Body"], "Max delete failures exceeded");
    assert.equal(r.json.Errors.length, BULK_DELETE_INFO.max_failed_deletes);
    assert.equal(r.json["Number Deleted"], 0);
    assert.equal((await o.sw("HEAD", `/${c}/last`)).status, 200);
  });

  test("with the default yield_frequency a quick bulk delete sends no filler: XML without the declaration", async () => {
    const c = await fresh();
    await o.sw("PUT", `/${c}/a`, { body: "1" });
    const x = await o.sw("POST", "?bulk-delete", {
      body: `/${c}/a\n/${c}/missing\n`,
      headers: { "content-type": "text/plain", accept: "application/xml" },
    });
    assert.equal(x.status, 200);
    assert.equal(x.headers["content-type"], "application/xml; charset=utf-8");
    assert.equal(
      x.text,
      "<delete>\n<number_deleted>1</number_deleted>\n<number_not_found>1</number_not_found>\n" +
        "<response_body></response_body>\n<response_status>200 OK</response_status>\n<errors>\n</errors>\n</delete>\n",
    );
  });
});

describe("bulk delete concurrency and formats", () => {
  // One at a time, the first deletion would wait for ever: the test's timeout fails it.
  test(
    "objects are deleted two at a time (delete_concurrency 2), then containers; the counts stay right",
    { timeout: 60_000 },
    async () => {
      const c = await fresh();
      const full = await fresh();
      const empty = await fresh();
      for (const k of ["a", "b", "c", "d"]) await o.sw("PUT", `/${c}/${k}`, { body: k });
      await o.sw("PUT", `/${full}/keep`, { body: "k" });
      const started: string[] = [];
      let secondStarted!: () => void;
      const second = new Promise<void>((r) => (secondStarted = r));
      // The first deletion is held until the second has started.
      deleteTestHooks.beforeStep = async (name) => {
        started.push(name);
        if (name === `/${c}/b`) secondStarted();
        if (name === `/${c}/a`) await second;
      };
      try {
        const body = [
          `/${full}`,
          `/${c}/a`,
          `/${c}/b`,
          `/${c}/missing`,
          `/${c}/%ZZ`,
          `/${empty}`,
          `/${c}/c`,
          `/${c}/d`,
        ];
        const r = await o.sw("POST", "?bulk-delete", {
          body: body.join("\n"),
          headers: { "content-type": "text/plain", accept: "application/json" },
        });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json["Number Deleted"], 5);
        assert.equal(r.json["Number Not Found"], 1);
        assert.equal(r.json["Response Status"], "400 Bad Request");
        assert.deepEqual(
          (r.json.Errors as Array<[string, string]>).sort(),
          [
            [`/${c}/%ZZ`, "412 Precondition Failed"],
            [`/${full}`, "409 Conflict"],
          ].sort(),
        );
      } finally {
        deleteTestHooks.beforeStep = undefined;
      }
      // Every object went before any container.
      assert.equal(started.length, 7);
      assert.deepEqual(started.slice(5).sort(), [`/${empty}`, `/${full}`].sort());
      assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-container-object-count"], "0");
      assert.equal((await o.sw("HEAD", `/${empty}`)).status, 404);
      assert.equal((await o.sw("HEAD", `/${full}/keep`)).status, 200);
    },
  );

  test("the answer's format is the Accept header's alone (swob's best_match), not ?format=; none matching is a 406 summary, nothing deleted", async () => {
    const c = await fresh();
    await o.sw("PUT", `/${c}/a`, { body: "1" });
    const del = (accept?: string, query = "") =>
      o.sw("POST", `?bulk-delete${query}`, {
        body: `/${c}/a\n`,
        headers: { "content-type": "text/plain", ...(accept === undefined ? {} : { accept }) },
      });
    for (const bad of ["image/png", "garbage", "application/json;q=x", "APPLICATION/JSON"]) {
      const r = await del(bad, "&format=json");
      assert.equal(r.status, 200);
      assert.equal(r.headers["content-type"], "text/html; charset=UTF-8", bad);
      assert.equal(
        r.text,
        "Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 406 Not Acceptable\nErrors:\n",
      );
    }
    assert.equal((await o.sw("HEAD", `/${c}/a`)).status, 200);
    const p = await del(undefined, "&format=json");
    assert.equal(p.headers["content-type"], "text/plain; charset=utf-8");
    assert.match(p.text, /^Number Deleted: 1\nNumber Not Found: 0\n/);
    const j = await del("application/*", "&format=xml");
    assert.equal(j.headers["content-type"], "application/json; charset=utf-8");
    assert.equal(j.json["Number Not Found"], 1);
    const x = await del("application/json;q=0.5, text/xml");
    assert.equal(x.headers["content-type"], "text/xml; charset=utf-8");
    assert.match(x.text, /^<delete>\n<number_deleted>0<\/number_deleted>\n<number_not_found>1</);
    const any = await del("*/*", "&format=json");
    assert.equal(any.headers["content-type"], "text/plain; charset=utf-8");
  });

  test("a list that is not text/plain is a 406 summary, nothing deleted (Swift reads newline-separated names only)", async () => {
    const c = await fresh();
    await o.sw("PUT", `/${c}/a`, { body: "1" });
    const del = (type?: string) =>
      o.sw("POST", "?bulk-delete", {
        body: `/${c}/a\n`,
        headers: { accept: "application/json", ...(type === undefined ? {} : { "content-type": type }) },
      });
    for (const bad of ["application/x-www-form-urlencoded", "application/json", "Text/Plain"]) {
      const r = await del(bad);
      assert.equal(r.status, 200);
      assert.equal(r.json["Response Status"], "406 Not Acceptable", bad);
      assert.equal(r.json["Response Body"], "");
      assert.equal(r.json["Number Deleted"], 0);
    }
    assert.equal((await o.sw("HEAD", `/${c}/a`)).status, 200);
    const ok = await del("text/plain; charset=utf-8");
    assert.equal(ok.json["Response Status"], "200 OK");
    assert.equal(ok.json["Number Deleted"], 1);
    assert.equal((await del()).json["Number Not Found"], 1);
  });
});

describe("container ACLs", () => {
  test("read and write grants by project:user, .r:* and referrer grants for anonymous reads, .rlistings for listings; only owners set or see them", async () => {
    const t = o.t;
    const pw = "Passw0rd-acl";
    const proj = await t.createProject("acl-other");
    const user = await t.createUser("acl-user", pw);
    const admin = await t.adminToken();
    const r = await t.req(
      "PUT",
      `/v3/projects/${proj.id}/users/${user.id}/roles/${await t.roleId("member")}`,
      {
        token: admin,
      },
    );
    assert.equal(r.status, 204);
    const other = await t.token("acl-user", pw, "acl-other");
    const c = await fresh();
    await o.sw("PUT", `/${c}/doc`, { body: "shared" });
    assert.equal((await o.sw("GET", `/${c}/doc`, { token: other })).status, 403);
    assert.equal((await o.sw("GET", `/${c}/doc`, { token: null })).status, 401);
    // The grantee cannot set ACLs itself.
    assert.equal(
      (await o.sw("POST", `/${c}`, { token: other, headers: { "x-container-read": "*:*" } })).status,
      403,
    );
    assert.equal(
      (await o.sw("POST", `/${c}`, { headers: { "x-container-read": `${proj.id}:*` } })).status,
      204,
    );
    assert.equal((await o.sw("GET", `/${c}/doc`, { token: other })).text, "shared");
    assert.equal((await o.sw("PUT", `/${c}/mine`, { token: other, body: "x" })).status, 403);
    assert.equal(
      (await o.sw("POST", `/${c}`, { headers: { "x-container-write": `acl-other:acl-user` } })).status,
      204,
    );
    assert.equal((await o.sw("PUT", `/${c}/mine`, { token: other, body: "x" })).status, 201);
    assert.equal((await o.sw("DELETE", `/${c}/mine`, { token: other })).status, 204);
    const seen = await o.sw("HEAD", `/${c}`, { token: other });
    assert.equal(seen.status, 204);
    assert.equal(seen.headers["x-container-read"], undefined);
    assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-container-read"], `${proj.id}:*`);
    // Public: objects, then listings.
    await o.sw("POST", `/${c}`, { headers: { "x-container-read": ".r:*" } });
    assert.equal((await o.sw("GET", `/${c}/doc`, { token: null })).text, "shared");
    assert.equal((await o.sw("GET", `/${c}`, { token: null })).status, 401);
    assert.equal((await o.sw("PUT", `/${c}/doc`, { token: null, body: "no" })).status, 401);
    await o.sw("POST", `/${c}`, { headers: { "x-container-read": ".r:*,.rlistings" } });
    assert.equal((await o.sw("GET", `/${c}`, { token: null })).text, "doc\n");
    // Referrer grants: a host, a domain's subdomains, a refused host; the last matching grant decides.
    await o.sw("POST", `/${c}`, {
      headers: { "x-container-read": ".r:.example.com,.r:-bad.example.com,.r:partner.org" },
    });
    const from = (referer?: string) =>
      o.sw("GET", `/${c}/doc`, { token: null, headers: referer ? { referer } : {} }).then((r) => r.status);
    assert.equal(await from("https://www.example.com/page"), 200);
    assert.equal(await from("http://partner.org/"), 200);
    assert.equal(await from("https://bad.example.com/"), 401);
    assert.equal(await from("https://elsewhere.net/"), 401);
    assert.equal(await from(), 401);
    assert.equal(await from("not a url"), 401);
    await o.sw("POST", `/${c}`, { headers: { "x-remove-container-read": "x" } });
    assert.equal((await o.sw("GET", `/${c}/doc`, { token: null })).status, 401);
  });
});

describe("tempest's details", () => {
  test("blank object metadata is kept; underscores in metadata names read as hyphens; /healthcheck says OK", async () => {
    const c = await fresh();
    const put = await o.sw("PUT", `/${c}/o`, {
      body: "x",
      headers: { "content-length": "1", "x-object-meta-blank": "" },
    });
    assert.equal(put.status, 201);
    assert.equal((await o.sw("HEAD", `/${c}/o`)).headers["x-object-meta-blank"], "");
    await o.sw("POST", `/${c}/o`, {
      headers: { "x-object-meta-other": "", "x-remove-object-meta-blank": "x" },
    });
    const h = await o.sw("HEAD", `/${c}/o`);
    assert.equal(h.headers["x-object-meta-other"], "");
    assert.equal(h.headers["x-object-meta-blank"], undefined);
    await o.sw("POST", `/${c}`, { headers: { "x-container-meta-test_under": "v" } });
    assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-container-meta-test-under"], "v");
    await o.sw("POST", `/${c}`, { headers: { "x-container-meta-test-under": "" } });
    assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-container-meta-test-under"], undefined);
    // A copy answers with the new object's metadata and X-Copied-From-Account.
    await o.sw("POST", `/${c}/o`, { headers: { "x-object-meta-kept": "yes" } });
    const cp = await o.sw("COPY", `/${c}/o`, {
      headers: { destination: `${c}/o2`, "x-object-meta-new": "1" },
    });
    assert.equal(cp.headers["x-object-meta-kept"], "yes");
    assert.equal(cp.headers["x-object-meta-new"], "1");
    assert.equal(cp.headers["x-copied-from-account"], o.account);
    // An unknown listing format reads as plain.
    const txt = await o.sw("GET", `/${c}?format=txt`);
    assert.equal(txt.status, 200);
    assert.equal(txt.text, "o\no2\n");
    const cd = await o.sw("GET", "/object-store/crossdomain.xml", { token: null });
    assert.equal(cd.status, 200);
    assert.match(
      cd.text,
      /^<\?xml version="1.0"\?>\n<!DOCTYPE cross-domain-policy [^\n]*>\n<cross-domain-policy>\n/,
    );
    assert.match(cd.text, /<\/cross-domain-policy>$/);
    const hc = await o.sw("GET", "/object-store/healthcheck", { token: null });
    assert.equal(hc.status, 200);
    assert.equal(hc.text, "OK");
  });
});

test("temporary URLs and forms may sign the path below the service's mount point (/object-store/v1/...), as tempest does", async () => {
  const c = await fresh();
  await o.sw("PUT", `/${c}/t`, { body: "tt", headers: { "content-length": "2" } });
  await o.sw("POST", "", { headers: { "x-account-meta-temp-url-key": "mount-key" } });
  const expires = Math.floor(Date.now() / 1000) + 300;
  const path = `/object-store/v1/${o.account}/${c}/t`;
  const sig = createHmac("sha256", "mount-key").update(`GET\n${expires}\n${path}`).digest("hex");
  const r = await o.sw("GET", `${path}?temp_url_sig=${sig}&temp_url_expires=${expires}`, { token: null });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, "tt");
});

test("DELETE of a container whose only objects have expired succeeds (they are reaped first)", async () => {
  const c = await fresh();
  const at = Math.floor(Date.now() / 1000) + 3;
  await o.sw("PUT", `/${c}/e`, { body: "e", headers: { "content-length": "1", "x-delete-at": String(at) } });
  assert.equal((await o.sw("DELETE", `/${c}`)).status, 409);
  await until(
    "the object expires",
    async () => (await o.sw("GET", `/${c}/e`)).status === 404 || null,
    30_000,
  );
  assert.equal((await o.sw("DELETE", `/${c}`)).status, 204);
});
