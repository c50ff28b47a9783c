// The dashboard's Network Topology, Volume Backups and Volume Transfers pages in headless Chromium against one
// in-process cloud (fake compute driver, fake volume backend, fake backup driver): the topology draws the start-up
// networks, router1 and an instance, and lists every link for keyboard and screen reader users; a backup is
// created (checked before sending), restored to a new volume and deleted; a transfer is created (its auth key
// shown once) and accepted with its id and key; the Volumes page's row actions open the same backup and transfer
// dialogs with the volume chosen, and upload an attached volume to an image (refused with the API's message until
// forced) that then shows in Images. axe on each page and dialog; screenshots.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SKIP_BROWSER } from "../helpers/browser.js";
import { until } from "../helpers/wait.js";
import { shot } from "./helpers.js";
import { rowWith, startRig, WAIT, type DashboardRig } from "./in-process.js";

describe("dashboard topology, backups and transfers in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let rig: DashboardRig;
  let page: DashboardRig["page"];
  const vm = "topo-vm";
  const row = (t: string) => rowWith(page, t);

  const call = (method: string, url: string, body?: unknown) => rig.call(method, url, body);
  const volumes = async () =>
    (await call("GET", `/volume/v3/${rig.demoProject}/volumes/detail`)).volumes as Array<{
      id: string;
      name: string;
      status: string;
    }>;

  before(async () => {
    rig = await startRig({
      config: {
        volume: {
          backend: "fake",
          backup: { driver: "fake", chunkSize: 65536, container: "volumebackups", posixPath: "" },
        },
      },
    });
    page = rig.page;
    const net = (await call("GET", "/networking/v2.0/networks?name=private")).networks[0];
    const id = await rig.c.createServer(rig.c.demo, { name: vm, networks: [{ uuid: net.id }] });
    await rig.c.waitStatus(rig.c.demo, id, "ACTIVE");
    await call("POST", `/volume/v3/${rig.demoProject}/volumes`, { volume: { name: "bk-vol", size: 1 } });
    await until(
      "bk-vol available",
      async () => (await volumes()).some((v) => v.status === "available"),
      WAIT,
    );
  });
  after(async () => {
    await rig?.close();
  });

  test("the topology draws the networks, router1 and the instance, and lists each link", async () => {
    await rig.nav("Network Topology", "Network Topology");
    const graph = page.getByTestId("topology-graph");
    for (const n of ["public", "private"]) await graph.locator(`[data-network="${n}"]`).waitFor();
    for (const n of ["router1", vm]) await graph.locator(`[data-node="${n}"]`).waitFor();
    // router1 reaches both networks, the instance only private.
    assert.equal(await graph.locator('[data-links="router1"] line').count(), 2);
    assert.equal(await graph.locator(`[data-links="${vm}"] line`).count(), 1);
    const list = page.getByTestId("topology-list");
    await list.locator(`[data-link="${vm}@private"]`).getByRole("link", { name: vm }).waitFor();
    await list.locator('[data-link="router1@private"]').waitFor();
    assert.match((await list.locator('[data-link="router1@public"]').textContent()) ?? "", /gateway/);
    assert.equal(await graph.getAttribute("role"), "img");
    assert.match(
      (await page.locator("#topology-desc").textContent()) ?? "",
      /\d+ networks, 1 router and 1 instance;/,
    );
    await shot(page, "network-topology");
    await rig.accessible("Network Topology");
    await rig.darkAndPhone("Network Topology");
    // The list's links lead to the instance by keyboard.
    await list.locator(`[data-link="${vm}@private"]`).getByRole("link").focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: `Instance ${vm}` }).waitFor();
  });

  test("a backup is created, restored to a new volume and deleted", async () => {
    await rig.nav("Volume Backups", "Volume Backups");
    await page.getByText("No backups").first().waitFor();
    await rig.accessible("Volume Backups (empty)");
    await page.getByRole("button", { name: "Create Backup" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Create Backup" }).click();
    await page.getByText("Enter a name.").waitFor();
    await page.getByText("Choose a volume.").waitFor();
    await page.locator("#backup-name").fill("bk-1");
    await page.locator("#backup-volume option", { hasText: "bk-vol" }).waitFor({ state: "attached" });
    await page.locator("#backup-volume").selectOption({ index: 1 });
    await rig.accessible("Create Backup dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Create Backup" }).click();
    const bk = row("bk-1");
    await bk.locator('[data-status="available"]').waitFor();
    assert.match((await bk.textContent()) ?? "", /1 GiB.*bk-vol/);
    await shot(page, "volume-backups");
    await rig.accessible("Volume Backups");
    await rig.darkAndPhone("Volume Backups");

    await bk.getByRole("button", { name: "Restore bk-1" }).click();
    assert.equal(await page.locator("#restore-name").inputValue(), "bk-1-restored");
    await rig.accessible("Restore dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Restore", exact: true }).click();
    await page.getByTestId("restored").waitFor();
    await bk.locator('[data-status="available"]').waitFor();
    await until(
      "the restored volume is available",
      async () => (await volumes()).some((v) => v.name === "bk-1-restored" && v.status === "available"),
      WAIT,
    );
    await rig.nav("Volumes", "Volumes");
    await row("bk-1-restored").locator('[data-status="available"]').waitFor();

    await rig.nav("Volume Backups", "Volume Backups");
    await row("bk-1").getByRole("button", { name: "Delete bk-1" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await row("bk-1").waitFor({ state: "detached" });
  });

  test("a transfer is created with its key shown once, and accepted with id and key", async () => {
    await rig.nav("Volume Transfers", "Volume Transfers");
    await page.getByText("No transfers").first().waitFor();
    await rig.accessible("Volume Transfers (empty)");
    await page.getByRole("button", { name: "Create Transfer" }).click();
    await page.locator("#transfer-name").fill("tr-1");
    await page.locator("#transfer-volume option", { hasText: "bk-vol" }).waitFor({ state: "attached" });
    await page.locator("#transfer-volume").selectOption({ label: "bk-vol (1 GiB)" });
    await page.getByRole("dialog").getByRole("button", { name: "Create Transfer" }).click();
    const tid = await page.locator('[data-testid="transfer-id"] input').inputValue();
    const key = await page.locator('[data-testid="transfer-key"] input').inputValue();
    assert.match(tid, /^[0-9a-f-]{36}$/);
    assert.ok(key.length >= 8, `auth key: ${key}`);
    await rig.accessible("Transfer created dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Done" }).click();
    await row("tr-1").waitFor();
    assert.equal(await page.getByText(key).count(), 0, "the key is not shown again");
    await shot(page, "volume-transfers");
    await rig.accessible("Volume Transfers");

    await page.getByRole("button", { name: "Accept Transfer" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Accept", exact: true }).click();
    await page.getByText("Enter the transfer's id.").waitFor();
    await page.locator("#accept-id").fill(tid);
    await page.locator("#accept-key").fill("wrong-key");
    await page.getByRole("dialog").getByRole("button", { name: "Accept", exact: true }).click();
    await page
      .getByRole("dialog")
      .getByText(/Invalid auth key/)
      .waitFor();
    await page.locator("#accept-key").fill(key);
    await page.getByRole("dialog").getByRole("button", { name: "Accept", exact: true }).click();
    await row("tr-1").waitFor({ state: "detached" });
    await until(
      "bk-vol available after the transfer",
      async () => (await volumes()).some((v) => v.name === "bk-vol" && v.status === "available"),
      WAIT,
    );
  });

  test("the Volumes page backs up, transfers and uploads a volume to an image from its row", async () => {
    const vol = (await volumes()).find((v) => v.name === "bk-vol");
    assert.ok(vol);
    await rig.nav("Volumes", "Volumes");
    const r = row("bk-vol");
    await r.getByRole("button", { name: "Back up bk-vol" }).click();
    assert.equal(await page.locator("#backup-volume").inputValue(), vol.id);
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    await r.getByRole("button", { name: "Transfer bk-vol" }).click();
    assert.equal(await page.locator("#transfer-volume").inputValue(), vol.id);
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });

    // Attached, the upload is refused until forced, with the API's own message.
    const sid = (await call("GET", `/compute/v2.1/servers?name=${vm}`)).servers[0].id;
    await call("POST", `/compute/v2.1/servers/${sid}/os-volume_attachments`, {
      volumeAttachment: { volumeId: vol.id },
    });
    await r.locator('[data-status="in-use"]').waitFor();
    await r.getByRole("button", { name: "Upload to image from bk-vol" }).click();
    assert.equal(await page.locator("#upload-image-name").inputValue(), "bk-vol-image");
    await page.locator("#upload-image-name").fill("");
    await page.getByRole("dialog").getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByText("Enter a name.").waitFor();
    await page.locator("#upload-image-name").fill("vol-img");
    await rig.accessible("Upload to image dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Upload", exact: true }).click();
    await page
      .getByRole("dialog")
      .getByText(/use force to upload an attached volume/)
      .waitFor();
    await page.locator("#upload-image-force").check();
    await page.getByRole("dialog").getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    const image = async () =>
      ((await call("GET", "/image/v2/images?name=vol-img")).images as Array<{ status: string }>)[0];
    await until("the image is active", async () => (await image())?.status === "active", WAIT);
    await r.locator('[data-status="in-use"]').waitFor();
    await rig.nav("Images", "Images");
    await until(
      "Images lists vol-img as active",
      async () => /active/.test((await row("vol-img").textContent({ timeout: WAIT })) ?? ""),
      WAIT,
    );
    await call("DELETE", `/compute/v2.1/servers/${sid}/os-volume_attachments/${vol.id}`);
  });

  test("nothing broke the Content-Security-Policy or threw in the page", () => {
    const bad = rig.browser.errors.filter((e) => /Content Security Policy|pageerror/.test(e));
    assert.deepEqual(bad, []);
  });
});
