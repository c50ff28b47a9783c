// Container sync in process: X-Container-Sync-To/-Key checks on container PUT/POST (400s as Swift), the daemon's
// pushes of PUT, POST and DELETE to a full URL and through a realm (HMAC), the receiving side's key and signature
// checks (401), timestamps kept (older pushes lose), leases, and the sync point surviving a restart.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startCloud, type Cloud } from "../../src/cloud/start.js";
import { loadConfig } from "../../src/shared/config.js";
import { getContainer } from "../../src/object/store/containers.js";
import { claimContainer, syncPoint } from "../../src/object/store/sync.js";
import { pyQuote, syncSignature } from "../../src/object/sync/realms.js";
import { until } from "../helpers/wait.js";
import { bootSyncCloud, type ObjectCloud, type SyncCloud } from "./helpers.js";

const REALMS = { realm1: { key: "realmkey", clusters: { name1: "/object-store/v1/" } } };

let o: ObjectCloud;
let base = "";
let pass: SyncCloud["pass"];
before(async () => {
  ({ o, base, pass } = await bootSyncCloud(REALMS));
});
after(() => o.close());

let n = 0;
const fresh = async (headers: Record<string, string> = {}): Promise<string> => {
  const c = `sync${++n}`;
  const r = await o.sw("PUT", `/${c}`, { headers });
  assert.equal(r.status, 201, r.text);
  return c;
};
const put = (path: string, body: string, headers: Record<string, string> = {}) =>
  o.sw("PUT", path, { body, headers: { "content-length": String(body.length), ...headers } });
const urlOf = (c: string) => `${base}/object-store/v1/${o.account}/${c}`;

