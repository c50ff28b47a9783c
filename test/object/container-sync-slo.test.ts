// Container sync of large objects and links, as Swift 2.30's daemon: an SLO manifest is pushed in its stored form
// and stored as sent (segments unchecked, so it may arrive before them), a symlink as a link (X-Symlink-Target*, a
// static link's target unchecked), a DLO as its manifest object with X-Object-Manifest. The destination is another
// account's container of the same name, as Swift needs for the manifests' segment paths to resolve there.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { getContainer } from "../../src/object/store/containers.js";
import { syncPoint } from "../../src/object/store/sync.js";
import { bootSyncCloud, type ObjectCloud, type SyncCloud } from "./helpers.js";

let o: ObjectCloud;
let base = "";
let admin = "";
let other = "";
let pass: SyncCloud["pass"];
before(async () => {
  ({ o, base, pass } = await bootSyncCloud());
  admin = await o.t.adminToken();
  other = `AUTH_${await o.t.projectId("admin")}`;
});
after(() => o.close());

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
/** A request to the other account (the destination), as its owner. */
const there = (method: string, path: string, headers: Record<string, string> = {}) =>
  o.sw(method, path, { token: admin, account: other, headers });
const put = (path: string, body: string, headers: Record<string, string> = {}) =>
  o.sw("PUT", path, { body, headers: { "content-length": String(Buffer.byteLength(body)), ...headers } });
const putManifest = (path: string, segments: string[]) =>
  o.sw("PUT", `${path}?multipart-manifest=put`, {
    body: JSON.stringify(segments.map((p) => ({ path: p }))),
  });
let n = 0;
/** A source container syncing (key "k") to the other account's container of the same name, which it creates. */
const pair = async (): Promise<string> => {
  const c = `cs${++n}`;
  assert.equal((await there("PUT", `/${c}`, { "x-container-sync-key": "k" })).status, 201);
  const to = `${base}/object-store/v1/${other}/${c}`;
  const r = await o.sw("PUT", `/${c}`, {
    headers: { "x-container-sync-to": to, "x-container-sync-key": "k" },
  });
  assert.equal(r.status, 201, r.text);
  return c;
};

