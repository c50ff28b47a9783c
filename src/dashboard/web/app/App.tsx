// The app: data cache, session, and the routes (each page is its own chunk, loaded when first visited).
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, type ComponentType, type LazyExoticComponent } from "react";
import { Login } from "./pages/Login.js";
import { navigate, useLocation } from "./router.js";
import { SessionProvider, toLogin, useSession } from "./session.js";
import { Loading } from "./ui.js";

const client = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: true, staleTime: 2000 } },
});

/** One page of the shell: its path pattern and component. */
interface Route {
  pattern: RegExp;
  page: LazyExoticComponent<ComponentType<{ params: string[] }>> & { load(): Promise<unknown> };
}

// The shell (masthead, navigation) is its own chunk too: the login page does not need it.
const loadShell = () => import("./Shell.js");
const Shell = lazy(loadShell);

/** A lazy page whose chunk can be fetched ahead, in parallel with the shell's rather than after it. */
const page = (load: () => Promise<{ default: ComponentType<{ params: string[] }> }>) =>
  Object.assign(lazy(load), { load });

/** The project pages, by path. */
export const ROUTES: Route[] = [
  { pattern: /^\/project\/?$/, page: page(() => import("./pages/Overview.js")) },
  { pattern: /^\/project\/instances\/?$/, page: page(() => import("./pages/Instances.js")) },
  { pattern: /^\/project\/instances\/([^/]+)\/?$/, page: page(() => import("./pages/InstanceDetail.js")) },
  { pattern: /^\/project\/images\/?$/, page: page(() => import("./pages/Images.js")) },
  { pattern: /^\/project\/key_pairs\/?$/, page: page(() => import("./pages/Keypairs.js")) },
  { pattern: /^\/project\/networks\/?$/, page: page(() => import("./pages/Networks.js")) },
  { pattern: /^\/project\/security_groups\/?$/, page: page(() => import("./pages/SecurityGroups.js")) },
  { pattern: /^\/project\/floating_ips\/?$/, page: page(() => import("./pages/FloatingIps.js")) },
  { pattern: /^\/project\/routers\/?$/, page: page(() => import("./pages/Routers.js")) },
  { pattern: /^\/project\/volumes\/?$/, page: page(() => import("./pages/Volumes.js")) },
  { pattern: /^\/project\/snapshots\/?$/, page: page(() => import("./pages/Snapshots.js")) },
  { pattern: /^\/project\/containers\/?$/, page: page(() => import("./pages/Containers.js")) },
  { pattern: /^\/project\/containers\/([^/]+)\/?$/, page: page(() => import("./pages/ContainerObjects.js")) },
  { pattern: /^\/project\/api_access\/?$/, page: page(() => import("./pages/ApiAccess.js")) },
  {
    pattern: /^\/project\/plugins\/([^/]+)\/([^/]+)\/?$/,
    page: page(() => import("./pages/PluginPanel.js")),
  },
  { pattern: /^\/project\/network_topology\/?$/, page: page(() => import("./pages/Topology.js")) },
  { pattern: /^\/project\/backups\/?$/, page: page(() => import("./pages/Backups.js")) },
  { pattern: /^\/project\/volume_transfers\/?$/, page: page(() => import("./pages/Transfers.js")) },
  // Admin (the pages show a refusal to other users; the API refuses them anyway).
  { pattern: /^\/admin\/?$/, page: page(() => import("./pages/admin/Overview.js")) },
  { pattern: /^\/admin\/hypervisors\/?$/, page: page(() => import("./pages/admin/Hypervisors.js")) },
  { pattern: /^\/admin\/services\/?$/, page: page(() => import("./pages/admin/Services.js")) },
  { pattern: /^\/admin\/flavors\/?$/, page: page(() => import("./pages/admin/Flavors.js")) },
  { pattern: /^\/admin\/projects\/?$/, page: page(() => import("./pages/admin/Projects.js")) },
  { pattern: /^\/admin\/users\/?$/, page: page(() => import("./pages/admin/Users.js")) },
  { pattern: /^\/admin\/groups\/?$/, page: page(() => import("./pages/admin/Groups.js")) },
  { pattern: /^\/admin\/roles\/?$/, page: page(() => import("./pages/admin/Roles.js")) },
  { pattern: /^\/admin\/quotas\/?$/, page: page(() => import("./pages/admin/Quotas.js")) },
  { pattern: /^\/admin\/instances\/?$/, page: page(() => import("./pages/admin/AllInstances.js")) },
  { pattern: /^\/admin\/images\/?$/, page: page(() => import("./pages/admin/AllImages.js")) },
  { pattern: /^\/admin\/volumes\/?$/, page: page(() => import("./pages/admin/AllVolumes.js")) },
  { pattern: /^\/admin\/networks\/?$/, page: page(() => import("./pages/admin/AllNetworks.js")) },
];

function Routes() {
  const { path } = useLocation();
  const s = useSession();
  const loggedIn = !!s.session;
  useEffect(() => {
    if (path === "/" || path === "/auth/login" || path === "/auth/login/")
      navigate(loggedIn ? "/project/" : "/login", true);
    else if (!loggedIn && !path.startsWith("/login")) toLogin();
  }, [path, loggedIn]);
  if (path.startsWith("/login")) return <Login />;
  if (!loggedIn) return null;
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (m) {
      const Page = r.page;
      void loadShell();
      void Page.load();
      return (
        <Suspense fallback={<Loading what="dashboard" />}>
          <Shell>
            <Suspense fallback={<Loading what="page" />}>
              <Page params={m.slice(1).map(decodeURIComponent)} />
            </Suspense>
          </Shell>
        </Suspense>
      );
    }
  }
  return (
    <Suspense fallback={<Loading what="dashboard" />}>
      <Shell>
        <div style={{ padding: "2rem" }}>
          <h1>Not found</h1>
          <p>No page at {path}.</p>
        </div>
      </Shell>
    </Suspense>
  );
}

/** The whole dashboard. */
export function App() {
  return (
    <QueryClientProvider client={client}>
      <SessionProvider>
        <Routes />
      </SessionProvider>
    </QueryClientProvider>
  );
}
