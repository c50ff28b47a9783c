// Image benchmark: stream a large raw image up (PUT /v2/images/{id}/file) and down (GET) over loopback, against
// a `cat FILE > /dev/null` baseline on the same file, while sampling the server's RSS every 50 ms.
//
// Two references put the figures in context: md5 + sha512 of the file in one thread (every upload computes both,
// Glance's `checksum` and `os_hash_value`), and a plain node:http server in its own process that streams the same
// file down and writes an upload to a file (and fsyncs it) without hashing or inspecting: what Node does over
// loopback here with the same client.
//
// BENCH_IMAGE_MIB sets the image size (default 1024 MiB); BENCH_CPU_PROF=DIR writes the Stratus server's V8 CPU
// profile there (open it in Chrome's DevTools). The file is a 4 MiB random block repeated (not zeros, so nothing
// along the way can compress or skip it); it lives in a temp dir that is removed at the end.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { adminToken, printRows, rssBytes, sampleRss, startStratus } from "./lib.js";

const MIB = 1024 * 1024;
const sizeMiB = Number(process.env.BENCH_IMAGE_MIB ?? 1024);
const size = sizeMiB * MIB;
const BLOCK = 4 * MIB;
const RSS_TARGET = 64 * MIB;
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** Write `size` bytes of a repeated random block; returns the file's md5 (what the server must report). */
async function makeFile(path: string): Promise<string> {
  const block = randomBytes(BLOCK);
  const md5 = createHash("md5");
  const out = createWriteStream(path);
  for (let off = 0; off < size; off += BLOCK) {
    const chunk = off + BLOCK <= size ? block : block.subarray(0, size - off);
    md5.update(chunk);
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "close");
  return md5.digest("hex");
}

/** `cat FILE > /dev/null` in a child process: milliseconds. */
async function catBaseline(path: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn("cat", [path], { stdio: ["ignore", "ignore", "inherit"] });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`cat exited ${code}`);
  return performance.now() - t0;
}

/** md5 + sha512 of the file in this process, one thread: milliseconds. */
async function hashFile(path: string): Promise<number> {
  const md5 = createHash("md5");
  const sha512 = createHash("sha512");
  const t0 = performance.now();
  for await (const chunk of createReadStream(path, { highWaterMark: MIB })) {
    md5.update(chunk as Buffer);
    sha512.update(chunk as Buffer);
  }
  md5.digest();
  sha512.digest();
  return performance.now() - t0;
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

/** One measured transfer: its duration, and the peak RSS growth of `pid` over its idle RSS just before. */
interface Transfer {
  ms: number;
  growth: number;
}

async function transfer(pid: number, fn: () => Promise<void>): Promise<Transfer> {
  await sleep(300);
  const idle = await idleRss(pid);
  const sampler = sampleRss(pid, 50);
  const t0 = performance.now();
  const failed = await fn().then(
    () => null,
    (e: unknown) => ({ e }),
  );
  const ms = performance.now() - t0;
  const { peak } = sampler.stop();
  if (failed) throw failed.e;
  return { ms, growth: peak - idle };
}

/** PUT a file as the request body (streamed from disk); throws unless the answer is 2xx. */
async function put(url: string, path: string, headers: Record<string, string>): Promise<void> {
  const r = await request(url, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/octet-stream", "content-length": String(size) },
    body: createReadStream(path, { highWaterMark: MIB }),
  });
  const text = await r.body.text();
  if (r.statusCode < 200 || r.statusCode > 299) throw new Error(`PUT ${url}: HTTP ${r.statusCode}: ${text}`);
}

