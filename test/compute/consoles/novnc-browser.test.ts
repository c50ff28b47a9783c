// noVNC in a real headless Chromium against the built-in console proxy: the console URL the API hands out opens
// the page, noVNC connects through /vnc to a fake RFB server whose screen is one known colour, and the screenshot of
// the console shows that colour; a key typed in the page reaches the server; the used link does not open twice.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  launchBrowser,
  openConsolePage,
  regionColor,
  SKIP_BROWSER,
  type TestBrowser,
} from "../../helpers/browser.js";
import { startFakeRfb, type FakeRfbServer } from "../../helpers/rfb.js";
import { until } from "../../helpers/wait.js";
import { bootActions, type ActionCloud } from "../actions/util.js";

const COLOR: [number, number, number] = [0, 160, 80];

describe("noVNC console page in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let c: ActionCloud;
  let rfb: FakeRfbServer;
  let browser: TestBrowser;
  let base = "";
  let id = "";

  before(async () => {
    c = await bootActions();
    await c.t.cloud.app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(c.t.cloud.app.server.address() as AddressInfo).port}`;
    rfb = await startFakeRfb({ width: 320, height: 200, rgb: COLOR, name: "fake-guest" });
    const driver = c.t.cloud.computeControl.agents[0]!.deps.driver as unknown as Record<string, unknown>;
    driver.getVncConsole = async () => ({ host: rfb.host, port: rfb.port });
    id = await c.createServer(c.demo, { name: "vnc" });
    await c.waitStatus(c.demo, id, "ACTIVE");
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await rfb?.close();
    await c?.close();
  });

  /** The console URL from the API, moved to where the cloud really listens (the test's public URL is a front). */
  async function consoleUrl(): Promise<string> {
    const body = { remote_console: { protocol: "vnc", type: "novnc" } };
    const r = await c.req("POST", `/v2.1/servers/${id}/remote-consoles`, { token: c.demo, body, mv: "2.6" });
    assert.equal(r.status, 200, r.text);
    const u = new URL(r.body.remote_console.url);
    return base + u.pathname + u.search;
  }

  test("the console connects, shows the guest's screen and takes keystrokes; its link works once", async () => {
    const url = await consoleUrl();
    const page = await browser.page();
    assert.equal(
      await openConsolePage(page, url),
      "connected",
      `status: ${await page.locator("#status").textContent()}; ${browser.errors.join("; ")}`,
    );
    const canvas = page.locator("#screen canvas");
    await canvas.waitFor({ state: "visible" });
    assert.equal(await page.title(), "fake-guest - Stratus console");
    // The framebuffer's colour reaches the screen (poll: the first update lands after "connect").
    const box = (await canvas.boundingBox())!;
    assert.ok(box.width >= 320 && box.height >= 200, `canvas ${box.width}x${box.height}`);
    const clip = { x: box.x + 100, y: box.y + 60, width: 40, height: 40 };
    const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 8);
    const seen = await until(
      "the guest's colour on screen",
      async () => {
        const px = await regionColor(page, clip);
        return near(px, COLOR) ? px : undefined;
      },
      30_000,
    ).catch(async () => regionColor(page, clip));
    assert.ok(near(seen, COLOR), `screen region is ${seen.join(",")}, expected ${COLOR.join(",")}`);
    await canvas.click();
    await page.keyboard.press("a");
    await until("the key at the VNC server", () => rfb.keys.includes(0x61), 30_000);
    await page.close();

    const again = await browser.page();
    assert.equal(await openConsolePage(again, url), "disconnected");
    assert.match((await again.locator("#status").textContent())!, /failed|used|expired/i);
    await again.close();
  });
});
