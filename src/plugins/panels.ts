// The dashboard's side of plugins: GET /plugins/panels lists the panels, GET /plugins/NAME/dashboard/FILE serves
// the files of a plugin's dashboard/ folder (its prebuilt ES modules), which the dashboard imports at run time.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { PanelInfo } from "../dashboard/web/api/plugins.js";
import type { LoadedPlugin } from "./load.js";

/** The panels of the loaded plugins, in load order. */
export function panelList(plugins: LoadedPlugin[]): PanelInfo[] {
  return plugins.flatMap((p) =>
    (p.manifest.panels ?? []).map((panel) => ({
      plugin: p.manifest.name,
      id: panel.id,
      title: panel.title,
      path: `/project/plugins/${p.manifest.name}/${panel.id}`,
      module: `/plugins/${p.manifest.name}/dashboard/${panel.module}`,
    })),
  );
}

const FILE_RE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}\.(m?js|css|json|svg)$/;
const TYPES = new Map([
  ["js", "text/javascript; charset=utf-8"],
  ["mjs", "text/javascript; charset=utf-8"],
  ["css", "text/css; charset=utf-8"],
  ["json", "application/json"],
  ["svg", "image/svg+xml"],
]);

/** Mount the panel list and the plugins' dashboard files on the shared listener. */
export function mountPanels(app: FastifyInstance, plugins: LoadedPlugin[]): void {
  const panels = panelList(plugins);
  const dirs = new Map(plugins.map((p) => [p.manifest.name, join(p.dir, "dashboard")]));
  app.get("/plugins/panels", async (_req, rep) =>
    rep.header("cache-control", "no-cache").header("content-type", "application/json").send({ panels }),
  );
  app.get("/plugins/:plugin/dashboard/:file", async (req, rep) => {
    const { plugin, file } = req.params as { plugin: string; file: string };
    const dir = dirs.get(plugin);
    const type = TYPES.get(FILE_RE.exec(file)?.[1] ?? "");
    const body = dir && type ? await readFile(join(dir, file)).catch(() => null) : null;
    rep.header("cache-control", "no-cache").header("x-content-type-options", "nosniff");
    if (!body || !type)
      return rep.code(404).header("content-type", "text/plain; charset=utf-8").send("Not found\n");
    return rep.header("content-type", type).send(body);
  });
}
