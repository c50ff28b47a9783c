// Extract archive in process: a tar (or tar.gz, tar.bz2) PUT with ?extract-archive becomes containers and objects; bad
// archives and paths answer in Swift's bulk format.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

let o: ObjectCloud;
before(async () => {
  o = await bootObjectCloud();
});
after(() => o.close());

/** A ustar archive of `entries` (a trailing "/" makes a directory). */
function tar(entries: Array<[string, string]>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, "utf8");
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(`${Buffer.byteLength(data).toString(8).padStart(11, "0")}\0`, 124);
    h.write("00000000000\0", 136);
    h.write(name.endsWith("/") ? "5" : "0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(h);
    const d = Buffer.from(data);
    blocks.push(d, Buffer.alloc((512 - (d.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
const put = (path: string, body: Buffer, accept = "application/json") =>
  o.sw("PUT", path, { body, headers: { "content-length": String(body.length), accept } });

const bzip2 = (b: Buffer): Buffer => execFileSync("bzip2", ["-c"], { input: b });

describe("extract archive", () => {
  test("a tar makes containers and objects; tar.gz too; into a container with a prefix path", async () => {
    const archive = tar([
      ["xa/", ""],
      ["xa/one.txt", "1"],
      ["./xb/dir/two", "22"],
    ]);
    const r = await put("?extract-archive=tar", archive);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, {
      "Number Files Created": 2,
      "Response Body": "",
      "Response Status": "201 Created",
      Errors: [],
    });
    assert.equal((await o.sw("GET", "/xa/one.txt")).text, "1");
    assert.equal((await o.sw("GET", "/xa/one.txt")).headers["content-type"], "text/plain");
    assert.equal((await o.sw("GET", "/xb/dir/two")).text, "22");
    const gz = await put("/xc?extract-archive=tar.gz", gzipSync(tar([["in/c.txt", "ccc"]])));
    assert.equal(gz.json["Number Files Created"], 1);
    assert.equal((await o.sw("GET", "/xc/in/c.txt")).text, "ccc");
    const bz = await put("/xd?extract-archive=tar.bz2", bzip2(tar([["in/d.txt", "dddd"]])));
    assert.equal(bz.json["Number Files Created"], 1, bz.text);
    assert.equal((await o.sw("GET", "/xd/in/d.txt")).text, "dddd");
    // A broken bzip2 stream is reported as an invalid archive, and no bzip2 is left running.
    const bad = await put("/xd?extract-archive=tar.bz2", Buffer.from("BZh9 not really"));
    assert.equal(bad.json["Response Status"], "400 Bad Request");
    assert.match(bad.json["Response Body"], /^Invalid Tar File: /);
  });

  test("bad input: unknown format 400, a broken archive and no files are reported as Swift does", async () => {
    assert.equal((await put("?extract-archive=zip", Buffer.from("x"))).status, 400);
    const broken = Buffer.alloc(512, 0x41);
    let r = await put("?extract-archive=tar", broken, "text/plain");
    assert.equal(r.status, 200);
    assert.match(r.text, /Response Status: 400 Bad Request/);
    assert.match(r.text, /Response Body: Invalid Tar File: /);
    r = await put("?extract-archive=tar", tar([["onlyname", "x"]]));
    assert.equal(r.json["Response Status"], "400 Bad Request");
    assert.deepEqual(r.json.Errors, [["/onlyname", "400 Bad Request"]]);
    r = await put("?extract-archive=tar", tar([]));
    assert.equal(r.json["Response Body"], "Invalid Tar File: No Valid Files");
    assert.equal((await put("?extract-archive=tar", tar([["a/b", "x"]]), "x")).status, 200);
    // The caller must own the account.
    assert.equal((await o.sw("PUT", "?extract-archive=tar", { token: null, body: tar([]) })).status, 401);
  });
});
