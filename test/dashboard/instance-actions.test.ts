// The instance actions of the dashboard in headless Chromium against one in-process cloud (fake compute driver):
// from the Instances list's More menu, pause/unpause, suspend/resume, lock/unlock, resize with confirm and with
// revert, snapshot, rescue/unrescue, shelve/unshelve, rebuild and soft/hard reboot, each offered only in the states
// Nova accepts and each seen in the list without a reload; then on the detail page the action log, attaching and
// detaching an interface, a volume and a floating IP, and the VNC console connected in the page (noVNC against a
// fake RFB server standing in for the guest). axe on each page and dialog; screenshots.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { regionColor, SKIP_BROWSER } from "../helpers/browser.js";
import { startFakeRfb, type FakeRfbServer } from "../helpers/rfb.js";
import { until } from "../helpers/wait.js";
import { shot } from "./helpers.js";
import { rowWith, startRig, WAIT, type DashboardRig } from "./in-process.js";

const COLOR: [number, number, number] = [200, 40, 120];

describe("dashboard instance actions in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let rig: DashboardRig;
  let page: DashboardRig["page"];
  let rfb: FakeRfbServer;
  let id = "";
  const vm = "act-vm";
  const row = () => rowWith(page, vm);

  const call = (method: string, url: string, body?: unknown) => rig.call(method, url, body);

  before(async () => {
    rig = await startRig();
    page = rig.page;
    rfb = await startFakeRfb({ width: 320, height: 200, rgb: COLOR, name: "dash-guest" });
    const driver = rig.c.t.cloud.computeControl.agents[0]!.deps.driver as unknown as Record<string, unknown>;
    driver.getVncConsole = async () => ({ host: rfb.host, port: rfb.port });
    const net = (await call("GET", "/networking/v2.0/networks?name=private")).networks[0];
    id = await rig.c.createServer(rig.c.demo, { name: vm, networks: [{ uuid: net.id }] });
    await rig.c.waitStatus(rig.c.demo, id, "ACTIVE");
  });
  after(async () => {
    await rig?.close();
    await rfb?.close();
  });

  /** Wait until the server is in `status` with no task (through the API), then for the row to show exactly that. */
  async function settled(status: string, text: string) {
    await until(
      `${vm} ${status}`,
      async () => {
        const s = (await call("GET", `/compute/v2.1/servers/${id}`)).server;
        return s.status === status && !s["OS-EXT-STS:task_state"];
      },
      WAIT,
      50,
    );
    await row()
      .locator(`[data-status="${status}"]`, { hasText: new RegExp(`^${text}$`) })
      .waitFor();
  }

  /** Open the row's More menu; returns a menu item by its label. */
  async function menu(item: string) {
    await row()
      .getByRole("button", { name: `More actions for ${vm}` })
      .click();
    return page.getByRole("menuitem", { name: item, exact: true });
  }

  /** Close the open menu with Escape. */
  async function closeMenu() {
    await page.keyboard.press("Escape");
    await row()
      .getByRole("button", { name: `More actions for ${vm}`, expanded: false })
      .waitFor();
  }

  /** Choose a menu item (it must be enabled). */
  async function choose(item: string) {
    const it = await menu(item);
    assert.equal(await it.isDisabled(), false, `${item} is offered`);
    await it.click();
  }

  /** Whether each item of the menu is offered now (the menu is closed again after). */
  async function offered(items: string[]): Promise<Record<string, boolean>> {
    const out: Record<string, boolean> = {};
    await menu(items[0]!);
    for (const i of items)
      out[i] = !(await page.getByRole("menuitem", { name: i, exact: true }).isDisabled());
    await closeMenu();
    return out;
  }

  test("pause, suspend, lock: each offered in the states Nova allows, the list follows without a reload", async () => {
    await rig.nav("Instances", "Instances");
    await settled("ACTIVE", "Active");
    const start = Date.now();
    assert.deepEqual(
      await offered(["Pause", "Unpause", "Resume", "Confirm resize", "Unrescue", "Unshelve"]),
      {
        Pause: true,
        Unpause: false,
        Resume: false,
        "Confirm resize": false,
        Unrescue: false,
        Unshelve: false,
      },
    );
    await row()
      .getByRole("button", { name: `More actions for ${vm}` })
      .click();
    await page.getByRole("menu").waitFor();
    await rig.accessible("Instances with the More menu open");
    await shot(page, "instance-actions-menu");
    await closeMenu();

    await choose("Pause");
    await settled("PAUSED", "Paused");
    assert.deepEqual(await offered(["Pause", "Unpause", "Suspend", "Create snapshot", "Soft reboot"]), {
      Pause: false,
      Unpause: true,
      Suspend: false,
      "Create snapshot": true,
      "Soft reboot": false,
    });
    await choose("Unpause");
    await settled("ACTIVE", "Active");
    await choose("Suspend");
    await settled("SUSPENDED", "Suspended");
    await choose("Resume");
    await settled("ACTIVE", "Active");

    await choose("Lock");
    await row().getByTestId("locked").waitFor();
    assert.deepEqual(await offered(["Lock", "Unlock", "Pause", "Shelve"]), {
      Lock: false,
      Unlock: true,
      Pause: false,
      Shelve: false,
    });
    await choose("Unlock");
    await row().getByTestId("locked").waitFor({ state: "detached" });
    process.stderr.write(
      `# pause/unpause/suspend/resume/lock/unlock in the list: ${Date.now() - start} ms\n`,
    );
  });

  test("resize is confirmed, then another is reverted (after confirmation); the flavor column follows", async () => {
    await choose("Resize");
    await page.getByRole("dialog").getByRole("button", { name: "Resize", exact: true }).click();
    await page.getByText("Choose the new flavor.").waitFor();
    await page.locator("#resize-flavor").selectOption("84");
    await rig.accessible("Resize dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Resize", exact: true }).click();
    await settled("VERIFY_RESIZE", "Verify resize");
    await row().getByRole("cell", { name: "m1.micro", exact: true }).waitFor();
    await choose("Confirm resize");
    await settled("ACTIVE", "Active");

    await choose("Resize");
    await page.locator("#resize-flavor").selectOption("42");
    await page.getByRole("dialog").getByRole("button", { name: "Resize", exact: true }).click();
    await settled("VERIFY_RESIZE", "Verify resize");
    await choose("Revert resize");
    await page.getByRole("dialog").getByRole("button", { name: "Revert resize", exact: true }).click();
    await settled("ACTIVE", "Active");
    await row().getByRole("cell", { name: "m1.micro", exact: true }).waitFor();
  });

  test("snapshot, rescue, shelve, rebuild and both reboots", async () => {
    await choose("Create snapshot");
    await page.locator("#server-snapshot-name").fill("act-snap");
    await page.getByRole("button", { name: "Create Snapshot", exact: true }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    await until(
      "the snapshot image is active",
      async () => (await call("GET", "/image/v2/images?name=act-snap")).images[0]?.status === "active",
      WAIT,
    );
    await settled("ACTIVE", "Active");

    await choose("Rescue");
    await page.getByRole("dialog").getByRole("button", { name: "Rescue", exact: true }).click();
    const pw = await page.locator('[data-testid="rescue-password"] input').inputValue();
    assert.ok(pw.length >= 8, `rescue password shown: ${pw}`);
    await page.getByRole("dialog").getByRole("button", { name: "Done" }).click();
    await settled("RESCUE", "Rescue");
    await choose("Unrescue");
    await settled("ACTIVE", "Active");

    await choose("Shelve");
    await page.getByRole("dialog").getByRole("button", { name: "Shelve", exact: true }).click();
    await settled("SHELVED_OFFLOADED", "Shelved offloaded");
    assert.equal((await offered(["Pause"])).Pause, false);
    await choose("Unshelve");
    await settled("ACTIVE", "Active");

    await choose("Rebuild");
    await page.getByRole("dialog").getByRole("button", { name: "Rebuild", exact: true }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    await until(
      "the rebuild is recorded",
      async () =>
        (await call("GET", `/compute/v2.1/servers/${id}/os-instance-actions`)).instanceActions.some(
          (a: { action: string }) => a.action === "rebuild",
        ),
      WAIT,
    );
    await settled("ACTIVE", "Active");

    await choose("Soft reboot");
    await settled("ACTIVE", "Active");
    await choose("Hard reboot");
    await page.getByRole("dialog").getByRole("button", { name: "Hard reboot", exact: true }).click();
    await settled("ACTIVE", "Active");
    await until(
      "both reboots are recorded",
      async () =>
        (await call("GET", `/compute/v2.1/servers/${id}/os-instance-actions`)).instanceActions.filter(
          (a: { action: string }) => a.action === "reboot",
        ).length === 2,
      WAIT,
    );
  });

  test("detail page: the action log, an interface, a volume and a floating IP attached and detached", async () => {
    const vol = (
      await call("POST", `/volume/v3/${rig.demoProject}/volumes`, { volume: { name: "act-vol", size: 1 } })
    ).volume;
    const pub = (await call("GET", "/networking/v2.0/networks?name=public")).networks[0];
    const fip = (
      await call("POST", "/networking/v2.0/floatingips", { floatingip: { floating_network_id: pub.id } })
    ).floatingip;
    await row().getByRole("link", { name: vm }).click();
    await page.getByRole("heading", { level: 1, name: `Instance ${vm}` }).waitFor();
    const log = page.getByTestId("action log");
    for (const a of [
      "create",
      "pause",
      "suspend",
      "lock",
      "resize",
      "confirmResize",
      "rescue",
      "shelve",
      "reboot",
    ])
      await log.locator(`tr[data-row="${a}"]`).first().waitFor();
    await rig.accessible("Instance detail");

    const ifaces = page.getByTestId("interfaces").locator("tbody tr");
    await until("one interface", async () => (await ifaces.count()) === 1, WAIT);
    await page.getByRole("button", { name: "Attach Interface" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Attach", exact: true }).click();
    await page.getByText("Choose a network.").waitFor();
    await page.locator("#interface-network").selectOption({ label: "private" });
    await page.getByRole("dialog").getByRole("button", { name: "Attach", exact: true }).click();
    await until("two interfaces", async () => (await ifaces.count()) === 2, WAIT);
    const second = ((await ifaces.nth(1).getByRole("button").getAttribute("aria-label")) ?? "").trim();
    await ifaces.nth(1).getByRole("button").click();
    await page.getByRole("dialog").getByRole("button", { name: "Detach", exact: true }).click();
    await page.getByRole("button", { name: second }).waitFor({ state: "detached" });
    assert.equal(await ifaces.count(), 1);

    await page.getByRole("button", { name: "Attach Volume" }).click();
    await page.locator("#attach-volume option", { hasText: "act-vol" }).waitFor({ state: "attached" });
    await page.locator("#attach-volume").selectOption(vol.id);
    await page.getByRole("dialog").getByRole("button", { name: "Attach", exact: true }).click();
    const attached = page.getByTestId("attached volumes").locator("tbody tr");
    await attached.filter({ hasText: "act-vol" }).waitFor();
    await until(
      "the volume is in use",
      async () =>
        (await call("GET", `/volume/v3/${rig.demoProject}/volumes/${vol.id}`)).volume.status === "in-use",
      WAIT,
    );

    await page.getByRole("button", { name: "Associate Floating IP" }).click();
    await page.locator("#associate-fip").selectOption(fip.id);
    await page.getByRole("dialog").getByRole("button", { name: "Associate", exact: true }).click();
    await page.getByTestId("floating IPs").getByText(fip.floating_ip_address).waitFor();
    await shot(page, "instance-attachments");
    await rig.accessible("Instance detail with attachments");
    await rig.darkAndPhone("Instance detail");

    await page.getByRole("button", { name: `Disassociate ${fip.floating_ip_address}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Detach", exact: true }).click();
    await page.getByTestId("floating IPs").waitFor({ state: "detached" });
    await page.getByRole("button", { name: `Detach volume ${vol.id}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Detach", exact: true }).click();
    await page.getByTestId("attached volumes").waitFor({ state: "detached" });
    await until(
      "the volume is available again",
      async () =>
        (await call("GET", `/volume/v3/${rig.demoProject}/volumes/${vol.id}`)).volume.status === "available",
      WAIT,
    );
  });

  test("the VNC console connects in the page and shows the guest's screen", async () => {
    const status = page.getByTestId("vnc-status");
    assert.equal(await status.getAttribute("data-state"), "idle");
    await page.getByRole("button", { name: "Connect", exact: true }).click();
    await page.locator('[data-testid="vnc-status"][data-state="connected"]').waitFor();
    assert.ok(rfb.sessions >= 1, "the fake guest saw a VNC session");
    const canvas = page.getByTestId("vnc-screen").locator("canvas");
    await canvas.waitFor();
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    assert.ok(box && box.width > 20 && box.height > 20, `canvas ${JSON.stringify(box)}`);
    const clip = { x: box.x + box.width / 2 - 5, y: box.y + box.height / 2 - 5, width: 10, height: 10 };
    await until(
      "the guest's colour is drawn",
      async () => {
        const [r, g, b] = await regionColor(page, clip);
        return Math.abs(r - COLOR[0]) < 8 && Math.abs(g - COLOR[1]) < 8 && Math.abs(b - COLOR[2]) < 8;
      },
      WAIT,
    );
    await shot(page, "instance-console");
    await rig.accessible("Instance detail with the console");
    await page.getByRole("button", { name: "Disconnect" }).click();
    await page.locator('[data-testid="vnc-status"][data-state="disconnected"]').waitFor();
  });

  test("nothing broke the Content-Security-Policy or threw in the page", () => {
    const bad = rig.browser.errors.filter((e) => /Content Security Policy|pageerror/.test(e));
    assert.deepEqual(bad, []);
  });
});
