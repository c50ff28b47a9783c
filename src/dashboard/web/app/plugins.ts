// Dashboard panels of server plugins (docs/plugins.md): the list the cloud serves, and the host API a panel's
// module is given when it is mounted. Panels are prebuilt ES modules imported at run time (no dashboard rebuild).
import { useQuery } from "@tanstack/react-query";
import * as React from "react";
import type { ReactNode } from "react";
import {
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Content,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  EmptyState,
  Label,
  Spinner,
  Title,
} from "./pf.js";
import type { Api } from "../api/client.js";

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

/** The PatternFly components a panel may use (their CSS comes with them). */
export const PANEL_PF = {
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Content,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  EmptyState,
  Label,
  Spinner,
  Title,
};

/** What a panel's `mount` is given. */
export interface PanelHost {
  /** The element the panel owns (empty, inside the page under its title). */
  container: HTMLElement;
  /** The logged-in user's API client (token and microversions sent; errors thrown with the service's message). */
  api: Pick<Api, "call" | "get" | "post" | "put" | "del" | "has">;
  project: { id: string; name: string };
  user: { id: string; name: string };
  /** The dashboard's React, for panels that render with it (no second copy of React). */
  React: typeof React;
  pf: typeof PANEL_PF;
  /** Render a React node into `container` (unmounted when the page is left). */
  render(node: ReactNode): void;
}

/** A panel module's exports: `mount` may return a cleanup function, called when the page is left. */
export interface PanelModule {
  mount(host: PanelHost): void | (() => void) | Promise<void | (() => void)>;
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

/** Import a panel's module (a URL of this origin, so the page's Content-Security-Policy admits it). */
export async function importPanel(url: string): Promise<PanelModule> {
  const mod = (await import(/* @vite-ignore */ url)) as Partial<PanelModule>;
  if (typeof mod.mount !== "function") throw new Error(`${url} exports no mount() function`);
  return mod as PanelModule;
}
