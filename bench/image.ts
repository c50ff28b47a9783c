// Image benchmark: a large raw image up (PUT /v2/images/{id}/file) and down (GET) over loopback with curl and with
// the openstack CLI, next to the limits of this machine measured in the same run: `cat FILE > /dev/null` (reading
// the page cache), `dd ... conv=fsync` (writing the file to disk), md5 + sha512 in one thread, and a plain node:http
// server that streams the file down and writes an upload to a file without hashing or inspecting it.
//
// For every transfer it samples the server's RSS every 50 ms (peak growth over the idle RSS just before) and
// reads the server's CPU time (all threads, /proc/PID/stat). The machine is shared, so absolute figures are noisy:
// compare against the baselines of the same run, and use --rounds.
//
// Options: --mib N (image size, default 1024; env BENCH_IMAGE_MIB), --rounds N (default 2), --no-cli.
// BENCH_CPU_PROF=DIR writes the Stratus server's V8 CPU profiles there (one per thread; open in Chrome DevTools).
// The file is a 4 MiB random block repeated (nothing along the way can compress or skip it), in a temp dir.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { adminToken, printRows, rssBytes, sampleRss, startStratus } from "./lib.js";

const MIB = 1024 * 1024;
const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const sizeMiB = opt("mib", Number(process.env.BENCH_IMAGE_MIB ?? 1024));
const rounds = Math.max(1, opt("rounds", 2));
const size = sizeMiB * MIB;
const BLOCK = 4 * MIB;
const RSS_TARGET = 32 * MIB;
/** Glance Zed on this machine, same method (issue 8): what Stratus must at least match. */
const GLANCE = { up: "242-276", down: "1393-1419", cliUp: "170-180" };
const CLI = "/usr/bin/openstack";
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const curl = ["/usr/bin/curl", "/usr/local/bin/curl"].find((p) => existsSync(p)) ?? null;

/** The plain node:http reference server (run as its own process): GET streams FILE, PUT writes SINK and fsyncs. */
const PLAIN_SERVER = `
import { createServer } from "node:http";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
const [file, sink] = process.argv.slice(2);
const size = statSync(file).size;
const server = createServer(async (req, res) => {
  try {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": size });
      await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), res);
    } else {
      await pipeline(req, createWriteStream(sink, { highWaterMark: 1 << 20 }));
      const fh = await open(sink, "r");
      await fh.sync();
      await fh.close();
      res.writeHead(204).end();
    }
  } catch (e) {
    res.destroy(e);
  }
});
server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
`;

/** Run a program; resolves with its stdout, rejects on a non-zero exit. */
function run(cmd: string, argv: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, argv, { env: { ...process.env, ...env }, maxBuffer: 16 * MIB }, (err, out, errOut) =>
      err ? reject(new Error(`${cmd} ${argv.join(" ")}: ${err.message} ${errOut}`)) : resolve(out),
    ),
  );
}

/** Run a program with its output to /dev/null (as `cat FILE > /dev/null`); rejects on a non-zero exit. */
async function runQuiet(cmd: string, argv: string[]): Promise<void> {
  const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "inherit"] });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${cmd} exited ${code}`);
}

/** Write `size` bytes of a repeated random block; returns the file's md5 (what the server must report). */
async function makeFile(path: string, bytes: number): Promise<string> {
  const block = randomBytes(BLOCK);
  const md5 = createHash("md5");
  const out = createWriteStream(path);
  for (let off = 0; off < bytes; off += BLOCK) {
    const chunk = off + BLOCK <= bytes ? block : block.subarray(0, bytes - off);
    md5.update(chunk);
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "close");
  return md5.digest("hex");
}

/** Milliseconds `fn` takes. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** md5 + sha512 of the file in this process, one thread: milliseconds. */
async function hashFile(path: string): Promise<number> {
  const md5 = createHash("md5");
  const sha512 = createHash("sha512");
  return timed(async () => {
    for await (const chunk of createReadStream(path, { highWaterMark: MIB })) {
      md5.update(chunk as Buffer);
      sha512.update(chunk as Buffer);
    }
    md5.digest();
    sha512.digest();
  });
}

/** CPU seconds a process has used so far, all its threads (utime + stime of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's idle RSS: the median of five samples 50 ms apart. */
async function idleRss(pid: number): Promise<number> {
  const v: number[] = [];
  for (let i = 0; i < 5; i++) {
    v.push(rssBytes(pid) ?? 0);
    await sleep(50);
  }
  return v.sort((a, b) => a - b)[2];
}

/** One measured transfer: duration, peak RSS growth of the server over its idle RSS, server CPU seconds. */
interface Transfer {
  ms: number;
  growth: number;
  cpu: number;
}

async function transfer(pid: number, fn: () => Promise<unknown>): Promise<Transfer> {
  await sleep(300);
  const idle = await idleRss(pid);
  const cpu0 = cpuSeconds(pid);
  const sampler = sampleRss(pid, 50);
  const t0 = performance.now();
  const failed = await fn().then(
    () => null,
    (e: unknown) => ({ e }),
  );
  const ms = performance.now() - t0;
  const { peak } = sampler.stop();
  if (failed) throw failed.e;
  return { ms, growth: peak - idle, cpu: cpuSeconds(pid) - cpu0 };
}

/** PUT a file as the request body: curl when installed (as the issue measured), else undici. */
async function put(url: string, path: string, headers: Record<string, string>): Promise<void> {
  const h = { ...headers, "content-type": "application/octet-stream" };
  if (curl) {
    const hdr = Object.entries(h).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
    const code = await run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", path, ...hdr, url]);
    if (!code.startsWith("2")) throw new Error(`PUT ${url}: HTTP ${code}`);
    return;
  }
  const r = await request(url, {
    method: "PUT",
    headers: { ...h, "content-length": String(size) },
    body: createReadStream(path, { highWaterMark: MIB }),
  });
  const text = await r.body.text();
  if (r.statusCode < 200 || r.statusCode > 299) throw new Error(`PUT ${url}: HTTP ${r.statusCode}: ${text}`);
}

/** GET a URL and discard the body (curl when installed); returns the byte count. */
async function get(url: string, headers: Record<string, string>): Promise<number> {
  if (curl) {
    const hdr = Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
    const out = await run(curl, [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code} %{size_download}",
      ...hdr,
      url,
    ]);
    const [code, n] = out.split(" ");
    if (code !== "200") throw new Error(`GET ${url}: HTTP ${code}`);
    return Number(n);
  }
  const r = await request(url, { headers });
  if (r.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${r.statusCode}`);
  let n = 0;
  for await (const chunk of r.body) n += (chunk as Buffer).length;
  return n;
}

