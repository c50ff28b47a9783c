// A plugin's dashboard panel (/project/plugins/PLUGIN/ID): its title, and its module mounted in a container.
import { useEffect, useRef, useState } from "react";
import * as React from "react";
import { createRoot, type Root } from "react-dom/client";
import { PageSection } from "../pf.js";
import { importPanel, PANEL_PF, type PanelHost } from "../plugin-host.js";
import { usePanels } from "../plugins.js";
import { useApi } from "../session.js";
import { ErrorAlert, PageTitle } from "../ui.js";

/** The panel page. */
export default function PluginPanel({ params }: { params: string[] }) {
  const [plugin, id] = params;
  const panels = usePanels();
  const panel = panels.find((p) => p.plugin === plugin && p.id === id);
  const { api, session } = useApi();
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const el = ref.current;
    if (!panel || !el) return;
    let root: Root | null = null;
    let cleanup: (() => void) | undefined;
    let gone = false;
    const host: PanelHost = {
      container: el,
      api,
      project: { id: session.project.id, name: session.project.name },
      user: { id: session.user.id, name: session.user.name },
      React,
      pf: PANEL_PF,
      render(node) {
        if (gone) return;
        root ??= createRoot(el);
        root.render(node);
      },
    };
    setError(null);
    importPanel(panel.module)
      .then(async (m) => {
        if (gone) return;
        const c = await m.mount(host);
        if (typeof c !== "function") return;
        if (gone) c();
        else cleanup = c;
      })
      .catch((e: unknown) => {
        if (!gone) setError(e);
      });
    return () => {
      gone = true;
      cleanup?.();
      // Unmounted after this render: React refuses a synchronous unmount of a root while it renders.
      const r = root;
      setTimeout(() => r?.unmount(), 0);
    };
  }, [panel, api, session]);

  return (
    <>
      <PageTitle title={panel?.title ?? "Plugin"} />
      <PageSection>
        {!panel && panels.length > 0 && <ErrorAlert error={`No panel ${plugin}/${id}.`} />}
        <ErrorAlert error={error} title="The panel failed to load" />
        <div ref={ref} data-plugin-panel={`${plugin}/${id}`} />
      </PageSection>
    </>
  );
}
