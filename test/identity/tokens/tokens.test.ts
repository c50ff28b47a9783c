// Tests for token keys (rotation, files) and the token codec (round trips, tampering, size, speed).
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { KeyRepository, TokenCodec, newAuditId } from "../../../src/identity/tokens/index.js";
import type { TokenPayload } from "../../../src/identity/tokens/index.js";

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

async function keyDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "stratus-tokens-"));
  roots.push(root);
  return join(root, "fernet-keys");
}

async function setup(): Promise<{ dir: string; keys: KeyRepository; codec: TokenCodec }> {
  const dir = await keyDir();
  const keys = new KeyRepository(dir);
  await keys.init();
  return { dir, keys, codec: new TokenCodec(keys) };
}

const hex = () => randomUUID().replaceAll("-", "");
const now = 1_750_000_000_123;

function payload(over: Partial<TokenPayload> = {}): TokenPayload {
  return {
    userId: hex(),
    methods: ["password"],
    scope: { kind: "project", id: hex() },
    issuedAt: now,
    expiresAt: now + 3_600_000,
    auditIds: [newAuditId()],
    ...over,
  };
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe("KeyRepository", () => {
  test("init creates a private directory with staged and primary keys", async () => {
    const { dir, keys } = await setup();
    assert.deepEqual((await readdir(dir)).sort(), ["0", "1"]);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const name of ["0", "1"]) {
      assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600);
      assert.match(await readFile(join(dir, name), "utf8"), /^[A-Za-z0-9_-]{43}$/);
    }
    const primary = Buffer.from(await readFile(join(dir, "1"), "utf8"), "base64url");
    assert.deepEqual(keys.primary(), primary);
    assert.equal(keys.all().length, 2);
    assert.equal(keys.all()[0], keys.primary());
  });

  test("init is idempotent and repairs a missing staged key", async () => {
    const { dir } = await setup();
    const before = await readFile(join(dir, "1"), "utf8");
    const again = new KeyRepository(dir);
    await again.init();
    await again.init();
    assert.deepEqual((await readdir(dir)).sort(), ["0", "1"]);
    assert.equal(await readFile(join(dir, "1"), "utf8"), before);
    await unlink(join(dir, "0"));
    await again.init();
    assert.deepEqual((await readdir(dir)).sort(), ["0", "1"]);
    assert.equal(await readFile(join(dir, "1"), "utf8"), before);
  });

  test("rotate promotes the staged key and keeps at most maxActive keys", async () => {
    const { dir, keys } = await setup();
    const staged = await readFile(join(dir, "0"), "utf8");
    await keys.rotate();
    assert.deepEqual((await readdir(dir)).sort(), ["0", "1", "2"]);
    assert.equal(await readFile(join(dir, "2"), "utf8"), staged);
    assert.equal(keys.primary().toString("base64url"), staged);
    assert.equal((await stat(join(dir, "0"))).mode & 0o777, 0o600);
    await keys.rotate();
    assert.deepEqual((await readdir(dir)).sort(), ["0", "2", "3"]);
    await keys.rotate(5);
    await keys.rotate(5);
    assert.deepEqual((await readdir(dir)).sort(), ["0", "2", "3", "4", "5"]);
    await keys.rotate(2);
    assert.deepEqual((await readdir(dir)).sort(), ["0", "6"]);
    await assert.rejects(keys.rotate(1), RangeError);
  });

  test("primary() before loading and corrupt key files are errors", async () => {
    const dir = await keyDir();
    const keys = new KeyRepository(dir);
    assert.throws(() => keys.primary(), /not loaded/);
    await keys.init();
    await writeFile(join(dir, "7"), "short");
    await assert.rejects(keys.load(), /not 32\+ bytes/);
  });
});

