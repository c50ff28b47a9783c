// The Admin group of the side navigation, shown only to users who can administer the cloud.
import { Nav, NavGroup } from "./pf.js";
import { useIsAdmin } from "./admin-access.js";
import { Link, useLocation } from "./router.js";

/** The admin pages, in navigation order: path and label (each page's title is the same). */
export const ADMIN_NAV: Array<[string, string]> = [
  ["/admin/", "Admin Overview"],
  ["/admin/hypervisors", "Hypervisors"],
  ["/admin/services", "Compute Services"],
  ["/admin/flavors", "Flavors"],
  ["/admin/projects", "Projects"],
  ["/admin/users", "Users"],
  ["/admin/groups", "Groups"],
  ["/admin/roles", "Roles"],
  ["/admin/quotas", "Quotas"],
  ["/admin/instances", "All Instances"],
  ["/admin/images", "All Images"],
  ["/admin/volumes", "All Volumes"],
  ["/admin/networks", "All Networks"],
];

/** The "Admin" navigation group (nothing for other users). */
export function AdminNav() {
  const admin = useIsAdmin();
  const { path } = useLocation();
  if (!admin) return null;
  const active = (to: string) =>
    to === "/admin/" ? path === "/admin/" || path === "/admin" : path.startsWith(to);
  return (
    <Nav aria-label="Admin">
      <NavGroup title="Admin">
        {ADMIN_NAV.map(([to, label]) => (
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
      </NavGroup>
    </Nav>
  );
}
