// Revocations reach every process's validation caches (issue 8, item 1): two identity services on one database
// stand for two API processes. A revocation recorded by one clears the other's caches through the bus fanout (with
// the poll effectively off), through the database high-water poll (with no bus at all), and an event committed late
// with a lower seq is still found. Also the caching validator's in-flight validations and the service user's
// client, which must take a fresh token when its cached one is refused, and that deleting a role or an implication
// records an event (so the high-water mark moves).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Fastify from "fastify";
import pino from "pino";
import { bootstrap } from "../../../src/identity/bootstrap.js";
import { IdentityService } from "../../../src/identity/service.js";
import type { AuthContext, TokenValidator } from "../../../src/shared/auth/context.js";
import { CachingValidator } from "../../../src/shared/auth/cache.js";
import { createBus, type Bus } from "../../../src/shared/bus/index.js";
import { loadConfig } from "../../../src/shared/config.js";
import { openDatabase, type Database } from "../../../src/shared/db/index.js";
import { injectClient, type TokenSource } from "../../../src/shared/client/service-client.js";
import { bootCloud } from "../../helpers/cloud.js";

const log = pino({ level: "silent" });

/** Poll `ok` until it holds; fail after `ms` (a bounded wait, not a timing assertion). */
async function eventually(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One "process": an identity service and the shared caching validator wired as startCloud wires them. */
interface Proc {
  svc: IdentityService;
  validator: CachingValidator;
  accepts(token: string): Promise<boolean>;
}

describe("revocations across processes", () => {
  let dataDir: string;
  let db: Database;
  let adminPassword: string;
  const buses: Bus[] = [];
  const procs: Proc[] = [];

  const proc = async (pollSeconds: number, bus?: Bus): Promise<Proc> => {
    const cfg = loadConfig(
      {
        dataDir,
        port: 0,
        logLevel: "silent",
        identity: { passwordHashCost: 12, revocationPollInterval: pollSeconds },
      } as any,
      {},
    );
    const svc = await IdentityService.start(db, cfg, log);
    if (bus) await svc.listen(bus, `p${procs.length}`);
    const validator = new CachingValidator(svc.validator);
    svc.core.onChange(() => validator.invalidate());
    const p: Proc = {
      svc,
      validator,
      accepts: (token) =>
        validator.validate(token).then(
          () => true,
          () => false,
        ),
    };
    procs.push(p);
    return p;
  };

  /** A fresh admin token issued by `p`, and its view. */
  const adminToken = async (p: Proc) =>
    p.svc.tokens.issue({
      identity: {
        methods: ["password"],
        password: { user: { name: "admin", domain: { id: "default" }, password: adminPassword } },
      },
      scope: { project: { name: "admin", domain: { id: "default" } } },
    });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "stratus-revfan-"));
    db = await openDatabase(`sqlite://${join(dataDir, "stratus.db")}`);
    const first = await proc(3600);
    adminPassword = (await bootstrap(first.svc, "http://127.0.0.1:1")).adminPassword;
  });

  after(async () => {
    for (const p of procs) await p.svc.close();
    for (const b of buses) await b.close();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a revocation reaches the other process through the bus when the poll would take an hour", async () => {
    const name = `memory://revfan-${process.pid}-1`;
    buses.push(await createBus(name, log), await createBus(name, log));
    const a = await proc(3600, buses[0]);
    const b = await proc(3600, buses[1]);
    const t = await adminToken(a);
    assert.ok(await b.accepts(t.id), "B accepts the fresh token");
    assert.ok(await b.accepts(t.id), "B accepts it again (from its cache)");
    await a.svc.tokens.revoke(t.view);
    assert.equal(await a.accepts(t.id), false, "A refuses it at once");
    await eventually("B refuses the revoked token", 10_000, async () => !(await b.accepts(t.id)));
  });

  test("without a bus, the high-water poll brings the revocation to the other process", async () => {
    const a = await proc(3600);
    const b = await proc(0.1);
    const t = await adminToken(a);
    assert.ok(await b.accepts(t.id));
    assert.ok(await b.accepts(t.id));
    await a.svc.tokens.revoke(t.view);
    await eventually("B refuses the revoked token", 10_000, async () => !(await b.accepts(t.id)));
  });

  test("an event committed late, with a seq below one already seen, is still found by the poll", async () => {
    const a = await proc(3600);
    const b = await proc(3600);
    const t1 = await adminToken(a);
    const t2 = await adminToken(a);
    assert.ok(await b.accepts(t2.id));
    await a.svc.tokens.revoke(t1.view); // B's high-water mark moves past this event's seq...
    await b.svc.revocations.poll();
    assert.equal(await b.accepts(t1.id), false);
    const row = (await db.kysely
      .selectFrom("identity_revocation_event" as any)
      .select((eb: any) => eb.fn.max("seq").as("top"))
      .executeTakeFirstOrThrow()) as { top: unknown };
    const top = Number(row.top);
    // ...then another process's transaction commits an event with a lower seq (its clock read earlier).
    await db.kysely
      .insertInto("identity_revocation_event" as any)
      .values({
        id: `late-${process.pid}`,
        seq: top - 5_000_000,
        audit_id: t2.view.payload.auditIds[0],
        issued_before: Date.now(),
        revoked_at: Date.now(),
      } as any)
      .execute();
    assert.ok(await b.accepts(t2.id), "B still holds its cached validation");
    await b.svc.revocations.poll();
    assert.equal(await b.accepts(t2.id), false, "the late event was found and the cache cleared");
  });
});

