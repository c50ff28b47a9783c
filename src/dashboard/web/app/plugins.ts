// Dashboard panels of server plugins (docs/plugins.md): the list the cloud serves (for the navigation). The host API
// a panel is mounted with is in plugin-host.ts, loaded only with the panel page.
import { useQuery } from "@tanstack/react-query";

/** One panel as GET /plugins/panels lists it. */
export interface PanelInfo {
  plugin: string;
  id: string;
  title: string;
  /** The dashboard page that shows it (/project/plugins/PLUGIN/ID). */
  path: string;
  /** URL of its ES module. */
  module: string;
}

/** The panels of the loaded plugins (an empty list when there are none or the call fails). */
export function usePanels(): PanelInfo[] {
  const q = useQuery({
    queryKey: ["plugin-panels"],
    queryFn: async (): Promise<PanelInfo[]> => {
      const res = await fetch("/plugins/panels", { headers: { accept: "application/json" } });
      return res.ok ? ((await res.json()) as { panels: PanelInfo[] }).panels : [];
    },
    staleTime: 60_000,
  });
  return q.data ?? [];
}
