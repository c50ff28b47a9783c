// A plugin's dashboard panel in headless Chromium (docs/plugins.md): the example cost plugin loaded by an in-process
// cloud; its panel appears in the side navigation without a dashboard rebuild, its module is imported and mounted
// with the host API (the user's API client, React, PatternFly), and it shows the demo project's cost.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SKIP_BROWSER } from "../helpers/browser.js";
import { WITH_COST } from "../plugins/cost.js";
import { shot } from "./helpers.js";
import { startRig, type DashboardRig } from "./in-process.js";

describe("a plugin's dashboard panel in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig(WITH_COST);
    // m1.nano (1 vCPU, 128 MiB, 1 GB): 0.5 + 0.125 + 0.25 = 0.875 an hour.
    await rig.c.createServer(rig.c.demo, { name: "priced", flavorRef: "42" });
  });
  after(async () => {
    await rig?.close();
  });

  test("the Cost panel is in the navigation and shows the project's cost", async () => {
    const { page } = rig;
    await rig.nav("Cost", "Cost");
    assert.equal(new URL(page.url()).pathname, "/project/plugins/cost/cost");
    await page.getByTestId("cost-hourly").getByText("0.8750 EUR").waitFor();
    assert.equal(await page.getByTestId("cost-monthly").textContent(), "638.7500 EUR");
    assert.equal(await page.getByTestId("cost-servers").textContent(), "1");
    assert.match((await page.locator(".pf-v6-c-card__title").textContent()) ?? "", /Project demo/);
    await rig.accessible("the cost panel");
    console.log(`# screenshot: ${await shot(page, "plugin-cost")}`);
    // Reloaded at its own URL, the page mounts the panel again; leaving it unmounts it.
    await page.reload();
    await page.getByTestId("cost-hourly").getByText("0.8750 EUR").waitFor();
    await rig.nav("Overview", "Overview");
    assert.equal(await page.getByTestId("cost-hourly").count(), 0);
    assert.deepEqual(
      rig.browser.errors.filter((e) => !/Failed to load resource/.test(e)),
      [],
      "no page errors",
    );
  });
});
