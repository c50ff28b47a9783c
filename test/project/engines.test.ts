// The Node versions package.json promises (README: Node 20) are ones every locked dependency supports, so that
// `npm ci` installs without EBADENGINE warnings on the oldest of them.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "../helpers/stratus-process.js";

/** semver, as npm itself reads engines (a dependency of the lint tool chain, so always installed for tests). */
const semver = createRequire(join(ROOT, "package.json"))("semver") as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

/** The lowest version of each range of our engines.node ("A || B"): where a dependency is likeliest to object. */
function lowestSupported(range: string): string[] {
  return range.split("||").map((r) => semver.minVersion(r.trim())!.version);
}

test("every locked package accepts the lowest Node version of each range package.json promises", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  const ours = lowestSupported(pkg.engines.node);
  assert.ok(
    ours.some((v) => v.startsWith("20.")),
    `package.json engines.node ${pkg.engines.node} must keep Node 20`,
  );
  const bad: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages as Record<string, any>)) {
    const wants = entry.engines?.node;
    if (!path || typeof wants !== "string") continue;
    for (const v of ours)
      if (!semver.satisfies(v, wants)) bad.push(`${path}@${entry.version} needs node ${wants}, not ${v}`);
  }
  assert.deepEqual(bad, []);
});
