// `stratus up` restarted on the same data dir: its in-process fake hosts keep their guests (state files under
// DATA_DIR/fake-hosts), so running servers stay ACTIVE with no fault.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startCloud, type Cloud } from "../../../src/cloud/start.js";
import { loadConfig } from "../../../src/shared/config.js";

const dir = mkdtempSync(join(tmpdir(), "stratus-restart-"));
const cfg = loadConfig(
  {
    dataDir: dir,
    port: 0,
    logLevel: "silent",
    identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
    compute: { hostName: "keep1" },
  } as any,
  {},
);
after(() => rmSync(dir, { recursive: true, force: true }));

async function call(cloud: Cloud, method: string, url: string, token?: string, body?: unknown) {
  const r = await cloud.app.inject({
    method: method as any,
    url,
    headers: {
      accept: "application/json",
      ...(token ? { "x-auth-token": token } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
      "openstack-api-version": "compute 2.37",
    },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined, headers: r.headers };
}

async function adminToken(cloud: Cloud): Promise<string> {
  const r = await call(cloud, "POST", "/identity/v3/auth/tokens", undefined, {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: "admin", domain: { id: "default" }, password: cloud.adminPassword } },
      },
      scope: { project: { name: "admin", domain: { id: "default" } } },
    },
  });
  return r.headers["x-subject-token"] as string;
}

async function status(cloud: Cloud, token: string, id: string, want: string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const r = await call(cloud, "GET", `/compute/v2.1/servers/${id}`, token);
    if (r.body?.server?.status === want) return;
    if (Date.now() > end)
      throw new Error(`server ${id}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

test("servers stay ACTIVE across a restart of the all-in-one cloud", async () => {
  let cloud = await startCloud(cfg, { listen: false });
  let token = await adminToken(cloud);
  const img = await call(cloud, "POST", "/image/v2/images", token, {
    name: "i",
    disk_format: "raw",
    container_format: "bare",
  });
  await cloud.app.inject({
    method: "PUT",
    url: `/image/v2/images/${img.body.id}/file`,
    headers: { "x-auth-token": token, "content-type": "application/octet-stream" },
    payload: Buffer.alloc(4096),
  });
  const created = await call(cloud, "POST", "/compute/v2.1/servers", token, {
    server: { name: "survivor", imageRef: img.body.id, flavorRef: "42", networks: "none" },
  });
  assert.equal(created.status, 202);
  const id = created.body.server.id;
  await status(cloud, token, id, "ACTIVE");
  // The in-process hosts save lazily (within 200 ms); close() writes what is left.
  await cloud.close();
  assert.match(readFileSync(join(dir, "fake-hosts", "keep1.json"), "utf8"), new RegExp(id));

  cloud = await startCloud(cfg, { listen: false });
  try {
    token = await adminToken(cloud);
    await status(cloud, token, id, "ACTIVE");
    const again = await call(cloud, "GET", `/compute/v2.1/servers/${id}`, token);
    assert.equal(again.body.server["OS-EXT-STS:power_state"], 1);
    assert.equal(again.body.server.fault, undefined);
  } finally {
    await cloud.close();
  }
});
