// SLO heartbeat PUTs (202 at once, spaces while validating, the outcome in the body), keep-alive bulk and SLO
// deletes (200 at once, fillers while deleting, the summary in the body) and asynchronous manifest deletes (the
// manifest at once, the segments by the reaper), with their refusals and /info.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request, type IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { until as waitFor } from "../helpers/wait.js";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";
import { deleteTestHooks } from "../../src/object/api/bulk.js";
import { sloPutTestHooks } from "../../src/object/api/slo-put.js";

const md5 = (b: string) => createHash("md5").update(b).digest("hex");
const base = { driver: "file", maxFileSize: 5 * 1024 ** 3 + 2, reapInterval: 0.1 };

let o: ObjectCloud;
before(async () => {
  // yield_frequency 0: a space after every segment lookup, a filler before every step of a delete.
  o = await bootObjectCloud({
    object: { ...base, bulk: { yieldFrequency: 0 }, slo: { yieldFrequency: 0, allowAsyncDelete: true } },
  });
});
after(() => o.close());

let n = 0;
/** A fresh container holding segments s0..s(k-1). */
const withSegments = async (bodies: string[]): Promise<{ c: string; etags: string[] }> => {
  const c = `hb${++n}`;
  assert.equal((await o.sw("PUT", `/${c}`)).status, 201);
  const etags: string[] = [];
  for (const [i, b] of bodies.entries()) {
    const r = await o.sw("PUT", `/${c}/s${i}`, { body: b });
    assert.equal(r.status, 201);
    etags.push(r.headers.etag as string);
  }
  return { c, etags };
};
const hbPut = (path: string, manifest: unknown, headers: Record<string, string> = {}) =>
  o.sw("PUT", `${path}?multipart-manifest=put&heartbeat=on`, { body: JSON.stringify(manifest), headers });