describe("CachingValidator", () => {
  test("a validation under way when the cache is invalidated is not shared with later requests", async () => {
    let calls = 0;
    const gates: Array<(ctx: AuthContext) => void> = [];
    const inner: TokenValidator = {
      validate: () => {
        calls++;
        return new Promise<AuthContext>((res) => gates.push(res));
      },
    };
    const v = new CachingValidator(inner);
    const first = v.validate("tok");
    v.invalidate();
    const second = v.validate("tok");
    assert.equal(calls, 2, "the request after the invalidation validates again");
    for (const g of gates) g({ expiresAt: Date.now() + 60_000 } as AuthContext);
    await Promise.all([first, second]);
    await v.validate("tok");
    assert.equal(calls, 2, "the second validation's answer is cached");
  });
});

describe("service user client", () => {
  test("a refused service token is replaced and the request sent again once", async () => {
    const app = Fastify();
    const valid = new Set(["fresh"]);
    app.get("/svc/thing", async (req, rep) =>
      valid.has(String(req.headers["x-auth-token"])) ? { ok: true } : rep.code(401).send({ error: 401 }),
    );
    await app.ready();
    let issued = 0;
    let cached: string | null = "revoked";
    const source: TokenSource = async () => (cached ??= (issued++, "fresh"));
    source.reset = (tok) => {
      if (cached === tok) cached = null;
    };
    const client = injectClient(() => app, "/svc", source);
    const r = await client.request("GET", "/thing");
    assert.equal(r.status, 200);
    assert.equal(issued, 1);
    valid.clear();
    assert.equal((await client.request("GET", "/thing")).status, 401, "still refused: one retry only");
    assert.equal(issued, 2);
    const own = await client.request("GET", "/thing", { token: "user-token" });
    assert.equal(own.status, 401, "a caller's own token is not replaced");
    assert.equal(issued, 2);
    await app.close();
  });
});

describe("writes that take roles away move the revocation high-water mark", () => {
  test("deleting a role and removing a role implication each record an event other processes poll for", async () => {
    const c = await bootCloud();
    try {
      const admin = await c.adminToken();
      const roleEvents = async (roleId: string) =>
        (
          await c.cloud.db.kysely
            .selectFrom("identity_revocation_event" as any)
            .select("id" as any)
            .where("role_id" as any, "=", roleId)
            .execute()
        ).length;
      const mk = async (name: string) =>
        (await c.req("POST", "/v3/roles", { token: admin, body: { role: { name } } })).body.role.id as string;
      const prior = await mk("revfan-prior");
      const implied = await mk("revfan-implied");
      assert.equal(
        (await c.req("PUT", `/v3/roles/${prior}/implies/${implied}`, { token: admin })).status,
        201,
      );
      assert.equal(
        (await c.req("DELETE", `/v3/roles/${prior}/implies/${implied}`, { token: admin })).status,
        204,
      );
      assert.equal(await roleEvents(implied), 1, "removing the implication recorded an event");
      assert.equal((await c.req("DELETE", `/v3/roles/${prior}`, { token: admin })).status, 204);
      assert.equal(await roleEvents(prior), 1, "deleting the role recorded an event");
    } finally {
      await c.close();
    }
  });
});
