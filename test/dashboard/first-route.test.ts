// The JavaScript the first route (the login page) ships, gzipped as the server sends it: the built index.html's
// entry script and the modules it preloads must stay within the 300 KiB budget. Prints the figure.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { assertBuilt, BUILT_INDEX } from "./helpers.js";

const BUDGET = 300 * 1024;

/** The gzipped size of a built asset (its .gz copy when the build wrote one). */
function gzSize(file: string): number {
  return existsSync(`${file}.gz`) ? readFileSync(`${file}.gz`).length : gzipSync(readFileSync(file)).length;
}

test("the login page's JavaScript is within 300 KiB gzipped", () => {
  assertBuilt();
  const html = readFileSync(BUILT_INDEX, "utf8");
  const urls = new Set<string>();
  for (const m of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"/g)) urls.add(m[1]!);
  for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) urls.add(m[1]!);
  assert.ok(urls.size > 0, "index.html names its entry script");
  const root = dirname(BUILT_INDEX);
  let total = 0;
  for (const u of urls) total += gzSize(join(root, u.replace(/^\//, "")));
  process.stderr.write(`# first route JS: ${(total / 1024).toFixed(1)} KiB gzip in ${urls.size} files\n`);
  assert.ok(total <= BUDGET, `${total} bytes gzipped > ${BUDGET}`);
});
