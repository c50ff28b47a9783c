// The console proxy of a running cloud: console URLs point at the built-in proxy, its websockets relay bytes both
// ways to the endpoint the compute host named, tokens open one console once (also through another API process's
// proxy sharing the database), a foreign Origin is refused without using the token up, and noVNC is served.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect, createServer, type AddressInfo, type Server as NetServer } from "node:net";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { attachConsoleProxy } from "../../../src/compute/consoles/proxy.js";
import { databaseUrl } from "../../../src/shared/config.js";
import { openDatabase, type Database } from "../../../src/shared/db/index.js";
import { bootActions, type ActionCloud } from "../actions/util.js";

let c: ActionCloud;
let id: string;
let base = ""; // where the cloud really listens
let echo: NetServer;
let echoPort = 0;

before(async () => {
  c = await bootActions({ compute: { consoles: { allowedOrigins: ["trusted.example"] } } });
  await c.t.cloud.app.listen({ host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${(c.t.cloud.app.server.address() as AddressInfo).port}`;
  // The console endpoint: a TCP echo server standing in for a VNC server or a serial port.
  echo = createServer((s) => s.pipe(s).on("error", () => s.destroy()));
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  echoPort = (echo.address() as AddressInfo).port;
  const driver = c.t.cloud.computeControl.agents[0]!.deps.driver as unknown as Record<string, unknown>;
  driver.getVncConsole = async () => ({ host: "127.0.0.1", port: echoPort });
  // The serial port: a live attachment (as the qemu driver gives) whose guest echoes what it is sent.
  driver.getSerialConsole = async () => {
    const listeners = new Set<(b: Buffer) => void>();
    return {
      onData: (l: (b: Buffer) => void) => (listeners.add(l), () => listeners.delete(l)),
      write: (d: Uint8Array | string) => setImmediate(() => listeners.forEach((l) => l(Buffer.from(d)))),
    };
  };
  id = await c.createServer(c.demo, { name: "console" });
  await c.waitStatus(c.demo, id, "ACTIVE");
});
after(async () => {
  await c?.close();
  await new Promise((r) => echo?.close(r));
});

/** A new VNC console's URL and token. */
async function vncUrl(): Promise<{ url: string; token: string }> {
  const body = { remote_console: { protocol: "vnc", type: "novnc" } };
  const r = await c.req("POST", `/v2.1/servers/${id}/remote-consoles`, { token: c.demo, body, mv: "2.6" });
  assert.equal(r.status, 200, r.text);
  const url: string = r.body.remote_console.url;
  const path = new URL(url).searchParams.get("path")!;
  return { url, token: new URLSearchParams(path.slice(1)).get("token")! };
}

/** Open a websocket; resolves with it once open, or with the HTTP status the handshake was refused with. */
function openWs(url: string, origin?: string): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

/** Send `data` in chunks and collect as many bytes back. */
async function roundTrip(ws: WebSocket, data: Buffer): Promise<Buffer> {
  const got: Buffer[] = [];
  let n = 0;
  const done = new Promise<void>((resolve, reject) => {
    ws.on("message", (m: Buffer) => {
      got.push(m);
      n += m.length;
      if (n >= data.length) resolve();
    });
    ws.once("close", () => reject(new Error(`closed after ${n} of ${data.length} bytes`)));
  });
  for (let i = 0; i < data.length; i += 16_384) ws.send(data.subarray(i, i + 16_384));
  await done;
  return Buffer.concat(got);
}

const wsBase = () => base.replace(/^http/, "ws");

test("VNC console URLs point at the built-in noVNC page, in Nova's ?path=?token= form", async () => {
  const { url } = await vncUrl();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/vnc\/vnc_lite\.html\?path=%3Ftoken%3D[0-9a-f]{48}$/);
  assert.ok(url.startsWith(c.t.cloud.cfg.publicUrl!), "on the public URL");
  const legacy = await c.act(c.demo, id, { "os-getVNCConsole": { type: "novnc" } });
  assert.equal(legacy.status, 200);
  assert.match(legacy.body.console.url, /\/vnc\/vnc_lite\.html\?path=%3Ftoken%3D/);
});

test("the proxy relays bytes both ways, and the token opens the console only once", async () => {
  const { token } = await vncUrl();
  const shown = await c.req("GET", `/v2.1/os-console-auth-tokens/${token}`, { token: c.admin, mv: "2.31" });
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body.console, {
    instance_uuid: id,
    host: "127.0.0.1",
    port: echoPort,
    internal_access_path: null,
  });
  const ws = await openWs(`${wsBase()}/vnc/?token=${token}`, base);
  assert.ok(ws instanceof WebSocket, `handshake refused: ${String(ws)}`);
  const data = randomBytes(300_000);
  assert.ok((await roundTrip(ws, data)).equals(data), "the same bytes came back, in order");
  ws.close();
  assert.equal(await openWs(`${wsBase()}/vnc/?token=${token}`, base), 401, "a used token is refused");
  assert.equal(
    (await c.req("GET", `/v2.1/os-console-auth-tokens/${token}`, { token: c.admin, mv: "2.31" })).status,
    404,
  );
  assert.equal(await openWs(`${wsBase()}/vnc/?token=${"0".repeat(48)}`, base), 401);
  assert.equal(await openWs(`${wsBase()}/vnc/`, base), 401, "no token");
  assert.equal(await openWs(`${wsBase()}/elsewhere?token=${token}`, base), 404);
});

test("a foreign Origin is refused (OSSA-2015-005) and does not use the token up", async () => {
  const { token } = await vncUrl();
  const url = `${wsBase()}/vnc/?token=${token}`;
  for (const evil of ["http://evil.example", "null", "http://127.0.0.1.evil.example", "file://"])
    assert.equal(await openWs(url, evil), 403, evil);
  const ws = await openWs(url, "https://trusted.example");
  assert.ok(ws instanceof WebSocket, "an allowed origin (compute.consoles.allowedOrigins) opens the console");
  ws.close();
  // The public URL's own origin, and a client without Origin (not a browser), are accepted.
  const pub = await openWs(`${wsBase()}/vnc/?token=${(await vncUrl()).token}`, c.t.cloud.cfg.publicUrl);
  assert.ok(pub instanceof WebSocket);
  pub.close();
  const bare = await openWs(`${wsBase()}/?token=${(await vncUrl()).token}`);
  assert.ok(bare instanceof WebSocket, "the root path serves noVNC pages that put the websocket there");
  bare.close();
});

test("another API process's proxy accepts the token (tokens live in the database)", async () => {
  const { token } = await vncUrl();
  const db: Database = await openDatabase(databaseUrl(c.t.cloud.cfg));
  const other: Server = createHttpServer((_req, res) => res.writeHead(404).end());
  const detach = attachConsoleProxy(other, {
    db: db.kysely,
    publicUrl: () => c.t.cloud.cfg.publicUrl!,
    allowedOrigins: [],
    log: c.t.cloud.log,
  });
  await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  try {
    const port = (other.address() as AddressInfo).port;
    const ws = await openWs(`ws://127.0.0.1:${port}/vnc/?token=${token}`);
    assert.ok(ws instanceof WebSocket, `refused: ${String(ws)}`);
    const data = Buffer.from("RFB 003.008\n");
    assert.ok((await roundTrip(ws, data)).equals(data));
    ws.close();
    assert.equal(await openWs(`${wsBase()}/vnc/?token=${token}`, base), 401, "and then nowhere else");
  } finally {
    detach();
    await new Promise((r) => other.close(r));
    await db.close();
  }
});

test("serial consoles: ws://.../serial?token=, relayed both ways; a VNC token opens no serial console", async () => {
  const legacy = await c.act(c.demo, id, { "os-getSerialConsole": { type: "serial" } });
  assert.equal(legacy.status, 200, legacy.text);
  assert.match(legacy.body.console.url, /^ws:\/\/127\.0\.0\.1:\d+\/serial\?token=[0-9a-f]{48}$/);
  const body = { remote_console: { protocol: "serial", type: "serial" } };
  const r = await c.req("POST", `/v2.1/servers/${id}/remote-consoles`, { token: c.demo, body, mv: "2.6" });
  assert.equal(r.status, 200, r.text);
  const token = new URL(r.body.remote_console.url).searchParams.get("token")!;
  const shown = await c.req("GET", `/v2.1/os-console-auth-tokens/${token}`, { token: c.admin, mv: "2.31" });
  assert.equal(shown.body.console.host, "127.0.0.1", "the agent serves the serial port on loopback");
  const ws = await openWs(`${wsBase()}/serial?token=${token}`, base);
  assert.ok(ws instanceof WebSocket);
  const data = Buffer.from("hello serial\r\n");
  assert.ok((await roundTrip(ws, data)).equals(data));
  // The agent's endpoint took that one connection and stopped listening: no way in around the token.
  const direct = await new Promise<string>((resolve) => {
    const s = connect({ host: "127.0.0.1", port: shown.body.console.port as number });
    s.once("connect", () => (s.destroy(), resolve("connected")));
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
  });
  assert.equal(direct, "ECONNREFUSED");
  ws.close();
  assert.equal(await openWs(`${wsBase()}/serial?token=${(await vncUrl()).token}`, base), 401);
});

test("an unreachable console endpoint: 502, not a hang", async () => {
  const driver = c.t.cloud.computeControl.agents[0]!.deps.driver as unknown as Record<string, unknown>;
  const saved = driver.getVncConsole;
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise((r) => dead.close(r));
  driver.getVncConsole = async () => ({ host: "127.0.0.1", port: deadPort });
  try {
    assert.equal(await openWs(`${wsBase()}/vnc/?token=${(await vncUrl()).token}`, base), 502);
  } finally {
    driver.getVncConsole = saved;
  }
});

test("noVNC is served at /vnc/: the console page, its script and noVNC's modules, nothing else", async () => {
  for (const page of ["vnc_lite.html", "vnc.html", "vnc_auto.html"]) {
    const r = await fetch(`${base}/vnc/${page}?path=%3Ftoken%3Dx`);
    assert.equal(r.status, 200, page);
    assert.match(r.headers.get("content-type")!, /^text\/html/);
    assert.match(r.headers.get("content-security-policy")!, /script-src 'self'/);
    assert.match(await r.text(), /console\.js/);
  }
  for (const mod of [
    "console.js",
    "core/rfb.js",
    "core/util/logging.js",
    "vendor/pako/lib/zlib/inflate.js",
  ]) {
    const r = await fetch(`${base}/vnc/${mod}`);
    assert.equal(r.status, 200, mod);
    assert.match(r.headers.get("content-type")!, /javascript/);
  }
  for (const bad of [
    "package.json",
    "core/../package.json",
    "core/%2e%2e/package.json",
    "core/nothing.js",
    "LICENSE.txt",
  ])
    assert.equal((await fetch(`${base}/vnc/${bad}`)).status, 404, bad);
});
