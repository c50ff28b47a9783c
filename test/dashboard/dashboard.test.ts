// The web dashboard in headless Chromium against `stratus up` (fake compute, noop network): log in as demo (the
// page asked for before login comes back), Overview, upload an image with its progress bar, add and delete security
// group rules, launch an instance and see it become Active without a reload, its console log, allocate and
// associate a floating IP, create a key pair (private key downloaded) and a network with a subnet, delete the
// instance, token expiry back to login, logout; axe-core finds no serious or critical
// violation on any main page (light and dark), and the pages fit a phone's width. Screenshots go to ARTIFACTS.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { launchBrowser, SKIP_BROWSER, type TestBrowser } from "../helpers/browser.js";
import { killStratus, startStratus, type StratusProcess } from "../helpers/stratus-process.js";
import { ARTIFACTS, assertBuilt, seriousViolations, shot } from "./helpers.js";

const WAIT = 60_000;

/** The main pages: path, title shown, screenshot name. */
const PAGES: Array<[string, string, string]> = [
  ["/project/", "Overview", "overview"],
  ["/project/instances", "Instances", "instances"],
  ["/project/images", "Images", "images"],
  ["/project/key_pairs", "Key Pairs", "key-pairs"],
  ["/project/networks", "Networks", "networks"],
  ["/project/security_groups", "Security Groups", "security-groups"],
  ["/project/floating_ips", "Floating IPs", "floating-ips"],
  ["/project/api_access", "API Access", "api-access"],
];

