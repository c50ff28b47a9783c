// The page "/" answers when dist/dashboard has no build: how to build it, and the CLI meanwhile.
import type { FastifyRequest } from "fastify";
import { CATALOG } from "../identity/bootstrap.js";

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

/** The page at "/" when the dashboard is not built: how to build it, and how to use the cloud from the CLI. */
export function missingDashboardPage(info: { dataDir: string; baseUrl: () => string; live: string[] }) {
  return (_req: FastifyRequest): string => {
    const base = info.baseUrl();
    const rows = CATALOG.map((c) => {
      const live = info.live.includes(c.type);
      return `<tr><td>${esc(c.type)}</td><td><code>${esc(base + c.path)}</code></td><td>${live ? "running" : "planned"}</td></tr>`;
    }).join("");
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stratus</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}td,th{padding:.2rem .8rem;text-align:left}code,pre{background:#f3f3f3;padding:.1rem .3rem}</style></head>
<body><main><h1>Stratus</h1><p><strong>The web dashboard is not built.</strong> <code>npm start</code> builds it (into
<code>dist/dashboard</code>) before it starts the cloud; from a checkout started another way, build it once with:</p>
<pre>npm start        # builds everything that is missing, then starts the cloud
# or, without starting: node scripts/lib/dashboard-build.mjs</pre>
<p>Then reload this page. Meanwhile the <code>openstack</code> CLI works:</p>
<pre>export OS_CLIENT_CONFIG_FILE=${esc(info.dataDir)}/clouds.yaml OS_CLOUD=stratus-admin
openstack token issue
openstack catalog list</pre>
<h2>Services</h2><table><tr><th>type</th><th>endpoint</th><th>status</th></tr>${rows}</table>
<p>Metrics: <a href="/metrics">/metrics</a></p></main></body></html>`;
  };
}
