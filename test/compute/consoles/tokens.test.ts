// Console tokens on every SQL engine, through two database handles (as two API processes have): a token issued by
// one is accepted by the other, exactly once even when both race for it; it is stored only as a hash, expires,
// and opens only its own console type. SQLite always runs; PostgreSQL and MariaDB skip when not usable (not in CI).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import {
  consumeConsoleToken,
  issueConsoleToken,
  showConsoleToken,
  type ConsoleTarget,
} from "../../../src/compute/consoles/tokens.js";
import { ENGINES, prepareEngines } from "../../helpers/engines.js";
import { computeHandles } from "../../helpers/compute-db.js";

before(prepareEngines);

const target: ConsoleTarget = {
  instanceUuid: "11111111-2222-3333-4444-555555555555",
  consoleType: "novnc",
  computeHost: "compute1",
  host: "127.0.0.1",
  port: 5901,
};

for (const engine of ENGINES) {
  describe(`console tokens on ${engine}`, () => {
    const handles = computeHandles(engine, "stratus-ctok");

    test("a token issued by one process opens its console once from another; only its hash is stored", async (t) => {
      if (handles.skip) return t.skip(handles.skip);
      const [a, b] = [handles.h[0]!.kysely, handles.h[1]!.kysely];
      const token = await issueConsoleToken(a, target, 600);
      assert.match(token, /^[0-9a-f]{48}$/);
      const rows = await b.selectFrom("compute_console_token").selectAll().execute();
      assert.ok(!JSON.stringify(rows).includes(token), "the token itself is not at rest in the database");
      assert.deepEqual(await showConsoleToken(b, token), target, "showing does not use it up");
      assert.equal(
        await consumeConsoleToken(b, token, "serial"),
        undefined,
        "a VNC token opens no serial console",
      );
      assert.deepEqual(await consumeConsoleToken(b, token, "novnc"), target);
      assert.equal(await consumeConsoleToken(a, token, "novnc"), undefined, "single use");
      assert.equal(await showConsoleToken(a, token), undefined);
      assert.equal(await consumeConsoleToken(a, "", "novnc"), undefined);
      assert.equal(await consumeConsoleToken(a, "x".repeat(10_000), "novnc"), undefined);
    });

    test("two proxies racing for one token: exactly one wins", async (t) => {
      if (handles.skip) return t.skip(handles.skip);
      for (let i = 0; i < 10; i++) {
        const token = await issueConsoleToken(handles.h[0]!.kysely, target, 600);
        const wins = await Promise.all([
          consumeConsoleToken(handles.h[0]!.kysely, token, "novnc"),
          consumeConsoleToken(handles.h[1]!.kysely, token, "novnc"),
        ]);
        assert.equal(wins.filter((w) => w !== undefined).length, 1, `round ${i}`);
      }
    });

    test("an expired token opens nothing, and is purged when the next one is issued", async (t) => {
      if (handles.skip) return t.skip(handles.skip);
      const db = handles.h[0]!.kysely;
      const token = await issueConsoleToken(db, target, 600);
      await db
        .updateTable("compute_console_token")
        .set({ expires_ms: Date.now() - 1 })
        .where("expires_ms", ">", 0)
        .execute();
      assert.equal(await showConsoleToken(db, token), undefined);
      assert.equal(await consumeConsoleToken(db, token, "novnc"), undefined);
      const fresh = await issueConsoleToken(db, target, 600);
      const left = await db.selectFrom("compute_console_token").select("token_hash").execute();
      assert.equal(left.length, 1, "only the fresh token is left");
      assert.ok(await consumeConsoleToken(handles.h[1]!.kysely, fresh, "novnc"));
    });
  });
}