/** The outcome after the heartbeat spaces (which must come first, then a blank line). */
const outcome = (text: string): string => {
  const m = /^( +)\r\n\r\n([^]*)$/.exec(text);
  assert.ok(m, `heartbeat body: ${JSON.stringify(text)}`);
  return m[2];
};
/** Poll `check` until it holds or the deadline passes. */
async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("SLO heartbeat=on", () => {
  test("success: 202 at once, the 201's status, ETag and Last-Modified in the body (JSON); the SLO is stored", async () => {
    const { c, etags } = await withSegments(["aaaa", "bbb"]);
    const r = await hbPut(
      `/${c}/big`,
      etags.map((e, i) => ({ path: `/${c}/s${i}`, etag: e })),
      { accept: "application/json" },
    );
    assert.equal(r.status, 202);
    assert.equal(r.headers["content-type"], "application/json");
    const body = JSON.parse(outcome(r.text));
    assert.equal(body["Response Status"], "201 Created");
    assert.equal(body["Response Body"], "");
    assert.equal(body.Etag, `"${md5(etags.join(""))}"`);
    assert.deepEqual(body.Errors, []);
    const g = await o.sw("GET", `/${c}/big`);
    assert.equal(g.status, 200);
    assert.equal(g.text, "aaaabbb");
    assert.equal(g.headers["last-modified"], body["Last Modified"]);
    assert.equal(g.headers.etag, body.Etag);
  });

  test("a validation failure: 202, then 400 and the problem segments in the body (plain and XML); nothing stored", async () => {
    const { c } = await withSegments(["aaaa"]);
    const m = [{ path: `/${c}/s0`, etag: "0".repeat(32) }, { path: `/${c}/nope` }];
    const r = await hbPut(`/${c}/bad`, m);
    assert.equal(r.status, 202);
    assert.equal(r.headers["content-type"], "text/plain");
    assert.equal(
      outcome(r.text),
      "Response Body: Bad Request\nThe server could not comply with the request since it is either malformed or " +
        "otherwise incorrect.\nResponse Status: 400 Bad Request\nErrors:\n" +
        `/${c}/s0, Etag Mismatch\n/${c}/nope, 404 Not Found\n`,
    );
    const x = await hbPut(`/${c}/bad`, m, { accept: "application/xml" });
    assert.equal(x.status, 202);
    assert.equal(x.headers["content-type"], "application/xml");
    const xml = outcome(x.text);
    assert.match(xml, /^<upload>\n<response_body>Bad Request\n/);
    assert.match(xml, /<response_status>400 Bad Request<\/response_status>/);
    assert.match(xml, new RegExp(`<object><name>/${c}/nope</name><status>404 Not Found</status></object>`));
    assert.equal((await o.sw("GET", `/${c}/bad`)).status, 404);
  });

  test("a manifest ETag mismatch is 422 in the body; a bad manifest and a copy are refused before any 202", async () => {
    const { c } = await withSegments(["aaaa"]);
    const r = await hbPut(`/${c}/m`, [{ path: `/${c}/s0` }], {
      etag: "0".repeat(32),
      accept: "application/json",
    });
    assert.equal(r.status, 202);
    const body = JSON.parse(outcome(r.text));
    assert.equal(body["Response Status"], "422 Unprocessable Entity");
    assert.equal(body["Response Body"], "Unprocessable Entity\nUnable to process the contained instructions");
    assert.equal((await o.sw("GET", `/${c}/m`)).status, 404);
    const bad = await o.sw("PUT", `/${c}/m?multipart-manifest=put&heartbeat=on`, { body: "{" });
    assert.equal(bad.status, 400);
    assert.equal(bad.text, "Manifest must be valid JSON.\n");
    const cp = await o.sw("PUT", `/${c}/m?multipart-manifest=put&heartbeat=on`, {
      body: "[]",
      headers: { "x-copy-from": `${c}/s0` },
    });
    assert.equal(cp.status, 405);
    // A container that is not there is the write's answer, after the 202.
    const gone = await hbPut(`/nocontainer${n}/m`, [{ path: `/${c}/s0` }]);
    assert.equal(gone.status, 202);
    assert.match(outcome(gone.text), /Response Status: 404 Not Found\n/);
  });

  test("whitespace is sent while a slow segment validation runs, before the outcome", async () => {
    const { c } = await withSegments(["aa", "bb", "cc"]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    sloPutTestHooks.beforeLookup = async (path) => {
      if (path === `${c}/s1`) {
        held = true;
        await gate;
      }
    };
    try {
      const res = await o.t.cloud.app.inject({
        method: "PUT",
        url: `/object-store/v1/${o.account}/${c}/m?multipart-manifest=put&heartbeat=on`,
        headers: { "x-auth-token": o.demo },
        payload: JSON.stringify([0, 1, 2].map((i) => ({ path: `/${c}/s${i}` }))),
        payloadAsStream: true,
      });
      assert.equal(res.statusCode, 202);
      const it = (res.stream() as Readable)[Symbol.asyncIterator]();
      let got = "";
      // The lookup of s1 is held (two run at once, object.slo.concurrency 2): what arrives meanwhile is the first
      // space, s0's and s2's.
      while (got.length < 3) {
        const next = await it.next();
        assert.equal(next.done, false, "the body ended while validation was held");
        got += Buffer.from(next.value as Buffer).toString("utf8");
      }
      assert.equal(held, true);
      assert.equal(got, "   ");
      release();
      for (let next = await it.next(); !next.done; next = await it.next())
        got += Buffer.from(next.value as Buffer).toString("utf8");
      // A space per lookup (s0, s1, s2) after the first, then the outcome.
      assert.match(
        got,
        /^ {4,}\r\n\r\nEtag: "[0-9a-f]{32}"\nLast Modified: [^\n]+ GMT\nResponse Body: \nResponse Status: 201 Created\nErrors:\n$/,
      );
    } finally {
      sloPutTestHooks.beforeLookup = undefined;
      release();
    }
    assert.equal((await o.sw("GET", `/${c}/m`)).text, "aabbcc");
  });
});

describe("keep-alive deletes (yield_frequency 0: a filler before every step)", () => {
  /** The summary after a keep-alive delete's fillers (the XML declaration first for XML) and the blank line. */
  const summaryOf = (text: string, xml = false): string => {
    const m = (
      xml ? /^<\?xml version="1\.0" encoding="UTF-8"\?>\n *\r\n\r\n([^]*)$/ : /^ +\r\n\r\n([^]*)$/
    ).exec(text);
    assert.ok(m, `keep-alive body: ${JSON.stringify(text)}`);
    return m[1];
  };
  const bulk = (body: string, accept?: string) =>
    o.sw("POST", "?bulk-delete", {
      body,
      headers: { "content-type": "text/plain", ...(accept ? { accept } : {}) },
    });
  const xmlSummary = (deleted: number, notFound: number, status: string, errors = "") =>
    `<delete>\n<number_deleted>${deleted}</number_deleted>\n<number_not_found>${notFound}</number_not_found>\n` +
    `<response_body></response_body>\n<response_status>${status}</response_status>\n<errors>\n${errors}</errors>\n` +
    "</delete>\n";
  /** A container with segments s0 (in `inner`) and s1, and `outer`: [inner, s1]; deleting outer deletes 4. */
  const nested = async (): Promise<string> => {
    const { c } = await withSegments(["aa", "bb"]);
    const put = (name: string, m: unknown) =>
      o.sw("PUT", `/${c}/${name}?multipart-manifest=put`, { body: JSON.stringify(m) });
    assert.equal((await put("inner", [{ path: `/${c}/s0` }])).status, 201);
    assert.equal((await put("outer", [{ path: `/${c}/inner` }, { path: `/${c}/s1` }])).status, 201);
    return c;
  };

  test("bulk delete: 200, fillers, a blank line, then the summary in plain text, JSON and XML", async () => {
    const { c } = await withSegments(["a", "b", "c", "d"]);
    const full = (await withSegments(["x"])).c;
    const p = await bulk(`/${c}/s0\n/${c}/missing\n/${full}\n`);
    assert.equal(p.status, 200);
    assert.equal(p.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(
      summaryOf(p.text),
      "Number Deleted: 1\nNumber Not Found: 1\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n" +
        `/${full}, 409 Conflict\n`,
    );
    // At most a filler per step (three paths).
    assert.ok(p.text.indexOf("\r") <= 3, JSON.stringify(p.text));
    const j = await bulk(`/${c}/s1\n/${c}/s2\n`, "application/json");
    assert.equal(j.headers["content-type"], "application/json; charset=utf-8");
    assert.deepEqual(JSON.parse(summaryOf(j.text)), {
      "Number Deleted": 2,
      "Number Not Found": 0,
      "Response Body": "",
      "Response Status": "200 OK",
      Errors: [],
    });
    // The whitespace before it is no obstacle to a JSON parser.
    assert.equal(j.json["Number Deleted"], 2);
    const x = await bulk(`/${c}/s3\n/${c}\n`, "application/xml");
    assert.equal(x.headers["content-type"], "application/xml; charset=utf-8");
    assert.equal(summaryOf(x.text, true), xmlSummary(2, 0, "200 OK"));
    assert.equal((await o.sw("HEAD", `/${c}`)).status, 404);
    assert.equal((await o.sw("HEAD", `/${full}`)).status, 204);
  });

  test("SLO delete: 200, fillers, a blank line, then the summary in plain text, JSON and XML", async () => {
    const p = await nested();
    const r = await o.sw("DELETE", `/${p}/outer?multipart-manifest=delete`);
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(
      summaryOf(r.text),
      "Number Deleted: 4\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n",
    );
    assert.equal((await o.sw("HEAD", `/${p}`)).headers["x-container-object-count"], "0");
    const j = await o.sw("DELETE", `/${await nested()}/outer?multipart-manifest=delete`, {
      headers: { accept: "application/json" },
    });
    assert.equal(j.headers["content-type"], "application/json; charset=utf-8");
    assert.deepEqual(JSON.parse(summaryOf(j.text)), {
      "Number Deleted": 4,
      "Number Not Found": 0,
      "Response Body": "",
      "Response Status": "200 OK",
      Errors: [],
    });
    // A missing sub-manifest counts as not found; XML starts with its declaration.
    const c = await nested();
    assert.equal((await o.sw("DELETE", `/${c}/inner`)).status, 204);
    const x = await o.sw("DELETE", `/${c}/outer?multipart-manifest=delete`, {
      headers: { accept: "application/xml" },
    });
    assert.equal(x.headers["content-type"], "application/xml; charset=utf-8");
    assert.equal(summaryOf(x.text, true), xmlSummary(2, 1, "200 OK"));
  });

  test("errors during the work are the summary's status: too many buffered SLO segments, a failure midway", async () => {
    // 11 sub-manifests of 1,000 segments each: past 10,000 queued segments Swift gives up, before deleting any.
    const { c } = await withSegments(["a"]);
    const subs = Array.from({ length: 11 }, (_, i) => `sub${i}`);
    const many = JSON.stringify(Array.from({ length: 1000 }, () => ({ path: `/${c}/s0` })));
    for (const s of subs)
      assert.equal((await o.sw("PUT", `/${c}/${s}?multipart-manifest=put`, { body: many })).status, 201);
    const top = JSON.stringify(subs.map((s) => ({ path: `/${c}/${s}` })));
    assert.equal((await o.sw("PUT", `/${c}/top?multipart-manifest=put`, { body: top })).status, 201);
    const r = await o.sw("DELETE", `/${c}/top?multipart-manifest=delete`, {
      headers: { accept: "application/json" },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(summaryOf(r.text)), {
      "Number Deleted": 0,
      "Number Not Found": 0,
      "Response Body": "Too many buffered slo segments to delete.",
      "Response Status": "400 Bad Request",
      Errors: [],
    });
    assert.equal((await o.sw("HEAD", `/${c}`)).headers["x-container-object-count"], "13");

    // A failure midway (here a test hook; in life the database) ends the work with 500 and what was done by then.
    const b = (await withSegments(["a", "b", "c"])).c;
    const s = await nested();
    deleteTestHooks.beforeStep = async (name) => {
      if (name === `/${b}/s1` || name === `/${s}/inner`) throw new Error("store down");
    };
    try {
      const p = await bulk(`/${b}/s0\n/${b}/s1\n/${b}/s2\n`);
      assert.equal(p.status, 200);
      assert.equal(
        summaryOf(p.text),
        "Number Deleted: 1\nNumber Not Found: 0\nResponse Body: \nResponse Status: 500 Internal Error\nErrors:\n",
      );
      const d = await o.sw("DELETE", `/${s}/outer?multipart-manifest=delete`, {
        headers: { accept: "application/xml" },
      });
      assert.equal(d.status, 200);
      assert.equal(summaryOf(d.text, true), xmlSummary(0, 0, "500 Internal Error"));
    } finally {
      deleteTestHooks.beforeStep = undefined;
    }
    assert.equal((await o.sw("HEAD", `/${b}`)).headers["x-container-object-count"], "2");
    assert.equal((await o.sw("HEAD", `/${s}`)).headers["x-container-object-count"], "4");
  });

  test("refusals found before the work keep their status: too many paths 413, a line too long 400", async () => {
    const { c } = await withSegments(["a"]);
    const tooMany = await bulk(`/${c}/s0\n`.repeat(10001));
    assert.equal(tooMany.status, 413);
    assert.equal(tooMany.text, "Maximum Bulk Deletes: 10000 per request");
    const tooLong = await bulk(`/${c}/s0\n/${c}/${"x".repeat(4000)}\n`);
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.text, "Invalid File Name");
    assert.equal((await o.sw("HEAD", `/${c}/s0`)).status, 200);
  });

  test("a client that leaves stops the deletion", async () => {
    const { c } = await withSegments(["a", "b", "c", "d"]);
    await o.t.cloud.app.listen({ host: "127.0.0.1", port: 0 });
    const server = o.t.cloud.app.server;
    const port = (server.address() as { port: number }).port;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    // Every path but the first is held (two at a time start, so s1 beside s0, then s2 once s0 is deleted).
    deleteTestHooks.beforeStep = async (name) => {
      if (name !== `/${c}/s0`) {
        held = true;
        await gate;
      }
    };
    try {
      const req = request({
        host: "127.0.0.1",
        port,
        method: "POST",
        path: `/object-store/v1/${o.account}?bulk-delete`,
        headers: { "x-auth-token": o.demo, "content-type": "text/plain" },
      });
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        req.on("response", resolve);
        req.on("error", reject);
        req.end([0, 1, 2, 3].map((i) => `/${c}/s${i}`).join("\n"));
      });
      assert.equal(res.statusCode, 200);
      const first = await new Promise<Buffer>((resolve) => res.once("data", resolve));
      assert.equal(first.toString(), " ");
      await waitFor("the deletion to reach the second path", () => held);
      await waitFor("the first path's deletion", async () => (await o.sw("HEAD", `/${c}/s0`)).status === 404);
      req.on("error", () => undefined);
      req.destroy();
      const open = () => new Promise<number>((r) => server.getConnections((_e, k) => r(k)));
      await waitFor("the server to see the client go", async () => (await open()) === 0);
      // The server destroys the body on the connection's close, in the same turn or the next.
      await new Promise((r) => setTimeout(r, 50));
      release();
      // Were the work to go on, it would delete the three others well within this.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      deleteTestHooks.beforeStep = undefined;
      release();
    }
    assert.equal((await o.sw("HEAD", `/${c}/s0`)).status, 404);
    for (const i of [1, 2, 3]) assert.equal((await o.sw("HEAD", `/${c}/s${i}`)).status, 200, `s${i}`);
  });
});

