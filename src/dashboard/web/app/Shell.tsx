// The frame around every project page: masthead (project switcher, theme, user, logout), side navigation.
import { useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import BarsIcon from "@patternfly/react-icons/dist/esm/icons/bars-icon.js";
import {
  Button,
  FormSelect,
  FormSelectOption,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadMain,
  MastheadToggle,
  Nav,
  NavList,
  Page,
  PageSidebar,
  PageSidebarBody,
  Switch,
  Toolbar,
  ToolbarContent,
  ToolbarGroup,
  ToolbarItem,
} from "./pf.js";
import { usePanels } from "./plugins.js";
import { AdminNav } from "./AdminNav.js";
import { Link, useLocation } from "./router.js";
import { useSession } from "./session.js";
import { applyTheme, storedTheme } from "./theme.js";

/** The navigation entries, in order. */
const NAV: Array<[string, string]> = [
  ["/project/", "Overview"],
  ["/project/instances", "Instances"],
  ["/project/images", "Images"],
  ["/project/key_pairs", "Key Pairs"],
  ["/project/volumes", "Volumes"],
  ["/project/snapshots", "Volume Snapshots"],
  ["/project/backups", "Volume Backups"],
  ["/project/volume_transfers", "Volume Transfers"],
  ["/project/containers", "Containers"],
  ["/project/networks", "Networks"],
  ["/project/routers", "Routers"],
  ["/project/network_topology", "Network Topology"],
  ["/project/security_groups", "Security Groups"],
  ["/project/floating_ips", "Floating IPs"],
  ["/project/api_access", "API Access"],
];

/** Masthead, sidebar and the page's content. */
export default function Shell({ children }: { children: ReactNode }) {
  const s = useSession();
  const qc = useQueryClient();
  const { path } = useLocation();
  const panels = usePanels();
  const [dark, setDark] = useState(storedTheme() === "dark");
  const [sidebar, setSidebar] = useState(() => innerWidth >= 1200);
  const [switching, setSwitching] = useState(false);
  const active = (to: string) =>
    to === "/project/" ? path === "/project/" || path === "/project" : path.startsWith(to);

  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadToggle>
          <Button
            variant="plain"
            aria-label="Toggle navigation"
            aria-expanded={sidebar}
            onClick={() => setSidebar(!sidebar)}
            icon={<BarsIcon />}
          />
        </MastheadToggle>
        <MastheadBrand>
          <Link to="/project/" className="stratus-brand">
            <strong style={{ fontSize: "1.25rem", color: "var(--pf-t--global--text--color--regular)" }}>
              Stratus
            </strong>
          </Link>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight>
          <ToolbarContent>
            <ToolbarGroup
              align={{ default: "alignEnd" }}
              gap={{ default: "gapMd" }}
              style={{ flexWrap: "wrap" }}
            >
              <ToolbarItem>
                <FormSelect
                  id="project-switcher"
                  aria-label="Project"
                  value={s.session?.project.id ?? ""}
                  isDisabled={switching}
                  onChange={async (_e, id) => {
                    setSwitching(true);
                    try {
                      await s.switchProject(id);
                      qc.clear();
                    } finally {
                      setSwitching(false);
                    }
                  }}
                >
                  {s.projects.map((p) => (
                    <FormSelectOption key={p.id} value={p.id} label={p.name} />
                  ))}
                </FormSelect>
              </ToolbarItem>
              <ToolbarItem>
                <Switch
                  id="theme-switch"
                  label="Dark theme"
                  isChecked={dark}
                  onChange={(_e, v) => {
                    setDark(v);
                    applyTheme(v ? "dark" : "light");
                  }}
                />
              </ToolbarItem>
              <ToolbarItem>
                <span data-testid="user-name">{s.session?.user.name}</span>
              </ToolbarItem>
              <ToolbarItem>
                <Button variant="secondary" onClick={() => void s.logout().then(() => qc.clear())}>
                  Log out
                </Button>
              </ToolbarItem>
            </ToolbarGroup>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );
  const nav = (
    <PageSidebar isSidebarOpen={sidebar}>
      <PageSidebarBody>
        <Nav aria-label="Project">
          <NavList>
            {[...NAV, ...panels.map((p): [string, string] => [p.path, p.title])].map(([to, label]) => (
              <li key={to} className="pf-v6-c-nav__item">
                <Link
                  to={to}
                  className={`pf-v6-c-nav__link${active(to) ? " pf-m-current" : ""}`}
                  aria-current={active(to) ? "page" : undefined}
                >
                  {label}
                </Link>
              </li>
            ))}
          </NavList>
        </Nav>
        <AdminNav />
      </PageSidebarBody>
    </PageSidebar>
  );
  return (
    // The main region scrolls on its own: focusable (tabIndex 0), so keyboard users can scroll a long page.
    <Page
      masthead={masthead}
      sidebar={nav}
      isManagedSidebar={false}
      mainContainerId="main"
      mainTabIndex={0}
      mainAriaLabel="Page content"
    >
      {children}
    </Page>
  );
}
