// Consoles: console output (with length), legacy os-get*Console actions (2.1-2.5), remote consoles (2.6) and
// console auth tokens (admin, 2.31), with a noVNC proxy configured (consoles-unavailable.test.ts: without one).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, type ActionCloud } from "./util.js";

let c: ActionCloud;
let id: string;
before(async () => {
  c = await bootActions({ compute: { vncProxyUrl: "http://console.example:6080/vnc_auto.html" } });
  id = await c.createServer(c.demo, { name: "console" });
  await c.waitStatus(c.demo, id, "ACTIVE");
});
after(() => c?.close());

test("os-getConsoleOutput returns the guest's log, or its last lines", async () => {
  const all = await c.act(c.demo, id, { "os-getConsoleOutput": {} });
  assert.equal(all.status, 200);
  assert.match(all.body.output, /console login: \n$/);
  const two = await c.act(c.demo, id, { "os-getConsoleOutput": { length: 2 } });
  assert.equal(
    two.body.output.split("\n").length,
    2,
    "the last 2 pieces of the log split on newlines, as Nova tails it",
  );
  const str = await c.act(c.demo, id, { "os-getConsoleOutput": { length: "1" } });
  assert.equal(str.body.output.split("\n").length, 1);
  const unlimited = await c.act(c.demo, id, { "os-getConsoleOutput": { length: -1 } });
  assert.equal(unlimited.body.output, all.body.output);
  for (const bad of [{ length: -2 }, { length: "x" }, { length: 1, other: 2 }])
    assert.equal((await c.act(c.demo, id, { "os-getConsoleOutput": bad })).status, 400, JSON.stringify(bad));
  assert.equal((await c.act(c.demo, id, { "os-getConsoleOutput": null })).status, 400);
});

test("legacy os-getVNCConsole works up to 2.5; SPICE, serial and RDP are unavailable", async () => {
  const r = await c.act(c.demo, id, { "os-getVNCConsole": { type: "novnc" } });
  assert.equal(r.status, 200);
  assert.equal(r.body.console.type, "novnc");
  assert.match(
    r.body.console.url,
    /^http:\/\/console\.example:6080\/vnc_auto\.html\?path=%3Ftoken%3D[0-9a-f]+$/,
  );
  assert.equal((await c.act(c.demo, id, { "os-getVNCConsole": { type: "novnc" } }, "2.6")).status, 404);
  assert.equal((await c.act(c.demo, id, { "os-getVNCConsole": { type: "rdp" } })).status, 400);
  assert.equal((await c.act(c.demo, id, { "os-getVNCConsole": { type: "xvpvnc" } })).status, 400);
  const spice = await c.act(c.demo, id, { "os-getSPICEConsole": { type: "spice-html5" } });
  assert.equal(spice.status, 400);
  assert.equal(spice.body.badRequest.message, "Unavailable console type spice-html5.");
  assert.equal((await c.act(c.demo, id, { "os-getSerialConsole": { type: "serial" } })).status, 400);
  assert.equal((await c.act(c.demo, id, { "os-getRDPConsole": { type: "rdp-html5" } })).status, 400);
});

test("remote consoles (2.6) and their tokens (admin, 2.31)", async () => {
  const path = `/v2.1/servers/${id}/remote-consoles`;
  const body = { remote_console: { protocol: "vnc", type: "novnc" } };
  assert.equal((await c.req("POST", path, { token: c.demo, body, mv: "2.5" })).status, 404);
  const r = await c.req("POST", path, { token: c.demo, body, mv: "2.6" });
  assert.equal(r.status, 200);
  assert.equal(r.body.remote_console.protocol, "vnc");
  const token = decodeURIComponent(new URL(r.body.remote_console.url).searchParams.get("path")!).split(
    "token=",
  )[1];
  const shown = await c.req("GET", `/v2.1/os-console-auth-tokens/${token}`, { token: c.admin, mv: "2.31" });
  assert.equal(shown.status, 200);
  assert.equal(shown.body.console.instance_uuid, id);
  assert.equal(typeof shown.body.console.port, "number");
  assert.equal(shown.body.console.internal_access_path, null);
  assert.equal(
    (await c.req("GET", `/v2.1/os-console-auth-tokens/${token}`, { token: c.demo, mv: "2.31" })).status,
    403,
  );
  assert.equal(
    (await c.req("GET", `/v2.1/os-console-auth-tokens/${token}`, { token: c.admin, mv: "2.30" })).status,
    400,
  );
  assert.equal(
    (await c.req("GET", "/v2.1/os-console-auth-tokens/nope", { token: c.admin, mv: "2.31" })).status,
    404,
  );
  const spice = { remote_console: { protocol: "spice", type: "spice-html5" } };
  assert.equal((await c.req("POST", path, { token: c.demo, body: spice, mv: "2.6" })).status, 400);
  const mismatch = { remote_console: { protocol: "vnc", type: "spice-html5" } };
  assert.equal((await c.req("POST", path, { token: c.demo, body: mismatch, mv: "2.6" })).status, 400);
  const mks = { remote_console: { protocol: "mks", type: "webmks" } };
  assert.equal((await c.req("POST", path, { token: c.demo, body: mks, mv: "2.6" })).status, 400);
  assert.equal(
    (await c.req("POST", path, { token: c.demo, body: { remote_console: {} }, mv: "2.6" })).status,
    400,
  );
  const missing = `/v2.1/servers/00000000-0000-0000-0000-000000000000/remote-consoles`;
  assert.equal((await c.req("POST", missing, { token: c.demo, body, mv: "2.6" })).status, 404);
});

test("a stopped server has no VNC console (409)", async () => {
  await c.act(c.demo, id, { "os-stop": null });
  await c.waitStatus(c.demo, id, "SHUTOFF");
  const body = { remote_console: { protocol: "vnc", type: "novnc" } };
  const r = await c.req("POST", `/v2.1/servers/${id}/remote-consoles`, { token: c.demo, body, mv: "2.6" });
  assert.equal(r.status, 409);
  assert.equal(r.body.conflictingRequest.message, `Instance ${id} is not ready`);
});
