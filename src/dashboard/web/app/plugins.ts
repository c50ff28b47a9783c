// Dashboard panels of server plugins (docs/plugins.md): the list the cloud serves, for the navigation. The host API
// a panel is mounted with is in plugin-host.ts, loaded only with the panel page.
import { useQuery } from "@tanstack/react-query";
import { listPanels, type PanelInfo } from "../api/plugins.js";
import { transport } from "./session.js";

/** The panels of the loaded plugins (an empty list while loading, when there are none or the call fails). */
export function usePanels(): PanelInfo[] {
  const q = useQuery({
    queryKey: ["plugin-panels"],
    queryFn: () => listPanels(transport),
    staleTime: 60_000,
  });
  return q.data ?? [];
}
