// Helpers of the dashboard's browser tests: where screenshots go, the built app's presence, and axe-core.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { ROOT } from "../helpers/stratus-process.js";

/** Where screenshots are saved (gitignored); printed by the tests. */
export const ARTIFACTS = join(ROOT, "test-artifacts", "dashboard");

/** The built dashboard's index.html (npm test builds it before running the tests). */
export const BUILT_INDEX = join(ROOT, "dist", "dashboard", "index.html");

/** Fail early with the fix when the dashboard has not been built. */
export function assertBuilt(): void {
  if (!existsSync(BUILT_INDEX))
    throw new Error(
      `${BUILT_INDEX} is missing: run the tests with npm test (it builds the dashboard), or node scripts/lib/dashboard-build.mjs`,
    );
}

/** Save a full-page screenshot named `name`.png under ARTIFACTS; returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** One axe violation, shortened for a failure message. */
export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Run axe-core (WCAG 2 A/AA rules) on the page; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol: the page's Content-Security-Policy rightly refuses inline scripts.
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (globalThis as any).axe;
    const r = await axe.run((globalThis as any).document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return (r.violations as any[])
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.slice(0, 5).map((n: any) => String(n.target)),
      }));
  });
}
