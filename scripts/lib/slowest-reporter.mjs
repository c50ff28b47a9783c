// A node:test reporter that prints, once the run ends, the test files that took longest (the sum of their top-level
// tests' durations, which includes suite hooks), so that CI's time budget can be watched and trimmed where it goes.
import { relative } from "node:path";

/** How many files the summary lists. */
const SHOWN = 15;

/** node --test reporter: collects per-file durations, yields one summary block at the end. */
export default async function* slowestFiles(source) {
  const byFile = new Map();
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { nesting, file, details } = event.data;
    if (nesting !== 0 || !file) continue;
    byFile.set(file, (byFile.get(file) ?? 0) + (details?.duration_ms ?? 0));
  }
  const rows = [...byFile].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((s, [, ms]) => s + ms, 0);
  const lines = rows
    .slice(0, SHOWN)
    .map(([f, ms]) => `#   ${(ms / 1000).toFixed(1).padStart(7)} s  ${relative(process.cwd(), f)}`);
  yield `# slowest test files (of ${rows.length}, ${(total / 1000).toFixed(0)} s summed over files):\n${lines.join("\n")}\n`;
}
