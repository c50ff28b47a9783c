// What `stratus agent compute --compute-driver qemu` hands its driver, against a real cloud on a loopback port: the
// service user's session (a token, the catalog's image endpoint, clear errors for a wrong password or a missing
// service), the image source it builds (a cloud admin reads another project's private image and its bytes), the
// metadata service (its own, or a given one with the shared secret), and how flags and the environment configure it.
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { AgentQemuError, agentQemuContext } from "../../src/cli/agent-qemu.js";
import { agentConfig } from "../../src/cli/agent.js";
import { startCloud, type Cloud } from "../../src/cloud/start.js";
import { KeystoneSessionError, keystoneSession } from "../../src/shared/client/keystone-session.js";
import { loadConfig, type Config } from "../../src/shared/config.js";
import { waitForTokenKeys } from "../helpers/engines.js";

describe("a qemu agent's image and metadata services", () => {
  let cloud: Cloud;
  let dataDir = "";
  let agentDir = "";
  let authUrl = "";
  const log = pino({ level: "silent" });
  const agentCfg = (over: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Config =>
    loadConfig({ dataDir: agentDir, compute: over } as Partial<Config>, env);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "stratus-agentq-"));
    agentDir = mkdtempSync(join(tmpdir(), "stratus-agentq-agent-"));
    const cfg = loadConfig(
      {
        dataDir,
        host: "127.0.0.1",
        port: 0,
        logLevel: "silent",
        identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
      } as Partial<Config>,
      {},
    );
    cloud = await startCloud(cfg);
    await waitForTokenKeys(cloud);
    authUrl = `${cloud.url}/identity/v3`;
  });
  after(async () => {
    await cloud?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(agentDir, { recursive: true, force: true });
  });

  const creds = (password: string) => ({
    authUrl,
    username: "admin",
    password,
    projectName: "admin",
    userDomainName: "Default",
    projectDomainName: "Default",
  });

  test("the session: one token reused, the image endpoint from the catalog, errors that say what is wrong", async () => {
    const s = keystoneSession({ ...creds(cloud.adminPassword), region: "RegionOne" });
    const tok = await s.token();
    assert.equal(await s.token(), tok, "the token is reused");
    assert.equal(await s.endpoint("image"), `${cloud.url}/image`);
    const r = await fetch(`${await s.endpoint("image")}/v2/images`, { headers: { "x-auth-token": tok } });
    assert.equal(r.status, 200);
    s.token.reset!(tok);
    assert.notEqual(await s.token(), tok, "a refused token is replaced");
    await assert.rejects(s.endpoint("volumev4"), (e: Error) => {
      assert.ok(e instanceof KeystoneSessionError);
      assert.match(e.message, /lists no volumev4 endpoint \(interface public, region RegionOne\)/);
      return true;
    });
    await assert.rejects(
      keystoneSession({ ...creds(cloud.adminPassword), region: "Elsewhere" }).endpoint("image"),
      /no image endpoint \(interface public, region Elsewhere\)/,
    );
    await assert.rejects(keystoneSession(creds("wrong")).token(), (e: Error) => {
      assert.ok(e instanceof KeystoneSessionError);
      assert.match(e.message, /refused admin \(project admin\): HTTP 401/);
      return true;
    });
    await assert.rejects(
      keystoneSession({ ...creds("x"), authUrl: "http://127.0.0.1:1/identity/v3" }).token(),
      /cannot reach identity at http:\/\/127\.0\.0\.1:1\/identity\/v3/,
    );
  });

  test("the image source reads another project's private image and its bytes; the agent serves metadata itself", async () => {
    const demo = await keystoneSession({
      ...creds(cloud.demoPassword),
      username: "demo",
      projectName: "demo",
    });
    const img = `${cloud.url}/image/v2/images`;
    const headers = { "x-auth-token": await demo.token(), "content-type": "application/json" };
    const created = await fetch(img, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "private", disk_format: "raw", container_format: "bare" }),
    });
    assert.equal(created.status, 201);
    const id = ((await created.json()) as { id: string }).id;
    const put = await fetch(`${img}/${id}/file`, {
      method: "PUT",
      headers: { ...headers, "content-type": "application/octet-stream" },
      body: Buffer.alloc(4096, 7),
    });
    assert.equal(put.status, 204);

    const ctx = await agentQemuContext(
      agentCfg({ serviceUser: { authUrl, password: cloud.adminPassword } }),
      cloud.db.kysely,
      log,
      {},
    );
    try {
      const rec = await ctx.images.describe(id);
      assert.equal(rec.status, "active");
      assert.equal(rec.sizeBytes, 4096);
      let bytes = 0;
      for await (const chunk of await ctx.images.fetch(id, AbortSignal.timeout(30_000)))
        bytes += chunk.byteLength;
      assert.equal(bytes, 4096);
      // Its own metadata service, on loopback: a request without a proxy's signed headers is refused.
      assert.match(ctx.metadata.target.serviceUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await fetch(`${ctx.metadata.target.serviceUrl}/openstack`)).status, 400);
      assert.match(ctx.summary, new RegExp(`images from ${cloud.url}/image as admin, metadata served here`));
    } finally {
      await ctx.close();
    }
  });

  test("a given metadata service needs the shared secret (environment or file) and must answer", async () => {
    const remote = cloud.metadata.url;
    const cfg = agentCfg({
      serviceUser: { authUrl, password: cloud.adminPassword },
      metadata: { url: remote },
    });
    await assert.rejects(agentQemuContext(cfg, cloud.db.kysely, log, {}), (e: Error) => {
      assert.ok(e instanceof AgentQemuError);
      assert.equal(e.code, 2);
      assert.match(e.message, /STRATUS_METADATA_SECRET/);
      return true;
    });
    const fromEnv = await agentQemuContext(cfg, cloud.db.kysely, log, {
      STRATUS_METADATA_SECRET: cloud.metadata.secret,
    });
    assert.deepEqual(fromEnv.metadata.target, { serviceUrl: remote, secret: cloud.metadata.secret });
    await fromEnv.close();
    writeFileSync(join(agentDir, "metadata-proxy-secret"), `${cloud.metadata.secret}\n`);
    const fromFile = await agentQemuContext(cfg, cloud.db.kysely, log, {});
    assert.equal(fromFile.metadata.target.secret, cloud.metadata.secret);
    assert.match(fromFile.summary, new RegExp(`metadata from ${remote}`));
    await fromFile.close();
    await assert.rejects(
      agentQemuContext(
        agentCfg({
          serviceUser: { authUrl, password: cloud.adminPassword },
          metadata: { url: "http://127.0.0.1:1" },
        }),
        cloud.db.kysely,
        log,
        {},
      ),
      /the metadata service at http:\/\/127\.0\.0\.1:1 does not answer/,
    );
  });

  test("without credentials, or with wrong ones, the agent explains what to pass", async () => {
    await assert.rejects(agentQemuContext(agentCfg(), cloud.db.kysely, log, {}), (e: Error) => {
      assert.ok(e instanceof AgentQemuError);
      assert.equal(e.code, 2);
      assert.match(e.message, /--auth-url .* STRATUS_SERVICE_PASSWORD/);
      return true;
    });
    await assert.rejects(
      agentQemuContext(agentCfg({ serviceUser: { authUrl, password: "wrong" } }), cloud.db.kysely, log, {}),
      (e: Error) => e instanceof AgentQemuError && e.code === 1 && /HTTP 401/.test(e.message),
    );
  });

  test("flags and STRATUS_SERVICE_PASSWORD configure the service user and the metadata URL", () => {
    const base = { db: "sqlite:///x.db", bus: "amqp://mq", dataDir: agentDir };
    const cfg = agentConfig(
      {
        ...base,
        computeDriver: "qemu",
        authUrl,
        authUser: "ops",
        authProject: "ops-project",
        metadataUrl: "http://10.0.0.1:8775",
      },
      { STRATUS_SERVICE_PASSWORD: "pw-from-env" },
    );
    assert.deepEqual(cfg.compute.serviceUser, {
      authUrl,
      username: "ops",
      projectName: "ops-project",
      password: "pw-from-env",
    });
    assert.equal(cfg.compute.metadata?.url, "http://10.0.0.1:8775");
    const plain = agentConfig(base, {});
    assert.equal(plain.compute.serviceUser, undefined);
    assert.equal(plain.compute.metadata?.url, undefined);
    assert.throws(
      () => agentConfig({ ...base, authUrl: "controller:8080" }, {}),
      /compute\.serviceUser\.authUrl must match pattern/,
    );
  });
});