/** GET a URL and discard the body; returns the byte count. */
async function get(url: string, headers: Record<string, string>): Promise<number> {
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

const profDir = process.env.BENCH_CPU_PROF;
const cloud = await startStratus(
  { STRATUS_LOG_LEVEL: "error" },
  profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [],
);
const pid = cloud.child.pid!;
const work = mkdtempSync(join(tmpdir(), "stratus-bench-image-"));
const file = join(work, "image.raw");
let plain: { child: ChildProcess; url: string } | null = null;
try {
  console.log(`writing a ${sizeMiB} MiB test file (a 4 MiB random block repeated) to ${file}`);
  const expectedMd5 = await makeFile(file);

  // The file was just written, so it is in the page cache for every reader below alike; one warm-up read.
  await catBaseline(file);
  const catMs = Math.min(await catBaseline(file), await catBaseline(file));
  const hashMs = await hashFile(file);

  const plainScript = join(work, "plain-server.mjs");
  writeFileSync(plainScript, PLAIN_SERVER);
  plain = await startPlain(plainScript, file, join(work, "plain-upload.raw"));
  const plainUp = await transfer(plain.child.pid!, () => put(plain!.url, file, {}));
  let plainGot = 0;
  const plainDown = await transfer(plain.child.pid!, async () => void (plainGot = await get(plain!.url, {})));
  if (plainGot !== size) throw new Error(`plain download: got ${plainGot} bytes of ${size}`);
  plain.child.kill();
  plain = null;
  rmSync(join(work, "plain-upload.raw"), { force: true });

  const token = await adminToken(cloud);
  const base = `${cloud.url}/image/v2/images`;
  const auth = { "x-auth-token": token };
  const created = await request(base, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench", disk_format: "raw", container_format: "bare" }),
  });
  const img = (await created.body.json()) as { id: string };
  if (created.statusCode !== 201) throw new Error(`image create: HTTP ${created.statusCode}`);

  const up = await transfer(pid, () => put(`${base}/${img.id}/file`, file, auth));
  const shown = await request(`${base}/${img.id}`, { headers: auth });
  const meta = (await shown.body.json()) as { status: string; size: number; checksum: string };
  if (meta.status !== "active" || meta.size !== size || meta.checksum !== expectedMd5)
    throw new Error(`after upload: ${JSON.stringify(meta)} (expected size ${size}, md5 ${expectedMd5})`);

  let received = 0;
  const down = await transfer(pid, async () => void (received = await get(`${base}/${img.id}/file`, auth)));
  if (received !== size) throw new Error(`download: got ${received} bytes of ${size}`);

  const catRate = mbps(size, catMs);
  const target = "≥ 50% of baseline; RSS growth < 64 MiB";
  const row = (name: string, ms: number, growth: number | null, note = ""): string[] => [
    name,
    mbps(size, ms).toFixed(0),
    `${((100 * mbps(size, ms)) / catRate).toFixed(1)}%`,
    growth === null ? "" : (growth / MIB).toFixed(1),
    note,
  ];
  console.log(`\n${sizeMiB} MiB raw image over loopback; server RSS sampled every 50 ms\n`);
  printRows(
    ["scenario", "MB/s", "% of baseline", "peak RSS growth MiB", "target / note"],
    [
      row("cat FILE > /dev/null (baseline)", catMs, null, "page cache → /dev/null"),
      row("md5 + sha512, one thread", hashMs, null, "reference: the hashing every upload does"),
      row(
        "plain node:http PUT → file + fsync",
        plainUp.ms,
        plainUp.growth,
        "reference: no hashing, no inspection",
      ),
      row("plain node:http GET", plainDown.ms, plainDown.growth, "reference"),
      row("Stratus upload (PUT /file)", up.ms, up.growth, target),
      row("Stratus download (GET /file)", down.ms, down.growth, target),
    ],
  );
  const misses: string[] = [];
  for (const [what, t] of [
    ["upload", up],
    ["download", down],
  ] as const) {
    if (mbps(size, t.ms) < catRate / 2) misses.push(`${what} throughput is below 50% of the baseline`);
    if (t.growth >= RSS_TARGET) misses.push(`${what} grew the server's RSS by 64 MiB or more`);
  }
  console.log(misses.length ? `\nMISSED: ${misses.join("; ")}` : "\nall targets met");
  await request(`${base}/${img.id}`, { method: "DELETE", headers: auth }).then((r) => r.body.dump());
} finally {
  plain?.child.kill();
  await cloud.stop();
  rmSync(work, { recursive: true, force: true });
}
