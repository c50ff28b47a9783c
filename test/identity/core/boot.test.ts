// Booting the identity service and the all-in-one cloud: keys, bootstrap idempotence, health.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import pino from "pino";
import { IdentityService } from "../../../src/identity/service.js";
import { loadConfig } from "../../../src/shared/config.js";
import { openDatabase } from "../../../src/shared/db/index.js";
import { bootCloud } from "../../helpers/cloud.js";

// Regression: start() used to call keys.init() without awaiting it, so a token issued right after boot could be a 500.
test("IdentityService.start resolves only once its token keys are loaded", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "stratus-boot-"));
  const cfg = loadConfig({ dataDir, port: 0, logLevel: "silent" } as any, {});
  const db = await openDatabase(`sqlite://${join(dataDir, "stratus.db")}`);
  try {
    const svc = await IdentityService.start(db, cfg, pino({ level: "silent" }));
    let loaded = true;
    try {
      svc.keys.all();
    } catch {
      loaded = false;
    }
    // Let the un-awaited init finish before the directory goes away.
    for (let i = 0; i < 200; i++) {
      try {
        svc.keys.all();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    assert.ok(loaded, "keys.all() threw right after IdentityService.start() resolved");
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("the health check answers and bootstrap created the documented resources", async () => {
  const c = await bootCloud();
  try {
    const h = await c.req("GET", "/healthcheck");
    assert.equal(h.status, 200);
    const admin = await c.adminToken();
    const d = await c.req("GET", "/v3/domains/default", { token: admin });
    assert.equal(d.status, 200);
    assert.equal(d.body.domain.name, "Default");
    for (const name of ["admin", "manager", "member", "reader", "service"])
      assert.equal(typeof (await c.roleId(name)), "string", name);
    for (const name of ["admin", "demo", "service"])
      assert.equal(typeof (await c.projectId(name)), "string", name);
    const inf = await c.req("GET", "/v3/role_inferences", { token: admin });
    assert.equal(inf.status, 200);
    const edges = inf.body.role_inferences
      .flatMap((r: any) => r.implies.map((i: any) => `${r.prior_role.name}>${i.name}`))
      .sort();
    assert.deepEqual(edges, ["admin>manager", "manager>member", "member>reader"]);
  } finally {
    await c.close();
  }
});
