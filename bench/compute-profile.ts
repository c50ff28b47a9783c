// Hot spots of a V8 CPU profile (node --cpu-prof) of the Stratus server, per benchmark phase. Phases are
// windows of the monotonic clock (process.hrtime, the clock V8 stamps profile samples with on Linux), so the
// samples of one phase can be picked out of the profile of the whole run.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { printRows } from "./lib.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A phase of the run: [start, end) in µs of the monotonic clock. */
export interface Window {
  name: string;
  start: number;
  end: number;
}

/** Now, in µs of the monotonic clock. */
export const monoMicros = (): number => Number(process.hrtime.bigint() / 1000n);

const ROOT = process.cwd();

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url
    .replace(/^file:\/\//, "")
    .replace(`${ROOT}/`, "")
    .replace(/^.*node_modules\//, "~");
  if (!url) return `(${functionName || "program"})`;
  return `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
}

/** The area of a frame: a package under node_modules, a directory of dist/src, node internals or V8. */
function area(n: ProfileNode): string {
  const url = n.callFrame.url;
  if (!url) return n.callFrame.functionName.startsWith("(") ? n.callFrame.functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const src = /dist\/src\/(.*)\/[^/]+$/.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith("node:")) return "node internals";
  return url.replace(/^file:\/\//, "").replace(`${ROOT}/`, "");
}

/** Print the top self-time functions and areas of the newest profile in `dir`, whole run and per window. */
export function printHotSpots(dir: string, windows: Window[], top = 15): void {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) {
    console.log(`no .cpuprofile in ${dir}`);
    return;
  }
  const file = join(dir, files.sort().at(-1)!);
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // The nearest frame of Stratus's own code (dist/src) on a sample's synchronous stack: who called the library
  // code that burnt the time (after an await the stack starts at the microtask queue: "(no src frame)").
  const owner = new Map<number, string>();
  const ownerOf = (id: number): string => {
    let o = owner.get(id);
    if (o !== undefined) return o;
    const n = byId.get(id)!;
    if (n.callFrame.url.includes("/dist/src/")) o = frameName(n);
    else {
      const up = parent.get(id);
      o = up === undefined ? "(no src frame)" : ownerOf(up);
    }
    owner.set(id, o);
    return o;
  };
  // Sample i is at startTime + sum(timeDeltas[0..i]) and stands for the time until the next one.
  const times: number[] = new Array(p.samples.length);
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) times[i] = t += p.timeDeltas[i];
  const report = (name: string, start: number, end: number) => {
    const self = new Map<string, number>();
    const areas = new Map<string, number>();
    const owners = new Map<string, number>();
    let total = 0;
    let idle = 0;
    for (let i = 0; i < p.samples.length; i++) {
      if (times[i] < start || times[i] >= end) continue;
      const dt = (i + 1 < times.length ? times[i + 1] : p.endTime) - times[i];
      const n = byId.get(p.samples[i])!;
      total += dt;
      if (n.callFrame.functionName === "(idle)") {
        idle += dt;
        continue;
      }
      const f = frameName(n);
      self.set(f, (self.get(f) ?? 0) + dt);
      const a = area(n);
      areas.set(a, (areas.get(a) ?? 0) + dt);
      const o = ownerOf(n.id);
      owners.set(o, (owners.get(o) ?? 0) + dt);
    }
    if (total === 0) return;
    const busy = total - idle;
    console.log(
      `\nCPU profile, ${name}: ${(total / 1e6).toFixed(1)} s, busy ${((busy / total) * 100).toFixed(0)}% ` +
        `(self time; % of busy)`,
    );
    const rows = (m: Map<string, number>) =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => [((v / busy) * 100).toFixed(1), (v / 1000).toFixed(0), k]);
    printRows(["%", "ms", "area"], rows(areas).slice(0, 10));
    console.log("");
    printRows(["%", "ms", "function (self time)"], rows(self));
    console.log("");
    printRows(
      ["%", "ms", "nearest Stratus function on the stack (self time of it and the libraries it calls)"],
      rows(owners),
    );
  };
  console.log(`\nprofile: ${file}`);
  let any = false;
  for (const w of windows) {
    const inside = times.some((x) => x >= w.start && x < w.end);
    if (inside) {
      any = true;
      report(w.name, w.start, w.end);
    }
  }
  if (!any) report("whole run", -Infinity, Infinity);
}
