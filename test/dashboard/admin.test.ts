// The dashboard's Admin section in headless Chromium against one in-process cloud (fake compute and volumes): the
// demo user sees no Admin navigation, gets "Not authorized" on an admin page and is refused by the API itself;
// the admin visits every admin page (axe: nothing serious or critical; screenshots saved; a demo instance shows in
// the usage summary and in every project's instances), creates a private flavor
// (checked before sending, Nova's own refusal of a duplicate shown) and shares it with a project, disables a compute
// service with a reason and enables it again, creates a user and grants then revokes a role, creates and disables a
// project, creates a group with the user in it, and sets compute and network quotas of a project; each change is
// checked through the API too.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  adminComputeCalls,
  adminIdentityCalls,
  adminResourceCalls,
  Api,
  ApiError,
  login,
  probeAdmin,
  type Transport,
} from "../../src/dashboard/web/api/index.js";
import { SKIP_BROWSER } from "../helpers/browser.js";
import { shot } from "./helpers.js";
import { rowWith, startRig, type DashboardRig } from "./in-process.js";

/** The Admin navigation's links (each page's title is the same) and their screenshots' names. */
const ADMIN_PAGES: Array<[string, string]> = [
  ["Admin Overview", "overview"],
  ["Hypervisors", "hypervisors"],
  ["Compute Services", "services"],
  ["Flavors", "flavors"],
  ["Projects", "projects"],
  ["Users", "users"],
  ["Groups", "groups"],
  ["Roles", "roles"],
  ["Quotas", "quotas"],
  ["All Instances", "instances"],
  ["All Images", "images"],
  ["All Volumes", "volumes"],
  ["All Networks", "networks"],
];

