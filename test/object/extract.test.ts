// Extract archive in process: a tar (or tar.gz, tar.bz2) PUT with ?extract-archive becomes containers and objects;
// the answer is 200 at once with Swift's bulk summary at the end of a streamed body (fillers first when the work
// lasts more than yield_frequency seconds: always with 0), and what goes wrong during the work is in that summary.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { request, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { until } from "../helpers/wait.js";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";
import { BULK_UPLOAD_INFO, extractTestHooks } from "../../src/object/api/extract.js";
import { tar } from "./tar-archive.js";

const bzip2 = (b: Buffer): Buffer => execFileSync("bzip2", ["-c"], { input: b });

/** PUT an archive with its length. */
const putWith = (o: ObjectCloud, path: string, body: Buffer, accept = "application/json") =>
  o.sw("PUT", path, { body, headers: { "content-length": String(body.length), accept } });

/** The plain-text summary Swift writes. */
const plain = (created: number, status: string, body = "", errors: Array<[string, string]> = []) =>
  `Number Files Created: ${created}\nResponse Body: ${body}\nResponse Status: ${status}\nErrors:\n` +
  errors.map(([p, s]) => `${p}, ${s}\n`).join("");

describe("extract archive", () => {
  let o: ObjectCloud;
  before(async () => {
    o = await bootObjectCloud();
  });
  after(() => o.close());
  const put = (path: string, body: Buffer, accept = "application/json") => putWith(o, path, body, accept);

  test("a tar makes containers and objects; tar.gz and tar.bz2 too; the summary alone when quick", async () => {
    const archive = tar([
      ["xa/", ""],
      ["xa/one.txt", "1"],
      ["./xb/dir/two", "22"],
    ]);
    const r = await put("?extract-archive=tar", archive, "text/plain");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
    // Under the default yield frequency (10 s) a quick extraction's body is the summary, nothing before it.
    assert.equal(r.text, plain(2, "201 Created"));
    assert.equal((await o.sw("GET", "/xa/one.txt")).text, "1");
    assert.equal((await o.sw("GET", "/xa/one.txt")).headers["content-type"], "text/plain");
    assert.equal((await o.sw("GET", "/xb/dir/two")).text, "22");
    const gz = await put("/xc?extract-archive=tar.gz", gzipSync(tar([["in/c.txt", "ccc"]])));
    assert.deepEqual(gz.json, {
      "Response Status": "201 Created",
      "Response Body": "",
      "Number Files Created": 1,
      Errors: [],
    });
    assert.equal(gz.text[0], "{");
    assert.equal((await o.sw("GET", "/xc/in/c.txt")).text, "ccc");
    const bz = await put("/xd?extract-archive=tar.bz2", bzip2(tar([["in/d.txt", "dddd"]])));
    assert.equal(bz.json["Number Files Created"], 1, bz.text);
    assert.equal((await o.sw("GET", "/xd/in/d.txt")).text, "dddd");
    // A broken bzip2 stream is reported as tarfile words it, and no bzip2 is left running.
    const bad = await put("/xd?extract-archive=tar.bz2", Buffer.from("BZh9 not really"));
    assert.equal(bad.json["Response Status"], "400 Bad Request");
    assert.equal(bad.json["Response Body"], "Invalid Tar File: invalid compressed data");
    // Swift's kinds, case and surrounding dots aside; others are refused before anything.
    assert.equal(
      (await put("/xd?extract-archive=.TAR.", tar([["in/e", "e"]]))).json["Number Files Created"],
      1,
    );
    const tgz = await put("/xd?extract-archive=tgz", gzipSync(tar([["in/f", "f"]])));
    assert.equal(tgz.status, 400);
    assert.equal(tgz.text, "Unsupported archive format");
  });

  test("an upload path: a container or a path in one; files at the account's top are ignored", async () => {
    const r = await put(
      "/xe/pre/sub/?extract-archive=tar",
      tar([
        ["top.txt", "t"],
        ["a/b.txt", "ab"],
      ]),
    );
    assert.equal(r.json["Number Files Created"], 2, r.text);
    assert.equal((await o.sw("GET", "/xe/pre/sub/top.txt")).text, "t");
    assert.equal((await o.sw("GET", "/xe/pre/sub/a/b.txt")).text, "ab");
    const c = await put("/xf?extract-archive=tar", tar([["top.txt", "t"]]));
    assert.equal(c.json["Number Files Created"], 1);
    assert.equal((await o.sw("GET", "/xf/top.txt")).text, "t");
    // At the account a top-level file names no container: skipped, as Swift, so nothing valid is left.
    const a = await put("?extract-archive=tar", tar([["onlyname", "x"]]));
    assert.deepEqual(a.json, {
      "Response Status": "400 Bad Request",
      "Response Body": "Invalid Tar File: No Valid Files",
      "Number Files Created": 0,
      Errors: [],
    });
  });

  test("the summary's format is the Accept header's alone, not ?format=; none matching is a 406 summary, nothing stored", async () => {
    const archive = tar([["xacc/one", "1"]]);
    const bad = await put("?extract-archive=tar&format=json", archive, "image/png");
    assert.equal(bad.status, 200);
    assert.equal(bad.headers["content-type"], "text/html; charset=UTF-8");
    assert.equal(bad.text, plain(0, "406 Not Acceptable"));
    assert.equal((await o.sw("HEAD", "/xacc")).status, 404);
    const x = await put("?extract-archive=tar&format=json", archive, "text/xml");
    assert.equal(x.headers["content-type"], "text/xml; charset=utf-8");
    assert.match(x.text, /^<extract>\n<number_files_created>1<\/number_files_created>\n/);
    assert.equal((await o.sw("GET", "/xacc/one")).text, "1");
  });

  test("bad input: unknown format 400; broken archives in tarfile's words; refused names per file", async () => {
    assert.equal((await put("?extract-archive=zip", Buffer.from("x"))).status, 400);
    let r = await put("?extract-archive=tar", Buffer.alloc(512, 0x41), "text/plain");
    assert.equal(r.status, 200);
    assert.equal(r.text, plain(0, "400 Bad Request", "Invalid Tar File: invalid header"));
    r = await put("?extract-archive=tar", Buffer.alloc(0));
    assert.equal(r.json["Response Body"], "Invalid Tar File: empty file");
    r = await put("?extract-archive=tar.gz", tar([["a/b", "x"]]));
    assert.equal(r.json["Response Body"], "Invalid Tar File: not a gzip file");
    r = await put("?extract-archive=tar", tar([]));
    assert.equal(r.json["Response Body"], "Invalid Tar File: No Valid Files");
    // Past the first header a bad one ends the archive, as tarfile reads it.
    const two = tar([
      ["xg/one", "1"],
      ["xg/two", "2"],
    ]);
    two.fill(0x41, 1024, 1124);
    r = await put("?extract-archive=tar", two);
    assert.equal(r.json["Response Status"], "201 Created", r.text);
    assert.equal(r.json["Number Files Created"], 1);
    // As tarfile: a pre-POSIX regular file named with a trailing slash is a directory (nothing stored, no error);
    // a pax header's path and size win over the ustar header's; links are no files.
    r = await put(
      "?extract-archive=tar",
      tar([
        ["xk/old-dir/", "", { type: "\0" }],
        ["ignored-name", "pax", { pax: { path: "xk/from pax", size: "3" }, headerSize: 0 }],
        ["xk/link", "", { type: "2" }],
      ]),
    );
    assert.deepEqual(r.json, {
      "Response Status": "201 Created",
      "Response Body": "",
      "Number Files Created": 1,
      Errors: [],
    });
    assert.equal((await o.sw("GET", "/xk/from%20pax")).text, "pax");
    // Names that are not UTF-8 are 412, quoted byte by byte; the others are stored.
    r = await put(
      "?extract-archive=tar",
      tar([
        [Buffer.from("xh/bad\xdename", "latin1"), "x"],
        ["xh/good \u2661", "y"],
      ]),
    );
    assert.deepEqual(r.json, {
      "Response Status": "400 Bad Request",
      "Response Body": "",
      "Number Files Created": 1,
      Errors: [["xh/bad%DEname", "412 Precondition Failed"]],
    });
    assert.equal((await o.sw("GET", `/xh/${encodeURIComponent("good \u2661")}`)).text, "y");
    // A container that cannot be made is reported with the file that needed it (Swift's create_container).
    const long = "c".repeat(257);
    r = await put("?extract-archive=tar", tar([[`${long}/f`, "x"]]));
    assert.deepEqual(r.json.Errors, [
      [`/v1/${o.account}/${long}`, "400 Bad Request"],
      [`${long}/f`, "404 Not Found"],
    ]);
    assert.equal(r.json["Response Status"], "400 Bad Request");
    // Without a token, a caller who may not write the account is refused before anything.
    assert.equal((await o.sw("PUT", "?extract-archive=tar", { token: null, body: tar([]) })).status, 401);
  });

  test("past max_containers_per_extraction new containers the work stops with Swift's message", async () => {
    const kept = BULK_UPLOAD_INFO.max_containers_per_extraction;
    BULK_UPLOAD_INFO.max_containers_per_extraction = 1;
    try {
      // xj1 exists already (not counted); xj2 is the one new container allowed; xj3 is one too many.
      assert.equal((await o.sw("PUT", "/xj1")).status, 201);
      const r = await put(
        "?extract-archive=tar",
        tar([
          ["xj1/a", "1"],
          ["xj2/b", "2"],
          ["xj2/c", "3"],
          ["xj3/d", "4"],
          ["xj4/e", "5"],
        ]),
      );
      assert.deepEqual(r.json, {
        "Response Status": "400 Bad Request",
        "Response Body": "More than 1 containers to create from tar.",
        "Number Files Created": 3,
        Errors: [],
      });
    } finally {
      BULK_UPLOAD_INFO.max_containers_per_extraction = kept;
    }
    assert.equal((await o.sw("GET", "/xj2/c")).text, "3");
    // As Swift, the container that went past the limit was made, and nothing in it.
    assert.equal((await o.sw("HEAD", "/xj3")).headers["x-container-object-count"], "0");
    assert.equal((await o.sw("HEAD", "/xj4")).status, 404);
  });

  test("the 1,000th failure stops the extraction", async () => {
    const bad = Array.from({ length: 1000 }, (_, i): [Buffer, string] => [
      Buffer.from(`xi/${i}\xff`, "latin1"),
      "x",
    ]);
    const r = await put("?extract-archive=tar", tar([...bad, ["xi/after", "y"]]));
    assert.equal(r.json["Response Status"], "400 Bad Request");
    assert.equal(r.json["Number Files Created"], 0);
    assert.equal(r.json.Errors.length, 1000);
    assert.deepEqual(r.json.Errors[999], ["xi/999%FF", "412 Precondition Failed"]);
    assert.equal((await o.sw("HEAD", "/xi/after")).status, 404);
  });
});

