// Serves the browser side of VNC consoles under /vnc: a small console page of our own (vnc_lite.html, also as
// vnc.html and vnc_auto.html, the names Nova's novncproxy_base_url uses) and noVNC's ES modules from the
// @novnc/novnc package (its npm package ships the library, core/ and vendor/, not noVNC's own pages).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FastifyInstance } from "fastify";

/** The page's headers: only our own scripts run, and no other site may frame a console. */
const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
};

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Stratus console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
html,body{margin:0;height:100%;background:#222;color:#eee;font-family:system-ui,sans-serif}
#bar{display:flex;gap:1rem;align-items:center;padding:.3rem .6rem;background:#333;font-size:.9rem}
#status[data-state=connected]{color:#8f8}#status[data-state=disconnected]{color:#f88}
#screen{position:absolute;top:2rem;bottom:0;left:0;right:0;overflow:auto}
button{font-size:.8rem}
</style></head>
<body><div id="bar"><span id="status" data-state="connecting">Connecting...</span>
<button id="cad" type="button" disabled>Send Ctrl-Alt-Del</button></div>
<div id="screen"></div>
<script type="module" src="console.js"></script></body></html>
`;

const SCRIPT = `import RFB from "./core/rfb.js";
const params = new URLSearchParams(location.search);
// Nova's URL form: ?path=%3Ftoken%3D..., the websocket path relative to the proxy (here /vnc/).
const path = (params.get("path") ?? "").replace(/^\\/+/, "");
const ws = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/vnc/" + path;
const status = document.getElementById("status");
const cad = document.getElementById("cad");
const show = (state, text) => { status.dataset.state = state; status.textContent = text; };
const rfb = new RFB(document.getElementById("screen"), ws);
rfb.scaleViewport = false;
rfb.resizeSession = false;
rfb.addEventListener("connect", () => { show("connected", "Connected"); cad.disabled = false; });
rfb.addEventListener("disconnect", (e) =>
  show("disconnected", e.detail.clean ? "Disconnected" : "Connection failed (the link may be used or expired)"));
rfb.addEventListener("desktopname", (e) => { document.title = e.detail.name + " - Stratus console"; });
rfb.addEventListener("credentialsrequired", () => show("disconnected", "The console asked for a password"));
cad.addEventListener("click", () => rfb.sendCtrlAltDel());
window.stratusConsole = rfb;
`;

const PAGES = ["vnc_lite.html", "vnc.html", "vnc_auto.html"];
const MODULE_RE = /^(?:core|vendor)(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+\.js$/;

/** noVNC's package directory (where core/rfb.js lives). */
function novncRoot(): string {
  return dirname(dirname(createRequire(import.meta.url).resolve("@novnc/novnc")));
}

/** Mount the console page and noVNC's modules at /vnc/ on the public listener. */
export function mountNoVnc(app: FastifyInstance): void {
  const root = novncRoot();
  const cache = new Map<string, Buffer>();
  for (const page of PAGES)
    app.get(`/vnc/${page}`, async (_req, rep) => rep.headers(PAGE_HEADERS).send(PAGE));
  app.get("/vnc/console.js", async (_req, rep) =>
    rep
      .header("content-type", "text/javascript; charset=utf-8")
      .header("cache-control", "no-cache")
      .send(SCRIPT),
  );
  app.get("/vnc/*", async (req, rep) => {
    const rel = (req.params as { "*": string })["*"];
    if (!MODULE_RE.test(rel) || rel.split("/").includes(".."))
      return rep.code(404).header("content-type", "text/plain").send("Not Found");
    let body = cache.get(rel);
    if (!body) {
      try {
        body = await readFile(join(root, rel));
      } catch {
        return rep.code(404).header("content-type", "text/plain").send("Not Found");
      }
      cache.set(rel, body);
    }
    return rep
      .header("content-type", "text/javascript; charset=utf-8")
      .header("cache-control", "public, max-age=3600")
      .send(body);
  });
}
