// object.slo.concurrency (Swift's slo `concurrency`): a manifest PUT looks its segments up that many at once and
// `multipart-manifest=delete` runs that many deletions at once, with the same problem segments (in manifest order),
// fillers and summaries as one at a time; 1 keeps both serial.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { deleteTestHooks } from "../../src/object/api/bulk.js";
import { inFlight } from "../../src/shared/in-flight.js";
import type { Ctx } from "../../src/object/api/request.js";
import { SloProblems, sloPutTestHooks, validateSlo, type Input } from "../../src/object/api/slo-put.js";
import { SwiftError } from "../../src/object/errors.js";
import type { StoredObject } from "../../src/object/store/objects.js";
import { loadConfig } from "../../src/shared/config.js";
import { bootObjectCloud, type ObjectCloud } from "./helpers.js";

const md5 = (b: string) => createHash("md5").update(b).digest("hex");
const tick = () => new Promise<void>((r) => setImmediate(r));
const base = { driver: "file", maxFileSize: 5 * 1024 ** 3 + 2, reapInterval: 0.1 };

describe("object.slo.concurrency", () => {
  const cfg = (slo: Record<string, unknown>) =>
    loadConfig({ dataDir: "/tmp/x-stratus-cfg", object: { slo } } as never, {});
  test("2 by default, 1..1000", () => {
    assert.equal(cfg({}).object.slo.concurrency, 2);
    assert.equal(cfg({ concurrency: 1 }).object.slo.concurrency, 1);
    assert.equal(cfg({ concurrency: 1000 }).object.slo.concurrency, 1000);
    assert.throws(() => cfg({ concurrency: 0 }), /concurrency/);
    assert.throws(() => cfg({ concurrency: 1001 }), /concurrency/);
  });
});

describe("inFlight with an async generator (the SLO delete's queue)", () => {
  test("its next() calls queue up: items start in order, at most `limit` steps at once", async () => {
    async function* items(): AsyncGenerator<number> {
      for (let i = 1; i <= 5; i++) {
        await tick();
        yield i;
      }
    }
    const gen = items();
    const started: number[] = [];
    let active = 0;
    let most = 0;
    await inFlight(
      2,
      async () => (await gen.next()).value ?? undefined,
      async (x) => {
        started.push(x);
        most = Math.max(most, ++active);
        for (let k = 0; k < 6 - x; k++) await tick();
        active--;
      },
    );
    assert.deepEqual(started, [1, 2, 3, 4, 5]);
    assert.equal(most, 2);
  });

  test("a step failing while another worker waits for its item: that item does not start", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started: number[] = [];
    async function* items(): AsyncGenerator<number> {
      yield 1;
      // The second item is produced only after the first step has failed.
      await gate;
      yield 2;
      yield 3;
    }
    const gen = items();
    await assert.rejects(
      inFlight(
        2,
        async () => (await gen.next()).value ?? undefined,
        async (x) => {
          started.push(x);
          setImmediate(release);
          throw new Error("gone");
        },
      ),
      /gone/,
    );
    assert.deepEqual(started, [1]);
  });

  test("the generator's own failure stops it once the steps in flight have ended", async () => {
    const events: string[] = [];
    async function* items(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error("too many");
    }
    const gen = items();
    await assert.rejects(
      inFlight(
        2,
        async () => (await gen.next()).value ?? undefined,
        async (x) => {
          events.push(`start ${x}`);
          await tick();
          await tick();
          events.push(`end ${x}`);
        },
      ),
      /too many/,
    );
    assert.deepEqual(events, ["start 1", "start 2", "end 1", "end 2"]);
  });
});