describe("extract archive, streamed (yield frequency 0)", () => {
  let o: ObjectCloud;
  before(async () => {
    // yield_frequency 0: a filler before every read of the archive's next member (and the read that finds its end).
    o = await bootObjectCloud({
      object: {
        driver: "file",
        maxFileSize: 5 * 1024 ** 3 + 2,
        reapInterval: 0.1,
        bulk: { yieldFrequency: 0 },
      },
    });
  });
  after(() => o.close());
  const put = (path: string, body: Buffer, accept = "application/json") => putWith(o, path, body, accept);
  /** The port of the cloud's listener, started on first use. */
  let port = 0;
  const listen = async () => {
    if (!port) {
      await o.t.cloud.app.listen({ host: "127.0.0.1", port: 0 });
      port = (o.t.cloud.app.server.address() as { port: number }).port;
    }
    return port;
  };
  /** Three members (a directory and two files): four reads, four fillers. */
  const three = (c: string) =>
    tar([
      [`${c}/`, ""],
      [`${c}/one.txt`, "1"],
      [`./${c}/dir/two`, "22"],
    ]);

  test("plain text, JSON and XML: fillers, a blank line, then the exact summary", async () => {
    const p = await put("?extract-archive=tar", three("sa"), "text/plain");
    assert.equal(p.status, 200);
    assert.equal(p.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(p.text, `    \r\n\r\n${plain(2, "201 Created")}`);
    assert.equal((await o.sw("GET", "/sa/dir/two")).text, "22");

    const j = await put("?extract-archive=tar", three("sb"));
    assert.equal(j.headers["content-type"], "application/json; charset=utf-8");
    assert.equal(
      j.text,
      '    \r\n\r\n{"Response Status":"201 Created","Response Body":"","Number Files Created":2,"Errors":[]}',
    );

    const x = await put("?extract-archive=tar", three("sc"), "application/xml");
    assert.equal(x.headers["content-type"], "application/xml; charset=utf-8");
    assert.equal(
      x.text,
      '<?xml version="1.0" encoding="UTF-8"?>\n   \r\n\r\n<extract>\n' +
        "<number_files_created>2</number_files_created>\n<response_body></response_body>\n" +
        "<response_status>201 Created</response_status>\n<errors>\n</errors>\n</extract>\n",
    );
  });

  test("refusals during the work are in the summary: a quota part-way, a corrupt archive, no length", async () => {
    // A container quota of 5 bytes: the second file would pass it, the third fits again.
    assert.equal(
      (await o.sw("PUT", "/sq", { headers: { "x-container-meta-quota-bytes": "5" } })).status,
      201,
    );
    const q = await put(
      "?extract-archive=tar",
      tar([
        ["sq/a", "aaa"],
        ["sq/b", "bbb"],
        ["sq/c", "cc"],
      ]),
      "text/plain",
    );
    assert.equal(
      q.text,
      `    \r\n\r\n${plain(2, "400 Bad Request", "", [["sq/b", "413 Request Entity Too Large"]])}`,
    );
    assert.equal((await o.sw("HEAD", "/sq/b")).status, 404);
    assert.equal((await o.sw("GET", "/sq/c")).text, "cc");

    // A gzip stream whose second stored block is corrupt: the first file is stored, the second breaks the archive.
    const gz = gzipSync(
      tar([
        ["sg/one", "1"],
        ["sg/two", Buffer.alloc(200_000, 7)],
      ]),
      { level: 0 },
    );
    const next = 15 + gz.readUInt16LE(11); // the first stored block: header byte, LEN, NLEN, then LEN bytes
    gz[next + 3] ^= 0xff; // the second block's NLEN no longer matches its LEN
    const g = await put("?extract-archive=tar.gz", gz, "text/plain");
    assert.equal(
      g.text,
      `  \r\n\r\n${plain(1, "400 Bad Request", "Invalid Tar File: invalid compressed data")}`,
    );
    assert.equal((await o.sw("GET", "/sg/one")).text, "1");
    assert.equal((await o.sw("HEAD", "/sg/two")).status, 404);

    // Neither Content-Length nor chunked: 411 as the summary's status, before any filler.
    const n = await o.sw("PUT", "?extract-archive=tar", { headers: { accept: "text/plain" } });
    assert.equal(n.status, 200);
    assert.equal(
      n.text,
      plain(
        0,
        "411 Length Required",
        "<html><h1>Length Required</h1><p>Content-Length header required.</p></html>",
      ),
    );
  });

  test("an extraction that stops early reads the rest of the body: a client sending it all first is answered", async () => {
    // A broken first header ends the work at once; 32 MiB follow, more than the sockets' buffers hold.
    const body = Buffer.concat([Buffer.alloc(512, 0x41), Buffer.alloc(32 * 1024 ** 2)]);
    const socket = connect(await listen(), "127.0.0.1");
    let answer = "";
    socket.on("data", (c) => (answer += c.toString("latin1")));
    try {
      const head =
        `PUT /object-store/v1/${o.account}?extract-archive=tar HTTP/1.1\r\nHost: x\r\n` +
        `X-Auth-Token: ${o.demo}\r\nAccept: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`;
      socket.write(head);
      // The write completes only once the server has taken the whole body off the wire.
      let written = false;
      socket.write(body, (e) => (written = !e));
      await until("the server to read the whole body", () => written, 20_000);
      await until("the whole answer", () => answer.endsWith("0\r\n\r\n"));
      assert.match(answer, /^HTTP\/1\.1 200 /);
      assert.match(answer, /Response Body: Invalid Tar File: invalid header\n/);
    } finally {
      socket.destroy();
    }
  });

  test("a client that leaves stops the extraction; what was stored stays", async () => {
    await listen();
    const server = o.t.cloud.app.server;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    // Held before the second file is stored (after the first was, and its filler sent).
    extractTestHooks.beforeFile = async (path) => {
      if (path === "sd/f1") {
        held = true;
        await gate;
      }
    };
    try {
      const body = tar([0, 1, 2, 3].map((i): [string, string] => [`sd/f${i}`, `${i}`]));
      const req = request({
        host: "127.0.0.1",
        port,
        method: "PUT",
        path: `/object-store/v1/${o.account}?extract-archive=tar`,
        headers: { "x-auth-token": o.demo, "content-length": String(body.length) },
      });
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        req.on("response", resolve);
        req.on("error", reject);
        req.end(body);
      });
      assert.equal(res.statusCode, 200);
      const first = await new Promise<Buffer>((resolve) => res.once("data", resolve));
      assert.match(first.toString(), /^ +$/);
      await until("the extraction to reach the second file", () => held);
      req.on("error", () => undefined);
      req.destroy();
      const open = () => new Promise<number>((r) => server.getConnections((_e, k) => r(k)));
      await until("the server to see the client go", async () => (await open()) === 0);
      // The server destroys the body on the connection's close, in the same turn or the next.
      await new Promise((r) => setTimeout(r, 50));
      release();
      // Were the work to go on, it would store the two others well within this.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      extractTestHooks.beforeFile = undefined;
      release();
    }
    // The file being stored when the client left is finished; the work stops at the next step.
    for (const i of [0, 1]) assert.equal((await o.sw("GET", `/sd/f${i}`)).text, `${i}`);
    for (const i of [2, 3]) assert.equal((await o.sw("HEAD", `/sd/f${i}`)).status, 404, `f${i}`);
  });
});