describe("container sync", () => {
  test("X-Container-Sync-To is checked on PUT and POST as Swift's validate_sync_to", async () => {
    const cases: Array<[string, string]> = [
      [
        "ftp://127.0.0.1/v1/a/c",
        `Invalid scheme 'ftp' in X-Container-Sync-To, must be "//", "http", or "https".`,
      ],
      ["http://10.1.2.3/v1/a/c", "Invalid host '10.1.2.3' in X-Container-Sync-To"],
      ["http://127.0.0.1", "Path required in X-Container-Sync-To"],
      ["http://127.0.0.1/v1/a/c?x=1", "Params, queries, and fragments not allowed in X-Container-Sync-To"],
      ["//nope/name1/a/c", "No realm key for 'nope'"],
      ["//realm1/other/a/c", "No cluster endpoint for 'realm1' 'other'"],
      ["//realm1/name1/a", "Invalid X-Container-Sync-To format '//realm1/name1/a'"],
    ];
    for (const [to, why] of cases) {
      const r = await o.sw("PUT", "/badsync", { headers: { "x-container-sync-to": to } });
      assert.equal(r.status, 400, to);
      assert.equal(r.text, why);
    }
    assert.equal((await o.sw("HEAD", "/badsync")).status, 404);
    const c = await fresh();
    const bad = await o.sw("POST", `/${c}`, { headers: { "x-container-sync-to": "http://10.1.2.3/v1/a/c" } });
    assert.equal(bad.status, 400);
    const ok = await o.sw("POST", `/${c}`, {
      headers: { "x-container-sync-to": urlOf("elsewhere"), "x-container-sync-key": "k" },
    });
    assert.equal(ok.status, 204);
    const h = await o.sw("HEAD", `/${c}`);
    assert.equal(h.headers["x-container-sync-to"], urlOf("elsewhere"));
    assert.equal(h.headers["x-container-sync-key"], "k");
    // Full URLs can be turned off (allow_full_urls = false): realms only.
    const sync = o.t.cloud.cfg.object.containerSync;
    sync.allowFullUrls = false;
    try {
      const r = await o.sw("POST", `/${c}`, { headers: { "x-container-sync-to": urlOf("x") } });
      assert.equal(r.status, 400);
      assert.match(r.text, /^Full URLs are not allowed for X-Container-Sync-To values/);
      const realm = await o.sw("POST", `/${c}`, { headers: { "x-container-sync-to": `//realm1/name1/a/c` } });
      assert.equal(realm.status, 204);
    } finally {
      sync.allowFullUrls = true;
    }
  });

  test("/info lists container_sync with the configured realms and clusters", async () => {
    const r = await o.sw("GET", "/object-store/info", { token: null });
    assert.deepEqual(r.json.container_sync, { realms: { REALM1: { clusters: { NAME1: {} } } } });
  });

  test("a PUT, a POST and a DELETE are pushed to a full URL with data, metadata and timestamps", async () => {
    const dst = await fresh({ "x-container-sync-key": "secret" });
    const src = await fresh();
    // An object there before sync is turned on is pushed too (the sync starts from the beginning).
    await put(`/${src}/early`, "early data", { "content-type": "text/x-early" });
    const on = await o.sw("POST", `/${src}`, {
      headers: { "x-container-sync-to": urlOf(dst), "x-container-sync-key": "secret" },
    });
    assert.equal(on.status, 204);
    assert.equal(
      (await put(`/${src}/a%20b%25`, "hello", { "content-type": "text/x-a", "x-object-meta-color": "blue" }))
        .status,
      201,
    );
    const first = await pass();
    assert.deepEqual(first, { pushed: 2, failed: 0 });
    const got = await o.sw("GET", `/${dst}/a%20b%25`);
    assert.equal(got.status, 200);
    assert.equal(got.text, "hello");
    assert.equal(got.headers["content-type"], "text/x-a");
    assert.equal(got.headers["x-object-meta-color"], "blue");
    const srcHead = await o.sw("HEAD", `/${src}/a%20b%25`);
    assert.equal(got.headers["x-timestamp"], srcHead.headers["x-timestamp"]);
    assert.equal(got.headers.etag, srcHead.headers.etag);
    assert.equal((await o.sw("GET", `/${dst}/early`)).text, "early data");
    // Nothing more to do: no container is claimable.
    assert.deepEqual(await pass(), { pushed: 0, failed: 0 });
    // POST: new metadata (and a new timestamp) is pushed.
    assert.equal(
      (await o.sw("POST", `/${src}/early`, { headers: { "x-object-meta-size": "xl" } })).status,
      202,
    );
    assert.deepEqual(await pass(), { pushed: 1, failed: 0 });
    const posted = await o.sw("HEAD", `/${dst}/early`);
    assert.equal(posted.headers["x-object-meta-size"], "xl");
    assert.equal(posted.headers["x-timestamp"], (await o.sw("HEAD", `/${src}/early`)).headers["x-timestamp"]);
    // DELETE.
    assert.equal((await o.sw("DELETE", `/${src}/early`)).status, 204);
    assert.deepEqual(await pass(), { pushed: 1, failed: 0 });
    assert.equal((await o.sw("HEAD", `/${dst}/early`)).status, 404);
    assert.equal((await o.sw("HEAD", `/${dst}/a%20b%25`)).status, 200);
    // Listings of the two containers agree.
    const ls = async (c: string) => (await o.sw("GET", `/${c}?format=json`)).json;
    assert.deepEqual(await ls(dst), await ls(src));
  });

  test("the receiver wants its own key and an X-Timestamp (401 otherwise); an older push loses", async () => {
    const dst = await fresh({ "x-container-sync-key": "right" });
    const send = (key: string, ts: string | undefined, body: string) =>
      o.sw("PUT", `/${dst}/obj`, {
        token: null,
        body,
        headers: {
          "content-length": String(body.length),
          "x-container-sync-key": key,
          ...(ts !== undefined ? { "x-timestamp": ts } : {}),
        },
      });
    assert.equal((await send("wrong", "1700000000.00000", "x")).status, 401);
    assert.equal((await send("right", undefined, "x")).status, 401);
    assert.equal((await send("right", "1700000000.00000", "first")).status, 201);
    const h = await o.sw("HEAD", `/${dst}/obj`);
    assert.equal(h.headers["x-timestamp"], "1700000000.00000");
    // Older than (or as old as) what is stored: accepted (202) and dropped.
    assert.equal((await send("right", "1600000000.00000", "older")).status, 202);
    assert.equal((await o.sw("GET", `/${dst}/obj`)).text, "first");
    assert.equal((await send("right", "bogus", "x")).status, 400);
    // A key does not open the listing, nor other containers.
    assert.equal(
      (await o.sw("GET", `/${dst}`, { token: null, headers: { "x-container-sync-key": "right" } })).status,
      401,
    );
    // A synced delete older than the object leaves it.
    const del = (ts: string) =>
      o.sw("DELETE", `/${dst}/obj`, {
        token: null,
        headers: { "x-container-sync-key": "right", "x-timestamp": ts },
      });
    assert.equal((await del("1650000000.00000")).status, 404);
    assert.equal((await o.sw("HEAD", `/${dst}/obj`)).status, 200);
    assert.equal((await del("1750000000.00000")).status, 204);
  });

  test("a syncing container remembers its deletions: an older push (another sync's echo) does not bring one back", async () => {
    const peer = await fresh({ "x-container-sync-key": "k" });
    const c = await fresh({ "x-container-sync-to": urlOf(peer), "x-container-sync-key": "k" });
    assert.equal((await put(`/${c}/x`, "x")).status, 201);
    const written = (await o.sw("HEAD", `/${c}/x`)).headers["x-timestamp"] as string;
    assert.equal((await o.sw("DELETE", `/${c}/x`)).status, 204);
    const push = (ts: string) =>
      o.sw("PUT", `/${c}/x`, {
        token: null,
        body: "x",
        headers: { "content-length": "1", "x-container-sync-key": "k", "x-timestamp": ts },
      });
    assert.equal((await push(written)).status, 202);
    assert.equal((await o.sw("HEAD", `/${c}/x`)).status, 404);
    assert.equal((await push((Number(written) + 1000).toFixed(5))).status, 201);
    assert.equal((await o.sw("HEAD", `/${c}/x`)).status, 200);
    // Its changes go to the peer as usual (and leave nothing for the tests after this one).
    assert.equal((await pass()).failed, 0);
    assert.equal((await o.sw("GET", `/${peer}/x`)).text, "x");
  });

  test("a push the receiver refuses (wrong key) stays at its sync point and goes through once the key is right", async () => {
    const dst = await fresh({ "x-container-sync-key": "theirs" });
    const src = await fresh({ "x-container-sync-to": urlOf(dst), "x-container-sync-key": "mine" });
    await put(`/${src}/o1`, "one");
    const core = o.t.cloud.object.core;
    const id = (await getContainer(core, o.account, src))!.id;
    const point = await syncPoint(core, id);
    assert.deepEqual(await pass(), { pushed: 0, failed: 1 });
    assert.equal(await syncPoint(core, id), point);
    assert.equal((await o.sw("HEAD", `/${dst}/o1`)).status, 404);
    assert.equal(
      (await o.sw("POST", `/${dst}`, { headers: { "x-container-sync-key": "mine" } })).status,
      204,
    );
    assert.deepEqual(await pass(), { pushed: 1, failed: 0 });
    assert.equal((await o.sw("GET", `/${dst}/o1`)).text, "one");
    assert.ok((await syncPoint(core, id))! > point!);
  });

  test("a held lease keeps other processes off a container until it is released", async () => {
    const dst = await fresh({ "x-container-sync-key": "k" });
    const src = await fresh({ "x-container-sync-to": urlOf(dst), "x-container-sync-key": "k" });
    await put(`/${src}/o`, "x");
    const core = o.t.cloud.object.core;
    const id = (await getContainer(core, o.account, src))!.id;
    const now = Date.now();
    assert.notEqual(await claimContainer(core, id, "other-process", now, now + 60_000), null);
    assert.deepEqual(await pass(), { pushed: 0, failed: 0 });
    assert.equal(await claimContainer(core, id, "third", Date.now(), Date.now() + 60_000), null);
    // The holder's lease runs out: the container is anyone's again.
    await core.db.updateTable("object_sync").set({ lease_until: 0 }).where("container_id", "=", id).execute();
    assert.deepEqual(await pass(), { pushed: 1, failed: 0 });
  });

  test("a realm sync signs with X-Container-Sync-Auth; a bad signature is 401", async () => {
    const dst = await fresh({ "x-container-sync-key": "shared" });
    const src = await fresh({
      "x-container-sync-to": `//realm1/name1/${o.account}/${dst}`,
      "x-container-sync-key": "shared",
    });
    assert.equal((await put(`/${src}/r%20obj`, "realm data", { "x-object-meta-k": "v" })).status, 201);
    assert.deepEqual(await pass(), { pushed: 1, failed: 0 });
    const got = await o.sw("GET", `/${dst}/r%20obj`);
    assert.equal(got.text, "realm data");
    assert.equal(got.headers["x-object-meta-k"], "v");
    // By hand: a signature over the path as sent (with the mount point) passes, a wrong one is 401.
    const path = `/object-store/v1/${o.account}/${dst}/${pyQuote("hand made")}`;
    const ts = "1700000000.00000";
    const sig = syncSignature("PUT", path, ts, "nonce1", "realmkey", "shared");
    const sendSigned = (auth: string) =>
      o.sw("PUT", path, {
        token: null,
        body: "h",
        headers: { "content-length": "1", "x-timestamp": ts, "x-container-sync-auth": auth },
      });
    const bad = await sendSigned(`REALM1 nonce1 ${"0".repeat(40)}`);
    assert.equal(bad.status, 401);
    assert.equal(bad.text, "X-Container-Sync-Auth header not valid; contact cluster operator for support.");
    assert.equal((await sendSigned(`realm1 nonce1`)).status, 401);
    assert.equal((await sendSigned(`REALM1 nonce1 ${sig}`)).status, 201);
    // The user key is part of the signature: another container's key does not sign for this one.
    const other = syncSignature("PUT", path, ts, "nonce1", "realmkey", "not-shared");
    assert.equal((await sendSigned(`REALM1 nonce1 ${other}`)).status, 401);
  });

  test("containers that keep failing do not starve the others (the least recently served come first)", async () => {
    const dst = await fresh({ "x-container-sync-key": "good" });
    const failing: string[] = [];
    // More failing containers than a pass claims (20), made before the good one.
    for (let i = 0; i < 21; i++) {
      const c = await fresh({ "x-container-sync-to": urlOf(dst), "x-container-sync-key": "bad" });
      assert.equal((await put(`/${c}/o`, "x")).status, 201);
      failing.push(c);
    }
    const good = await fresh({ "x-container-sync-to": urlOf(dst), "x-container-sync-key": "good" });
    assert.equal((await put(`/${good}/arrives`, "y")).status, 201);
    await pass();
    await pass();
    assert.equal((await o.sw("GET", `/${dst}/arrives`)).text, "y");
    for (const c of failing) await o.sw("POST", `/${c}`, { headers: { "x-container-sync-to": "" } });
    assert.deepEqual(await pass(), { pushed: 0, failed: 0 });
  });

  test("turning sync off forgets the container's changes", async () => {
    const dst = await fresh({ "x-container-sync-key": "k" });
    const src = await fresh({ "x-container-sync-to": urlOf(dst), "x-container-sync-key": "k" });
    await put(`/${src}/o`, "x");
    assert.equal((await o.sw("POST", `/${src}`, { headers: { "x-container-sync-to": "" } })).status, 204);
    const core = o.t.cloud.object.core;
    const id = (await getContainer(core, o.account, src))!.id;
    assert.equal(await syncPoint(core, id), undefined);
    assert.deepEqual(await pass(), { pushed: 0, failed: 0 });
    assert.equal((await o.sw("HEAD", `/${dst}/o`)).status, 404);
  });
});

