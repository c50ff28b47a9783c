import type { FastifyInstance } from "fastify";
import { CATALOG } from "../identity/bootstrap.js";

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

/** The page at "/" until the dashboard exists: what runs here and how to use it from the CLI. */
export function mountLanding(
  app: FastifyInstance,
  info: { dataDir: string; baseUrl: () => string; live: string[] },
): void {
  app.get("/", async (_req, rep) => {
    const base = info.baseUrl();
    const rows = CATALOG.map((c) => {
      const live = info.live.includes(c.type);
      return `<tr><td>${esc(c.type)}</td><td><code>${esc(base + c.path)}</code></td><td>${live ? "running" : "planned"}</td></tr>`;
    }).join("");
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>Stratus</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}td,th{padding:.2rem .8rem;text-align:left}code,pre{background:#f3f3f3;padding:.1rem .3rem}</style></head>
<body><h1>Stratus</h1><p>An OpenStack-compatible cloud. The web dashboard is planned; until then use the <code>openstack</code> CLI:</p>
<pre>export OS_CLIENT_CONFIG_FILE=${esc(info.dataDir)}/clouds.yaml OS_CLOUD=stratus-admin
openstack token issue
openstack catalog list</pre>
<h2>Services</h2><table><tr><th>type</th><th>endpoint</th><th>status</th></tr>${rows}</table>
<p>Metrics: <a href="/metrics">/metrics</a></p></body></html>`;
    return rep.header("content-type", "text/html; charset=utf-8").send(html);
  });
}
