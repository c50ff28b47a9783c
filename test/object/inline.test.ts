// Small objects' data in the database (object.inlineMaxBytes): stored with the object's row and no file, read whole,
// by range and by copy, replaced and removed with the row, and moved between the database and the store driver as
// an object's size crosses the bound; with the bound at 0 every object is a file.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

const BOUND = 1024;

/** Data files under the cloud's object directory (temporary files included). */
function dataFiles(o: ObjectCloud): string[] {
  const dir = join(o.t.dataDir, "objects");
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(dir, d.name)));
}

/** The object service's rows of a table (object_inline, object_garbage). */
async function count(o: ObjectCloud, table: string): Promise<number> {
  const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(
    o.t.cloud.object.core.db,
  );
  return Number(r.rows[0].n);
}

/** PUT a body in chunks (Transfer-Encoding: chunked, no Content-Length) over a real socket. */
async function putChunked(o: ObjectCloud, port: number, path: string, chunks: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "PUT",
        path: `/object-store/v1/${o.account}${path}`,
        headers: { "x-auth-token": o.demo },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("small objects kept in the database", () => {
  let o: ObjectCloud;
  let port = 0;
  before(async () => {
    o = await bootObjectCloud({ object: { inlineMaxBytes: BOUND } });
    await o.t.cloud.app.listen({ host: "127.0.0.1", port: 0 });
    port = (o.t.cloud.app.server.address() as { port: number }).port;
    assert.equal((await o.sw("PUT", "/c")).status, 201);
  });
  after(() => o.close());

  test("a small object has no file; it reads whole, by ranges and through copies, binary-safe", async () => {
    const data = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const put = await o.sw("PUT", "/c/bin", { body: data });
    assert.equal(put.status, 201);
    assert.equal(put.headers.etag, createHash("md5").update(data).digest("hex"));
    assert.deepEqual(dataFiles(o), []);
    assert.equal(await count(o, "object_inline"), 1);
    assert.equal(await count(o, "object_garbage"), 0);
    assert.deepEqual((await o.sw("GET", "/c/bin")).body, data);
    const head = await o.sw("HEAD", "/c/bin");
    assert.equal(head.headers["content-length"], "256");
    const one = await o.sw("GET", "/c/bin", { headers: { range: "bytes=10-19" } });
    assert.equal(one.status, 206);
    assert.deepEqual(one.body, data.subarray(10, 20));
    const two = await o.sw("GET", "/c/bin", { headers: { range: "bytes=0-1,-2" } });
    assert.equal(two.status, 206);
    assert.ok(two.body.includes(data.subarray(254)), "the suffix range is in the multipart answer");
    assert.equal((await o.sw("COPY", "/c/bin", { headers: { destination: "c/bin2" } })).status, 201);
    assert.deepEqual((await o.sw("GET", "/c/bin2")).body, data);
    assert.equal(await count(o, "object_inline"), 2, "the copy has data of its own");
    const h = await o.sw("HEAD", "/c");
    assert.equal(h.headers["x-container-object-count"], "2");
    assert.equal(h.headers["x-container-bytes-used"], "512");
    assert.equal((await o.sw("DELETE", "/c/bin")).status, 204);
    assert.equal((await o.sw("DELETE", "/c/bin2")).status, 204);
    assert.equal(await count(o, "object_inline"), 0, "deleting the object removes its data");
  });

  test("the bound: exactly inlineMaxBytes is inline, one byte more is a file; an overwrite moves the data", async () => {
    assert.equal((await o.sw("PUT", "/c/edge", { body: randomBytes(BOUND) })).status, 201);
    assert.equal(await count(o, "object_inline"), 1);
    assert.deepEqual(dataFiles(o), []);
    const big = randomBytes(BOUND + 1);
    assert.equal((await o.sw("PUT", "/c/edge", { body: big })).status, 201);
    assert.equal(await count(o, "object_inline"), 0, "the replaced inline data went with the old row");
    assert.equal(dataFiles(o).length, 1);
    assert.deepEqual((await o.sw("GET", "/c/edge")).body, big);
    const small = Buffer.from("small again");
    assert.equal((await o.sw("PUT", "/c/edge", { body: small })).status, 201);
    assert.deepEqual(dataFiles(o), [], "the replaced file is removed");
    assert.equal(await count(o, "object_garbage"), 0);
    assert.deepEqual((await o.sw("GET", "/c/edge")).body, small);
    assert.equal((await o.sw("HEAD", "/c")).headers["x-container-bytes-used"], String(small.length));
    assert.equal((await o.sw("DELETE", "/c/edge")).status, 204);
  });

  test("chunked uploads: a small one is inline, a large one streams on to a file whole", async () => {
    const parts = [Buffer.from("a".repeat(100)), Buffer.from("b".repeat(100))];
    assert.equal(await putChunked(o, port, "/c/chunk-small", parts), 201);
    assert.equal(await count(o, "object_inline"), 1);
    const big = [randomBytes(BOUND - 10), randomBytes(BOUND), randomBytes(5000)];
    assert.equal(await putChunked(o, port, "/c/chunk-big", big), 201);
    assert.equal(await count(o, "object_inline"), 1);
    assert.equal(dataFiles(o).length, 1);
    assert.deepEqual((await o.sw("GET", "/c/chunk-big")).body, Buffer.concat(big));
    assert.deepEqual((await o.sw("GET", "/c/chunk-small")).body, Buffer.concat(parts));
    for (const n of ["chunk-small", "chunk-big"]) assert.equal((await o.sw("DELETE", `/c/${n}`)).status, 204);
    assert.equal(await count(o, "object_inline"), 0);
    assert.deepEqual(dataFiles(o), []);
  });

  test("a small PUT is answered only once its commit is on disk (core.durable resolves)", async () => {
    const core = o.t.cloud.object.core;
    const durable = core.durable.bind(core);
    let release = () => {};
    let asked = 0;
    core.durable = () => {
      asked++;
      return new Promise<void>((r) => (release = r)).then(durable);
    };
    try {
      let answered = false;
      const put = o.sw("PUT", "/c/synced", { body: "must be on disk" }).then((r) => {
        answered = true;
        return r;
      });
      const deadline = Date.now() + 10_000;
      while (asked === 0) {
        assert.ok(Date.now() < deadline, "the write never asked for a durable commit");
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setImmediate(r));
      assert.equal(answered, false, "answered before the commit was durable");
      release();
      assert.equal((await put).status, 201);
    } finally {
      core.durable = durable;
    }
    assert.equal((await o.sw("DELETE", "/c/synced")).status, 204);
  });

  test("a refused small write stores nothing: ETag mismatch 422, a missing container 404", async () => {
    const bad = await o.sw("PUT", "/c/bad", { body: "data", headers: { etag: "0".repeat(32) } });
    assert.equal(bad.status, 422);
    const missing = await o.sw("PUT", "/nocontainer/x", { body: "data" });
    assert.equal(missing.status, 404);
    assert.equal(await count(o, "object_inline"), 0);
    assert.equal(await count(o, "object_garbage"), 0);
    assert.equal((await o.sw("HEAD", "/c/bad")).status, 404);
  });
});

test("object.inlineMaxBytes 0: every object's data is a file", async () => {
  const o = await bootObjectCloud({ object: { inlineMaxBytes: 0 } });
  try {
    assert.equal((await o.sw("PUT", "/c")).status, 201);
    assert.equal((await o.sw("PUT", "/c/tiny", { body: "x" })).status, 201);
    assert.equal(
      (await o.sw("PUT", "/c/empty", { body: "", headers: { "content-length": "0" } })).status,
      201,
    );
    assert.equal(dataFiles(o).length, 2);
    assert.equal(await count(o, "object_inline"), 0);
    assert.equal((await o.sw("GET", "/c/tiny")).text, "x");
  } finally {
    await o.close();
  }
});
