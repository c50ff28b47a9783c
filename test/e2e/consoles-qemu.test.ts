// Consoles of a real guest (the qemu driver and the built-in guest image, under TCG) through the real CLI and a
// real browser: `openstack console url show` opens noVNC in headless Chromium, which shows tty1's login prompt and
// logs in with keystrokes (proved by a command whose output lands on the serial console); the link works once;
// `console url show --serial` gives a websocket to the guest's serial getty. One guest for all of it.
import { GUEST_IMAGE_NAMES } from "../../src/cloud/guest-image.js";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import { SKIP_QEMU } from "../compute/drivers/qemu/helpers.js";
import {
  launchBrowser,
  openConsolePage,
  regionColor,
  SKIP_BROWSER,
  typeOnConsole,
  type TestBrowser,
} from "../helpers/browser.js";
import {
  exec,
  killStratus,
  OPENSTACK,
  pyEnv,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";

const SKIP = SKIP_QEMU || SKIP_BROWSER;
/** The guest image's console password (scripts/guest-image/build.sh, STRATUS_GUEST_PASSWORD). */
const PASSWORD = process.env.STRATUS_GUEST_PASSWORD ?? "gocubsgo";
/** Boot to a login prompt under TCG, and the first `stratus up` building the guest image. */
const BOOT_MS = 180_000;
const BUILD_MS = 900_000;

describe("consoles of a real guest: noVNC in Chromium and the serial websocket", { skip: SKIP }, () => {
  let s: StratusProcess | undefined;
  let browser: TestBrowser | undefined;
  const os = async (...args: string[]): Promise<string> => {
    const env = pyEnv({ OS_CLIENT_CONFIG_FILE: s!.cloudsYaml, OS_CLOUD: "stratus-admin" });
    const r = await exec(OPENSTACK, args, env);
    assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const consoleLog = () => os("console", "log", "show", "vm1");

  before(
    async () => {
      // The test runner sets STRATUS_COMPUTE_DRIVER=fake for every cloud; this one runs real guests.
      const saved = process.env.STRATUS_COMPUTE_DRIVER;
      process.env.STRATUS_COMPUTE_DRIVER = "qemu";
      try {
        s = await startStratus("stratus-consoles-", { readyTimeoutMs: BUILD_MS });
      } finally {
        if (saved === undefined) delete process.env.STRATUS_COMPUTE_DRIVER;
        else process.env.STRATUS_COMPUTE_DRIVER = saved;
      }
      const images: Array<{ ID: string; Name: string }> = JSON.parse(await os("image", "list", "-f", "json"));
      const image = images.find((i) => i.Name === GUEST_IMAGE_NAMES.direct);
      assert.ok(image, `no built-in guest image in ${JSON.stringify(images)}`);
      await os(
        ...["--os-compute-api-version", "2.37", "server", "create", "--wait", "--image", image.ID],
        ...["--flavor", "m1.tiny", "--nic", "none", "vm1"],
      );
      await until(
        "the guest's login prompt on the serial console",
        async () => /login: *\s*$/.test(await consoleLog()),
        BOOT_MS,
      );
      browser = await launchBrowser();
    },
    { timeout: BUILD_MS + BOOT_MS },
  );
  after(async () => {
    await browser?.close();
    if (s) {
      await os("server", "delete", "--wait", "vm1").catch(() => {});
      await terminateStratus(s).catch(() => killStratus(s));
    }
  });

  test("noVNC shows the guest's screen and types into it; the link opens once", async () => {
    const { url } = JSON.parse(await os("console", "url", "show", "--novnc", "vm1", "-f", "json"));
    const page = await browser!.page();
    assert.equal(await openConsolePage(page, url), "connected", browser!.errors.join("; "));
    const canvas = page.locator("#screen canvas");
    await canvas.waitFor({ state: "visible" });
    // The screen shows the boot text and login prompt: light pixels on a dark console.
    const box = (await canvas.boundingBox())!;
    const [r, g, b] = await regionColor(page, box);
    assert.ok(
      r + g + b > 6 && r + g + b < 300,
      `the console is neither blank nor blank white: ${r},${g},${b}`,
    );
    // Log in on tty1 with keystrokes and run a command whose output only the serial port can show. An attempt
    // whose keys arrived before a prompt was ready is repeated (each starts with the user name).
    await canvas.click();
    await until(
      "the command typed on the VNC console to run",
      async () => {
        for (const line of ["cirros", PASSWORD, "sudo sh -c 'echo VNC-$((6*7))-OK > /dev/ttyS0'"])
          await typeOnConsole(page, `${line}\n`);
        return until("its output", async () => (await consoleLog()).includes("VNC-42-OK"), 20_000).catch(
          () => false,
        );
      },
      BOOT_MS,
    );
    await page.close();
    const again = await browser!.page();
    assert.equal(await openConsolePage(again, url), "disconnected", "a console link opens once");
    await again.close();
  });

  test("the serial console websocket reaches the guest's getty", async () => {
    const { url } = JSON.parse(await os("console", "url", "show", "--serial", "vm1", "-f", "json"));
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/serial\?token=[0-9a-f]{48}$/);
    const ws = new WebSocket(url);
    let got = "";
    ws.on("message", (m: Buffer) => (got += m.toString("latin1")));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send("\n");
    await until("a login prompt", () => /login: *$/.test(got), 30_000);
    ws.send("cirros\n");
    await until("the password prompt", () => /Password: *$/.test(got), 30_000);
    ws.close();
  });
});
