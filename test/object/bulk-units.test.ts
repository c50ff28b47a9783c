// The pieces of bulk answers without a cloud: the Accept header read as swob's best_match (the bulk types, as
// Swift's bulk and slo offer them), the pile running deletions a few at a time, and object.bulk.deleteConcurrency.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bestMatch } from "../../src/object/api/accept.js";
import { inFlight } from "../../src/shared/in-flight.js";
import { loadConfig } from "../../src/shared/config.js";

const TYPES = ["text/plain", "application/json", "application/xml", "text/xml"] as const;
const tick = () => new Promise<void>((r) => setImmediate(r));

describe("Accept as swob's best_match", () => {
  test("the first offered type without a header, by quality then exactness, null when malformed or unmatched", () => {
    // What swob 2.30 answers for each (checked against its Accept class).
    const cases: Array<[string | undefined, string | null]> = [
      [undefined, "text/plain"],
      ["", "text/plain"],
      ["*/*", "text/plain"],
      ["application/json", "application/json"],
      ["application/*", "application/json"],
      ["text/*", "text/plain"],
      ["text/xml", "text/xml"],
      ["application/json;q=0.5, text/xml", "text/xml"],
      ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/xml"],
      ["*/*;q=0.1, application/json;q=0.1", "application/json"],
      ["application/json; charset=utf-8", "application/json"],
      ["image/png", null],
      ["APPLICATION/JSON", null],
      ["garbage", null],
      ["application/json;q=x", null],
      ["application/json;q=1;q=1", null],
      ['application/json; charset="a=b"', null],
    ];
    for (const [header, want] of cases) assert.equal(bestMatch(header, TYPES), want, JSON.stringify(header));
  });
});

describe("inFlight (Swift's StreamingPile)", () => {
  /** Run `items` through inFlight with `limit`; each step yields a few times. The most at once, and the order. */
  const run = async (limit: number, items: number[]) => {
    let active = 0;
    let most = 0;
    const done: number[] = [];
    let i = 0;
    await inFlight(
      limit,
      () => items[i++],
      async (x) => {
        most = Math.max(most, ++active);
        for (let k = 0; k < x; k++) await tick();
        active--;
        done.push(x);
      },
    );
    return { most, done };
  };

  test("at most `limit` steps at once, every item done", async () => {
    assert.deepEqual(await run(1, [3, 1, 2]), { most: 1, done: [3, 1, 2] });
    const two = await run(2, [3, 1, 2, 1, 1]);
    assert.equal(two.most, 2);
    assert.deepEqual([...two.done].sort(), [1, 1, 1, 2, 3]);
    assert.equal((await run(10, [1, 1, 1])).most, 3);
  });

  test("a failure stops new starts and is thrown once the steps in flight have ended", async () => {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let i = 0;
    const items = [1, 2, 3, 4];
    const p = inFlight(
      2,
      () => items[i++],
      async (x) => {
        events.push(`start ${x}`);
        if (x === 2) {
          // The first step ends only after this one has failed (a later turn than the failure's own).
          setImmediate(release);
          throw new Error("boom");
        }
        await gate;
        events.push(`end ${x}`);
      },
    );
    await assert.rejects(
      p.finally(() => events.push("settled")),
      /boom/,
    );
    assert.deepEqual(events, ["start 1", "start 2", "end 1", "settled"]);
  });

  test("a failure of `next` (the failure limit) stops it the same way", async () => {
    let i = 0;
    const started: number[] = [];
    await assert.rejects(
      inFlight(
        2,
        () => {
          if (i === 3) throw new Error("limit");
          return ++i;
        },
        async (x) => {
          started.push(x);
          await tick();
        },
      ),
      /limit/,
    );
    assert.deepEqual(started, [1, 2, 3]);
  });
});

describe("object.bulk.deleteConcurrency", () => {
  const cfg = (bulk: Record<string, unknown>) =>
    loadConfig({ dataDir: "/tmp/x-stratus-cfg", object: { bulk } } as never, {});
  test("2 by default; Swift's bounds, 1..1000", () => {
    assert.equal(cfg({}).object.bulk.deleteConcurrency, 2);
    assert.equal(cfg({ deleteConcurrency: 1000 }).object.bulk.deleteConcurrency, 1000);
    assert.throws(() => cfg({ deleteConcurrency: 0 }), /deleteConcurrency/);
    assert.throws(() => cfg({ deleteConcurrency: 1001 }), /deleteConcurrency/);
  });
});
