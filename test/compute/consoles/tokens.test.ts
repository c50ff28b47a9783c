// Console tokens on every SQL engine, through two database handles (as two API processes have): a token issued by
// one is accepted by the other, exactly once even when both race for it; it is stored only as a hash, expires,
// and opens only its own console type. SQLite always runs; PostgreSQL and MariaDB skip when not usable (not in CI).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { computeMigrations } from "../../../src/compute/migrations/index.js";
import {
  consumeConsoleToken,
  issueConsoleToken,
  showConsoleToken,
  type ConsoleTarget,
} from "../../../src/compute/consoles/tokens.js";
import { migrate, openDatabase, type Database } from "../../../src/shared/db/index.js";
import { createTempDatabase, ENGINES, prepareEngines, type TempDatabase } from "../../helpers/engines.js";

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
    let skip: string | null = null;
    let dataDir = "";
    let tmp: TempDatabase | null = null;
    const h: Database[] = [];

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `stratus-ctok-${engine}-`));
      tmp = await createTempDatabase(engine, { dataDir, prefix: "stratus_ctok" });
      skip = tmp.skipReason;
      if (skip) return;
      for (let i = 0; i < 2; i++) h.push(await openDatabase(tmp.url));
      await migrate(h[0]!, "compute", computeMigrations);
    });
    after(async () => {
      for (const d of h) await d.close();
      await tmp?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    test("a token issued by one process opens its console once from another; only its hash is stored", async (t) => {
      if (skip) return t.skip(skip);
      const [a, b] = [h[0]!.kysely, h[1]!.kysely];
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
      if (skip) return t.skip(skip);
      for (let i = 0; i < 10; i++) {
        const token = await issueConsoleToken(h[0]!.kysely, target, 600);
        const wins = await Promise.all([
          consumeConsoleToken(h[0]!.kysely, token, "novnc"),
          consumeConsoleToken(h[1]!.kysely, token, "novnc"),
        ]);
        assert.equal(wins.filter((w) => w !== undefined).length, 1, `round ${i}`);
      }
    });

    test("an expired token opens nothing, and is purged when the next one is issued", async (t) => {
      if (skip) return t.skip(skip);
      const db = h[0]!.kysely;
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
      assert.ok(await consumeConsoleToken(h[1]!.kysely, fresh, "novnc"));
    });
  });
}
