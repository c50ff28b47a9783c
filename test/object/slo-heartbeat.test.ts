// SLO heartbeat PUTs (202 at once, spaces while validating, the outcome in the body) and asynchronous manifest
// deletes (the manifest at once, the segments by the reaper), with their refusals and /info.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";
import { sloPutTestHooks } from "../../src/object/api/slo-put.js";

const md5 = (b: string) => createHash("md5").update(b).digest("hex");
const base = { driver: "file", maxFileSize: 5 * 1024 ** 3 + 2, reapInterval: 0.1 };

let o: ObjectCloud;
before(async () => {
  // yield_frequency 0: a space after every segment lookup.
  o = await bootObjectCloud({ object: { ...base, slo: { yieldFrequency: 0, allowAsyncDelete: true } } });
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
      // Validation is held at s1: what arrives meanwhile is the first space and s0's.
      while (got.length < 2) {
        const next = await it.next();
        assert.equal(next.done, false, "the body ended while validation was held");
        got += Buffer.from(next.value as Buffer).toString("utf8");
      }
      assert.equal(held, true);
      assert.equal(got, "  ");
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
