// Object storage on every SQL engine: the migration, byte-ordered listings of non-ASCII names, counts under
// concurrent writes of the same names, the account's totals, small objects' data in the database, and listing rows'
// SLO and symlink fields. SQLite always runs; PostgreSQL and MariaDB come from scripts/db-services.mjs and are
// skipped with the reason when not usable (unless CI is set: then it fails).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Cloud } from "../../src/cloud/start.js";
import { syncOnce } from "../../src/object/sync/daemon.js";
import { passwordAuth } from "../helpers/cloud.js";
import {
  createTempDatabase,
  ENGINES,
  prepareEngines,
  startEngineCloud,
  type TempDatabase,
} from "../helpers/engines.js";

before(prepareEngines);

for (const engine of ENGINES) {
  describe(`object storage on ${engine}`, () => {
    let skip: string | null = null;
    let dataDir = "";
    let db: TempDatabase | null = null;
    let cloud: Cloud | null = null;
    let token = "";
    let account = "";

    const sw = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
      const r = await cloud!.app.inject({
        method: method as "GET",
        url: `/object-store/v1/${account}${path}`,
        headers: { "x-auth-token": token, ...headers },
        ...(body !== undefined ? { payload: body } : {}),
      });
      return { status: r.statusCode, text: r.payload, headers: r.headers };
    };

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `stratus-obj-${engine}-`));
      db = await createTempDatabase(engine, { dataDir, prefix: "stratus_obj" });
      skip = db.skipReason;
      if (skip) return;
      cloud = await startEngineCloud(dataDir, db.url);
      const r = await cloud.app.inject({
        method: "POST",
        url: "/identity/v3/auth/tokens",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(passwordAuth("admin", cloud.adminPassword, "admin")),
      });
      assert.equal(r.statusCode, 201, r.payload);
      token = r.headers["x-subject-token"] as string;
      account = `AUTH_${JSON.parse(r.payload).token.project.id}`;
    });

    after(async () => {
      if (cloud) await cloud.close();
      if (db) await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    test("names list in UTF-8 byte order, with delimiter and markers", async (t) => {
      if (skip) return t.skip(skip);
      assert.equal((await sw("PUT", "/Bytes")).status, 201);
      // UTF-8 byte order: "z" (0x7a) before "é" (0xc3 0xa9) before "日" (0xe6 ...).
      const names = ["Z", "a", "b/x", "b/y", "z", "é", "日本"];
      for (const n of [...names].reverse())
        assert.equal(
          (await sw("PUT", `/Bytes/${encodeURIComponent(n).replace(/%2F/g, "/")}`, n)).status,
          201,
        );
      const list = async (q: string) => (await sw("GET", `/Bytes?${q}`)).text.split("\n").filter(Boolean);
      assert.deepEqual(await list(""), names);
      assert.deepEqual(await list("delimiter=/"), ["Z", "a", "b/", "z", "é", "日本"]);
      assert.deepEqual(await list(`marker=${encodeURIComponent("é")}`), ["日本"]);
      assert.deepEqual(await list("reverse=true&limit=3"), ["日本", "é", "z"]);
      assert.equal((await sw("PUT", "/bytes")).status, 201, "container names are case-sensitive");
    });

    test("counts stay exact under concurrent writes and deletes", async (t) => {
      if (skip) return t.skip(skip);
      assert.equal((await sw("PUT", "/race")).status, 201);
      const puts = [];
      for (let i = 0; i < 30; i++) puts.push(sw("PUT", `/race/o${i % 6}`, "x".repeat(i + 1)));
      for (const r of await Promise.all(puts)) assert.equal(r.status, 201);
      await Promise.all([sw("DELETE", "/race/o0"), sw("DELETE", "/race/o1")]);
      const list = JSON.parse((await sw("GET", "/race?format=json")).text) as Array<{ bytes: number }>;
      const h = await sw("HEAD", "/race");
      assert.equal(list.length, 4);
      assert.equal(h.headers["x-container-object-count"], "4");
      assert.equal(h.headers["x-container-bytes-used"], String(list.reduce((s, x) => s + x.bytes, 0)));
      const acct = await sw("HEAD", "");
      assert.equal(acct.headers["x-account-object-count"], String(4 + 7));
    });

    test("container sync: changes logged, seeded, claimed and pushed; tombstones refuse older pushes", async (t) => {
      if (skip) return t.skip(skip);
      const app = cloud!.app;
      await app.listen({ host: "127.0.0.1", port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      assert.equal((await sw("PUT", "/syncdst", undefined, { "x-container-sync-key": "k" })).status, 201);
      assert.equal((await sw("PUT", "/syncsrc")).status, 201);
      assert.equal((await sw("PUT", "/syncsrc/before", "b")).status, 201);
      const to = `${base}/object-store/v1/${account}/syncdst`;
      const on = await sw("POST", "/syncsrc", undefined, {
        "x-container-sync-to": to,
        "x-container-sync-key": "k",
      });
      assert.equal(on.status, 204);
      assert.equal((await sw("PUT", `/syncsrc/${encodeURIComponent("日本")}`, "n")).status, 201);
      assert.equal((await sw("PUT", "/syncsrc/gone", "g")).status, 201);
      assert.equal((await sw("DELETE", "/syncsrc/gone")).status, 204);
      const pass = await syncOnce(cloud!.object.core, "engine-test", base);
      assert.deepEqual(pass, { pushed: 4, failed: 0 });
      const list = (await sw("GET", "/syncdst")).text.split("\n").filter(Boolean);
      assert.deepEqual(list, ["before", "日本"]);
      assert.deepEqual(await syncOnce(cloud!.object.core, "engine-test", base), { pushed: 0, failed: 0 });
      // The deletion of "gone" is remembered: an older synced PUT is accepted and dropped.
      const old = await sw("PUT", "/syncsrc/gone", "g", {
        "x-container-sync-key": "k",
        "x-timestamp": "1000000000.00000",
        "x-auth-token": "",
      });
      assert.equal(old.status, 202);
      assert.equal((await sw("HEAD", "/syncsrc/gone")).status, 404);
    });

    test("small objects' data is in the database, binary-safe, replaced and removed with the row", async (t) => {
      if (skip) return t.skip(skip);
      const inline = async () =>
        Number(
          (
            await cloud!.object.core.db
              .selectFrom("object_inline")
              .select((eb) => eb.fn.countAll().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await inline();
      assert.equal((await sw("PUT", "/inline")).status, 201);
      const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
      const r = await cloud!.app.inject({
        method: "PUT",
        url: `/object-store/v1/${account}/inline/bin`,
        headers: { "x-auth-token": token },
        payload: bytes,
      });
      assert.equal(r.statusCode, 201);
      assert.equal(await inline(), before + 1);
      const got = await cloud!.app.inject({
        method: "GET",
        url: `/object-store/v1/${account}/inline/bin`,
        headers: { "x-auth-token": token },
      });
      assert.deepEqual(got.rawPayload, bytes);
      assert.equal((await sw("PUT", "/inline/bin", "replaced")).status, 201);
      assert.equal(await inline(), before + 1, "the replaced data went with its row");
      assert.equal((await sw("GET", "/inline/bin")).text, "replaced");
      assert.equal((await sw("DELETE", "/inline/bin")).status, 204);
      assert.equal(await inline(), before);
    });

    test("object versioning: the hidden versions container and version rows, listed in order", async (t) => {
      if (skip) return t.skip(skip);
      assert.equal((await sw("PUT", "/kept", undefined, { "x-versions-enabled": "true" })).status, 201);
      const ids: string[] = [];
      for (const [n, body] of [
        ["é", "1"],
        ["é", "2"],
        ["z", "3"],
        ["日本", "4"],
      ]) {
        const r = await sw("PUT", `/kept/${encodeURIComponent(n)}`, body);
        assert.equal(r.status, 201);
        ids.push(r.headers["x-object-version-id"] as string);
      }
      const rows = JSON.parse((await sw("GET", "/kept?versions&format=json")).text) as Array<{
        name: string;
        version_id: string;
        is_latest: boolean;
      }>;
      assert.deepEqual(
        rows.map((r) => [r.name, r.version_id, r.is_latest]),
        [
          ["z", ids[2], true],
          ["é", ids[1], true],
          ["é", ids[0], false],
          ["日本", ids[3], true],
        ],
      );
      const old = await sw("GET", `/kept/${encodeURIComponent("é")}?version-id=${ids[0]}`);
      assert.equal(old.text, "1");
      const names = JSON.parse((await sw("GET", "?format=json")).text) as Array<{ name: string }>;
      assert.ok(!names.some((c) => c.name.includes("\uFFFD")), "the versions container is not listed");
    });

    test("JSON rows of SLOs and symlinks carry their extra fields; plain rows do not", async (t) => {
      if (skip) return t.skip(skip);
      assert.equal((await sw("PUT", "/Fields")).status, 201);
      assert.equal((await sw("PUT", "/Fields/seg", "abc")).status, 201);
      assert.equal((await sw("PUT", "/Fields/empty", "", { "content-length": "0" })).status, 201);
      const m = await sw(
        "PUT",
        "/Fields/slo?multipart-manifest=put",
        JSON.stringify([{ path: "/Fields/seg" }]),
      );
      assert.equal(m.status, 201, m.text);
      const l = await sw("PUT", "/Fields/ln", "", {
        "x-symlink-target": "Fields/seg",
        "content-length": "0",
      });
      assert.equal(l.status, 201, l.text);
      const rows = JSON.parse((await sw("GET", "/Fields?format=json")).text) as Array<
        Record<string, unknown>
      >;
      const by = new Map(rows.map((r) => [r.name, r]));
      const md5 = (s: string) => createHash("md5").update(s).digest("hex");
      assert.equal(by.get("slo")?.slo_etag, `"${md5(md5("abc"))}"`);
      assert.equal(by.get("slo")?.bytes, 3);
      assert.equal(by.get("ln")?.symlink_path, `/v1/${account}/Fields/seg`);
      for (const plain of ["seg", "empty"])
        assert.deepEqual(Object.keys(by.get(plain) ?? {}), [
          "name",
          "hash",
          "bytes",
          "content_type",
          "last_modified",
        ]);
    });
  });
}