describe("web dashboard in headless Chromium", { skip: SKIP_BROWSER }, () => {
  let s: StratusProcess;
  let browser: TestBrowser;
  let page: Page;
  let base = "";
  let demoPassword = "";
  const server = `web-${process.pid}`;

  before(async () => {
    assertBuilt();
    s = await startStratus("stratus-e2e-dashboard-", { args: ["--compute-driver", "fake"] });
    base = new URL(s.clouds["stratus-demo"].auth.auth_url).origin;
    demoPassword = s.clouds["stratus-demo"].auth.password;
    browser = await launchBrowser();
    page = await browser.page();
    await page.setViewportSize({ width: 1280, height: 900 });
    page.setDefaultTimeout(WAIT);
    process.stderr.write(`# dashboard screenshots: ${ARTIFACTS}\n`);
  });
  after(async () => {
    await browser?.close();
    await killStratus(s);
  });

  /** Open a page of the app by its path (a full load) and wait for its title. */
  async function open(path: string, title: string): Promise<void> {
    await page.goto(base + path);
    await page.getByRole("heading", { level: 1, name: title, exact: true }).waitFor();
  }

  /** Assert axe finds nothing serious on the current page. */
  async function accessible(what: string): Promise<void> {
    const v = await seriousViolations(page);
    assert.deepEqual(v, [], `${what}: ${JSON.stringify(v, null, 1)}`);
  }

  test("a page asked for before login comes back after logging in with the keyboard", async () => {
    await page.goto(`${base}/project/instances`);
    await page.waitForURL(/\/login\?next=%2Fproject%2Finstances/);
    await page.locator("#id_username").waitFor();
    // Horizon's field names, for scripts written against Horizon's login form.
    assert.equal(await page.locator("#id_username").getAttribute("name"), "username");
    assert.equal(await page.locator("#id_password").getAttribute("name"), "password");
    await shot(page, "login");
    await accessible("login");
    // Validation before sending: an empty password is refused in the page.
    await page.locator("#id_username").fill("demo");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText("Enter your password.").waitFor();
    // A wrong password shows Keystone's own message.
    await page.locator("#id_password").fill("wrong");
    await page.keyboard.press("Enter");
    await page
      .getByRole("alert")
      .filter({ hasText: /authenticat/i })
      .waitFor();
    await page.locator("#id_password").fill(demoPassword);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/project/instances`);
    await page.getByRole("heading", { level: 1, name: "Instances" }).waitFor();
    assert.equal(await page.getByTestId("user-name").textContent(), "demo");
  });

  test("Overview shows compute and network quota usage", async () => {
    await open("/project/", "Overview");
    await page.getByRole("progressbar", { name: /^Instances: 0 of / }).waitFor();
    await page.getByRole("progressbar", { name: /^Networks: \d+ of / }).waitFor();
  });

  test("an image uploads from a local file with a progress bar that reaches 100%", async () => {
    await open("/project/images", "Images");
    await page.getByRole("button", { name: "Upload Image" }).click();
    // Validation: nothing is sent without a file.
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByText("Choose a file.").waitFor();
    const bytes = Buffer.alloc(4 * 1024 * 1024, 7);
    await page
      .locator("#image-file")
      .setInputFiles({ name: "web-image.raw", mimeType: "application/octet-stream", buffer: bytes });
    await page.locator("#image-name").fill("web-image");
    await page.locator("#image-format").selectOption("raw");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    const bar = page.getByRole("progressbar", { name: "Upload progress" });
    await page.waitForFunction(
      () =>
        (globalThis as any).document
          .querySelector("[aria-label='Upload progress']")
          ?.getAttribute("aria-valuenow") === "100",
    );
    assert.equal(await bar.getAttribute("aria-valuenow"), "100");
    await shot(page, "image-upload");
    await page.getByRole("button", { name: "Done", exact: true }).click();
    const row = page.locator("tr", { hasText: "web-image" });
    await row.getByText("active", { exact: true }).waitFor();
    assert.match((await row.textContent()) ?? "", /4\.0 MiB/);
  });

  test("a security group rule is added from the HTTP preset", async () => {
    await open("/project/security_groups", "Security Groups");
    await page.getByRole("button", { name: "Add rule to default" }).click();
    await page.locator("#rule-preset").selectOption("http");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.locator('[data-rule="ingress IPv4 tcp port 80 from 0.0.0.0/0"]').waitFor();
    // A custom rule is checked before sending; a rule is deleted after confirmation.
    await page.getByRole("button", { name: "Add rule to default" }).click();
    await page.locator("#rule-preset").selectOption("custom-udp");
    await page.locator("#rule-min").fill("70000");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.getByText("A port from 1 to 65535.").waitFor();
    await page.locator("#rule-min").fill("5353");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    const udp = page.locator('[data-rule="ingress IPv4 udp port 5353 from 0.0.0.0/0"]');
    await udp.waitFor();
    await udp.getByRole("button", { name: /^Delete rule/ }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await udp.waitFor({ state: "detached" });
  });

  test("a launched instance becomes Active in the list without a reload, and its console log opens", async () => {
    await open("/project/instances", "Instances");
    await page.evaluate(() => ((globalThis as any).__sameDocument = true));
    await page.getByRole("button", { name: "Launch Instance" }).click();
    // Validation before sending.
    await page.getByRole("button", { name: "Launch", exact: true }).click();
    await page.getByText("Enter a name.").waitFor();
    await page.getByText("Choose an image.").waitFor();
    await page.locator("#launch-name").fill(server);
    await page.locator("#launch-image").selectOption({ label: "web-image" });
    await page.locator("#launch-flavor").selectOption({ index: 1 });
    await page.getByLabel("private").check();
    await page.getByRole("button", { name: "Launch", exact: true }).click();
    const row = page.locator("tr", { hasText: server });
    await row.locator('[data-status="ACTIVE"]').waitFor({ timeout: 120_000 });
    assert.equal(
      await page.evaluate(() => (globalThis as any).__sameDocument),
      true,
      "the page was reloaded",
    );
    assert.match((await row.textContent()) ?? "", /\d+\.\d+\.\d+\.\d+/, "the instance's address is listed");
    await shot(page, "instances");
    await row.getByRole("link", { name: server }).click();
    await page.getByRole("heading", { level: 1, name: `Instance ${server}` }).waitFor();
    const log = page.getByTestId("console-log");
    await log.waitFor();
    assert.doesNotMatch((await log.textContent()) ?? "", /Could not/);
    await shot(page, "instance-detail");
    await accessible("instance detail");
  });

  test("a floating IP is allocated and associated with the instance", async () => {
    await open("/project/floating_ips", "Floating IPs");
    await page.getByRole("button", { name: "Allocate IP to Project" }).click();
    await page.locator("#fip-pool").selectOption({ label: "public" });
    await page.getByRole("button", { name: "Allocate IP", exact: true }).click();
    const associate = page.getByRole("button", { name: /^Associate \d/ });
    await associate.first().click();
    await page.locator("#assoc-port option", { hasText: server }).first().waitFor({ state: "attached" });
    const value = await page.locator("#assoc-port option", { hasText: server }).first().getAttribute("value");
    await page.locator("#assoc-port").selectOption(value!);
    await page.getByRole("button", { name: "Associate", exact: true }).click();
    await page
      .locator("tr", { hasText: server })
      .getByRole("button", { name: /^Disassociate / })
      .waitFor();
    await shot(page, "floating-ips");
  });

  test("a key pair is created with its private key downloaded; a bad public key is refused before sending", async () => {
    await open("/project/key_pairs", "Key Pairs");
    await page.getByRole("button", { name: "Create Key Pair" }).click();
    await page.locator("#key-name").fill("web-key");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Create", exact: true }).click(),
    ]);
    assert.equal(download.suggestedFilename(), "web-key.pem");
    const pem = await readFile((await download.path())!, "utf8");
    assert.match(pem, /PRIVATE KEY/);
    await page.locator("tr", { hasText: "web-key" }).waitFor();
    await page.getByRole("button", { name: "Import Public Key" }).click();
    await page.locator("#key-name").fill("imported");
    await page.locator("#key-public").fill("not a key");
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.getByText("Paste an OpenSSH public key").waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
  });

  test("a network is created with a subnet after its CIDR is checked", async () => {
    await open("/project/networks", "Networks");
    await page.getByRole("button", { name: "Create Network" }).click();
    await page.locator("#net-name").fill("web-net");
    await page.locator("#net-cidr").fill("10.20.0.0/33");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByText(/Enter a CIDR such as/).waitFor();
    await page.locator("#net-cidr").fill("10.20.0.0/24");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.locator("tr", { hasText: "web-net" }).getByText("10.20.0.0/24").waitFor();
  });

  test("every main page loads, has no serious or critical axe violation, and fits a phone's width", async () => {
    for (const [path, title, name] of PAGES) {
      await open(path, title);
      // Wait for the page's data (its spinner gone) before checking it.
      await page.waitForFunction(() => !(globalThis as any).document.querySelector(".pf-v6-c-spinner"));
      await shot(page, name);
      await accessible(title);
    }
    await page.getByText("Dark theme").click();
    for (const [path, title, name] of PAGES.slice(0, 3)) {
      await open(path, title);
      await page.waitForFunction(() => !(globalThis as any).document.querySelector(".pf-v6-c-spinner"));
      await shot(page, `${name}-dark`);
      await accessible(`${title} (dark)`);
    }
    await page.getByText("Dark theme").click();
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [path, title, name] of PAGES.slice(0, 3)) {
        await open(path, title);
        await page.waitForFunction(() => !(globalThis as any).document.querySelector(".pf-v6-c-spinner"));
        // Neither the page nor its table (which may scroll inside its section) is wider than the screen.
        const overflow = await page.evaluate(() => {
          const w = globalThis as any;
          const d = w.document.documentElement;
          let worst = d.scrollWidth - d.clientWidth;
          for (const el of w.document.querySelectorAll("table, h1, .pf-v6-c-toolbar"))
            worst = Math.max(worst, el.getBoundingClientRect().right - w.innerWidth);
          return worst;
        });
        assert.ok(overflow <= 1, `${title} is ${overflow} px wider than a phone's screen`);
        await shot(page, `${name}-phone`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  test("the instance is deleted after confirmation", async () => {
    await open("/project/instances", "Instances");
    const row = page.locator("tr", { hasText: server });
    await row.getByRole("button", { name: `Delete ${server}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await row.waitFor({ state: "detached", timeout: 120_000 });
  });

  test("an expired token sends the user to the login page, keeping the page to return to", async () => {
    await open("/project/images", "Images");
    await page.evaluate(() => {
      const ss = (globalThis as any).sessionStorage;
      const v = JSON.parse(ss.getItem("stratus.session"));
      v.session.token = "gAAAAA-not-a-token";
      ss.setItem("stratus.session", JSON.stringify(v));
    });
    await page.goto(`${base}/project/key_pairs`);
    await page.waitForURL(/\/login\?next=%2Fproject%2Fkey_pairs&reason=expired/);
    await page.getByText("Your session has ended").waitFor();
  });

  test("logout revokes the token and returns to the login page", async () => {
    await page.locator("#id_username").fill("demo");
    await page.locator("#id_password").fill(demoPassword);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${base}/project/key_pairs`);
    const token = await page.evaluate(
      () => JSON.parse((globalThis as any).sessionStorage.getItem("stratus.session")).session.token as string,
    );
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(`${base}/login`);
    // The token no longer authenticates anything.
    const r = await fetch(`${base}/identity/v3/auth/projects`, { headers: { "x-auth-token": token } });
    assert.equal(r.status, 401, "the token still works after logout");
  });

  test("nothing broke the Content-Security-Policy or threw in the page", () => {
    const bad = browser.errors.filter((e) => /Content Security Policy|pageerror/.test(e));
    assert.deepEqual(bad, []);
  });
});
