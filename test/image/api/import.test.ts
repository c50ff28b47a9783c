// Interoperable import: glance-direct (stage, then import in the background) and web-download (off by default;
// when on, only allowed hosts, and every redirect hop must be allowed too), with the image's tasks.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { qcow2 } from "../inspector/images.js";
import { bootImageCloud, isGlanceError, type ImageCloud } from "./helpers.js";

let t: ImageCloud;
let web: Server;
let webPort = 0;
const PAYLOAD = Buffer.from("web image data ".repeat(1000));

before(async () => {
  t = await bootImageCloud();
  // A small web server on 127.0.0.1: /image.raw, /qcow2, redirects to localhost (a different, unallowed host
  // name for the same server) and to an allowed path, and a 404.
  web = createServer((req, res) => {
    const port = webPort;
    if (req.url === "/image.raw") return res.end(PAYLOAD);
    if (req.url === "/qcow2") return res.end(qcow2());
    if (req.url === "/hop") return res.writeHead(302, { location: "/image.raw" }).end();
    if (req.url === "/away")
      return res.writeHead(302, { location: `http://localhost:${port}/image.raw` }).end();
    if (req.url === "/loop") return res.writeHead(301, { location: "/loop" }).end();
    res.writeHead(404).end("nope");
  });
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
  const a = web.address();
  webPort = typeof a === "object" && a ? a.port : 0;
});
after(async () => {
  await new Promise<void>((r) => web.close(() => r()));
  await t.close();
});

const stagingDir = () => join(t.c.dataDir, "image-staging");
const importReq = (id: string, body: unknown, token = t.demo) =>
  t.api("POST", `/v2/images/${id}/import`, { token, body });

describe("glance-direct", () => {
  test("stage → uploading, import → 202 → active with the staged bytes; staging data removed; a task", async () => {
    const img = await t.create({ disk_format: "raw" }, t.demo);
    const data = Buffer.from("staged data ".repeat(500));
    const st = await t.upload(img.id, data, t.demo, "stage");
    assert.equal(st.status, 204, st.body.toString());
    const staged = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(staged.status, "uploading");
    assert.equal(staged.size, data.length);
    assert.ok(existsSync(join(stagingDir(), img.id)));
    assert.equal((await t.upload(img.id, data, t.demo, "stage")).status, 409, "already staged");
    const r = await importReq(img.id, { method: { name: "glance-direct" } });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.text, "");
    const done = await t.waitStatus(img.id, ["active", "queued"], t.demo);
    assert.equal(done.status, "active");
    assert.equal(done.size, data.length);
    assert.equal(done.checksum, createHash("md5").update(data).digest("hex"));
    assert.equal(done.stores, "file");
    assert.equal(done.os_glance_failed_import, "");
    assert.equal(done.os_glance_importing_to_stores, "");
    assert.ok(!("os_glance_import_task" in done));
    assert.ok(!existsSync(join(stagingDir(), img.id)));
    assert.ok((await t.download(img.id, t.demo)).body.equals(data));
    const tasks = (await t.api("GET", `/v2/images/${img.id}/tasks`, { token: t.demo })).body.tasks;
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].status, "success");
    assert.equal(tasks[0].type, "api_image_import");
    assert.equal(tasks[0].request_id, r.headers["x-openstack-request-id"]);
    assert.equal(tasks[0].input.import_req.method.name, "glance-direct");
    assert.equal(tasks[0].image_id, img.id);
    // Importing again into an active image is a conflict.
    assert.equal((await importReq(img.id, { method: { name: "glance-direct" } })).status, 409);
  });

  test("import before staging is 409; bad bodies 400; unknown store 409; unknown image 404", async () => {
    const img = await t.create({}, t.demo);
    assert.equal((await importReq(img.id, { method: { name: "glance-direct" } })).status, 409);
    for (const body of [
      {},
      { method: {} },
      { method: { name: "copy-image" } },
      { method: { name: "glance-direct" }, all_stores: "yes" },
    ]) {
      const r = await importReq(img.id, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(isGlanceError(r.body, 400));
    }
    await t.upload(img.id, Buffer.from("x".repeat(100)), t.demo, "stage");
    assert.equal(
      (await importReq(img.id, { method: { name: "glance-direct" }, stores: ["ceph"] })).status,
      409,
    );
    assert.equal(
      (await importReq("00000000-0000-0000-0000-000000000000", { method: { name: "glance-direct" } })).status,
      404,
    );
    assert.equal((await t.upload(img.id, Buffer.from("x"), t.demo, "stage")).status, 409);
  });

  test("staged data of the wrong format fails the import: back to queued, os_glance_failed_import, task failure", async () => {
    const img = await t.create({ disk_format: "raw" }, t.demo);
    await t.upload(img.id, qcow2(), t.demo, "stage");
    assert.equal((await importReq(img.id, { method: { name: "glance-direct" } })).status, 202);
    const back = await t.waitStatus(img.id, ["queued", "active"], t.demo);
    assert.equal(back.status, "queued");
    assert.equal(back.os_glance_failed_import, "file");
    assert.equal(back.size, null);
    assert.ok(!existsSync(join(stagingDir(), img.id)));
    assert.deepEqual(
      readdirSync(join(t.c.dataDir, "images")).filter((f) => f.startsWith(img.id)),
      [],
    );
    const tasks = (await t.api("GET", `/v2/images/${img.id}/tasks`, { token: t.demo })).body.tasks;
    assert.equal(tasks.at(-1).status, "failure");
    assert.match(tasks.at(-1).message, /qcow2/);
  });

  test("deleting a staged image removes the staged data", async () => {
    const img = await t.create({}, t.demo);
    await t.upload(img.id, Buffer.from("x".repeat(100)), t.demo, "stage");
    assert.ok(existsSync(join(stagingDir(), img.id)));
    assert.equal((await t.api("DELETE", `/v2/images/${img.id}`, { token: t.demo })).status, 204);
    assert.ok(!existsSync(join(stagingDir(), img.id)));
  });
});

