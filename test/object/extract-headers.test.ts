// Extract archive as Swift's bulk middleware sets its objects up: the request's X-Object-Meta-* and
// X-Delete-At/-After on every object (checked as an object PUT checks them), the files' pax xattrs (GNU tar's
// SCHILY.*, libarchive's LIBARCHIVE.*; per-file and global headers) as Content-Type and metadata, and callers who
// may write a container only through its ACL extracting into it (each container and object authorized on its own).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud, type SwiftRes } from "./helpers.js";
import { tar } from "./tar-archive.js";

/** A header's bytes (Node holds them as latin1) read as UTF-8. */
const utf8 = (v: SwiftRes["headers"][string]): string => Buffer.from(String(v), "latin1").toString("utf8");

describe("extract archive: object headers", () => {
  let o: ObjectCloud;
  before(async () => {
    o = await bootObjectCloud();
  });
  after(() => o.close());
  /** PUT an archive (JSON summary) with these request headers. */
  const put = (path: string, body: Buffer, headers: Record<string, string> = {}, token?: string) =>
    o.sw("PUT", path, {
      body,
      token,
      headers: { "content-length": String(body.length), accept: "application/json", ...headers },
    });
  const head = (path: string) => o.sw("HEAD", path);

  test("the request's X-Object-Meta-* and X-Delete-After go on every object; its Content-Type does not", async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await put(
      "/eh1?extract-archive=tar",
      tar([
        ["a.txt", "a"],
        ["sub/b.json", "{}"],
      ]),
      {
        "x-object-meta-color": "blue",
        "x-object-meta-under_score": "u",
        "x-remove-object-meta-gone": "x",
        "x-delete-after": "3600",
        "content-type": "application/x-tar",
        "content-disposition": "attachment",
      },
    );
    const after = Math.ceil(Date.now() / 1000);
    assert.equal(r.json["Number Files Created"], 2, r.text);
    for (const [path, type] of [
      ["/eh1/a.txt", "text/plain"],
      ["/eh1/sub/b.json", "application/json"],
    ]) {
      const h = (await head(path)).headers;
      assert.equal(h["x-object-meta-color"], "blue");
      assert.equal(h["x-object-meta-under-score"], "u");
      assert.equal(h["x-object-meta-gone"], undefined);
      assert.equal(h["content-type"], type);
      assert.equal(h["content-disposition"], undefined);
      const at = Number(h["x-delete-at"]);
      assert.ok(at >= before + 3600 && at <= after + 3600, `x-delete-at ${at}`);
    }
    // X-Delete-At as given.
    const at = before + 7200;
    const d = await put("/eh2?extract-archive=tar", tar([["f", "f"]]), { "x-delete-at": String(at) });
    assert.equal(d.json["Number Files Created"], 1, d.text);
    assert.equal((await head("/eh2/f")).headers["x-delete-at"], String(at));
  });

  test("request headers an object PUT refuses fail every file with the PUT's status", async () => {
    const two = tar([
      ["x", "1"],
      ["y", "2"],
    ]);
    const refused: Array<Record<string, string>> = [
      { "x-delete-at": "1000" },
      { "x-delete-at": "soon" },
      { "x-delete-after": "-5" },
      { "x-object-meta-big": "v".repeat(257) },
    ];
    for (const headers of refused) {
      const r = await put("/eh3?extract-archive=tar", two, headers);
      assert.deepEqual(
        r.json,
        {
          "Response Status": "400 Bad Request",
          "Response Body": "",
          "Number Files Created": 0,
          Errors: [
            ["eh3/x", "400 Bad Request"],
            ["eh3/y", "400 Bad Request"],
          ],
        },
        JSON.stringify(headers),
      );
    }
    assert.equal((await head("/eh3/x")).status, 404);
  });

  test("pax xattrs as libarchive writes them: Content-Type and metadata over the request's; others ignored", async () => {
    const r = await put(
      "/eh4?extract-archive=tar",
      tar([
        [
          "typed.bin",
          "t",
          {
            pax: {
              "LIBARCHIVE.xattr.user.mime_type": "application/x-thing",
              "LIBARCHIVE.xattr.user.meta.Mixed_Case": "m",
              "LIBARCHIVE.xattr.user.meta.color": "red",
              "LIBARCHIVE.xattr.user.meta.note": "caf\u00e9",
              "LIBARCHIVE.xattr.user.other": "no",
              "LIBARCHIVE.xattr.security.selinux": "no",
              "SCHILY.xattr.trusted.meta.x": "no",
              "user.meta.bare": "no",
              mtime: "1700000000.5",
            },
          },
        ],
        ["plain.txt", "p"],
      ]),
      { "x-object-meta-color": "blue", "x-object-meta-size": "l", "content-type": "image/png" },
    );
    assert.equal(r.json["Number Files Created"], 2, r.text);
    const t = (await head("/eh4/typed.bin")).headers;
    assert.equal(t["content-type"], "application/x-thing");
    assert.equal(t["x-object-meta-mixed-case"], "m");
    assert.equal(t["x-object-meta-color"], "red");
    assert.equal(t["x-object-meta-size"], "l");
    assert.equal(utf8(t["x-object-meta-note"]), "caf\u00e9");
    const metaNames = Object.keys(t).filter((k) => k.startsWith("x-object-meta-"));
    assert.deepEqual(metaNames.sort(), [
      "x-object-meta-color",
      "x-object-meta-mixed-case",
      "x-object-meta-note",
      "x-object-meta-size",
    ]);
    // The next file has none of them (a per-file header is that file's alone).
    const p = (await head("/eh4/plain.txt")).headers;
    assert.equal(p["content-type"], "text/plain");
    assert.equal(p["x-object-meta-color"], "blue");
    assert.equal(p["x-object-meta-mixed-case"], undefined);
  });

  test("global pax headers apply to every member after them, per-file ones over them", async () => {
    const r = await put(
      "/eh5?extract-archive=tar",
      tar([
        ["before", "0"],
        [
          "one",
          "1",
          {
            globalPax: { "SCHILY.xattr.user.meta.g": "global", "SCHILY.xattr.user.mime_type": "text/x-g" },
            pax: { "SCHILY.xattr.user.meta.own": "1" },
          },
        ],
        ["two", "2", { pax: { "SCHILY.xattr.user.meta.g": "mine" } }],
        ["three", "3"],
      ]),
    );
    assert.equal(r.json["Number Files Created"], 4, r.text);
    const h = async (n: string) => (await head(`/eh5/${n}`)).headers;
    assert.equal((await h("before"))["x-object-meta-g"], undefined);
    assert.equal((await h("before"))["content-type"], "application/octet-stream");
    const one = await h("one");
    assert.deepEqual(
      [one["x-object-meta-g"], one["x-object-meta-own"], one["content-type"]],
      ["global", "1", "text/x-g"],
    );
    const two = await h("two");
    assert.deepEqual([two["x-object-meta-g"], two["x-object-meta-own"]], ["mine", undefined]);
    const three = await h("three");
    assert.deepEqual([three["x-object-meta-g"], three["content-type"]], ["global", "text/x-g"]);
  });

  test("pax headers an object PUT would refuse (or could not send) fail their file alone", async () => {
    const many = Object.fromEntries(
      Array.from({ length: 90 }, (_, i) => [`SCHILY.xattr.user.meta.m${i}`, "v"]),
    );
    const r = await put(
      "/eh6?extract-archive=tar",
      tar([
        ["ok89", "a", { pax: Object.fromEntries(Object.entries(many).slice(0, 89)) }],
        ["over90", "b", { pax: many }],
        ["spaced", "c", { pax: { "SCHILY.xattr.user.meta.bad name": "v" } }],
        ["empty-name", "d", { pax: { "SCHILY.xattr.user.meta.": "v" } }],
        ["newline", "e", { pax: { "SCHILY.xattr.user.meta.n": "a\nb" } }],
        ["long-type", "f", { pax: { "SCHILY.xattr.user.mime_type": `text/${"x".repeat(260)}` } }],
        ["long-value", "g", { pax: { "LIBARCHIVE.xattr.user.meta.v": "v".repeat(257) } }],
        ["fine", "h", { pax: { "SCHILY.xattr.user.meta.k": "" } }],
      ]),
      // One from the request, so that 89 from the file reach the limit of 90 and 90 pass it.
      { "x-object-meta-req": "r" },
    );
    assert.deepEqual(r.json, {
      "Response Status": "400 Bad Request",
      "Response Body": "",
      "Number Files Created": 2,
      Errors: ["over90", "spaced", "empty-name", "newline", "long-type", "long-value"].map((n) => [
        `eh6/${n}`,
        "400 Bad Request",
      ]),
    });
    assert.equal((await head("/eh6/ok89")).headers["x-object-meta-m88"], "v");
    // A blank value is kept, as on a PUT.
    assert.equal((await head("/eh6/fine")).headers["x-object-meta-k"], "");
  });

  test("as tarfile, a pax path loses its trailing slashes (a regular file stays one)", async () => {
    const r = await put("/eh7?extract-archive=tar", tar([["short", "d", { pax: { path: "dir/file//" } }]]));
    assert.equal(r.json["Number Files Created"], 1, r.text);
    assert.equal((await o.sw("GET", "/eh7/dir/file")).text, "d");
  });

  test("an archive GNU tar makes from files with user xattrs", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "stratus-xattr-"));
    try {
      mkdirSync(join(dir, "ehg"));
      const setup = join(dir, "ehg", "setup.py");
      writeFileSync(setup, "print(1)\n");
      writeFileSync(join(dir, "ehg", "plain.txt"), "plain\n");
      const attrs: Array<[string, string]> = [
        ["user.mime_type", "application/python-setup"],
        ["user.meta.lunch", "burger and fries"],
        ["user.meta.dinner", "baked ziti \u2661"],
        ["user.stuff", "whee"],
      ];
      try {
        for (const [n, v] of attrs) execFileSync("setfattr", ["-n", n, "-v", v, setup]);
      } catch (e) {
        // A file system without user xattrs cannot make the archive; anything else (no setfattr) is a failure.
        if (/not supported/i.test(String((e as { stderr?: Buffer }).stderr ?? e))) {
          t.skip(`no user xattrs on ${tmpdir()}`);
          return;
        }
        throw e;
      }
      const archive = execFileSync("tar", [
        "--xattrs",
        "--xattrs-include=user.*",
        "--format=pax",
        "-C",
        dir,
        "-czf",
        "-",
        "ehg",
      ]);
      const r = await put("?extract-archive=tar.gz", archive, { "x-object-meta-lunch": "soup" });
      assert.deepEqual(r.json, {
        "Response Status": "201 Created",
        "Response Body": "",
        "Number Files Created": 2,
        Errors: [],
      });
      const h = (await head("/ehg/setup.py")).headers;
      assert.equal(h["content-type"], "application/python-setup");
      assert.equal(h["x-object-meta-lunch"], "burger and fries");
      assert.equal(utf8(h["x-object-meta-dinner"]), "baked ziti \u2661");
      assert.equal(h["x-object-meta-stuff"], undefined);
      assert.equal((await o.sw("GET", "/ehg/setup.py")).text, "print(1)\n");
      const p = (await head("/ehg/plain.txt")).headers;
      assert.equal(p["content-type"], "text/plain");
      assert.equal(p["x-object-meta-lunch"], "soup");
      assert.equal(p["x-object-meta-dinner"], undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("extract archive: writers through container ACLs", () => {
  let o: ObjectCloud;
  /** A member of another project, and that project's id. */
  let other: string;
  let otherProject: string;
  before(async () => {
    o = await bootObjectCloud();
    const t = o.t;
    const pw = "Passw0rd-extract";
    const proj = await t.createProject("ex-other");
    const user = await t.createUser("ex-user", pw);
    const role = await t.req(
      "PUT",
      `/v3/projects/${proj.id}/users/${user.id}/roles/${await t.roleId("member")}`,
      { token: await t.adminToken() },
    );
    assert.equal(role.status, 204);
    other = await t.token("ex-user", pw, "ex-other");
    otherProject = proj.id;
  });
  after(() => o.close());
  const put = (path: string, body: Buffer, token: string | null, headers: Record<string, string> = {}) =>
    o.sw("PUT", path, {
      body,
      token,
      headers: { "content-length": String(body.length), accept: "application/json", ...headers },
    });

  test("X-Container-Write alone: the container HEAD is refused, the objects are stored", async () => {
    const grant = `${otherProject}:*`;
    assert.equal((await o.sw("PUT", "/wo", { headers: { "x-container-write": grant } })).status, 201);
    // The grantee may not read the container (Swift's HEAD in create_container is 403)...
    assert.equal((await o.sw("HEAD", "/wo", { token: other })).status, 403);
    // ... yet extracting into it stores every file, with the request's metadata: the refused HEAD is not reported.
    const r = await put(
      "/wo/pre?extract-archive=tar",
      tar([
        ["a.txt", "a"],
        ["deep/b", "b"],
      ]),
      other,
      { "x-object-meta-by": "other" },
    );
    assert.deepEqual(r.json, {
      "Response Status": "201 Created",
      "Response Body": "",
      "Number Files Created": 2,
      Errors: [],
    });
    assert.equal((await o.sw("GET", "/wo/pre/a.txt")).text, "a");
    assert.equal((await o.sw("HEAD", "/wo/pre/deep/b")).headers["x-object-meta-by"], "other");
    // At the account: the granted container takes its file; one it may not make fails with its file, both 403;
    // a container it may read but not write fails the file alone (its HEAD went through).
    assert.equal((await o.sw("PUT", "/ro", { headers: { "x-container-read": grant } })).status, 201);
    const acct = await put(
      "?extract-archive=tar",
      tar([
        ["wo/c", "c"],
        ["nope/d", "d"],
        ["ro/e", "e"],
        ["wo/f", "f"],
      ]),
      other,
    );
    assert.deepEqual(acct.json, {
      "Response Status": "400 Bad Request",
      "Response Body": "",
      "Number Files Created": 2,
      Errors: [
        [`/v1/${o.account}/nope`, "403 Forbidden"],
        ["nope/d", "403 Forbidden"],
        ["ro/e", "403 Forbidden"],
      ],
    });
    assert.equal((await o.sw("GET", "/wo/f")).text, "f");
    assert.equal((await o.sw("HEAD", "/nope")).status, 404);
    assert.equal((await o.sw("HEAD", "/ro/e")).status, 404);
  });

  test("read and write grants: the HEAD finds the container; no grant at all: every file 403", async () => {
    const grant = `${otherProject}:*`;
    const acl = { "x-container-read": grant, "x-container-write": grant };
    assert.equal((await o.sw("PUT", "/rw", { headers: acl })).status, 201);
    const r = await put("/rw?extract-archive=tar", tar([["x", "x"]]), other);
    assert.equal(r.json["Response Status"], "201 Created", r.text);
    assert.equal((await o.sw("GET", "/rw/x")).text, "x");
    assert.equal((await o.sw("PUT", "/closed")).status, 201);
    const closed = await put("/closed?extract-archive=tar", tar([["y", "y"]]), other);
    assert.deepEqual(closed.json.Errors, [
      [`/v1/${o.account}/closed`, "403 Forbidden"],
      ["closed/y", "403 Forbidden"],
    ]);
    // Without a token (and no rights) it is 401 before anything, as before.
    assert.equal((await put("/rw?extract-archive=tar", tar([["z", "z"]]), null)).status, 401);
    assert.equal((await o.sw("HEAD", "/rw/z")).status, 404);
  });
  test("a file that replaces an object in a versioned container keeps the old one as a version", async () => {
    assert.equal((await o.sw("PUT", "/vh-old")).status, 201);
    assert.equal((await o.sw("PUT", "/vh", { headers: { "x-versions-location": "vh-old" } })).status, 201);
    assert.equal((await o.sw("PUT", "/ve", { headers: { "x-versions-enabled": "true" } })).status, 201);
    for (const c of ["vh", "ve"]) assert.equal((await o.sw("PUT", `/${c}/f`, { body: "one" })).status, 201);
    for (const c of ["vh", "ve"]) {
      const r = await put(`/${c}?extract-archive=tar`, tar([["f", "two"]]), o.demo);
      assert.equal(r.json["Number Files Created"], 1, r.text);
      assert.equal((await o.sw("GET", `/${c}/f`)).text, "two");
    }
    const legacy = await o.sw("GET", "/vh-old?format=json");
    assert.equal(legacy.json.length, 1);
    assert.equal((await o.sw("GET", `/vh-old/${legacy.json[0].name}`)).text, "one");
    const versions = await o.sw("GET", "/ve?versions&format=json");
    assert.deepEqual(
      versions.json.map((v: { name: string; is_latest: boolean }) => [v.name, v.is_latest]),
      [
        ["f", true],
        ["f", false],
      ],
    );
    const old = versions.json[1].version_id;
    assert.equal((await o.sw("GET", `/ve/f?version-id=${old}`)).text, "one");
    assert.notEqual((await o.sw("HEAD", "/ve/f")).headers["x-object-version-id"], old);
  });
});
