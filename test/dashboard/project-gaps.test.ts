// The dashboard's project pages in headless Chromium against one in-process cloud (fake compute driver): editing
// an image (name, minimums, key/value properties, visibility, protection) and sharing it with another project
// (add, list, remove members); a network's ports (list, create with a fixed IP, Neutron's refusal shown, delete);
// an object's temporary URL signed in the browser (downloads without a token, a changed expiry is refused); the
// Launch dialog's boot sources (snapshots listed apart from images, a new volume of a chosen size deleted with the
// instance, an existing bootable volume kept), user data (bounded) and flavor hints from the remaining quota; axe
// finds no serious or critical violation on these dialogs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SKIP_BROWSER } from "../helpers/browser.js";
import { until } from "../helpers/wait.js";
import { rowWith, startRig, WAIT, type DashboardRig } from "./in-process.js";

describe("dashboard project page gaps in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let rig: DashboardRig;
  let page: DashboardRig["page"];
  const row = (text: string) => rowWith(page, text);
  /** Close the open dialog with its footer's Close button, and wait for it to go. */
  const closeDialog = async () => {
    await page.getByRole("dialog").getByRole("contentinfo").getByRole("button", { name: "Close" }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
  };

  before(async () => {
    rig = await startRig();
    ({ page } = rig);
  });
  after(async () => {
    await rig?.close();
  });

  test("an image is edited (properties, minimums, visibility, protection) and shared with a project", async () => {
    const img = await rig.call("POST", "/image/v2/images", {
      name: "edit-me",
      disk_format: "qcow2",
      container_format: "bare",
      os_distro: "cirros",
    });
    const other = await rig.c.t.projectId("admin");
    await rig.nav("Images", "Images");
    await row("edit-me").getByRole("button", { name: "Edit edit-me" }).click();
    await page.locator("#edit-image-name").fill("edited");
    await page.locator("#edit-image-min-disk").fill("x");
    await page.getByRole("button", { name: "Add property" }).click();
    await page.getByLabel("Property 2 key").fill("os_distro");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("A whole number of GiB (0 for no minimum).").waitFor();
    await page.getByText('"os_distro" is given twice.').waitFor();
    await page.locator("#edit-image-min-disk").fill("2");
    await page.locator("#edit-image-min-ram").fill("256");
    await page.getByLabel("Property 1 value").fill("debian");
    await page.getByLabel("Property 2 key").fill("hw_disk_bus");
    await page.getByLabel("Property 2 value").fill("virtio");
    assert.equal(
      await page.locator('#edit-image-visibility option[value="public"]').count(),
      0,
      "demo may not publish an image",
    );
    await page.locator("#edit-image-visibility").selectOption("shared");
    await page.locator("#edit-image-protected").check();
    await rig.accessible("Edit Image dialog");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    const got = await rig.call("GET", `/image/v2/images/${img.id}`);
    assert.equal(got.name, "edited");
    assert.equal(got.min_disk, 2);
    assert.equal(got.min_ram, 256);
    assert.equal(got.os_distro, "debian");
    assert.equal(got.hw_disk_bus, "virtio");
    assert.equal(got.visibility, "shared");
    assert.equal(got.protected, true);

    // A protected image is refused deletion with Glance's message.
    const r = row("edited");
    await r.getByRole("cell", { name: "shared", exact: true }).waitFor();
    await r.getByRole("button", { name: "Delete edited" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByText("Could not delete the image").waitFor();

    await r.getByRole("button", { name: "Share edited" }).click();
    await page.getByText("Not shared with any project yet.").waitFor();
    await page.locator("#share-image-project").fill("no such/id");
    await page.getByRole("button", { name: "Add Project", exact: true }).click();
    await page.getByText("Enter a project ID (letters, digits, '-' or '_').").waitFor();
    await page.locator("#share-image-project").fill(other);
    await page.getByRole("button", { name: "Add Project", exact: true }).click();
    await page.getByTestId("image members").getByRole("cell", { name: other, exact: true }).waitFor();
    await rig.accessible("Share Image dialog");
    const members = await rig.call("GET", `/image/v2/images/${img.id}/members`);
    assert.deepEqual(
      members.members.map((m: { member_id: string }) => m.member_id),
      [other],
    );
    await page.getByRole("button", { name: `Remove ${other}` }).click();
    await page.getByText("Not shared with any project yet.").waitFor();
    await closeDialog();

    // Unprotect, remove a property, then delete.
    await r.getByRole("button", { name: "Edit edited" }).click();
    await page.locator("#edit-image-protected").uncheck();
    await page.getByRole("button", { name: "Remove property hw_disk_bus" }).click();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByRole("dialog").waitFor({ state: "detached" });
    const after = await rig.call("GET", `/image/v2/images/${img.id}`);
    assert.equal(after.protected, false);
    assert.equal(after.hw_disk_bus, undefined);
    await rig.accessible("Images");
    await r.getByRole("button", { name: "Delete edited" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await r.waitFor({ state: "detached" });
  });

  test("a network's ports are listed, created with a fixed IP and deleted", async () => {
    const net = (await rig.call("POST", "/networking/v2.0/networks", { network: { name: "ports-net" } }))
      .network;
    await rig.call("POST", "/networking/v2.0/subnets", {
      subnet: { network_id: net.id, name: "ports-sub", cidr: "10.9.0.0/24", ip_version: 4 },
    });
    await rig.nav("Networks", "Networks");
    await row("ports-net").getByRole("button", { name: "Ports of ports-net" }).click();
    await page.locator("#port-name").fill("fixed-port");
    await page.locator("#port-ip").fill("10.9.0.300");
    await page.getByRole("button", { name: "Create Port", exact: true }).click();
    await page.getByText("Enter an IP address.").waitFor();
    await page.locator("#port-ip").fill("10.9.0.50");
    await page.getByRole("button", { name: "Create Port", exact: true }).click();
    const port = page.getByTestId("ports").locator("tr").filter({ hasText: "fixed-port" });
    await port.getByRole("cell", { name: "10.9.0.50", exact: true }).waitFor();
    // The same address again: Neutron's refusal is shown.
    await page.locator("#port-name").fill("dup-port");
    await page.locator("#port-ip").fill("10.9.0.50");
    await page.getByRole("button", { name: "Create Port", exact: true }).click();
    await page.getByText("The cloud refused the request").waitFor();
    await rig.accessible("Network ports dialog");
    const listed = await rig.call("GET", `/networking/v2.0/ports?network_id=${net.id}&name=fixed-port`);
    assert.equal(listed.ports[0].fixed_ips[0].ip_address, "10.9.0.50");
    await port.getByRole("button", { name: "Delete port fixed-port" }).click();
    await port.getByRole("button", { name: "Confirm delete" }).click();
    await port.waitFor({ state: "detached" });
    const gone = await rig.call("GET", `/networking/v2.0/ports?network_id=${net.id}&name=fixed-port`);
    assert.equal(gone.ports.length, 0);
    await closeDialog();
  });

  test("an object's temporary URL is made in the browser and downloads without a token until it expires", async () => {
    const account = `/object-store/v1/AUTH_${rig.demoProject}`;
    await rig.call("PUT", `${account}/temp-box`);
    const put = await rig.c.t.cloud.app.inject({
      method: "PUT",
      url: `${account}/temp-box/my%20note.txt`,
      headers: { "x-auth-token": rig.c.demo, "content-type": "text/plain" },
      payload: "temporary hello",
    });
    assert.equal(put.statusCode, 201);
    await page.goto(`${rig.base}/project/containers`);
    await page.getByRole("link", { name: "temp-box", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Container temp-box" }).waitFor();
    await page.getByRole("button", { name: "Temporary URL of my note.txt" }).click();
    await page.locator("#tempurl-expiry").selectOption({ label: "1 day" });
    await page.getByRole("button", { name: "Generate URL", exact: true }).click();
    const box = page.getByLabel("Temporary URL", { exact: true });
    await box.waitFor();
    await page.getByText("Anyone with this link can download the object for 1 day.").waitFor();
    await rig.accessible("Temporary URL dialog");
    const url = new URL(await box.inputValue());
    assert.equal(url.origin, rig.base);
    assert.equal(url.pathname, `${account}/temp-box/my%20note.txt`);
    const expires = Number(url.searchParams.get("temp_url_expires"));
    const inDay = Date.now() / 1000 + 86400;
    assert.ok(Math.abs(expires - inDay) < 120, `expires ${expires}`);
    assert.match(url.searchParams.get("temp_url_sig") ?? "", /^[0-9a-f]{64}$/);
    const got = await fetch(url);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), "temporary hello");
    // The key was set on the container (the account had none); a changed signature is refused.
    const head = await rig.c.t.cloud.app.inject({
      method: "HEAD",
      url: `${account}/temp-box`,
      headers: { "x-auth-token": rig.c.demo },
    });
    assert.match(String(head.headers["x-container-meta-temp-url-key"]), /^[0-9a-f]{64}$/);
    url.searchParams.set("temp_url_expires", String(expires + 1));
    assert.equal((await fetch(url)).status, 401);
    await closeDialog();
  });

  test("the Launch dialog boots from a new or an existing volume with user data, and hints which flavors fit", async () => {
    const { c } = rig;
    const pid = rig.demoProject;
    const flavors = (await c.req("GET", "/v2.1/flavors/detail", { token: c.demo })).body.flavors as Array<{
      id: string;
      name: string;
      ram: number;
    }>;
    const small = flavors.reduce((a, b) => (b.ram < a.ram ? b : a));
    const big = flavors.find((f) => f.ram > small.ram);
    const quota = (body: unknown) =>
      c.req(body ? "PUT" : "DELETE", `/v2.1/os-quota-sets/${pid}`, { token: c.admin, body });
    assert.equal((await quota({ quota_set: { ram: small.ram } })).status, 200);
    const ids: string[] = [];
    try {
      const vol = (
        await rig.call("POST", `/volume/v3/${pid}/volumes`, {
          volume: { name: "boot-vol", size: 1, imageRef: c.imageId },
        })
      ).volume;
      await until(
        "boot-vol available",
        async () =>
          (await rig.call("GET", `/volume/v3/${pid}/volumes/${vol.id}`)).volume.status === "available",
        WAIT,
      );
      // An instance snapshot is listed under its own source, not with the images.
      const snap = await rig.call("POST", "/image/v2/images", {
        name: "web-snap-img",
        disk_format: "raw",
        container_format: "bare",
        image_type: "snapshot",
      });
      const up = await c.t.cloud.app.inject({
        method: "PUT",
        url: `/image/v2/images/${snap.id}/file`,
        headers: { "x-auth-token": c.demo, "content-type": "application/octet-stream" },
        payload: Buffer.alloc(1024 * 1024),
      });
      assert.equal(up.statusCode, 204);
      await until(
        "web-snap-img active",
        async () => (await rig.call("GET", `/image/v2/images/${snap.id}`)).status === "active",
        WAIT,
      );
      await rig.nav("Instances", "Instances");
      await page.getByRole("button", { name: "Launch Instance" }).click();
      await page.locator("#launch-quota-left").getByText(`${small.ram} MiB RAM`).waitFor();
      const label = (f: { id: string }) =>
        page.locator(`#launch-flavor option[value="${f.id}"]`).textContent();
      assert.match((await label(small)) ?? "", / - fits quota$/);
      if (big) assert.match((await label(big)) ?? "", / - exceeds quota$/);

      await page.locator("#launch-source").selectOption({ label: "Instance snapshot" });
      await page.locator("#launch-image option", { hasText: "web-snap-img" }).waitFor({ state: "attached" });
      assert.equal(await page.locator("#launch-image option", { hasText: "test-image" }).count(), 0);
      await page.locator("#launch-source").selectOption({ label: "Image" });
      await page.locator("#launch-image option", { hasText: "test-image" }).waitFor({ state: "attached" });
      assert.equal(await page.locator("#launch-image option", { hasText: "web-snap-img" }).count(), 0);
      await page.locator("#launch-source").selectOption({ label: "Image, on a new volume" });
      await page.locator("#launch-name").fill("bfv-new");
      await page.locator("#launch-volume-size").fill("0");
      await page.locator("#launch-user-data").fill("x".repeat(49150));
      await page.getByRole("button", { name: "Launch", exact: true }).click();
      await page.getByText("Choose an image.").waitFor();
      await page.getByText("A whole number of GiB from 1 to 16384.").waitFor();
      await page.getByText("At most 49149 bytes of user data.").waitFor();
      await page.locator("#launch-image").selectOption({ label: "test-image" });
      await page.locator("#launch-volume-size").fill("2");
      await page.locator("#launch-user-data").fill("#!/bin/sh\necho made in the browser\n");
      await page.locator("#launch-flavor").selectOption(small.id);
      await page.getByLabel("ports-net").check();
      await rig.accessible("Launch dialog (new volume)");
      await page.getByRole("button", { name: "Launch", exact: true }).click();
      await page.getByRole("dialog").waitFor({ state: "detached" });
      await row("bfv-new").waitFor();

      await quota({ quota_set: { ram: small.ram * 2 } });
      await page.getByRole("button", { name: "Launch Instance" }).click();
      await page.locator("#launch-name").fill("bfv-old");
      await page.locator("#launch-source").selectOption({ label: "Volume (bootable)" });
      await page.locator("#launch-image").selectOption({ label: "boot-vol (1 GiB)" });
      await page.locator("#launch-delete-volume").uncheck();
      await page.locator("#launch-flavor").selectOption(small.id);
      await page.getByLabel("ports-net").check();
      await page.getByRole("button", { name: "Launch", exact: true }).click();
      await page.getByRole("dialog").waitFor({ state: "detached" });
      await row("bfv-old").waitFor();

      const servers = (await c.req("GET", "/v2.1/servers", { token: c.demo })).body.servers as Array<{
        id: string;
        name: string;
      }>;
      const byName = new Map(servers.map((x) => [x.name, x.id]));
      ids.push(byName.get("bfv-new")!, byName.get("bfv-old")!);
      const made = await c.waitStatus(c.admin, byName.get("bfv-new")!, "ACTIVE");
      assert.equal(made.image, "", "booted from a volume, not an image");
      assert.equal(
        Buffer.from(made["OS-EXT-SRV-ATTR:user_data"], "base64").toString(),
        "#!/bin/sh\necho made in the browser\n",
      );
      const [newVol] = made["os-extended-volumes:volumes_attached"];
      assert.equal(newVol.delete_on_termination, true);
      assert.equal((await rig.call("GET", `/volume/v3/${pid}/volumes/${newVol.id}`)).volume.size, 2);
      const old = await c.waitStatus(c.admin, byName.get("bfv-old")!, "ACTIVE");
      assert.deepEqual(old["os-extended-volumes:volumes_attached"], [
        { id: vol.id, delete_on_termination: false },
      ]);
    } finally {
      for (const id of ids) await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo });
      for (const id of ids) await c.waitGone(c.demo, id);
      await quota(undefined);
    }
  });

  test("nothing broke the Content-Security-Policy or threw in the page", () => {
    const bad = rig.browser.errors.filter((e) => /Content Security Policy|pageerror/.test(e));
    assert.deepEqual(bad, []);
  });
});
