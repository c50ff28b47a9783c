// A real headless browser for tests: Debian's chromium driven by playwright-core (no downloaded browser), with a
// fresh profile per launch and no background traffic. Tests skip with SKIP_BROWSER when chromium is missing
// outside CI (under CI it is installed, and a missing one must fail).
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = process.env.STRATUS_CHROMIUM ?? "/usr/bin/chromium";

/** Skip reason when chromium is not installed (never under CI). */
export const SKIP_BROWSER: string | false =
  existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is missing (apt-get install chromium)`;

/** A launched browser with its own profile directory. */
export interface TestBrowser {
  /** The browser's (persistent, per-launch) context. */
  context: BrowserContext;
  /** A new page (its console errors are collected in `errors`). */
  page(): Promise<Page>;
  /** Page errors and console error messages seen so far, for failure messages. */
  errors: string[];
  close(): Promise<void>;
}

/** Launch headless chromium with a fresh profile. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "stratus-chromium-"));
  // A persistent context is how playwright takes a profile directory of our choosing (fresh each launch).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const errors: string[] = [];
  return {
    context,
    errors,
    async page() {
      const p = await context.newPage();
      p.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
      p.on("console", (m) => {
        if (m.type() === "error") errors.push(`console: ${m.text()}`);
      });
      return p;
    },
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** The average colour [r, g, b] of a region of a PNG screenshot of `page`, read in the page itself. */
export async function regionColor(
  page: Page,
  clip: { x: number; y: number; width: number; height: number },
): Promise<[number, number, number]> {
  const png = (await page.screenshot({ clip })).toString("base64");
  return page.evaluate(async (b64: string) => {
    // Runs in the page (the test's own tsconfig has no DOM types).
    const w = globalThis as any;
    const img = new w.Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = w.document.createElement("canvas");
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext("2d");
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data as number[];
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k]! += d[i + k]!;
    const n = d.length / 4;
    return [Math.round(sum[0]! / n), Math.round(sum[1]! / n), Math.round(sum[2]! / n)] as [
      number,
      number,
      number,
    ];
  }, png);
}

/** Open a Stratus noVNC console URL in `page` and wait until it settles: "connected", or "disconnected" (refused). */
export async function openConsolePage(page: Page, url: string, timeoutMs = 30_000): Promise<string> {
  await page.goto(url);
  const status = page.locator("#status:not([data-state=connecting])");
  await status.waitFor({ timeout: timeoutMs });
  return (await status.getAttribute("data-state")) ?? "";
}

/** US-layout keys typed with Shift, by the character they give. */
const SHIFTED: Record<string, string> = {
  "!": "Digit1",
  "@": "Digit2",
  "#": "Digit3",
  $: "Digit4",
  "%": "Digit5",
  "^": "Digit6",
  "&": "Digit7",
  "*": "Digit8",
  "(": "Digit9",
  ")": "Digit0",
  _: "Minus",
  "+": "Equal",
  "{": "BracketLeft",
  "}": "BracketRight",
  "|": "Backslash",
  ":": "Semicolon",
  '"': "Quote",
  "<": "Comma",
  ">": "Period",
  "?": "Slash",
  "~": "Backquote",
};

/**
 * Type `text` into a VNC console as a person would, Shift held for capitals and symbols: playwright's
 * keyboard.type sends "$" without a Shift key event, and QEMU (which noVNC sends key scan codes) then sees "4".
 */
export async function typeOnConsole(page: Page, text: string): Promise<void> {
  for (const ch of text) {
    const code = /^[A-Z]$/.test(ch) ? `Key${ch}` : Object.hasOwn(SHIFTED, ch) ? SHIFTED[ch] : undefined;
    if (code) await page.keyboard.press(`Shift+${code}`);
    else if (ch === "\n") await page.keyboard.press("Enter");
    else await page.keyboard.type(ch);
  }
}
