// The extra fields of container listing rows, as Swift 2.30 shows them: an SLO's total size, manifest MD5 and
// slo_etag; an S3 multipart object's s3_etag (and S3 listings' ETags); symlink_path, and a static link's
// symlink_etag and symlink_bytes; JSON only (XML rows keep Swift's five fields); plain rows unchanged; ?versions too.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { bootS3Cloud, type S3Cloud } from "./s3-helpers.js";
import type { ObjectCloud } from "./helpers.js";

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");
const BASE = ["name", "hash", "bytes", "content_type", "last_modified"];
const EMPTY_MD5 = md5("");

let c: S3Cloud;
let o: ObjectCloud;
before(async () => {
  c = await bootS3Cloud();
  o = c.o;
});
after(() => c.close());

type Row = Record<string, unknown>;
const put = (path: string, body: string, headers: Record<string, string> = {}) =>
  o.sw("PUT", path, { body, headers: { "content-length": String(Buffer.byteLength(body)), ...headers } });
const link = (path: string, target: string, headers: Record<string, string> = {}) =>
  put(path, "", { "x-symlink-target": target, ...headers });
/** Make an SLO of the given segment bodies in container `ct`; its SLO ETag and manifest MD5. */
const slo = async (ct: string, name: string, bodies: string[], contentType = "text/x-big") => {
  const etags: string[] = [];
  for (const [i, b] of bodies.entries()) {
    const r = await put(`/${ct}/${name}-seg${i}`, b);
    assert.equal(r.status, 201, r.text);
    etags.push(r.headers.etag as string);
  }
  const manifest = bodies.map((_, i) => ({ path: `/${ct}/${name}-seg${i}` }));
  const r = await o.sw("PUT", `/${ct}/${name}?multipart-manifest=put`, {
    body: JSON.stringify(manifest),
    headers: { "content-type": contentType },
  });
  assert.equal(r.status, 201, r.text);
  const h = await o.sw("HEAD", `/${ct}/${name}`);
  return { sloEtag: md5(etags.join("")), manifestEtag: h.headers["x-manifest-etag"] as string };
};
/** A JSON listing's rows by name. */
const jsonRows = async (path: string): Promise<Map<string, Row>> => {
  const r = await o.sw("GET", path);
  assert.equal(r.status, 200, r.text);
  return new Map((r.json as Row[]).map((x) => [x.name as string, x]));
};
/** An XML listing's object rows by name: each its fields (tag → text) in document order. */
const xmlRows = async (path: string): Promise<Map<string, Array<[string, string]>>> => {
  const r = await o.sw("GET", path);
  assert.equal(r.status, 200, r.text);
  const out = new Map<string, Array<[string, string]>>();
  for (const m of r.text.matchAll(/<object>(.*?)<\/object>/gs)) {
    const fields = [...m[1].matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((f) => [f[1], f[2]] as [string, string]);
    out.set(fields.find(([k]) => k === "name")?.[1] as string, fields);
  }
  return out;
};
const all = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
const q = (s: string) => s.replace(/"/g, "&quot;");

describe("container listing fields", () => {
  test("an SLO lists its total size, manifest MD5 and quoted slo_etag (JSON); XML keeps five fields", async () => {
    assert.equal((await o.sw("PUT", "/lf1")).status, 201);
    const { sloEtag, manifestEtag } = await slo("lf1", "big", ["aaaa", "bbb", "cc"]);
    assert.match(manifestEtag, /^[0-9a-f]{32}$/);
    assert.notEqual(manifestEtag, sloEtag);
    const row = (await jsonRows("/lf1?format=json&prefix=big")).get("big") as Row;
    assert.deepEqual(Object.keys(row), [...BASE, "slo_etag"]);
    assert.equal(row.hash, manifestEtag);
    assert.equal(row.bytes, 9);
    assert.equal(row.content_type, "text/x-big");
    assert.equal(row.slo_etag, `"${sloEtag}"`);
    // A metadata POST keeps the manifest a manifest in listings.
    assert.equal((await o.sw("POST", "/lf1/big", { headers: { "x-object-meta-k": "v" } })).status, 202);
    const again = (await jsonRows("/lf1?format=json&prefix=big")).get("big") as Row;
    assert.equal(again.slo_etag, `"${sloEtag}"`);
    assert.equal(again.bytes, 9);
    const x = (await xmlRows("/lf1?format=xml&prefix=big")).get("big");
    assert.deepEqual(x, [
      ["name", "big"],
      ["hash", manifestEtag],
      ["bytes", "9"],
      ["content_type", "text/x-big"],
      ["last_modified", again.last_modified as string],
    ]);
    // Plain text lists names only.
    const plain = await o.sw("GET", "/lf1?prefix=big");
    assert.equal(plain.text, "big\nbig-seg0\nbig-seg1\nbig-seg2\n");
  });

  test("plain objects' rows are unchanged, zero-byte ones and odd metadata included", async () => {
    assert.equal((await o.sw("PUT", "/lf2")).status, 201);
    await put("/lf2/empty", "", { "x-object-meta-note": '"x-object-sysmeta-symlink-target"' });
    await put("/lf2/full", "hello", { "content-type": "text/plain" });
    const rows = await jsonRows("/lf2?format=json");
    for (const [name, bytes, hash] of [
      ["empty", 0, EMPTY_MD5],
      ["full", 5, md5("hello")],
    ] as const) {
      const r = rows.get(name) as Row;
      assert.deepEqual(Object.keys(r), BASE, name);
      assert.equal(r.bytes, bytes);
      assert.equal(r.hash, hash);
    }
    const x = await xmlRows("/lf2?format=xml");
    assert.deepEqual(
      x.get("full")?.map(([k]) => k),
      BASE,
    );
  });

  test("symlinks list symlink_path; static links symlink_etag and symlink_bytes; a static link to an SLO its slo_etag", async () => {
    assert.equal((await o.sw("PUT", "/lf3")).status, 201);
    await put("/lf3/t a", "target!", { "content-type": "text/x-target" });
    const { sloEtag } = await slo("lf3", "big", ["12345", "678"]);
    assert.equal((await link("/lf3/soft", "lf3/t%20a")).status, 201);
    assert.equal(
      (await link("/lf3/other", "lf3/t", { "x-symlink-target-account": "AUTH_else" })).status,
      201,
    );
    let r = await link("/lf3/static", "lf3/t%20a", { "x-symlink-target-etag": md5("target!") });
    assert.equal(r.status, 201, r.text);
    r = await link("/lf3/static-slo", "lf3/big", { "x-symlink-target-etag": sloEtag });
    assert.equal(r.status, 201, r.text);
    const rows = await jsonRows("/lf3?format=json");
    const soft = rows.get("soft") as Row;
    assert.deepEqual(Object.keys(soft), [...BASE, "symlink_path"]);
    assert.equal(soft.hash, EMPTY_MD5);
    assert.equal(soft.bytes, 0);
    assert.equal(soft.content_type, "application/symlink");
    assert.equal(soft.symlink_path, `/v1/${o.account}/lf3/t%20a`);
    assert.equal((rows.get("other") as Row).symlink_path, "/v1/AUTH_else/lf3/t");
    const stat = rows.get("static") as Row;
    assert.deepEqual(Object.keys(stat), [...BASE, "symlink_etag", "symlink_bytes", "symlink_path"]);
    assert.equal(stat.hash, EMPTY_MD5);
    assert.equal(stat.bytes, 0);
    assert.equal(stat.content_type, "text/x-target");
    assert.equal(stat.symlink_etag, md5("target!"));
    assert.equal(stat.symlink_bytes, 7);
    assert.equal(stat.symlink_path, `/v1/${o.account}/lf3/t%20a`);
    const toSlo = rows.get("static-slo") as Row;
    assert.deepEqual(Object.keys(toSlo), [
      ...BASE,
      "symlink_etag",
      "symlink_bytes",
      "symlink_path",
      "slo_etag",
    ]);
    assert.equal(toSlo.symlink_etag, sloEtag);
    assert.equal(toSlo.symlink_bytes, 8);
    assert.equal(toSlo.slo_etag, `"${sloEtag}"`);
    assert.equal(toSlo.bytes, 0);
    assert.equal(toSlo.content_type, "text/x-big");
    // XML rows carry none of it.
    const x = await xmlRows("/lf3?format=xml");
    for (const name of ["soft", "static", "static-slo"])
      assert.deepEqual(
        x.get(name)?.map(([k]) => k),
        BASE,
        name,
      );
    assert.deepEqual(x.get("static")?.[1], ["hash", EMPTY_MD5]);
  });

  test("an S3 multipart object lists its quoted s3_etag and slo_etag; S3 listings show the right ETags", async () => {
    assert.equal((await c.s3("PUT", "/lf4")).status, 200);
    const init = await c.s3("POST", "/lf4/mp?uploads");
    const id = all(init.text, "UploadId")[0];
    const part = await c.s3("PUT", `/lf4/mp?partNumber=1&uploadId=${id}`, { body: "part-one" });
    assert.equal(part.status, 200, part.text);
    const done = await c.s3("POST", `/lf4/mp?uploadId=${id}`, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers.etag}</ETag></Part></CompleteMultipartUpload>`,
    });
    assert.equal(done.status, 200, done.text);
    const s3Etag = `${md5(Buffer.from(md5("part-one"), "hex"))}-1`;
    // A Swift SLO in the same bucket lists in S3 as "<slo etag>-N", as s3api does.
    const { sloEtag } = await slo("lf4", "swift-slo", ["abc"], "application/octet-stream");
    const rows = await jsonRows("/lf4?format=json");
    const mp = rows.get("mp") as Row;
    assert.deepEqual(Object.keys(mp), [...BASE, "slo_etag", "s3_etag"]);
    assert.equal(mp.s3_etag, `"${s3Etag}"`);
    assert.equal(mp.slo_etag, `"${md5(md5("part-one"))}"`);
    assert.equal(mp.bytes, 8);
    assert.equal(mp.content_type, "application/octet-stream");
    const manifest = await o.sw("HEAD", "/lf4/mp");
    assert.equal(mp.hash, manifest.headers["x-manifest-etag"]);
    const x = await xmlRows("/lf4?format=xml");
    assert.deepEqual(
      x.get("mp")?.map(([k]) => k),
      BASE,
    );
    for (const v2 of ["", "list-type=2&"]) {
      const l = await c.s3("GET", `/lf4?${v2}prefix=`);
      assert.equal(l.status, 200, l.text);
      assert.deepEqual(all(l.text, "Key").slice(0, 2), ["mp", "swift-slo"]);
      assert.deepEqual(all(l.text, "ETag").slice(0, 2), [q(`"${s3Etag}"`), q(`"${sloEtag}-N"`)]);
    }
    // A plain object's S3 ETag is its MD5.
    await c.s3("PUT", "/lf4/plain", { body: "plain" });
    const l = await c.s3("GET", "/lf4?prefix=plain");
    assert.deepEqual(all(l.text, "ETag"), [q(`"${md5("plain")}"`)]);
  });

  test("?versions rows carry the same fields", async () => {
    assert.equal((await o.sw("PUT", "/lf5", { headers: { "x-versions-enabled": "true" } })).status, 201);
    const first = await slo("lf5", "big", ["one"]);
    const second = await slo("lf5", "big", ["two", "2"]);
    await put("/lf5/t", "x");
    assert.equal((await link("/lf5/ln", "lf5/t", { "x-symlink-target-etag": md5("x") })).status, 201);
    const r = await o.sw("GET", "/lf5?versions&format=json");
    assert.equal(r.status, 200, r.text);
    const rows = r.json as Row[];
    const bigs = rows.filter((x) => x.name === "big");
    assert.deepEqual(
      bigs.map((x) => [x.slo_etag, x.bytes, x.hash, x.is_latest]),
      [
        [`"${second.sloEtag}"`, 4, second.manifestEtag, true],
        [`"${first.sloEtag}"`, 3, first.manifestEtag, false],
      ],
    );
    assert.deepEqual(Object.keys(bigs[0]), [...BASE, "slo_etag", "version_id", "is_latest"]);
    const ln = rows.find((x) => x.name === "ln") as Row;
    assert.equal(ln.symlink_path, `/v1/${o.account}/lf5/t`);
    assert.equal(ln.symlink_etag, md5("x"));
    assert.equal(ln.symlink_bytes, 1);
    const plain = rows.find((x) => x.name === "t") as Row;
    assert.deepEqual(Object.keys(plain), [...BASE, "version_id", "is_latest"]);
  });
});