describe("container sync of SLOs, symlinks and DLOs", () => {
  test("an SLO and its segments arrive as an SLO: the whole object, its manifest, its ETag and listing", async () => {
    const c = await pair();
    assert.equal((await put(`/${c}/s1`, "hello ")).status, 201);
    assert.equal((await put(`/${c}/s2`, "world")).status, 201);
    const m = await putManifest(`/${c}/big`, [`/${c}/s1`, `/${c}/s2`]);
    assert.equal(m.status, 201, m.text);
    assert.equal(
      (await o.sw("POST", `/${c}/big`, { headers: { "x-object-meta-color": "red" } })).status,
      202,
    );
    // Four changes: the segments, the manifest's PUT (carried by its POST's change) and POST.
    assert.deepEqual(await pass(), { pushed: 4, failed: 0 });
    const src = await o.sw("GET", `/${c}/big`);
    const got = await there("GET", `/${c}/big`);
    assert.equal(got.status, 200);
    assert.equal(got.text, "hello world");
    assert.equal(got.headers.etag, `"${md5(md5("hello ") + md5("world"))}"`);
    assert.equal(got.headers.etag, src.headers.etag);
    assert.equal(got.headers["content-length"], "11");
    assert.equal(got.headers["x-static-large-object"], "True");
    assert.equal(got.headers["x-object-meta-color"], "red");
    assert.equal(got.headers["x-timestamp"], src.headers["x-timestamp"]);
    const raw = await there("GET", `/${c}/big?multipart-manifest=get`);
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json, (await o.sw("GET", `/${c}/big?multipart-manifest=get`)).json);
    assert.equal(raw.json.length, 2);
    // Listings agree (the manifest listed with the SLO's size).
    const listed = (await there("GET", `/${c}?format=json`)).json;
    assert.deepEqual(listed, (await o.sw("GET", `/${c}?format=json`)).json);
    assert.equal(listed.find((e: { name: string }) => e.name === "big").bytes, 11);
    // Deleting the manifest deletes only the manifest there (the segments' own deletes sync separately).
    assert.equal((await o.sw("DELETE", `/${c}/big`)).status, 204);
    assert.deepEqual(await pass(), { pushed: 1, failed: 0 });
    assert.equal((await there("HEAD", `/${c}/big`)).status, 404);
    assert.equal((await there("GET", `/${c}/s1`)).text, "hello ");
  });

  test("a manifest synced before its segments is stored anyway; it reads whole once they arrive", async () => {
    // Laid out as an S3 multipart upload is: segments in "<bucket>+segments", the S3 ETag on the Content-Type.
    const segs = `cs${n + 1}+segments`;
    assert.equal((await o.sw("PUT", `/${segs}`)).status, 201);
    assert.equal((await put(`/${segs}/a`, "abc")).status, 201);
    assert.equal((await put(`/${segs}/b`, "def")).status, 201);
    const c = await pair();
    assert.equal(c, segs.replace("+segments", ""));
    const s3etag = `${md5(md5("abc") + md5("def"))}-2`;
    const m = await o.sw("PUT", `/${c}/m?multipart-manifest=put`, {
      body: JSON.stringify([{ path: `/${segs}/a` }, { path: `/${segs}/b` }]),
      headers: { "content-type": `application/x-mpu;s3_etag=${s3etag}` },
    });
    assert.equal(m.status, 201, m.text);
    assert.deepEqual(await pass(), { pushed: 1, failed: 0 });
    // The manifest is there; its segments are not (Swift: the GET fails until they are synced).
    const early = await there("GET", `/${c}/m`);
    assert.equal(early.status, 409);
    assert.equal((await there("GET", `/${c}/m?multipart-manifest=get`)).status, 200);
    // The segments' container syncs to the same name there: now the SLO reads whole.
    assert.equal((await there("PUT", `/${segs}`, { "x-container-sync-key": "k" })).status, 201);
    const to = `${base}/object-store/v1/${other}/${segs}`;
    assert.equal(
      (
        await o.sw("POST", `/${segs}`, {
          headers: { "x-container-sync-to": to, "x-container-sync-key": "k" },
        })
      ).status,
      204,
    );
    assert.deepEqual(await pass(), { pushed: 2, failed: 0 });
    const got = await there("GET", `/${c}/m`);
    assert.equal(got.status, 200);
    assert.equal(got.text, "abcdef");
    assert.equal(got.headers.etag, (await o.sw("HEAD", `/${c}/m`)).headers.etag);
    assert.equal(got.headers["content-type"], (await o.sw("HEAD", `/${c}/m`)).headers["content-type"]);
    const listed = (await there("GET", `/${c}?format=json`)).json;
    assert.deepEqual(listed, (await o.sw("GET", `/${c}?format=json`)).json);
    assert.equal(listed[0].s3_etag, `"${s3etag}"`, "quoted, as Swift lists it");
    assert.equal(listed[0].bytes, 6);
  });

  test("a manifest push the destination refuses stays at its sync point and is pushed on a later pass", async () => {
    const c = `cs${++n}`;
    const to = `${base}/object-store/v1/${other}/${c}`;
    assert.equal(
      (await o.sw("PUT", `/${c}`, { headers: { "x-container-sync-to": to, "x-container-sync-key": "k" } }))
        .status,
      201,
    );
    assert.equal((await put(`/${c}/seg`, "xyz")).status, 201);
    assert.equal((await putManifest(`/${c}/m`, [`/${c}/seg`])).status, 201);
    const core = o.t.cloud.object.core;
    const id = (await getContainer(core, o.account, c))!.id;
    const point = await syncPoint(core, id);
    // No such container there yet: refused, nothing lost.
    assert.deepEqual(await pass(), { pushed: 0, failed: 1 });
    assert.equal(await syncPoint(core, id), point);
    assert.deepEqual(await pass(), { pushed: 0, failed: 1 });
    assert.equal((await there("PUT", `/${c}`, { "x-container-sync-key": "k" })).status, 201);
    assert.deepEqual(await pass(), { pushed: 2, failed: 0 });
    const got = await there("GET", `/${c}/m`);
    assert.equal(got.status, 200);
    assert.equal(got.text, "xyz");
    assert.equal(got.headers["x-static-large-object"], "True");
  });

  test("symlinks arrive as links (X-Symlink-Target), static ones with their ETag even before their target", async () => {
    const c = await pair();
    const tgt = `cs${++n}`;
    assert.equal((await o.sw("PUT", `/${tgt}`)).status, 201);
    assert.equal((await put(`/${tgt}/t`, "far target", { "content-type": "text/x-far" })).status, 201);
    assert.equal((await put(`/${c}/t`, "near target")).status, 201);
    const link = (name: string, headers: Record<string, string>) =>
      o.sw("PUT", `/${c}/${name}`, { body: "", headers: { "content-length": "0", ...headers } });
    assert.equal((await link("dyn", { "x-symlink-target": `${c}/t` })).status, 201);
    const stat = await link("stat", {
      "x-symlink-target": `${tgt}/t`,
      "x-symlink-target-etag": md5("far target"),
    });
    assert.equal(stat.status, 201, stat.text);
    assert.deepEqual(await pass(), { pushed: 3, failed: 0 });
    // The dynamic link reads its (synced) target there, and is a link.
    const dyn = await there("GET", `/${c}/dyn`);
    assert.equal(dyn.text, "near target");
    const dynLink = await there("GET", `/${c}/dyn?symlink=get`);
    assert.equal(dynLink.status, 200);
    assert.equal(dynLink.headers["x-symlink-target"], `${c}/t`);
    assert.equal(dynLink.text, "");
    // The static link's target is not there (its container does not sync): stored anyway, as Swift.
    const statLink = await there("GET", `/${c}/stat?symlink=get`);
    assert.equal(statLink.status, 200);
    assert.equal(statLink.headers["x-symlink-target"], `${tgt}/t`);
    assert.equal(statLink.headers["x-symlink-target-etag"], md5("far target"));
    assert.equal(statLink.headers["x-symlink-target-bytes"], "10");
    assert.equal(statLink.headers["content-type"], "text/x-far");
    const srcStat = await o.sw("HEAD", `/${c}/stat?symlink=get`);
    assert.equal(statLink.headers["x-timestamp"], srcStat.headers["x-timestamp"]);
    assert.equal((await there("GET", `/${c}/stat`)).status, 404);
    // Once the target is there with that ETag, the static link reads it.
    assert.equal((await there("PUT", `/${tgt}`)).status, 201);
    assert.equal(
      (
        await o.sw("PUT", `/${tgt}/t`, {
          token: admin,
          account: other,
          body: "far target",
          headers: { "content-length": "10" },
        })
      ).status,
      201,
    );
    assert.equal((await there("GET", `/${c}/stat`)).text, "far target");
    // Nothing is pushed twice.
    assert.deepEqual(await pass(), { pushed: 0, failed: 0 });
  });

  test("a DLO arrives as its manifest object with X-Object-Manifest", async () => {
    const c = await pair();
    assert.equal((await put(`/${c}/part/1`, "dyn")).status, 201);
    assert.equal((await put(`/${c}/part/2`, "amic")).status, 201);
    assert.equal((await put(`/${c}/dlo`, "", { "x-object-manifest": `${c}/part/` })).status, 201);
    assert.deepEqual(await pass(), { pushed: 3, failed: 0 });
    const got = await there("GET", `/${c}/dlo`);
    assert.equal(got.status, 200);
    assert.equal(got.text, "dynamic");
    assert.equal(got.headers["x-object-manifest"], `${c}/part/`);
    const raw = await there("GET", `/${c}/dlo?multipart-manifest=get`);
    assert.equal(raw.text, "");
    assert.equal(raw.headers["x-object-manifest"], `${c}/part/`);
  });

  test("the receiver takes X-Static-Large-Object only from a sync, and only a stored manifest", async () => {
    const c = await pair();
    const send = (body: string, headers: Record<string, string>) =>
      o.sw("PUT", `/${c}/x`, {
        token: null,
        account: other,
        body,
        headers: { "content-length": String(body.length), "x-static-large-object": "True", ...headers },
      });
    const sync = { "x-container-sync-key": "k", "x-timestamp": "1700000000.00000" };
    assert.equal((await send("not json", sync)).status, 400);
    assert.equal((await send(JSON.stringify([{ name: "/a/b", bytes: -1, hash: "h" }]), sync)).status, 400);
    // Not a sync: the header is reserved.
    const user = await o.sw("PUT", `/${c}/x`, {
      token: admin,
      account: other,
      body: "[]",
      headers: { "content-length": "2", "x-static-large-object": "True" },
    });
    assert.equal(user.status, 400);
    assert.match(user.text, /reserved header/);
    const ok = await send(JSON.stringify([{ data: Buffer.from("inline").toString("base64") }]), sync);
    assert.equal(ok.status, 201, ok.text);
    const got = await there("GET", `/${c}/x`);
    assert.equal(got.text, "inline");
    assert.equal(got.headers.etag, `"${md5(md5("inline"))}"`);
  });
});