describe("web-download", () => {
  test("disabled by default: not offered, and 400 when asked for", async () => {
    const img = await t.create({}, t.demo);
    const r = await importReq(img.id, {
      method: { name: "web-download", uri: `http://127.0.0.1:${webPort}/image.raw` },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /Unknown import method name 'web-download'/);
  });

  test("enabled: fetches from an allowed host; other hosts and schemes are 400 up front", async () => {
    const cfg = t.c.cloud.cfg.image.webDownload;
    cfg.enabled = true;
    cfg.allowedHosts = ["127.0.0.1"];
    try {
      const info = await t.api("GET", "/v2/info/import", { token: t.demo });
      assert.deepEqual(info.body["import-methods"].value, ["glance-direct", "web-download"]);
      const img = await t.create({}, t.demo);
      for (const uri of [
        `http://localhost:${webPort}/image.raw`,
        "file:///etc/passwd",
        `ftp://127.0.0.1:${webPort}/x`,
        "not a url",
        `http://user:pw@127.0.0.1:${webPort}/image.raw`,
        undefined,
      ]) {
        const r = await importReq(img.id, { method: { name: "web-download", uri } });
        assert.equal(r.status, 400, String(uri));
        assert.match(r.body.message, /does not pass filtering/);
      }
      const ok = await importReq(img.id, {
        method: { name: "web-download", uri: `http://127.0.0.1:${webPort}/image.raw` },
      });
      assert.equal(ok.status, 202, ok.text);
      const done = await t.waitStatus(img.id, ["active", "queued"], t.demo);
      assert.equal(done.status, "active");
      assert.equal(done.size, PAYLOAD.length);
      assert.ok((await t.download(img.id, t.demo)).body.equals(PAYLOAD));
      // web-download needs a queued image.
      const again = await importReq(img.id, {
        method: { name: "web-download", uri: `http://127.0.0.1:${webPort}/image.raw` },
      });
      assert.equal(again.status, 409);
    } finally {
      cfg.enabled = false;
      cfg.allowedHosts = [];
    }
  });

  test("redirects: followed within allowed hosts; a redirect to a disallowed host fails the import", async () => {
    const cfg = t.c.cloud.cfg.image.webDownload;
    cfg.enabled = true;
    cfg.allowedHosts = [`127.0.0.1:${webPort}`];
    try {
      const hop = await t.create({}, t.demo);
      assert.equal(
        (
          await importReq(hop.id, {
            method: { name: "web-download", uri: `http://127.0.0.1:${webPort}/hop` },
          })
        ).status,
        202,
      );
      assert.equal((await t.waitStatus(hop.id, ["active", "queued"], t.demo)).status, "active");

      const away = await t.create({}, t.demo);
      assert.equal(
        (
          await importReq(away.id, {
            method: { name: "web-download", uri: `http://127.0.0.1:${webPort}/away` },
          })
        ).status,
        202,
      );
      const failed = await t.waitStatus(away.id, ["active", "queued"], t.demo, 10_000);
      // Wait for the task to settle (status flips back to queued first).
      await t.c.cloud.image.settled();
      const shown = (await t.api("GET", `/v2/images/${away.id}`, { token: t.demo })).body;
      assert.equal(failed.status, "queued");
      assert.equal(shown.status, "queued");
      assert.equal(shown.os_glance_failed_import, "file");
      const tasks = (await t.api("GET", `/v2/images/${away.id}/tasks`, { token: t.demo })).body.tasks;
      assert.equal(tasks[0].status, "failure");
      assert.match(tasks[0].message, /localhost/);

      for (const path of ["/loop", "/missing"]) {
        const img = await t.create({}, t.demo);
        assert.equal(
          (
            await importReq(img.id, {
              method: { name: "web-download", uri: `http://127.0.0.1:${webPort}${path}` },
            })
          ).status,
          202,
        );
        await t.c.cloud.image.settled();
        const s = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
        assert.equal(s.status, "queued", path);
        assert.equal(s.os_glance_failed_import, "file", path);
      }
      // Another port on an allowed host name is not allowed when the entry names a port.
      const img = await t.create({}, t.demo);
      const r = await importReq(img.id, {
        method: { name: "web-download", uri: "http://127.0.0.1:1/image.raw" },
      });
      assert.equal(r.status, 400);
    } finally {
      cfg.enabled = false;
      cfg.allowedHosts = [];
    }
  });
});

describe("import and authorization (issue 8)", () => {
  test("no state leaks: a caller who cannot see the image gets 404 whatever its state; one who sees it gets Glance's answers", async () => {
    const c = t.c;
    const admin = await c.adminToken();
    const grant = async (project: string, user: string, role: string) =>
      assert.equal(
        (
          await c.req("PUT", `/v3/projects/${project}/users/${user}/roles/${await c.roleId(role)}`, {
            token: admin,
          })
        ).status,
        204,
      );
    const pw = "Passw0rd-import";
    const readerId = (await c.createUser("imp-reader", pw)).id as string;
    await grant(t.demoProject, readerId, "reader");
    const other = (await c.createProject("imp-other")).id as string;
    const otherId = (await c.createUser("imp-other-member", pw)).id as string;
    await grant(other, otherId, "member");
    const reader = await c.token("imp-reader", pw, { project: { id: t.demoProject } });
    const stranger = await c.token("imp-other-member", pw, { project: { id: other } });

    const queued = await t.create({ disk_format: "raw" }, t.demo);
    const staged = await t.create({ disk_format: "raw" }, t.demo);
    assert.equal((await t.upload(staged.id, Buffer.from("staged"), t.demo, "stage")).status, 204);
    const direct = { method: { name: "glance-direct" } };
    // Another project's member does not see the private image: 404 in every state, never the 409.
    for (const id of [queued.id, staged.id]) {
      const r = await importReq(id, direct, stranger);
      assert.equal(r.status, 404, r.text);
      assert.ok(isGlanceError(r.body, 404));
    }
    // A reader sees the image (and its status, through GET): a state conflict is Glance's 409, which tells it
    // nothing GET does not; an import the state allows is refused by policy (403) and changes nothing.
    const seen = (await t.api("GET", `/v2/images/${queued.id}`, { token: reader })).body;
    assert.equal(seen.status, "queued");
    assert.equal((await importReq(queued.id, direct, reader)).status, 409);
    const refused = await importReq(staged.id, direct, reader);
    assert.equal(refused.status, 403, refused.text);
    assert.ok(isGlanceError(refused.body, 403));
    assert.equal((await t.api("GET", `/v2/images/${staged.id}`, { token: t.demo })).body.status, "uploading");
  });
});
