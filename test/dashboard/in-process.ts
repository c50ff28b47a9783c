// One in-process cloud (fake compute driver, fake volume backend) listening on loopback, one headless Chromium
// logged in as demo: what the dashboard's page tests share within a file.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { bootCompute, type BootComputeOptions, type ComputeCloud } from "../compute/api/helpers.js";
import { launchBrowser, type TestBrowser } from "../helpers/browser.js";
import { assertBuilt, seriousViolations } from "./helpers.js";

/** How long a page waits for an element. */
export const WAIT = 30_000;

/** The cloud, the browser and its logged-in page, with navigation and checks. */
export interface DashboardRig {
  c: ComputeCloud;
  browser: TestBrowser;
  page: Page;
  /** http://127.0.0.1:port */
  base: string;
  demoProject: string;
  /** Go to a page through the side navigation (no reload) and wait for its title. */
  nav(link: string, title: string): Promise<void>;
  /** Wait for the page's data (no spinner), then assert axe finds nothing serious or critical. */
  accessible(what: string): Promise<void>;
  /** The current page passes axe in the dark theme, and at a phone's width (reloaded) nothing is wider than it. */
  darkAndPhone(what: string): Promise<void>;
  /** A call to the cloud as demo (`url` under the listener, e.g. /networking/v2.0/...): its JSON body; throws on
   * an error status. */
  call(method: string, url: string, body?: unknown): Promise<any>;
  close(): Promise<void>;
}

/** Boot the cloud (`opts`: its config overrides), listen on loopback, launch Chromium and log in as demo. */
export async function startRig(opts: BootComputeOptions = {}): Promise<DashboardRig> {
  assertBuilt();
  const c = await bootCompute(opts);
  let browser: TestBrowser | undefined;
  try {
    const demoProject = await c.t.projectId("demo");
    await c.t.cloud.app.listen({ host: "127.0.0.1", port: 0 });
    const addr = c.t.cloud.app.server.address();
    assert.ok(addr && typeof addr === "object");
    const base = `http://127.0.0.1:${addr.port}`;
    browser = await launchBrowser();
    const page = await browser.page();
    await page.setViewportSize({ width: 1280, height: 900 });
    page.setDefaultTimeout(WAIT);
    await page.goto(`${base}/login`);
    await page.locator("#id_username").fill("demo");
    await page.locator("#id_password").fill(c.t.cloud.demoPassword);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    const b = browser;
    const accessible = async (what: string) => {
      await page.waitForFunction(() => !(globalThis as any).document.querySelector(".pf-v6-c-spinner"));
      const v = await seriousViolations(page);
      assert.deepEqual(v, [], `${what}: ${JSON.stringify(v, null, 1)}`);
    };
    return {
      c,
      browser: b,
      page,
      base,
      demoProject,
      async nav(link, title) {
        await page
          .getByRole("navigation", { name: "Project" })
          .getByRole("link", { name: link, exact: true })
          .click();
        await page.getByRole("heading", { level: 1, name: title, exact: true }).waitFor();
      },
      accessible,
      async call(method, url, body) {
        const r = await c.t.cloud.app.inject({
          method: method as "GET",
          url,
          headers: {
            "x-auth-token": c.demo,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        });
        assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.payload}`);
        return r.payload ? JSON.parse(r.payload) : undefined;
      },
      async darkAndPhone(what) {
        await page.getByText("Dark theme").click();
        try {
          // Reloaded, as a user returning to the page: axe does not see colours mid-transition.
          await page.reload();
          await page.getByRole("heading", { level: 1 }).waitFor();
          await accessible(`${what} (dark)`);
        } finally {
          await page.getByText("Dark theme").click();
        }
        await page.setViewportSize({ width: 390, height: 844 });
        try {
          await page.reload();
          await page.getByRole("heading", { level: 1 }).waitFor();
          await page.waitForFunction(() => !(globalThis as any).document.querySelector(".pf-v6-c-spinner"));
          const overflow = await page.evaluate(() => {
            const w = globalThis as any;
            const d = w.document.documentElement;
            let worst = d.scrollWidth - d.clientWidth;
            for (const el of w.document.querySelectorAll("table, h1, .pf-v6-c-toolbar"))
              worst = Math.max(worst, el.getBoundingClientRect().right - w.innerWidth);
            return worst;
          });
          assert.ok(overflow <= 1, `${what} is ${overflow} px wider than a phone's screen`);
        } finally {
          await page.setViewportSize({ width: 1280, height: 900 });
          await page.reload();
          await page.getByRole("heading", { level: 1 }).waitFor();
        }
      },
      async close() {
        await b.close();
        await c.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await c.close();
    throw e;
  }
}

/** The rows of the current page's tables that have a cell with exactly `text`. */
export const rowWith = (page: Page, text: string) =>
  page.locator("tbody tr").filter({ has: page.getByRole("cell", { name: text, exact: true }) });
