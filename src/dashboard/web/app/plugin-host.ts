// The host API a plugin's dashboard panel is given (docs/plugins.md, "The dashboard panel"), and the run-time import
// of its prebuilt ES module (no dashboard rebuild).
import type * as React from "react";
import type { ReactNode } from "react";
import * as PF from "./pf.js";
import type { Api } from "../api/client.js";

/** The PatternFly components a panel may use: the dashboard's own set (app/pf.ts; their CSS comes with them). */
export const PANEL_PF = PF;

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

/** Import a panel's module (a URL of this origin, so the page's Content-Security-Policy admits it). */
export async function importPanel(url: string): Promise<PanelModule> {
  const mod = (await import(/* @vite-ignore */ url)) as Partial<PanelModule>;
  if (typeof mod.mount !== "function") throw new Error(`${url} exports no mount() function`);
  return mod as PanelModule;
}
