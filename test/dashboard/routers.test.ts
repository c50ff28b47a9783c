// The dashboard's Routers page in headless Chromium against one in-process cloud (the start-up topology: public,
// private and router1): a router is created with its gateway on the external network (name checked before
// sending), a subnet interface is added (checked before sending) and removed, Neutron's refusal to delete a router
// that still has an interface is shown, and the router is deleted after confirmation; axe on the page and dialogs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SKIP_BROWSER } from "../helpers/browser.js";
import { shot } from "./helpers.js";
import { rowWith, startRig, type DashboardRig } from "./in-process.js";

describe("dashboard Routers page in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let rig: DashboardRig;

  before(async () => {
    rig = await startRig();
    // A network of the demo project with a subnet not on any router yet.
    const post = async (path: string, body: unknown) => {
      const r = await rig.c.t.cloud.app.inject({
        method: "POST",
        url: `/networking${path}`,
        headers: { "x-auth-token": rig.c.demo, "content-type": "application/json" },
        payload: JSON.stringify(body),
      });
      assert.equal(r.statusCode, 201, r.payload);
      return JSON.parse(r.payload);
    };
    const net = (await post("/v2.0/networks", { network: { name: "web-net" } })).network;
    await post("/v2.0/subnets", {
      subnet: { network_id: net.id, name: "web-subnet", cidr: "10.30.0.0/24", ip_version: 4 },
    });
  });
  after(async () => {
    await rig?.close();
  });

  test("a router is created with a gateway, gets and loses an interface, and is deleted", async () => {
    const { page, nav, accessible } = rig;
    const row = (t: string) => rowWith(page, t);
    await nav("Routers", "Routers");
    // The start-up router1 is listed with its gateway on public and its interface on the private subnet.
    await row("router1")
      .getByText(/^public \d+\.\d+\.\d+\.\d+$/)
      .waitFor();
    await accessible("Routers");

    await page.getByRole("button", { name: "Create Router" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Create Router" }).click();
    await page.getByText("Enter a name.").waitFor();
    await page.locator("#router-name").fill("web-router");
    const gw = await page.locator("#router-gateway option:checked").textContent();
    assert.equal(gw, "public", "the external network is chosen by default");
    await accessible("Create Router dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Create Router" }).click();
    const r = row("web-router");
    await r.getByText(/^public \d+\.\d+\.\d+\.\d+$/).waitFor();

    await r.getByRole("button", { name: "Add interface to web-router" }).click();
    await page.getByRole("button", { name: "Add Interface", exact: true }).click();
    await page.getByText("Choose a subnet.").waitFor();
    await page.locator("#interface-subnet").selectOption({ label: "web-net: 10.30.0.0/24" });
    await page.getByRole("button", { name: "Add Interface", exact: true }).click();
    await r.getByText("10.30.0.0/24 (10.30.0.1)").waitFor();
    await shot(page, "routers");
    await accessible("Routers with interfaces");
    await rig.darkAndPhone("Routers");

    // Neutron refuses to delete a router with an interface; the page shows its message.
    await r.getByRole("button", { name: "Delete web-router" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /interface|port/i })
      .waitFor();
    assert.equal(await r.count(), 1);

    await r.getByRole("button", { name: "Remove interface 10.30.0.0/24 from web-router" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Remove", exact: true }).click();
    await r.getByText("10.30.0.0/24 (10.30.0.1)").waitFor({ state: "detached" });
    await r.getByRole("button", { name: "Delete web-router" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await r.waitFor({ state: "detached" });
    // router1 is untouched.
    await row("router1").waitFor();
  });

  test("nothing broke the Content-Security-Policy or threw in the page", () => {
    const bad = rig.browser.errors.filter((e) => /Content Security Policy|pageerror/.test(e));
    assert.deepEqual(bad, []);
  });
});