describe("dashboard Admin section in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let rig: DashboardRig;
  let transport: Transport;

  before(async () => {
    rig = await startRig();
    transport = { baseUrl: rig.base, fetch: (...a) => fetch(...a) };
  });
  after(async () => {
    await rig?.close();
  });

  /** A logged-in API client of a user (the dashboard's own client, over loopback). */
  const apiAs = async (user: string, password: string) =>
    new Api((await login(transport, "Default", user, password, user)).session, transport);

  /** The admin page behind an Admin navigation link, waited for by its title. */
  const adminNav = async (label: string) => {
    await rig.page
      .getByRole("navigation", { name: "Admin" })
      .getByRole("link", { name: label, exact: true })
      .click();
    await rig.page.getByRole("heading", { level: 1, name: label, exact: true }).waitFor();
  };

  test("a project member sees no Admin section and is refused by the pages and by the API", async () => {
    const { page, base, c } = rig;
    await page.getByRole("navigation", { name: "Project" }).waitFor();
    assert.equal(await page.getByRole("navigation", { name: "Admin" }).count(), 0);
    await page.goto(`${base}/admin/services`);
    await page.getByRole("heading", { level: 1, name: "Not authorized" }).waitFor();
    await rig.accessible("Admin page refused");

    const api = await apiAs("demo", c.t.cloud.demoPassword);
    assert.equal(await probeAdmin(api), false);
    const refused = async (what: string, p: Promise<unknown>) => {
      const e = await p.then(
        () => null,
        (x: unknown) => x,
      );
      assert.ok(e instanceof ApiError && e.status === 403, `${what}: ${String(e)}`);
    };
    await refused("services", adminComputeCalls(api).services());
    await refused(
      "flavor",
      adminComputeCalls(api).createFlavor({ name: "x", vcpus: 1, ram: 1, disk: 0, isPublic: true }),
    );
    await refused("users", adminIdentityCalls(api).users());
    await refused(
      "quota",
      adminResourceCalls(api).setQuota("compute", rig.demoProject, new Map([["instances", 1000]])),
    );
  });

  test("the admin logs in and every admin page loads, passes axe and is saved as a screenshot", async () => {
    const { page, c } = rig;
    assert.equal(await probeAdmin(await apiAs("admin", c.t.cloud.adminPassword)), true);
    // A demo instance: usage to summarise and a row in every project's instances.
    const server = await c.createServer(c.demo, { name: "usage-vm" });
    await c.waitStatus(c.demo, server, "ACTIVE");
    await page.getByRole("button", { name: "Log out" }).click();
    await page.locator("#id_username").fill("admin");
    await page.locator("#id_password").fill(c.t.cloud.adminPassword);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await page.getByRole("navigation", { name: "Admin" }).waitFor();
    for (const [label, name] of ADMIN_PAGES) {
      await adminNav(label);
      await rig.accessible(label);
      await shot(page, `admin-${name}`);
    }
    // Usage rows and capacity figures come from the API.
    await adminNav("Admin Overview");
    await page.getByRole("progressbar", { name: /^vCPUs: \d+ of \d+$/ }).waitFor();
    await rowWith(page, "demo").waitFor();
    await adminNav("All Instances");
    await rowWith(page, "usage-vm").getByText("Active").waitFor();
    await adminNav("Hypervisors");
    await rowWith(page, "compute1").waitFor();
  });

  test("a private flavor is created (checked first; Nova's refusal shown) and shared with a project", async () => {
    const { page, c } = rig;
    await adminNav("Flavors");
    await page.getByRole("button", { name: "Create Flavor" }).click();
    const dialog = page.getByRole("dialog");
    await page.locator("#flavor-ram").fill("lots");
    await dialog.getByRole("button", { name: "Create Flavor" }).click();
    await dialog.getByText("Enter a name.").waitFor();
    await dialog.getByText("A whole number from 1 to 2147483647.").waitFor();
    await page.locator("#flavor-name").fill("web.private");
    await page.locator("#flavor-vcpus").fill("2");
    await page.locator("#flavor-ram").fill("1024");
    await page.locator("#flavor-disk").fill("5");
    await page.locator("#flavor-public").uncheck();
    await rig.accessible("Create Flavor dialog");
    await dialog.getByRole("button", { name: "Create Flavor" }).click();
    const row = rowWith(page, "web.private");
    await row.waitFor();
    assert.equal(await row.locator("td[data-label='Public']").textContent(), "No");

    // The same name again: Nova's own message is shown in the dialog.
    await page.getByRole("button", { name: "Create Flavor" }).click();
    await page.locator("#flavor-name").fill("web.private");
    await dialog.getByRole("button", { name: "Create Flavor" }).click();
    await dialog
      .getByRole("alert")
      .filter({ hasText: /already exists/ })
      .waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();

    await row.getByRole("button", { name: "Access to web.private" }).click();
    await dialog.getByText("No project has access yet.").waitFor();
    await page.locator("#access-project").selectOption({ label: "demo" });
    await dialog.getByRole("button", { name: "Add Project" }).click();
    await dialog.getByRole("button", { name: "Remove access of demo" }).waitFor();
    await rig.accessible("Flavor access dialog");
    await shot(page, "admin-flavor-access");
    await dialog.getByRole("button", { name: "Done", exact: true }).click();
    const id = (await row.locator("td[data-label='ID']").textContent()) ?? "";
    const access = await c.req("GET", `/v2.1/flavors/${id}/os-flavor-access`, { token: c.admin });
    assert.deepEqual(
      access.body.flavor_access.map((a: { tenant_id: string }) => a.tenant_id),
      [rig.demoProject],
    );
    await rig.darkAndPhone("Flavors");
  });

  test("a compute service is disabled with a reason and enabled again", async () => {
    const { page, c } = rig;
    const state = async () =>
      (
        await c.req("GET", "/v2.1/os-services?binary=nova-compute&host=compute1", {
          token: c.admin,
          mv: "2.79",
        })
      ).body.services[0];
    await adminNav("Compute Services");
    const row = rowWith(page, "compute1").filter({ hasText: "nova-compute" });
    await row.getByRole("button", { name: "Disable nova-compute on compute1" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Disable Service" }).click();
    await dialog.getByText("Enter the reason (other admins see it).").waitFor();
    await page.locator("#service-reason").fill("disk replacement");
    await rig.accessible("Disable service dialog");
    await dialog.getByRole("button", { name: "Disable Service" }).click();
    await row.getByText("Disabled", { exact: true }).waitFor();
    await row.getByText("disk replacement").waitFor();
    const off = await state();
    assert.equal(off.status, "disabled");
    assert.equal(off.disabled_reason, "disk replacement");
    await shot(page, "admin-service-disabled");
    await rig.accessible("Compute Services with a disabled service");

    await row.getByRole("button", { name: "Enable nova-compute on compute1" }).click();
    await row.getByText("Enabled", { exact: true }).waitFor();
    assert.equal((await state()).status, "enabled");
    await rig.darkAndPhone("Compute Services");
  });

  test("a user is created, granted a role on a project, and the role is revoked", async () => {
    const { page, c } = rig;
    await adminNav("Users");
    await page.getByRole("button", { name: "Create User" }).click();
    const dialog = page.getByRole("dialog");
    await page.locator("#user-name").fill("web-user");
    await page.locator("#user-password").fill("s3cret-pass");
    await page.locator("#user-confirm").fill("other");
    await dialog.getByRole("button", { name: "Create User" }).click();
    await dialog.getByText("The passwords differ.").waitFor();
    await page.locator("#user-confirm").fill("s3cret-pass");
    await dialog.getByRole("button", { name: "Create User" }).click();
    await rowWith(page, "web-user").waitFor();

    await adminNav("Roles");
    await page.getByRole("button", { name: "Grant Role" }).click();
    await dialog.getByRole("button", { name: "Grant", exact: true }).click();
    await dialog.getByText("Choose a project.").waitFor();
    await page.locator("#grant-project").selectOption({ label: "demo" });
    await page.locator("#grant-actor").selectOption({ label: "web-user" });
    await page.locator("#grant-role").selectOption({ label: "reader" });
    await rig.accessible("Grant Role dialog");
    await dialog.getByRole("button", { name: "Grant", exact: true }).click();
    const revoke = page.getByRole("button", { name: "Revoke reader to User web-user on Project demo" });
    await revoke.waitFor();
    const userId = (
      await c.t.cloud.app.inject({
        method: "GET",
        url: "/identity/v3/users?name=web-user",
        headers: { "x-auth-token": c.admin },
      })
    ).json().users[0].id;
    const assigned = async () =>
      (
        await c.t.cloud.app.inject({
          method: "GET",
          url: `/identity/v3/role_assignments?user.id=${userId}&scope.project.id=${rig.demoProject}&include_names=1`,
          headers: { "x-auth-token": c.admin },
        })
      )
        .json()
        .role_assignments.map((a: { role: { name: string } }) => a.role.name);
    assert.deepEqual(await assigned(), ["reader"]);
    await shot(page, "admin-role-granted");

    await revoke.click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke", exact: true }).click();
    await revoke.waitFor({ state: "detached" });
    assert.deepEqual(await assigned(), []);
  });

  test("a project is created and disabled, a group is created and the user joins it", async () => {
    const { page } = rig;
    const dialog = page.getByRole("dialog");
    await adminNav("Projects");
    await page.getByRole("button", { name: "Create Project" }).click();
    await dialog.getByRole("button", { name: "Create Project" }).click();
    await dialog.getByText("Enter a name.").waitFor();
    await page.locator("#project-name").fill("web-project");
    await dialog.getByRole("button", { name: "Create Project" }).click();
    const project = rowWith(page, "web-project");
    await project.getByRole("button", { name: "Disable web-project" }).click();
    await dialog.getByRole("button", { name: "Disable", exact: true }).click();
    await project.getByRole("button", { name: "Enable web-project" }).waitFor();
    assert.equal(await project.locator("td[data-label='Enabled']").textContent(), "No");

    await adminNav("Groups");
    await page.getByRole("button", { name: "Create Group" }).click();
    await page.locator("#group-name").fill("web-group");
    await dialog.getByRole("button", { name: "Create Group" }).click();
    await rowWith(page, "web-group").getByRole("button", { name: "Members of web-group" }).click();
    await dialog.getByText("The group has no member yet.").waitFor();
    await dialog.getByRole("button", { name: "Add User" }).click();
    await dialog.getByText("Choose a user.").waitFor();
    await page.locator("#members-user").selectOption({ label: "web-user" });
    await dialog.getByRole("button", { name: "Add User" }).click();
    await dialog.getByRole("button", { name: "Remove web-user from web-group" }).waitFor();
    await rig.accessible("Group members dialog");
    await dialog.getByRole("button", { name: "Done", exact: true }).click();
  });

  test("a project's compute and network quotas are set (checked before sending)", async () => {
    const { page, c } = rig;
    await adminNav("Quotas");
    await page.locator("#quota-project").selectOption({ label: "demo" });
    const compute = page.getByTestId("quota-compute");
    await compute.locator("[data-quota='instances']").waitFor();
    await compute.getByRole("button", { name: "Edit Compute quotas" }).click();
    const dialog = page.getByRole("dialog");
    await page.locator("#quota-instances").fill("many");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.getByText("A whole number from -1 to 2147483647.").waitFor();
    await page.locator("#quota-instances").fill("7");
    await page.locator("#quota-cores").fill("-1");
    await rig.accessible("Edit quotas dialog");
    await dialog.getByRole("button", { name: "Save" }).click();
    await page.waitForFunction(
      () =>
        (globalThis as any).document.querySelector("[data-testid='quota-compute'] [data-quota='instances']")
          ?.textContent === "7",
    );
    assert.equal(await compute.locator("[data-quota='cores']").textContent(), "Unlimited");
    const q = await c.req("GET", `/v2.1/os-quota-sets/${rig.demoProject}`, { token: c.admin });
    assert.equal(q.body.quota_set.instances, 7);
    assert.equal(q.body.quota_set.cores, -1);

    const network = page.getByTestId("quota-network");
    await network.getByRole("button", { name: "Edit Network quotas" }).click();
    await page.locator("#quota-router").fill("3");
    await dialog.getByRole("button", { name: "Save" }).click();
    await page.waitForFunction(
      () =>
        (globalThis as any).document.querySelector("[data-testid='quota-network'] [data-quota='router']")
          ?.textContent === "3",
    );
    const nq = await c.t.cloud.app.inject({
      method: "GET",
      url: `/networking/v2.0/quotas/${rig.demoProject}`,
      headers: { "x-auth-token": c.admin },
    });
    assert.equal(nq.json().quota.router, 3);
    await shot(page, "admin-quotas");
    await rig.accessible("Quotas");
    await rig.darkAndPhone("Quotas");
  });

  test("nothing broke the Content-Security-Policy or threw in the page", () => {
    const bad = rig.browser.errors.filter((e) => /Content Security Policy|pageerror/.test(e));
    assert.deepEqual(bad, []);
  });
});
