// The panels of server plugins as GET /plugins/panels lists them (the server's src/plugins/panels.ts answers it).
import type { Transport } from "./session.js";

/** One panel of a loaded plugin. */
export interface PanelInfo {
  plugin: string;
  id: string;
  title: string;
  /** The dashboard page that shows it (/project/plugins/PLUGIN/ID). */
  path: string;
  /** URL of its ES module. */
  module: string;
}

/** The panels of the loaded plugins (none when the call fails: the built-in pages do not depend on it). */
export async function listPanels(t: Transport): Promise<PanelInfo[]> {
  const res = await t.fetch(`${t.baseUrl}/plugins/panels`, { headers: { accept: "application/json" } });
  return res.ok ? ((await res.json()) as { panels: PanelInfo[] }).panels : [];
}