describe("container sync across a restart", () => {
  let dataDir = "";
  let cloud: Cloud | undefined;
  const start = async () => {
    const cfg = loadConfig(
      {
        dataDir,
        host: "127.0.0.1",
        port: 0,
        logLevel: "silent",
        identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
        network: { driver: "noop" },
        volume: { backend: "fake" },
        compute: { driver: "fake" },
        object: {
          driver: "file",
          maxFileSize: 5 * 1024 ** 3 + 2,
          reapInterval: 30,
          // The daemon's own timer, short.
          containerSync: { interval: 0.05, allowFullUrls: true, allowedHosts: ["127.0.0.1"], realms: REALMS },
        },
      } as any,
      {},
    );
    cloud = await startCloud(cfg);
  };
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "stratus-osync-"));
  });
  after(async () => {
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const swift = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
    const c = cloud as Cloud;
    const auth = await c.app.inject({
      method: "POST",
      url: "/identity/v3/auth/tokens?nocatalog",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "demo", domain: { id: "default" }, password: c.demoPassword } },
          },
          scope: { project: { name: "demo", domain: { id: "default" } } },
        },
      }),
    });
    const token = auth.headers["x-subject-token"] as string;
    const project = auth.json().token.project.id as string;
    const r = await c.app.inject({
      method: method as "GET",
      url: `/object-store/v1/AUTH_${project}${path}`,
      headers: {
        "x-auth-token": token,
        ...headers,
        ...(body !== undefined ? { "content-length": String(body.length) } : {}),
      },
      ...(body !== undefined ? { payload: body } : {}),
    });
    return { status: r.statusCode, text: r.payload, account: `AUTH_${project}` };
  };

  test("the sync point is in the database: after a restart only newer changes are pushed", async () => {
    await start();
    const account = (await swift("HEAD", "")).account;
    assert.equal((await swift("PUT", "/dst", { "x-container-sync-key": "k" })).status, 201);
    const to = `//realm1/name1/${account}/dst`;
    assert.equal(
      (await swift("PUT", "/src", { "x-container-sync-to": to, "x-container-sync-key": "k" })).status,
      201,
    );
    assert.equal((await swift("PUT", "/src/one", {}, "1")).status, 201);
    assert.equal((await swift("PUT", "/src/two", {}, "2")).status, 201);
    // The daemon's timer pushes both.
    await until("both objects synced", async () => (await swift("HEAD", "/dst/two")).status === 200);
    await until("one synced", async () => (await swift("HEAD", "/dst/one")).status === 200);
    const core = (cloud as Cloud).object.core;
    const id = (await getContainer(core, account, "src"))!.id;
    await until("the sync point recorded", async () => {
      const left = await core.db
        .selectFrom("object_sync_change")
        .select("id")
        .where("container_id", "=", id)
        .execute();
      return left.length === 0;
    });
    const point = await syncPoint(core, id);
    assert.ok(point! > 0);
    // Removed at the target only: pushed again, it would come back.
    assert.equal((await swift("DELETE", "/dst/one")).status, 204);
    await (cloud as Cloud).close();
    cloud = undefined;
    await start();
    const core2 = (cloud as unknown as Cloud).object.core;
    assert.equal(await syncPoint(core2, id), point);
    assert.equal((await swift("PUT", "/src/three", {}, "3")).status, 201);
    await until("the new object synced", async () => (await swift("HEAD", "/dst/three")).status === 200);
    assert.equal((await swift("HEAD", "/dst/one")).status, 404);
    assert.ok((await syncPoint(core2, id))! > point!);
  });
});