/** Start the plain node:http reference server; resolves with its process and URL. */
async function startPlain(script: string, file: string, sink: string) {
  const child: ChildProcess = spawn(process.execPath, [script, file, sink], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  return { child, url: `http://127.0.0.1:${line.toString().trim()}/` };
}

/** Figures of one scenario over the rounds. */
class Series {
  readonly runs: Transfer[] = [];
  add(t: Transfer): void {
    this.runs.push(t);
  }
  best(): Transfer {
    return this.runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  }
}

const profDir = process.env.BENCH_CPU_PROF;
const cloud = await startStratus(
  { STRATUS_LOG_LEVEL: "error" },
  profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [],
  { readyTimeoutMs: 180_000 }, // a loaded machine starts it slowly
);
const pid = cloud.child.pid!;
const work = mkdtempSync(join(tmpdir(), "stratus-bench-image-"));
const file = join(work, "image.raw");
let plain: { child: ChildProcess; url: string } | null = null;
try {
  console.log(`writing a ${sizeMiB} MiB test file (a 4 MiB random block repeated) to ${file}`);
  const expectedMd5 = await makeFile(file, size);
  const cli = existsSync(CLI) && !args.includes("--no-cli");
  const series = new Map<string, Series>();
  const record = (name: string, t: Transfer) => {
    if (!series.has(name)) series.set(name, new Series());
    series.get(name)!.add(t);
  };
  const token = await adminToken(cloud);
  const base = `${cloud.url}/image/v2/images`;
  const auth = { "x-auth-token": token };
  // The CLI authenticates with the token (v3token): a password login would run scrypt (128 MiB) on the server and
  // count it as the transfer's memory growth.
  const cliEnv = {
    OS_AUTH_TYPE: "v3token",
    OS_TOKEN: token,
    OS_AUTH_URL: `${cloud.url}/identity/v3`,
    OS_PROJECT_NAME: "admin",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_IDENTITY_API_VERSION: "3",
  };
  const create = async (name: string) => {
    const r = await request(base, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name, disk_format: "raw", container_format: "bare" }),
    });
    const img = (await r.body.json()) as { id: string };
    if (r.statusCode !== 201) throw new Error(`image create: HTTP ${r.statusCode}`);
    return img.id;
  };
  const remove = (id: string) =>
    request(`${base}/${id}`, { method: "DELETE", headers: auth }).then((r) => r.body.dump());

  // Warm-up: a small image up and down, so one-time costs (hash worker threads, code paths) are not counted as growth.
  const warm = join(work, "warm.raw");
  await makeFile(warm, 8 * MIB);
  const idleCold = await idleRss(pid);
  const warmId = await create("warm-up");
  await put(`${base}/${warmId}/file`, warm, auth);
  await get(`${base}/${warmId}/file`, auth);
  await remove(warmId);
  const idleWarm = await idleRss(pid);

  const plainScript = join(work, "plain-server.mjs");
  writeFileSync(plainScript, PLAIN_SERVER);
  for (let round = 0; round < rounds; round++) {
    // Baselines of this round: the same file read from the page cache, copied to disk, hashed.
    const out = join(work, "dd.out");
    record("cat FILE > /dev/null", { ms: await timed(() => runQuiet("cat", [file])), growth: 0, cpu: 0 });
    record("dd FILE → file, conv=fsync", {
      ms: await timed(() => run("dd", [`if=${file}`, `of=${out}`, "bs=1M", "conv=fsync", "status=none"])),
      growth: 0,
      cpu: 0,
    });
    rmSync(out, { force: true });
    record("md5 + sha512, one thread", { ms: await hashFile(file), growth: 0, cpu: 0 });

    plain = await startPlain(plainScript, file, join(work, "plain-upload.raw"));
    const pp = plain.child.pid!;
    record("plain node:http PUT → file + fsync", await transfer(pp, () => put(plain!.url, file, {})));
    record("plain node:http GET", await transfer(pp, () => get(plain!.url, {})));
    plain.child.kill();
    plain = null;
    rmSync(join(work, "plain-upload.raw"), { force: true });

    const id = await create(`bench-${round}`);
    record("Stratus upload, curl", await transfer(pid, () => put(`${base}/${id}/file`, file, auth)));
    const shown = await request(`${base}/${id}`, { headers: auth });
    const meta = (await shown.body.json()) as { status: string; size: number; checksum: string };
    if (meta.status !== "active" || meta.size !== size || meta.checksum !== expectedMd5)
      throw new Error(`after upload: ${JSON.stringify(meta)} (expected size ${size}, md5 ${expectedMd5})`);
    let got = 0;
    record(
      "Stratus download, curl",
      await transfer(pid, async () => void (got = await get(`${base}/${id}/file`, auth))),
    );
    if (got !== size) throw new Error(`download: got ${got} bytes of ${size}`);
    await remove(id);

    if (cli) {
      const name = `bench-cli-${round}`;
      const cliArgs = ["image", "create", name, "--disk-format", "raw", "--container-format", "bare"];
      record(
        "Stratus upload, openstack image create --file",
        await transfer(pid, () => run(CLI, [...cliArgs, "--file", file, "-f", "value", "-c", "id"], cliEnv)),
      );
      const cliId = (await run(CLI, ["image", "show", name, "-f", "value", "-c", "id"], cliEnv)).trim();
      record(
        "Stratus download, openstack image save",
        await transfer(pid, () => run(CLI, ["image", "save", "--file", "/dev/null", cliId], cliEnv)),
      );
      await remove(cliId);
    }
  }

  const rate = (name: string) => mbps(size, series.get(name)!.best().ms);
  const readLimit = rate("cat FILE > /dev/null");
  const writeLimit = rate("dd FILE → file, conv=fsync");
  const rows = [...series].map(([name, s]) => {
    const b = s.best();
    const server = name.startsWith("Stratus") || name.startsWith("plain");
    const isUp = /upload|PUT/.test(name);
    const limit = isUp ? writeLimit : readLimit;
    return [
      name,
      mbps(size, b.ms).toFixed(0),
      s.runs.map((t) => mbps(size, t.ms).toFixed(0)).join(" "),
      server ? `${((100 * mbps(size, b.ms)) / limit).toFixed(0)}% of ${isUp ? "dd" : "cat"}` : "",
      server ? (Math.max(...s.runs.map((t) => t.growth)) / MIB).toFixed(1) : "",
      server ? (b.cpu / (size / 2 ** 30)).toFixed(1) : "",
    ];
  });
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  console.log(
    `\n${sizeMiB} MiB raw image over loopback, ${rounds} round(s), client ${curl ?? "undici"}, load average ${load}; server RSS idle ${(idleCold / MIB).toFixed(0)} MiB, ${(idleWarm / MIB).toFixed(0)} MiB after a warm-up upload (hash worker threads start)\n`,
  );
  printRows(
    ["scenario", "best MB/s", "each round", "vs same-run limit", "peak RSS growth MiB", "server CPU s/GiB"],
    rows,
  );
  console.log(
    `\nGlance Zed on this machine (issue 8, curl): upload ${GLANCE.up} MB/s, download ${GLANCE.down} MB/s, CLI upload ${GLANCE.cliUp} MB/s`,
  );
  const verdict = (name: string, glance: number, limit: number, limitName: string) => {
    if (!series.has(name)) return;
    const r = rate(name);
    console.log(
      `${name}: ${r.toFixed(0)} MB/s, ${r >= glance ? "at least" : "BELOW"} Glance's ${glance}, ${((100 * r) / limit).toFixed(0)}% of ${limitName} in this run`,
    );
  };
  verdict("Stratus upload, curl", 242, writeLimit, "dd conv=fsync");
  verdict("Stratus download, curl", 1393, readLimit, "cat");
  const misses: string[] = [];
  for (const [name, s] of series) {
    if (!name.startsWith("Stratus")) continue;
    const growth = Math.max(...s.runs.map((t) => t.growth));
    if (growth >= RSS_TARGET)
      misses.push(`${name} grew the server's RSS by ${(growth / MIB).toFixed(0)} MiB`);
  }
  console.log(misses.length ? `\nMISSED: ${misses.join("; ")}` : "\nmemory target met (< 32 MiB growth)");
} finally {
  plain?.child.kill();
  await cloud.stop();
  rmSync(work, { recursive: true, force: true });
}
