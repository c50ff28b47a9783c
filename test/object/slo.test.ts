// Static large objects in process: manifest validation (shape, segments, sizes, ETags, ranges, limits), GET/HEAD of
// the concatenation (SLO ETag, ranges across segments, nested SLOs, inline data), multipart-manifest=get (raw too),
// multipart-manifest=delete, copies, listings, and the reserved header.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
});
after(() => o.close());

let n = 0;
/** A fresh container holding segments s0..s(k-1) with the given bodies. */
const withSegments = async (bodies: string[]): Promise<{ c: string; etags: string[] }> => {
  const c = `slo${++n}`;
  assert.equal((await o.sw("PUT", `/${c}`)).status, 201);
  const etags: string[] = [];
  for (const [i, b] of bodies.entries()) {
    const r = await o.sw("PUT", `/${c}/s${i}`, { body: b, headers: { "content-length": String(b.length) } });
    assert.equal(r.status, 201);
    etags.push(r.headers.etag as string);
  }
  return { c, etags };
};
const put = (path: string, manifest: unknown, headers: Record<string, string> = {}) =>
  o.sw("PUT", `${path}?multipart-manifest=put`, { body: JSON.stringify(manifest), headers });

describe("SLO manifests", () => {
  test("PUT stores the manifest; GET/HEAD read the concatenation with the SLO ETag and X-Static-Large-Object", async () => {
    const { c, etags } = await withSegments(["aaaa", "bbb", "cc"]);
    const manifest = etags.map((e, i) => ({ path: `/${c}/s${i}`, etag: e, size_bytes: [4, 3, 2][i] }));
    const r = await put(`/${c}/big`, manifest, { "content-type": "text/x-big" });
    assert.equal(r.status, 201, r.text);
    const sloEtag = md5(etags.join(""));
    assert.equal(r.headers.etag, `"${sloEtag}"`);
    const g = await o.sw("GET", `/${c}/big`);
    assert.equal(g.status, 200);
    assert.equal(g.text, "aaaabbbcc");
    assert.equal(g.headers.etag, `"${sloEtag}"`);
    assert.equal(g.headers["x-static-large-object"], "True");
    assert.equal(g.headers["content-type"], "text/x-big");
    assert.equal(g.headers["content-length"], "9");
    assert.ok(g.headers["x-manifest-etag"]);
    assert.equal(Object.keys(g.headers).filter((h) => h.includes("sysmeta")).length, 0);
    const h = await o.sw("HEAD", `/${c}/big`);
    assert.equal(h.headers["content-length"], "9");
    assert.equal(h.headers.etag, `"${sloEtag}"`);
    // Conditions use the SLO ETag, and a 304 shows it as a GET does (quoted).
    const nm = await o.sw("GET", `/${c}/big`, { headers: { "if-none-match": `"${sloEtag}"` } });
    assert.equal(nm.status, 304);
    assert.equal(nm.headers.etag, `"${sloEtag}"`);
    assert.equal((await o.sw("GET", `/${c}/big`, { headers: { "if-match": "nope" } })).status, 412);
    // Listings show the total size; the container's bytes count the manifest.
    const l = await o.sw("GET", `/${c}?format=json&prefix=big`);
    assert.equal(l.json[0].bytes, 9);
    assert.equal(l.json[0].content_type, "text/x-big");
  });

  test("ranges across segments, a suffix range, several ranges as multipart/byteranges", async () => {
    const { c } = await withSegments(["0123", "4567", "89"]);
    const m = [0, 1, 2].map((i) => ({ path: `${c}/s${i}` }));
    assert.equal((await put(`/${c}/m`, m)).status, 201);
    const r = await o.sw("GET", `/${c}/m`, { headers: { range: "bytes=2-8" } });
    assert.equal(r.status, 206);
    assert.equal(r.text, "2345678");
    assert.equal(r.headers["content-range"], "bytes 2-8/10");
    const s = await o.sw("GET", `/${c}/m`, { headers: { range: "bytes=-3" } });
    assert.equal(s.text, "789");
    const mp = await o.sw("GET", `/${c}/m`, { headers: { range: "bytes=0-1,5-6" } });
    assert.equal(mp.status, 206);
    assert.match(mp.headers["content-type"] as string, /^multipart\/byteranges;boundary=/);
    assert.match(mp.text, /Content-Range: bytes 0-1\/10\r\n\r\n01\r\n/);
    assert.match(mp.text, /Content-Range: bytes 5-6\/10\r\n\r\n56\r\n/);
    assert.equal(Buffer.byteLength(mp.text), Number(mp.headers["content-length"]));
    assert.equal((await o.sw("GET", `/${c}/m`, { headers: { range: "bytes=20-30" } })).status, 416);
  });

  test("segment ranges, inline data and nested SLOs; the ETag covers ranges as Swift computes it", async () => {
    const { c, etags } = await withSegments(["abcdefgh", "XYZ"]);
    const inner = [{ path: `/${c}/s0`, range: "2-4" }, { data: Buffer.from("--").toString("base64") }];
    const ri = await put(`/${c}/inner`, inner);
    assert.equal(ri.status, 201, ri.text);
    const innerEtag = md5(`${etags[0]}:2-4;${md5("--")}`);
    assert.equal(ri.headers.etag, `"${innerEtag}"`);
    assert.equal((await o.sw("GET", `/${c}/inner`)).text, "cde--");
    const outer = [
      { path: `/${c}/inner`, etag: innerEtag, size_bytes: 5 },
      { path: `/${c}/s1`, range: "-2" },
    ];
    const ro = await put(`/${c}/outer`, outer);
    assert.equal(ro.status, 201, ro.text);
    assert.equal((await o.sw("GET", `/${c}/outer`)).text, "cde--YZ");
    const part = await o.sw("GET", `/${c}/outer`, { headers: { range: "bytes=1-5" } });
    assert.equal(part.text, "de--Y");
    const raw = await o.sw("GET", `/${c}/outer?multipart-manifest=get`);
    assert.equal(raw.headers["content-type"], "application/json; charset=utf-8");
    assert.equal(raw.json[0].sub_slo, true);
    assert.equal(raw.json[0].name, `/${c}/inner`);
    assert.equal(raw.json[0].bytes, 5);
    assert.equal(raw.json[1].range, "1-2");
    const fmt = await o.sw("GET", `/${c}/outer?multipart-manifest=get&format=raw`);
    assert.deepEqual(fmt.json, [
      { etag: innerEtag, path: `/${c}/inner`, size_bytes: 5 },
      { etag: etags[1].replace(/"/g, ""), path: `/${c}/s1`, range: "1-2", size_bytes: 3 },
    ]);
    // The raw form can be PUT back as is.
    assert.equal((await put(`/${c}/again`, fmt.json)).status, 201);
    assert.equal((await o.sw("GET", `/${c}/again`)).text, "cde--YZ");
  });

  test("validation: bad JSON, not a list, bad entries (Index N: ...), missing/mismatched segments (Errors:)", async () => {
    const { c, etags } = await withSegments(["aaaa", "", "b"]);
    let r = await o.sw("PUT", `/${c}/m?multipart-manifest=put`, { body: "{nope" });
    assert.equal(r.status, 400);
    assert.equal(r.text, "Manifest must be valid JSON.\n");
    r = await put(`/${c}/m`, { path: "x" });
    assert.equal(r.text, "Manifest must be a list.\n");
    r = await put(`/${c}/m`, [
      "x",
      { path: `/${c}/s0`, bogus: 1 },
      { path: "nocontainer" },
      { path: `/${c}/s0`, size_bytes: "x" },
      { path: `/${c}/m` },
      { path: `/${c}/s0`, range: "1-2,3-4" },
      { path: `/${c}/s0`, size_bytes: 4, range: "9-" },
      { etag: "x" },
    ]);
    assert.equal(r.status, 400);
    assert.equal(
      r.text,
      [
        "Index 0: not a JSON object",
        'Index 1: extraneous keys "bogus"',
        "Index 2: path does not refer to an object. Path must be of the form /container/object.",
        "Index 3: invalid size_bytes",
        "Index 4: manifest must not include itself as a segment",
        "Index 5: multiple ranges (only one allowed)",
        "Index 6: unsatisfiable range",
        "Index 7: expected keys to include one of 'data' or 'path'",
        "",
      ].join("\n"),
    );
    r = await put(`/${c}/m`, [
      { path: `/${c}/missing` },
      { path: `/${c}/s0`, etag: "0".repeat(32), size_bytes: 5 },
      { path: `/${c}/s1` },
      { path: `/${c}/s2`, etag: etags[2] },
    ]);
    assert.equal(r.status, 400);
    assert.equal(
      r.text,
      `Errors:\n/${c}/missing, 404 Not Found\n/${c}/s0, Size Mismatch\n/${c}/s0, Etag Mismatch\n/${c}/s1, Too small; each segment must be at least 1 byte.\n`,
    );
    const j = await put(`/${c}/m`, [{ path: `/${c}/missing` }], { accept: "application/json" });
    assert.equal(j.status, 400);
    assert.deepEqual(j.json, { Errors: [[`/${c}/missing`, "404 Not Found"]] });
    // An ETag the client gives for the SLO must match.
    r = await put(`/${c}/m`, [{ path: `/${c}/s0` }], { etag: "0".repeat(32) });
    assert.equal(r.status, 422);
    // Nothing was stored by a refused PUT.
    assert.equal((await o.sw("HEAD", `/${c}/m`)).status, 404);
  });

  test("limits: more than 1000 segments 413, a body over 8 MiB 413, no length 411, X-Copy-From 405", async () => {
    const { c } = await withSegments(["a"]);
    const many = Array.from({ length: 1001 }, () => ({ path: `/${c}/s0` }));
    const r = await put(`/${c}/m`, many);
    assert.equal(r.status, 413);
    assert.equal(r.text, "Number of object-backed segments must be <= 1000");
    const big = await o.sw("PUT", `/${c}/m?multipart-manifest=put`, {
      body: "x",
      headers: { "content-length": String(8 * 1024 * 1024 + 1) },
    });
    assert.equal(big.status, 413);
    const copy = await o.sw("PUT", `/${c}/m?multipart-manifest=put`, {
      body: "",
      headers: { "x-copy-from": `/${c}/s0` },
    });
    assert.equal(copy.status, 405);
  });

  test("segments are read with the caller's rights; a segment deleted later makes GET 409", async () => {
    const { c } = await withSegments(["aa", "bb"]);
    assert.equal((await put(`/${c}/m`, [{ path: `/${c}/s0` }, { path: `/${c}/s1` }])).status, 201);
    assert.equal((await o.sw("GET", `/${c}/m`, { token: null })).status, 401);
    await o.sw("DELETE", `/${c}/s0`);
    assert.equal((await o.sw("GET", `/${c}/m`)).status, 409);
    // HEAD needs no segment.
    assert.equal((await o.sw("HEAD", `/${c}/m`)).status, 200);
  });

  test("a segment or sub-manifest the caller may not read: GET 409, =delete lists the sub-manifest as Swift's 'Unable to load SLO manifest or segment.'", async () => {
    const t = o.t;
    const proj = await t.createProject("slo-read-other");
    const user = await t.createUser("slo-read-user", "Passw0rd-slo-r");
    const role = `/v3/projects/${proj.id}/users/${user.id}/roles/${await t.roleId("member")}`;
    assert.equal((await t.req("PUT", role, { token: await t.adminToken() })).status, 204);
    const other = await t.token("slo-read-user", "Passw0rd-slo-r", "slo-read-other");
    const grant = `${proj.id}:*`;
    // m: the manifests, read and written by the other project; q: written, not read; r: read, not written.
    const [m, q, r] = [`slo${++n}`, `slo${++n}`, `slo${++n}`];
    const acl: Record<string, Record<string, string>> = {
      [m]: { "x-container-read": grant, "x-container-write": grant },
      [q]: { "x-container-write": grant },
      [r]: { "x-container-read": grant },
    };
    for (const [c, headers] of Object.entries(acl))
      assert.equal((await o.sw("PUT", `/${c}`, { headers })).status, 201);
    for (const [path, body] of [
      [`/${m}/s0`, "aa"],
      [`/${q}/s1`, "bb"],
      [`/${r}/s2`, "cc"],
    ])
      assert.equal((await o.sw("PUT", path, { body })).status, 201);
    assert.equal((await put(`/${q}/inner`, [{ path: `/${q}/s1` }])).status, 201);
    assert.equal((await put(`/${m}/nested`, [{ path: `/${q}/inner` }, { path: `/${m}/s0` }])).status, 201);
    assert.equal((await put(`/${m}/flat`, [{ path: `/${q}/s1` }, { path: `/${m}/s0` }])).status, 201);
    // Swift's validate_first_segment: the refused sub-manifest or segment is a 409, not the subrequest's 403.
    for (const name of ["nested", "flat"]) {
      assert.equal((await o.sw("GET", `/${m}/${name}`)).text, "bbaa");
      assert.equal((await o.sw("GET", `/${m}/${name}`, { token: other })).status, 409, name);
      assert.equal((await o.sw("HEAD", `/${m}/${name}`, { token: other })).status, 200, name);
    }
    // The sub-manifest that cannot be read is listed and kept; a segment whose deletion is refused is its 403.
    assert.equal(
      (await put(`/${m}/outer`, [{ path: `/${m}/s0` }, { path: `/${q}/inner` }, { path: `/${r}/s2` }]))
        .status,
      201,
    );
    const d = await o.sw("DELETE", `/${m}/outer?multipart-manifest=delete`, {
      token: other,
      headers: { accept: "application/json" },
    });
    assert.equal(d.status, 200);
    assert.deepEqual(d.json, {
      "Number Deleted": 2,
      "Number Not Found": 0,
      "Response Body": "",
      "Response Status": "400 Bad Request",
      Errors: [
        [`/${r}/s2`, "403 Forbidden"],
        [`/${q}/inner`, "Unable to load SLO manifest or segment."],
      ],
    });
    assert.equal((await o.sw("HEAD", `/${m}/outer`)).status, 404);
    assert.equal((await o.sw("HEAD", `/${m}/s0`)).status, 404);
    for (const path of [`/${q}/inner`, `/${q}/s1`, `/${r}/s2`])
      assert.equal((await o.sw("HEAD", path)).status, 200, path);
    // A manifest the caller may delete but not read: the same, for the manifest itself.
    assert.equal((await put(`/${q}/top`, [{ path: `/${q}/s1` }])).status, 201);
    const top = await o.sw("DELETE", `/${q}/top?multipart-manifest=delete`, { token: other });
    assert.equal(
      top.text,
      "Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n" +
        `/${q}/top, Unable to load SLO manifest or segment.\n`,
    );
    assert.equal((await o.sw("HEAD", `/${q}/top`)).status, 200);
  });

  test("multipart-manifest=delete answers by Accept alone: none matching is a 406 summary, nothing deleted", async () => {
    const { c } = await withSegments(["aa"]);
    assert.equal((await put(`/${c}/m`, [{ path: `/${c}/s0` }])).status, 201);
    const r = await o.sw("DELETE", `/${c}/m?multipart-manifest=delete&format=json`, {
      headers: { accept: "image/png" },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "text/html; charset=UTF-8");
    assert.equal(
      r.text,
      "Number Deleted: 0\nNumber Not Found: 0\nResponse Body: \nResponse Status: 406 Not Acceptable\nErrors:\n",
    );
    assert.equal((await o.sw("GET", `/${c}/m`)).text, "aa");
    // A refused manifest PUT answers plain text then, as Swift's slo.
    const bad = await put(`/${c}/bad`, [{ path: `/${c}/missing` }], { accept: "image/png" });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(bad.text, `Errors:\n/${c}/missing, 404 Not Found\n`);
  });

  test("X-Static-Large-Object is reserved outside multipart-manifest=put", async () => {
    const { c } = await withSegments(["a"]);
    const r = await o.sw("PUT", `/${c}/x`, { body: "a", headers: { "x-static-large-object": "True" } });
    assert.equal(r.status, 400);
    assert.match(r.text, /X-Static-Large-Object is a reserved header/);
    const p = await o.sw("POST", `/${c}/s0`, { headers: { "x-static-large-object": "True" } });
    assert.equal(p.status, 400);
  });

  test("COPY of an SLO writes the concatenation; with multipart-manifest=get it copies the manifest", async () => {
    const { c } = await withSegments(["hello ", "world"]);
    assert.equal((await put(`/${c}/m`, [{ path: `/${c}/s0` }, { path: `/${c}/s1` }])).status, 201);
    const r = await o.sw("COPY", `/${c}/m`, { headers: { destination: `${c}/flat` } });
    assert.equal(r.status, 201, r.text);
    const flat = await o.sw("GET", `/${c}/flat`);
    assert.equal(flat.text, "hello world");
    assert.equal(flat.headers["x-static-large-object"], undefined);
    assert.equal(flat.headers.etag, md5("hello world"));
    const m2 = await o.sw("PUT", `/${c}/m2?multipart-manifest=get`, {
      body: "",
      headers: { "x-copy-from": `/${c}/m` },
    });
    assert.equal(m2.status, 201, m2.text);
    const g = await o.sw("GET", `/${c}/m2`);
    assert.equal(g.text, "hello world");
    assert.equal(g.headers["x-static-large-object"], "True");
  });

  test("DELETE ?multipart-manifest=delete removes the segments (nested too) and the manifest, with a bulk summary", async () => {
    const { c } = await withSegments(["aa", "bb", "cc"]);
    assert.equal((await put(`/${c}/inner`, [{ path: `/${c}/s0` }, { path: `/${c}/s1` }])).status, 201);
    assert.equal((await put(`/${c}/outer`, [{ path: `/${c}/inner` }, { path: `/${c}/s2` }])).status, 201);
    const r = await o.sw("DELETE", `/${c}/outer?multipart-manifest=delete`);
    assert.equal(r.status, 200);
    assert.equal(
      r.text,
      "Number Deleted: 5\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n",
    );
    const h = await o.sw("HEAD", `/${c}`);
    assert.equal(h.headers["x-container-object-count"], "0");
    const missing = await o.sw("DELETE", `/${c}/outer?multipart-manifest=delete`, {
      headers: { accept: "application/json" },
    });
    assert.equal(missing.json["Number Not Found"], 1);
    await o.sw("PUT", `/${c}/plain`, { body: "x" });
    const notSlo = await o.sw("DELETE", `/${c}/plain?multipart-manifest=delete`);
    assert.match(notSlo.text, /Response Status: 400 Bad Request/);
    assert.match(notSlo.text, new RegExp(`/${c}/plain, Not an SLO manifest`));
  });

  test("DELETE ?multipart-manifest=delete: JSON and XML summaries with no filler; no right to delete is 401/403 before any", async () => {
    const { c } = await withSegments(["aa"]);
    assert.equal((await put(`/${c}/m`, [{ path: `/${c}/s0` }])).status, 201);
    const t = o.t;
    const proj = await t.createProject("slo-delete-other");
    const user = await t.createUser("slo-delete-user", "Passw0rd-slo-d");
    const role = `/v3/projects/${proj.id}/users/${user.id}/roles/${await t.roleId("member")}`;
    assert.equal((await t.req("PUT", role, { token: await t.adminToken() })).status, 204);
    const other = await t.token("slo-delete-user", "Passw0rd-slo-d", "slo-delete-other");
    const anon = await o.sw("DELETE", `/${c}/m?multipart-manifest=delete`, { token: null });
    assert.equal(anon.status, 401);
    const stranger = await o.sw("DELETE", `/${c}/m?multipart-manifest=delete`, { token: other });
    assert.equal(stranger.status, 403);
    assert.equal((await o.sw("GET", `/${c}/m`)).text, "aa");
    const x = await o.sw("DELETE", `/${c}/m?multipart-manifest=delete`, { headers: { accept: "text/xml" } });
    assert.equal(x.status, 200);
    assert.equal(
      x.text,
      "<delete>\n<number_deleted>2</number_deleted>\n<number_not_found>0</number_not_found>\n" +
        "<response_body></response_body>\n<response_status>200 OK</response_status>\n<errors>\n</errors>\n</delete>\n",
    );
    const j = await o.sw("DELETE", `/${c}/m?multipart-manifest=delete`, {
      headers: { accept: "application/json" },
    });
    assert.equal(j.headers["content-type"], "application/json; charset=utf-8");
    assert.equal(
      j.text,
      '{"Number Deleted":0,"Number Not Found":1,"Response Body":"","Response Status":"200 OK","Errors":[]}',
    );
  });
});