describe("TokenCodec", () => {
  test("round-trips every scope kind", async () => {
    const { codec } = await setup();
    const scopes: TokenPayload["scope"][] = [
      { kind: "unscoped" },
      { kind: "project", id: hex() },
      { kind: "domain", id: hex() },
      { kind: "system" },
    ];
    for (const scope of scopes) {
      const p = payload({ scope, auditIds: [newAuditId(), newAuditId()] });
      assert.deepEqual(codec.decode(codec.encode(p)), p);
    }
  });

  test("round-trips arbitrary ids, methods and optional fields", async () => {
    const { codec } = await setup();
    const odd = [
      "default",
      "",
      randomUUID(),
      randomUUID().toUpperCase(),
      hex().toUpperCase(),
      randomBytes(32).toString("hex"),
      "cn=Jörg Müller,ou=people,dc=example,dc=org 🚀",
      "x".repeat(150), // forces the packer to grow its buffer
      newAuditId().slice(0, 21) + "B", // base64url-looking but not 16 bytes
      "0123456789abcdef0123456789abcdeg",
    ];
    for (const id of odd) {
      const p = payload({
        userId: id,
        methods: ["token", "totp", "custom-plugin", "password"],
        scope: { kind: "domain", id },
        auditIds: [id, newAuditId()],
        appCredId: id,
        trustId: randomUUID(),
      });
      assert.deepEqual(codec.decode(codec.encode(p)), p, JSON.stringify(id));
    }
    const edges = [
      payload({ methods: [], expiresAt: now - 1 }),
      payload({ issuedAt: 0, expiresAt: 2 ** 48 - 1 }),
      payload({ expiresAt: now }),
    ];
    for (const p of edges) assert.deepEqual(codec.decode(codec.encode(p)), p);
  });

  test("rejects unrepresentable payloads", async () => {
    const { codec } = await setup();
    assert.throws(() => codec.encode(payload({ auditIds: [] })), RangeError);
    assert.throws(() => codec.encode(payload({ auditIds: ["a", "b", "c"] })), RangeError);
    assert.throws(() => codec.encode(payload({ issuedAt: 1.5 })), RangeError);
    assert.throws(() => codec.encode(payload({ expiresAt: -1 })), RangeError);
    assert.throws(() => codec.encode(payload({ userId: "x".repeat(2000) })), RangeError);
  });

  test("tampering with any character or byte yields null", async () => {
    const { codec } = await setup();
    const token = codec.encode(payload({ appCredId: hex(), auditIds: [newAuditId(), newAuditId()] }));
    for (let i = 0; i < token.length; i++) {
      const swapped = B64[(B64.indexOf(token[i]) + 1 + (i % 63)) % 64];
      assert.equal(codec.decode(token.slice(0, i) + swapped + token.slice(i + 1)), null, `char ${i}`);
    }
    const raw = Buffer.from(token, "base64url");
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const copy = Buffer.from(raw);
        copy[i] ^= bit;
        assert.equal(codec.decode(copy.toString("base64url")), null, `byte ${i} bit ${bit}`);
      }
    }
    assert.equal(codec.decode(token.slice(0, -1)), null);
    assert.equal(codec.decode(token + "A"), null);
    assert.equal(codec.decode(token + "="), null);
    assert.equal(codec.decode(raw.subarray(0, raw.length - 1).toString("base64url")), null);
    assert.notEqual(codec.decode(token), null);
  });

  test("garbage and foreign tokens yield null", async () => {
    const { codec } = await setup();
    const other = (await setup()).codec;
    const garbage: unknown[] = [
      "",
      "A",
      "abc",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      randomUUID(),
      hex(),
      "gAAAAABk" + "A".repeat(200),
      "A".repeat(5000),
      randomBytes(100).toString("base64"),
      other.encode(payload()),
      undefined,
      null,
      42,
      {},
    ];
    for (let n = 0; n < 200; n++) garbage.push(randomBytes(n).toString("base64url"));
    for (let n = 0; n < 200; n++)
      garbage.push(Buffer.concat([Buffer.from([1]), randomBytes(n)]).toString("base64url"));
    for (const g of garbage) assert.equal(codec.decode(g as string), null, String(g));
  });

  test("tokens survive one rotation and die once their key is rotated out", async () => {
    const { keys, codec } = await setup();
    const p = payload();
    const token = codec.encode(p);
    await keys.rotate(3);
    assert.deepEqual(codec.decode(token), p);
    const newer = codec.encode(p);
    assert.notEqual(newer, token);
    await keys.rotate(3);
    assert.equal(codec.decode(token), null);
    assert.deepEqual(codec.decode(newer), p);
  });

  test("a node that has not reloaded decodes tokens made with its staged key", async () => {
    const { dir, keys: stale, codec: staleCodec } = await setup();
    const oldToken = staleCodec.encode(payload());
    const fresh = new KeyRepository(dir);
    await fresh.init();
    await fresh.rotate();
    const freshCodec = new TokenCodec(fresh);
    const p = payload({ scope: { kind: "system" } });
    assert.deepEqual(staleCodec.decode(freshCodec.encode(p)), p);
    assert.notEqual(freshCodec.decode(oldToken), null);
    await stale.load();
    assert.deepEqual(stale.primary(), fresh.primary());
  });

  test("tokens are compact", async (t) => {
    const { codec } = await setup();
    const typical = codec.encode(payload({ auditIds: [newAuditId(), newAuditId()] }));
    const dashed = codec.encode(
      payload({ userId: randomUUID(), scope: { kind: "project", id: randomUUID() } }),
    );
    const full = codec.encode(
      payload({
        methods: ["application_credential"],
        appCredId: hex(),
        trustId: hex(),
        auditIds: [newAuditId(), newAuditId()],
      }),
    );
    const ldap = codec.encode(
      payload({ userId: randomBytes(32).toString("hex"), scope: { kind: "domain", id: "default" } }),
    );
    t.diagnostic(
      `token lengths: typical ${typical.length}, dashed ${dashed.length}, full ${full.length}, ldap ${ldap.length}`,
    );
    for (const tok of [typical, dashed, full, ldap]) {
      assert.ok(tok.length < 200, `${tok.length} chars`);
      assert.match(tok, /^[A-Za-z0-9_-]+$/);
    }
  });

  test("micro-benchmark (informational)", async (t) => {
    const { keys, codec } = await setup();
    const p = payload({ auditIds: [newAuditId(), newAuditId()] });
    const oldest = codec.encode(p);
    await keys.rotate();
    const token = codec.encode(p);
    const rate = (n: number, fn: () => unknown) => {
      for (let i = 0; i < 1000; i++) fn();
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn();
      return Math.round((n * 1e9) / Number(process.hrtime.bigint() - start));
    };
    const enc = rate(20_000, () => codec.encode(p));
    const dec = rate(20_000, () => codec.decode(token));
    const decOld = rate(20_000, () => codec.decode(oldest));
    t.diagnostic(`encode ${enc}/s, decode ${dec}/s (primary key), ${decOld}/s (secondary key)`);
  });
});
