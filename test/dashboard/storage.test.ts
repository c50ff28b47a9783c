// The dashboard's storage pages in headless Chromium against one in-process cloud (fake compute driver, fake volume
// backend, object storage as it is) listening on loopback: Volumes (create empty, from an image and from a
// snapshot, edit, extend, attach to and detach from an instance, snapshot, delete after confirmation, the status
// shown while it changes), Volume Snapshots (create a volume from one, delete), Containers (create public/private,
// a non-empty one refused with a message, delete) and a container's objects (folders, upload with progress,
// download with progress, delete; more objects than a page, paged and filtered by the server; a large object saved
// through a temporary URL); axe finds no serious or critical violation on any of these pages.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { SKIP_BROWSER } from "../helpers/browser.js";
import { until } from "../helpers/wait.js";
import { shot } from "./helpers.js";
import { rowWith, startRig, WAIT, type DashboardRig } from "./in-process.js";

describe("dashboard storage pages in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let rig: DashboardRig;
  let c: DashboardRig["c"];
  let page: DashboardRig["page"];
  let base = "";
  let demoProject = "";
  let nav: DashboardRig["nav"];
  let accessible: DashboardRig["accessible"];
  const server = "storage-vm";
  const row = (text: string) => rowWith(page, text);

  before(async () => {
    rig = await startRig();
    ({ c, page, base, demoProject, nav, accessible } = rig);
    const id = await c.createServer(c.demo, { name: server });
    await c.waitStatus(c.demo, id, "ACTIVE");
  });
  after(async () => {
    await rig?.close();
  });

  /** A volume's status, read through the API (to see the page follow it). */
  const volumeStatus = async (name: string) => {
    const r = await c.t.cloud.app.inject({
      url: `/volume/v3/${demoProject}/volumes/detail?name=${name}`,
      headers: { "x-auth-token": c.demo },
    });
    return JSON.parse(r.payload).volumes[0]?.status as string | undefined;
  };

  test("a volume is created (checked before sending), edited, extended, attached, detached and snapshotted", async () => {
    await nav("Volumes", "Volumes");
    await page.getByText("No volumes").first().waitFor();
    await accessible("Volumes (empty)");
    await page.getByRole("button", { name: "Create Volume" }).click();
    await page.locator("#volume-name").fill("web-vol");
    await page.locator("#volume-size").fill("0");
    await page.getByRole("button", { name: "Create Volume", exact: true }).last().click();
    await page.getByText("A whole number of GiB from 1 to 16384.").waitFor();
    await page.locator("#volume-size").fill("1");
    await accessible("Create Volume dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Create Volume" }).click();
    const vol = row("web-vol");
    await vol.locator('[data-status="available"]').waitFor();
    assert.match((await vol.textContent()) ?? "", /1 GiB/);

    await vol.getByRole("button", { name: "Edit web-vol" }).click();
    await page.locator("#edit-volume-name").fill("web-volume");
    await page.locator("#edit-volume-description").fill("made in the browser");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    const v2 = row("web-volume");
    await v2.waitFor();

    await v2.getByRole("button", { name: "Extend web-volume" }).click();
    await page.locator("#extend-size").fill("1");
    await page.getByRole("button", { name: "Extend", exact: true }).click();
    await page.getByText("A whole number of GiB from 2 to 16384.").waitFor();
    await page.locator("#extend-size").fill("3");
    await page.getByRole("button", { name: "Extend", exact: true }).click();
    await v2.getByRole("cell", { name: "3 GiB", exact: true }).waitFor();
    await v2.locator('[data-status="available"]').waitFor();

    await v2.getByRole("button", { name: "Attach web-volume" }).click();
    await page.getByRole("button", { name: "Attach", exact: true }).click();
    await page.getByText("Choose the instance to attach to.").waitFor();
    await page.locator("#attach-server").selectOption({ label: server });
    await page.getByRole("button", { name: "Attach", exact: true }).click();
    await v2.locator('[data-status="in-use"]').waitFor();
    await v2.getByRole("link", { name: server }).waitFor();
    assert.match((await v2.textContent()) ?? "", /on \/dev\/vd[b-z]/);
    assert.equal(await volumeStatus("web-volume"), "in-use");
    await shot(page, "volumes");
    await accessible("Volumes");
    await rig.darkAndPhone("Volumes");

    await v2.getByRole("button", { name: "Create snapshot of web-volume" }).click();
    await page.locator("#snapshot-name").fill("web-snap");
    await page.getByRole("button", { name: "Create Snapshot", exact: true }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });

    await v2.getByRole("button", { name: `Detach web-volume from ${server}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Detach", exact: true }).click();
    await v2.locator('[data-status="available"]').waitFor();
    assert.equal(await v2.getByRole("link", { name: server }).count(), 0);
  });

  test("Overview shows block storage quota usage", async () => {
    await nav("Overview", "Overview");
    await page.getByRole("progressbar", { name: /^Volumes: 1 of / }).waitFor();
    // Cinder counts snapshots' gigabytes with the volumes'.
    const q = await c.t.cloud.app.inject({
      url: `/volume/v3/${demoProject}/os-quota-sets/${demoProject}?usage=true`,
      headers: { "x-auth-token": c.demo },
    });
    const gb = JSON.parse(q.payload).quota_set.gigabytes.in_use as number;
    assert.ok(gb >= 3, `gigabytes in use: ${gb}`);
    await page.getByRole("progressbar", { name: new RegExp(`^Volume Storage: ${gb} GiB of `) }).waitFor();
    await page.getByRole("progressbar", { name: /^Volume Snapshots: 1 of / }).waitFor();
    await accessible("Overview");
    await nav("Volumes", "Volumes");
  });

  test("a volume is made from an image, and one from a snapshot on the Snapshots page", async () => {
    await page.getByRole("button", { name: "Create Volume" }).click();
    await page.locator("#volume-name").fill("from-image");
    await page.locator("#volume-source").selectOption("image");
    await page.getByRole("dialog").getByRole("button", { name: "Create Volume" }).click();
    await page.getByText("Choose an image.").waitFor();
    await page.locator("#volume-image").selectOption({ label: "test-image" });
    await page.getByRole("dialog").getByRole("button", { name: "Create Volume" }).click();
    const img = row("from-image");
    await img.locator('[data-status="available"]').waitFor();
    assert.match((await img.textContent()) ?? "", /Yes/, "a volume from an image is bootable");

    await nav("Volume Snapshots", "Volume Snapshots");
    const snap = row("web-snap");
    await snap.locator('[data-status="available"]').waitFor();
    assert.match((await snap.textContent()) ?? "", /3 GiB.*web-volume/);
    await shot(page, "snapshots");
    await accessible("Volume Snapshots");
    await rig.darkAndPhone("Volume Snapshots");
    await snap.getByRole("button", { name: "Create volume from web-snap" }).click();
    assert.equal(await page.locator("#volume-source").inputValue(), "snapshot");
    await page.locator("#volume-size").fill("2");
    await page.getByRole("dialog").getByRole("button", { name: "Create Volume" }).click();
    await page.getByText("A whole number of GiB from 3 to 16384.").waitFor();
    await page.locator("#volume-size").fill("3");
    await page.getByRole("dialog").getByRole("button", { name: "Create Volume" }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });

    await nav("Volumes", "Volumes");
    await row("web-snap-volume").locator('[data-status="available"]').waitFor();
  });

  test("snapshots and volumes are deleted after confirmation", async () => {
    await page.getByRole("button", { name: "Delete web-snap-volume" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    assert.equal(await row("web-snap-volume").count(), 1, "cancel keeps the volume");
    await page.getByRole("button", { name: "Delete web-snap-volume" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await row("web-snap-volume").waitFor({ state: "detached" });

    await nav("Volume Snapshots", "Volume Snapshots");
    await page.getByRole("button", { name: "Delete web-snap" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await row("web-snap").waitFor({ state: "detached" });

    await nav("Volumes", "Volumes");
    for (const name of ["web-volume", "from-image"]) {
      await page.getByRole("button", { name: `Delete ${name}` }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
      await row(name).waitFor({ state: "detached" });
    }
    await until("volumes gone", async () => (await volumeStatus("web-volume")) === undefined, WAIT);
  });

  test("containers: created public or private, browsed with folders, files uploaded with progress and downloaded", async () => {
    await nav("Containers", "Containers");
    await page.getByText("No containers").first().waitFor();
    await accessible("Containers (empty)");
    await page.getByRole("button", { name: "Create Container" }).click();
    await page.locator("#container-name").fill("a/b");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByText("A container name cannot contain '/'.").waitFor();
    await page.locator("#container-name").fill("web-public");
    await page.locator("#container-public").check();
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await row("web-public").waitFor();
    await page.getByRole("button", { name: "Create Container" }).click();
    await page.locator("#container-name").fill("web-private");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await row("web-private").waitFor();
    // Anyone reads the public container's listing; the private one asks for a token.
    assert.equal((await fetch(`${base}/object-store/v1/AUTH_${demoProject}/web-public`)).status, 204);
    assert.equal((await fetch(`${base}/object-store/v1/AUTH_${demoProject}/web-private`)).status, 401);

    await page.getByRole("link", { name: "web-public", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Container web-public" }).waitFor();
    assert.equal(await page.locator("#container-public-switch").isChecked(), true);
    await page.getByRole("button", { name: "Create Folder" }).click();
    await page.locator("#folder-name").fill("docs");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("link", { name: "docs", exact: true }).click();
    await page.getByTestId("folder-path").getByRole("link", { name: "docs" }).waitFor();
    await page.getByText("No objects").first().waitFor();

    const bytes = Buffer.alloc(3 * 1024 * 1024, 9);
    bytes.write("stratus object", 0);
    await page.getByRole("button", { name: "Upload File" }).click();
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByText("Choose a file.").waitFor();
    await page
      .locator("#object-file")
      .setInputFiles({ name: "notes.bin", mimeType: "application/octet-stream", buffer: bytes });
    assert.equal(await page.locator("#object-name").inputValue(), "notes.bin");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.waitForFunction(
      () =>
        (globalThis as any).document
          .querySelector("[aria-label='Upload progress']")
          ?.getAttribute("aria-valuenow") === "100",
    );
    await page.getByRole("button", { name: "Done", exact: true }).click();
    const obj = row("notes.bin");
    await obj.getByRole("cell", { name: "3.0 MiB" }).waitFor();
    await shot(page, "container-objects");
    await accessible("Container objects");
    await rig.darkAndPhone("Container objects");

    // Every value the download's progress bar shows, recorded as the page renders them.
    await page.evaluate(() => {
      const w = globalThis as any;
      w.progressSeen = [];
      new w.MutationObserver(() => {
        const v = w.document.querySelector("[aria-label='Download progress']")?.getAttribute("aria-valuenow");
        if (v && w.progressSeen.at(-1) !== v) w.progressSeen.push(v);
      }).observe(w.document.body, { subtree: true, childList: true, attributes: true });
    });
    // A loopback body can arrive whole before React renders once; DevTools throttling streams it over ~3 s.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: 1024 * 1024,
      uploadThroughput: -1,
    });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      obj.getByRole("button", { name: "Download notes.bin" }).click(),
    ]);
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await cdp.detach();
    assert.equal(download.suggestedFilename(), "notes.bin");
    assert.ok((await readFile((await download.path())!)).equals(bytes), "the downloaded bytes differ");
    await page.getByTestId("object-download").getByText("3.0 MiB of 3.0 MiB").waitFor();
    const seen = (await page.evaluate(() => (globalThis as any).progressSeen)) as string[];
    assert.equal(seen[0], "0", `progress starts at 0: ${seen.join(",")}`);
    assert.equal(seen.at(-1), "100", `progress ends at 100: ${seen.join(",")}`);
    assert.ok(
      seen.some((v) => v !== "0" && v !== "100"),
      `progress is shown while the body streams: ${seen.join(",")}`,
    );
    await accessible("Container objects (downloaded)");
    await page.getByRole("button", { name: "Dismiss the download status" }).click();

    // The public toggle turns the read ACL off.
    await page.getByText("Public access").click();
    await page.locator("#container-public-switch:not(:checked)").waitFor({ state: "attached" });
    await until(
      "web-public private",
      async () => (await fetch(`${base}/object-store/v1/AUTH_${demoProject}/web-public`)).status === 401,
      WAIT,
    );
  });

  test("a non-empty container is refused with a message; emptied, it is deleted", async () => {
    await nav("Containers", "Containers");
    await row("web-public").getByRole("cell", { name: "2", exact: true }).waitFor();
    await page.getByRole("button", { name: "Delete web-public" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByText("The container web-public is not empty: delete its objects first.").waitFor();

    await page.getByRole("link", { name: "web-public", exact: true }).click();
    // A folder with an object in it is refused too.
    await page.getByRole("button", { name: "Delete folder docs" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByText("The folder docs/ is not empty: delete its objects first.").waitFor();
    await page.getByRole("link", { name: "docs", exact: true }).click();
    await page.getByRole("button", { name: "Delete notes.bin" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await row("notes.bin").waitFor({ state: "detached" });
    await page.getByTestId("folder-path").getByRole("link", { name: "web-public" }).click();
    await page.getByRole("button", { name: "Delete folder docs" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await row("docs").waitFor({ state: "detached" });
    await nav("Containers", "Containers");
    for (const name of ["web-public", "web-private"]) {
      await page.getByRole("button", { name: `Delete ${name}` }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
      await row(name).waitFor({ state: "detached" });
    }
  });

  test("a container with more objects than a page is browsed page by page and filtered by the server; a large object is saved through a temporary URL", async () => {
    const put = async (name: string, payload: string | Buffer) => {
      const r = await c.t.cloud.app.inject({
        method: "PUT",
        url: `/object-store/v1/AUTH_${demoProject}/web-many${name ? `/${name}` : ""}`,
        headers: { "x-auth-token": c.demo },
        payload,
      });
      assert.ok(r.statusCode < 300, `PUT ${name}: ${r.statusCode}`);
    };
    await put("", "");
    const names = Array.from({ length: 120 }, (_, i) => `f-${String(i).padStart(3, "0")}`);
    for (const n of names) await put(n, n);
    await nav("Containers", "Containers");
    await page.getByLabel("Filter containers").fill("web-m");
    await row("web-many").getByRole("cell", { name: "120", exact: true }).waitFor();
    await page
      .getByTestId("containers-range")
      .getByText(/^1-1 of \d+ containers?$/)
      .waitFor();
    await page.getByRole("link", { name: "web-many", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Container web-many" }).waitFor();
    const range = page.getByTestId("objects-range");
    const pager = page.getByTestId("objects-pager");
    await range.getByText("1-100 of 120 objects in the container").waitFor();
    await page.getByRole("combobox", { name: "objects per page" }).selectOption("50");
    await range.getByText("1-50 of 120 objects in the container").waitFor();
    assert.equal(await page.locator("tbody tr").count(), 50);
    await row("f-049").waitFor();
    await pager.getByRole("button", { name: "Next" }).click();
    await range.getByText("51-100 of 120").waitFor();
    await row("f-050").waitFor();
    await pager.getByRole("button", { name: "Next" }).click();
    await range.getByText("101-120 of 120").waitFor();
    await row("f-119").waitFor();
    assert.equal(await page.locator("tbody tr").count(), 20);
    assert.equal(await pager.getByRole("button", { name: "Next" }).isDisabled(), true);
    await accessible("Container objects (last page)");
    await pager.getByRole("button", { name: "Previous" }).click();
    await range.getByText("51-100 of 120").waitFor();
    await page.getByLabel("Filter objects").fill("f-11");
    await range.getByText("1-10 of 120").waitFor();
    assert.deepEqual(
      await page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-row"))),
      names.slice(110),
    );

    // Above 32 MiB the browser saves the object itself, from a temporary URL (nothing held in the page).
    const big = Buffer.alloc(33 * 1024 * 1024, 7);
    big.write("large object", 0);
    await put("big.bin", big);
    await page.getByLabel("Filter objects").fill("big");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      row("big.bin").getByRole("button", { name: "Download big.bin" }).click(),
    ]);
    assert.match(download.url(), /\/web-many\/big\.bin\?temp_url_sig=[0-9a-f]{64}&temp_url_expires=\d+$/);
    assert.equal(download.suggestedFilename(), "big.bin");
    assert.ok((await readFile((await download.path())!)).equals(big), "the downloaded bytes differ");
    await page.getByText("big.bin (33.0 MiB) is being saved by the browser").waitFor();
    await accessible("Container objects (large download)");
  });

  test("nothing broke the Content-Security-Policy or threw in the page", () => {
    const bad = rig.browser.errors.filter((e) => /Content Security Policy|pageerror/.test(e));
    assert.deepEqual(bad, []);
  });
});