describe("SLO multipart-manifest=delete&async=on", () => {
  test("the manifest goes at once, the segments when the reaper runs; a segment rewritten since is kept", async () => {
    const { c } = await withSegments(["aa", "bb", "cc"]);
    const m = await o.sw("PUT", `/${c}/m?multipart-manifest=put`, {
      body: JSON.stringify([0, 1, 2].map((i) => ({ path: `/${c}/s${i}` }))),
    });
    assert.equal(m.status, 201);
    const d = await o.sw("DELETE", `/${c}/m?multipart-manifest=delete&async=on`);
    assert.equal(d.status, 204);
    assert.equal((await o.sw("GET", `/${c}/m`)).status, 404);
    assert.equal((await o.sw("PUT", `/${c}/s0`, { body: "new" })).status, 201);
    const names = async () =>
      ((await o.sw("GET", `/${c}?format=json`)).json as Array<{ name: string }>).map((x) => x.name);
    await until(async () => (await names()).length === 1, "the reaper to remove the segments");
    assert.deepEqual(await names(), ["s0"]);
    assert.equal((await o.sw("GET", `/${c}/s0`)).text, "new");
  });

  test("refusals: segments in two containers, a nested SLO, not an SLO, no manifest; the manifest stays", async () => {
    const a = await withSegments(["aa"]);
    const b = await withSegments(["bb"]);
    const two = [{ path: `/${a.c}/s0` }, { path: `/${b.c}/s0` }];
    assert.equal(
      (await o.sw("PUT", `/${a.c}/two?multipart-manifest=put`, { body: JSON.stringify(two) })).status,
      201,
    );
    const r = await o.sw("DELETE", `/${a.c}/two?multipart-manifest=delete&async=yes`);
    assert.equal(r.status, 400);
    assert.equal(r.text, `All segments must be in one container. Found segments in "${a.c}", "${b.c}"`);
    assert.equal((await o.sw("GET", `/${a.c}/two`)).text, "aabb");
    const nested = [{ path: `/${a.c}/two` }, { path: `/${a.c}/s0` }];
    assert.equal(
      (await o.sw("PUT", `/${a.c}/nest?multipart-manifest=put`, { body: JSON.stringify(nested) })).status,
      201,
    );
    const s = await o.sw("DELETE", `/${a.c}/nest?multipart-manifest=delete&async=on`);
    assert.equal(s.status, 400);
    assert.equal(s.text, "No segments may be large objects.");
    const p = await o.sw("DELETE", `/${a.c}/s0?multipart-manifest=delete&async=on`);
    assert.equal(p.status, 400);
    assert.equal(p.text, "Not an SLO manifest");
    const g = await o.sw("DELETE", `/${a.c}/missing?multipart-manifest=delete&async=on`);
    assert.equal(g.status, 404);
    assert.equal(g.text, "SLO manifest not found");
    assert.equal((await o.sw("GET", `/${a.c}/nest`)).status, 200);
    assert.equal((await o.sw("GET", `/${a.c}/s0`)).text, "aa");
  });

  test("write rights are needed on the segments' container too: 403 and nothing goes; with them 204", async () => {
    const t = o.t;
    const pw = "Passw0rd-slo";
    const proj = await t.createProject("slo-other");
    const user = await t.createUser("slo-user", pw);
    const grant = await t.req(
      "PUT",
      `/v3/projects/${proj.id}/users/${user.id}/roles/${await t.roleId("member")}`,
      {
        token: await t.adminToken(),
      },
    );
    assert.equal(grant.status, 204);
    const other = await t.token("slo-user", pw, "slo-other");
    const segs = await withSegments(["aa", "bb"]);
    const man = `hbm${++n}`;
    assert.equal((await o.sw("PUT", `/${man}`)).status, 201);
    const m = [0, 1].map((i) => ({ path: `/${segs.c}/s${i}` }));
    assert.equal(
      (await o.sw("PUT", `/${man}/m?multipart-manifest=put`, { body: JSON.stringify(m) })).status,
      201,
    );
    const acl = { "x-container-read": "slo-other:slo-user", "x-container-write": "slo-other:slo-user" };
    assert.equal((await o.sw("POST", `/${man}`, { headers: acl })).status, 204);
    assert.equal(
      (await o.sw("POST", `/${segs.c}`, { headers: { "x-container-read": "slo-other:slo-user" } })).status,
      204,
    );
    const del = () => o.sw("DELETE", `/${man}/m?multipart-manifest=delete&async=on`, { token: other });
    assert.equal((await del()).status, 403);
    assert.equal((await o.sw("GET", `/${man}/m`)).text, "aabb");
    assert.equal((await o.sw("POST", `/${segs.c}`, { headers: acl })).status, 204);
    assert.equal((await del()).status, 204);
    assert.equal((await o.sw("GET", `/${man}/m`)).status, 404);
    await until(
      async () => ((await o.sw("GET", `/${segs.c}?format=json`)).json as unknown[]).length === 0,
      "the reaper to remove the segments",
    );
  });

  test("/info lists yield_frequency and allow_async_delete as configured", async () => {
    const i = await o.sw("GET", "/object-store/info", { token: null });
    assert.equal(i.status, 200);
    assert.deepEqual(i.json.slo, {
      max_manifest_segments: 1000,
      max_manifest_size: 8 * 1024 * 1024,
      yield_frequency: 0,
      min_segment_size: 1,
      allow_async_delete: true,
    });
  });
});

describe("SLO async delete not allowed", () => {
  let p: ObjectCloud;
  before(async () => {
    p = await bootObjectCloud({ object: { ...base, slo: { yieldFrequency: 10, allowAsyncDelete: false } } });
  });
  after(() => p.close());

  test("async=on is ignored: the segments and the manifest go now, with the bulk summary; /info says false", async () => {
    assert.equal((await p.sw("PUT", "/c")).status, 201);
    assert.equal((await p.sw("PUT", "/c/s0", { body: "aa" })).status, 201);
    const m = await p.sw("PUT", "/c/m?multipart-manifest=put", { body: JSON.stringify([{ path: "/c/s0" }]) });
    assert.equal(m.status, 201);
    const d = await p.sw("DELETE", "/c/m?multipart-manifest=delete&async=on", {
      headers: { accept: "application/json" },
    });
    assert.equal(d.status, 200);
    assert.equal(d.json["Number Deleted"], 2);
    assert.equal((await p.sw("GET", "/c/s0")).status, 404);
    const i = await p.sw("GET", "/object-store/info", { token: null });
    assert.equal(i.json.slo.allow_async_delete, false);
    assert.equal(i.json.slo.yield_frequency, 10);
  });
});
