// With VNC consoles disabled (compute.consoles.vnc false) no console URL is handed out: Nova's answer with
// [vnc] enabled = False, 400 "Unavailable console type novnc." (issue 8 item 15: the URL used to answer 404).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootActions, type ActionCloud } from "./util.js";

let c: ActionCloud;
let id: string;
before(async () => {
  c = await bootActions({ compute: { consoles: { vnc: false } } });
  id = await c.createServer(c.demo, { name: "no-console" });
  await c.waitStatus(c.demo, id, "ACTIVE");
});
after(() => c?.close());

test("remote consoles and the legacy VNC action answer Unavailable console type, with no URL", async () => {
  const body = { remote_console: { protocol: "vnc", type: "novnc" } };
  const r = await c.req("POST", `/v2.1/servers/${id}/remote-consoles`, { token: c.demo, body, mv: "2.6" });
  assert.equal(r.status, 400);
  assert.equal(r.body.badRequest.message, "Unavailable console type novnc.");
  const legacy = await c.act(c.demo, id, { "os-getVNCConsole": { type: "novnc" } });
  assert.equal(legacy.status, 400);
  assert.equal(legacy.body.badRequest.message, "Unavailable console type novnc.");
  assert.equal((await c.act(c.demo, id, { "os-getConsoleOutput": {} })).status, 200);
});