describe("validateSlo's lookups", () => {
  const ctx = { headers: {} } as unknown as Ctx;
  const obj = (name: string, body: string): StoredObject => ({
    containerId: 1,
    name,
    size: body.length,
    etag: md5(body),
    contentType: "application/octet-stream",
    timestamp: "1700000000.00000",
    meta: new Map(),
    deleteAt: null,
    dataKey: name,
  });
  const bodies: Record<string, string> = { s0: "aa", s1: "bbb", s2: "c", s3: "dd" };
  // Missing segments, a size and an ETag mismatch, an unsatisfiable range, a repeated missing segment.
  const input: Input[] = [
    { path: "/c/gone0" },
    { path: "/c/s0", size: 99 },
    { path: "/c/gone1" },
    { path: "/c/s1", etag: "nope" },
    { path: "c/gone0" },
    { path: "/c/s2", range: "5-9" },
    { path: "/c/s3" },
  ];
  const want: Array<[string, string]> = [
    ["/c/gone0", "404 Not Found"],
    ["/c/s0", "Size Mismatch"],
    ["/c/gone1", "404 Not Found"],
    ["/c/s1", "Etag Mismatch"],
    ["c/gone0", "404 Not Found"],
    ["/c/s2", "Unsatisfiable Range"],
  ];
  /** A lookup that counts those at once; `hold` may delay one until a condition. */
  const fake = (hold?: (name: string, started: string[]) => Promise<void>) => {
    const started: string[] = [];
    let active = 0;
    let most = 0;
    const lookup = async (container: string, object: string): Promise<StoredObject> => {
      started.push(object);
      most = Math.max(most, ++active);
      try {
        await hold?.(object, started);
        await tick();
        if (!(object in bodies)) throw new SwiftError(404);
        return obj(`${container}/${object}`, bodies[object]);
      } finally {
        active--;
      }
    };
    return { lookup, started, most: () => most };
  };
  const problemsOf = async (p: Promise<unknown>): Promise<Array<[string, string]>> => {
    try {
      await p;
    } catch (e) {
      if (e instanceof SloProblems) return e.problems;
      throw e;
    }
    return assert.fail("the manifest was accepted");
  };

  test("concurrency 1: one lookup at a time, each segment once, in manifest order, a tick after each", async () => {
    const f = fake();
    let ticks = 0;
    assert.deepEqual(await problemsOf(validateSlo(ctx, input, f.lookup, 1, () => ticks++)), want);
    assert.equal(f.most(), 1);
    assert.deepEqual(f.started, ["gone0", "s0", "gone1", "s1", "s2", "s3"]);
    assert.equal(ticks, 6);
  });

  test("concurrency 2: the first lookup is held until another has started; problems in manifest order all the same", async () => {
    let secondStarted!: () => void;
    const second = new Promise<void>((r) => (secondStarted = r));
    let thirdStarted!: () => void;
    const third = new Promise<void>((r) => (thirdStarted = r));
    // gone0 ends only after s0 has ended and gone1 started (held while serial: the test's timeout fails it).
    const f = fake(async (name) => {
      if (name === "s0") secondStarted();
      if (name === "gone1") thirdStarted();
      if (name === "gone0") await Promise.all([second, third]);
    });
    let ticks = 0;
    assert.deepEqual(await problemsOf(validateSlo(ctx, input, f.lookup, 2, () => ticks++)), want);
    assert.equal(f.most(), 2);
    assert.deepEqual(f.started, ["gone0", "s0", "gone1", "s1", "s2", "s3"]);
    assert.equal(ticks, 6);
  });

  test("what is stored does not depend on the order lookups end", async () => {
    const ok: Input[] = [
      { path: "/c/s0" },
      { path: "/c/s1", range: "1-" },
      { path: "/c/s2" },
      { path: "/c/s0" },
    ];
    const serial = await validateSlo(ctx, ok, fake().lookup, 1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // s0 ends last: s1 and s2 were looked up (and ended) meanwhile.
    const parallel = await validateSlo(
      ctx,
      ok,
      fake(async (name, started) => {
        if (name === "s2" && started.includes("s1")) release();
        if (name === "s0") await gate;
      }).lookup,
      2,
    );
    assert.deepEqual(parallel, serial);
    assert.equal(serial.size, 2 + 2 + 1 + 2);
  });
});

/** Two clouds: the default concurrency (2) and one at a time. */
let two: ObjectCloud;
let one: ObjectCloud;
before(async () => {
  two = await bootObjectCloud();
  one = await bootObjectCloud({ object: { ...base, slo: { concurrency: 1 } } });
});
after(async () => {
  await two?.close();
  await one?.close();
});

/** The same container, holding segments s0..s(k-1), in both clouds. */
let n = 0;
const withSegments = async (bodies: string[]): Promise<string> => {
  const c = `conc${++n}`;
  for (const o of [two, one]) {
    assert.equal((await o.sw("PUT", `/${c}`)).status, 201);
    for (const [i, b] of bodies.entries())
      assert.equal((await o.sw("PUT", `/${c}/s${i}`, { body: b })).status, 201);
  }
  return c;
};
const put = (
  o: ObjectCloud,
  path: string,
  manifest: unknown,
  query = "",
  headers: Record<string, string> = {},
) => o.sw("PUT", `${path}?multipart-manifest=put${query}`, { body: JSON.stringify(manifest), headers });

describe("SLO manifest PUT, two lookups at once", () => {
  test(
    "the first segment's lookup is held until the second has started; the SLO is stored",
    { timeout: 60_000 },
    async () => {
      const c = await withSegments(["aa", "bb", "cc", "dd"]);
      const started: string[] = [];
      let secondStarted!: () => void;
      const second = new Promise<void>((r) => (secondStarted = r));
      // One at a time, the first lookup would wait for ever: the test's timeout fails it.
      sloPutTestHooks.beforeLookup = async (name) => {
        started.push(name);
        if (name === `${c}/s1`) secondStarted();
        if (name === `${c}/s0`) await second;
      };
      try {
        const r = await put(
          two,
          `/${c}/m`,
          [0, 1, 2, 3].map((i) => ({ path: `/${c}/s${i}` })),
        );
        assert.equal(r.status, 201, r.text);
      } finally {
        sloPutTestHooks.beforeLookup = undefined;
      }
      assert.deepEqual(
        started,
        [0, 1, 2, 3].map((i) => `${c}/s${i}`),
      );
      assert.equal((await two.sw("GET", `/${c}/m`)).text, "aabbccdd");
    },
  );

  test(
    "problem segments: the same answer, in manifest order, as one at a time (plain, JSON, heartbeat)",
    { timeout: 60_000 },
    async () => {
      const c = await withSegments(["aa", "bbb", "c"]);
      const manifest = [
        { path: `/${c}/gone0` },
        { path: `/${c}/s0`, size_bytes: 99 },
        { path: `/${c}/gone1` },
        { path: `/${c}/s1`, etag: "nope" },
        { path: `/${c}/gone0` },
        { path: `/${c}/s2`, range: "5-9" },
      ];
      const plain =
        "Errors:\n" +
        `/${c}/gone0, 404 Not Found\n/${c}/s0, Size Mismatch\n/${c}/gone1, 404 Not Found\n` +
        `/${c}/s1, Etag Mismatch\n/${c}/gone0, 404 Not Found\n/${c}/s2, Unsatisfiable Range\n`;
      // In the concurrent cloud gone0's lookup ends last, after gone1's has started.
      let release!: () => void;
      sloPutTestHooks.beforeLookup = async (name) => {
        if (name === `${c}/gone1`) release();
        if (name === `${c}/gone0`) await new Promise<void>((r) => (release = r));
      };
      const answers = async (o: ObjectCloud) => [
        await put(o, `/${c}/m`, manifest),
        await put(o, `/${c}/m`, manifest, "", { accept: "application/json" }),
        await put(o, `/${c}/m`, manifest, "&heartbeat=on", { accept: "application/json" }),
      ];
      const parallel = await answers(two).finally(() => (sloPutTestHooks.beforeLookup = undefined));
      const serial = await answers(one);
      for (const [i, r] of parallel.entries()) {
        assert.equal(r.status, serial[i].status);
        assert.equal(r.text.trimStart(), serial[i].text.trimStart());
      }
      assert.equal(parallel[0].status, 400);
      assert.equal(parallel[0].text, plain);
      assert.deepEqual(
        parallel[1].json.Errors,
        [...plain.matchAll(/^(\/[^,]+), (.+)$/gm)].map((m) => [m[1], m[2]]),
      );
      assert.equal(parallel[2].status, 202);
      assert.deepEqual(JSON.parse(parallel[2].text).Errors, parallel[1].json.Errors);
      assert.equal(JSON.parse(parallel[2].text)["Response Status"], "400 Bad Request");
      assert.equal((await two.sw("GET", `/${c}/m`)).status, 404);
    },
  );
});

describe("SLO multipart-manifest=delete, two deletions at once", () => {
  /** In both clouds: outer = [s0, s1, inner, missing, s2, gonesub, notslo], inner = [s3, s4]; then `missing` and
   *  `gonesub` are deleted and `notslo` becomes a plain object. */
  const setUp = async (): Promise<string> => {
    const c = await withSegments(["a", "b", "c", "d", "e", "f"]);
    const seg = (name: string) => ({ path: `/${c}/${name}` });
    for (const o of [two, one]) {
      assert.equal((await o.sw("PUT", `/${c}/missing`, { body: "m" })).status, 201);
      assert.equal((await put(o, `/${c}/inner`, [seg("s3"), seg("s4")])).status, 201);
      assert.equal((await put(o, `/${c}/gonesub`, [seg("s5")])).status, 201);
      assert.equal((await put(o, `/${c}/notslo`, [seg("s5")])).status, 201);
      const outer = ["s0", "s1", "inner", "missing", "s2", "gonesub", "notslo"].map(seg);
      assert.equal((await put(o, `/${c}/outer`, outer)).status, 201);
      assert.equal((await o.sw("DELETE", `/${c}/missing`)).status, 204);
      assert.equal((await o.sw("DELETE", `/${c}/gonesub`)).status, 204);
      assert.equal((await o.sw("PUT", `/${c}/notslo`, { body: "plain" })).status, 201);
    }
    return c;
  };
  const del = (o: ObjectCloud, c: string) =>
    o.sw("DELETE", `/${c}/outer?multipart-manifest=delete`, { headers: { accept: "application/json" } });
  const names = async (o: ObjectCloud, c: string): Promise<string[]> =>
    ((await o.sw("GET", `/${c}?format=json`)).json as Array<{ name: string }>).map((x) => x.name);

  test(
    "the first deletion is held until the second has started; counts and errors as one at a time",
    { timeout: 60_000 },
    async () => {
      const c = await setUp();
      const steps: string[] = [];
      let s0Present: number | undefined;
      let secondStarted!: () => void;
      const second = new Promise<void>((r) => (secondStarted = r));
      // One at a time, s0's deletion would wait for ever: the test's timeout fails it.
      deleteTestHooks.beforeStep = async (name) => {
        steps.push(name);
        if (name === `/${c}/s1`) {
          s0Present = (await two.sw("HEAD", `/${c}/s0`)).status;
          secondStarted();
        }
        if (name === `/${c}/s0`) await second;
      };
      const r = await del(two, c).finally(() => (deleteTestHooks.beforeStep = undefined));
      assert.equal(s0Present, 200);
      const serial = await del(one, c);
      const want = {
        "Number Deleted": 7,
        "Number Not Found": 2,
        "Response Body": "",
        "Response Status": "400 Bad Request",
        Errors: [[`/${c}/notslo`, "Not an SLO manifest"]],
      };
      assert.deepEqual(r.json, want);
      assert.deepEqual(serial.json, want);
      // Every step (manifest reads, deletions, listed failures) once, the first ones in Swift's order; later ones
      // may begin in another order as deletions end.
      const all = ["outer", "s0", "s1", "inner", "missing", "s2", "gonesub", "notslo", "outer", "s3", "s4"];
      all.push("inner", "gonesub", "notslo");
      const full = (xs: string[]) => xs.map((x) => `/${c}/${x}`);
      assert.deepEqual(steps.slice(0, 3), full(all.slice(0, 3)));
      assert.deepEqual([...steps].sort(), full(all).sort());
      for (const o of [two, one]) assert.deepEqual(await names(o, c), ["notslo", "s5"]);
    },
  );

  test("concurrency 1: each deletion starts after the previous one has ended", async () => {
    const c = await setUp();
    const deleted: string[] = [];
    const stillThere: string[] = [];
    const plain = new Set(["s0", "s1", "s2", "s3", "s4"].map((x) => `/${c}/${x}`));
    deleteTestHooks.beforeStep = async (name) => {
      // Every segment stepped before this one is already gone.
      for (const d of deleted)
        if ((await one.sw("HEAD", d)).status !== 404) stillThere.push(`${d} at ${name}`);
      if (plain.has(name)) deleted.push(name);
    };
    const r = await del(one, c).finally(() => (deleteTestHooks.beforeStep = undefined));
    assert.equal(r.json["Number Deleted"], 7);
    assert.deepEqual(stillThere, []);
    assert.equal(deleted.length, 5);
  });
});
