// Object storage benchmark (issue 12): 4 KiB PUT and GET objects/s at 1 and 8 concurrent clients, a large object
// PUT and GET in MB/s next to this machine's loopback-and-disk limit measured in the same run (a plain node:http
// server that writes the upload to a file and fsyncs it, and streams the file back), the server's peak RSS during
// the large transfers, and listing a container of many objects with prefix/delimiter.
//
// Options: --mib N (large object size, default 256), --objects N (listing container size, default 100000),
// BENCH_SECONDS (each small-object measurement, default 10), BENCH_WARMUP_SECONDS (unmeasured PUTs and GETs
// first, default 3; 0 for none), BENCH_NODE_ARGS (node flags for the cloud's
// process, e.g. --cpu-prof). The client runs in this process, the cloud in its own; measuring starts once the
// cloud is idle, GETs read only objects the PUTs before them stored, and the cloud's CPU time per request (all its
// threads) is shown beside each figure, which on a shared machine says more than requests per second alone. Swift 2.30 on this machine (one replica), from the issue: 4 KiB PUT/GET 146/291 per s
// at 1 client, 263/527 at 8; 256 MiB PUT/GET 199/430 MB/s.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { request } from "undici";
import { signHeaders, type AwsKeys } from "../test/helpers/sigv4.js";
import {
  cpuMs,
  freePort,
  measure,
  pool,
  printRows,
  printTable,
  rssBytes,
  sampleRss,
  settle,
  startStratus,
  type Result,
} from "./lib.js";

const MIB = 1024 * 1024;
const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const largeMiB = opt("mib", 256);
const listObjects = opt("objects", 100_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const SWIFT = { put1: 146, get1: 291, put8: 263, get8: 527, bigPut: 199, bigGet: 430 };
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/** A stream of `total` bytes of a repeated 4 MiB random block (incompressible, made on the fly). */
function bytes(total: number): Readable {
  const block = Buffer.alloc(4 * MIB, Math.random().toString(36));
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

/** The plain node:http reference: PUT writes the body to a file and fsyncs it; GET streams it back. */
const PLAIN = `
import { createServer } from "node:http";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
const file = process.argv[1];
createServer(async (req, res) => {
  if (req.method === "PUT") {
    const out = createWriteStream(file);
    await pipeline(req, out);
    const { open } = await import("node:fs/promises");
    const fh = await open(file, "r+"); await fh.sync(); await fh.close();
    res.writeHead(201).end();
  } else {
    res.writeHead(200, { "content-length": statSync(file).size });
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), res);
  }
}).listen(Number(process.argv[2]), "127.0.0.1", () => process.stdout.write("ready\\n"));
`;

/** A peak RSS and its growth over the transfer's start, in MiB. */
const rssCell = (peak: number, growth: number) =>
  `${(peak / MIB).toFixed(0)} MiB (${growth >= 0 ? "+" : ""}${(growth / MIB).toFixed(1)})`;

/** PUT and GET `size` bytes at `url` with `headers`; MB/s of each and the peak RSS growth of `pid`. */
async function transfer(
  url: string,
  headers: Record<string, string> | ((method: string) => Record<string, string>),
  size: number,
  pid: number,
) {
  const hd = (m: string) => (typeof headers === "function" ? headers(m) : headers);
  const idle = rssBytes(pid) ?? 0;
  let rss = sampleRss(pid);
  let t = performance.now();
  const put = await request(url, {
    method: "PUT",
    headers: { ...hd("PUT"), "content-length": String(size) },
    body: bytes(size),
  });
  await put.body.dump();
  if (put.statusCode !== 201 && put.statusCode !== 200) throw new Error(`PUT ${url}: ${put.statusCode}`);
  const up = mbps(size, performance.now() - t);
  const upPeak = rss.stop().peak;
  const beforeGet = rssBytes(pid) ?? 0;
  rss = sampleRss(pid);
  t = performance.now();
  const get = await request(url, { headers: hd("GET") });
  let n = 0;
  for await (const c of get.body) n += (c as Buffer).length;
  if (n !== size) throw new Error(`GET ${url}: ${n} bytes of ${size}`);
  const down = mbps(size, performance.now() - t);
  const downPeak = rss.stop().peak;
  // Each direction's growth is from the RSS at its start (a collection during the PUT can shrink the process).
  return { up, down, upPeak, upRss: upPeak - idle, downPeak, downRss: downPeak - beforeGet };
}

async function main(): Promise<void> {
  // BENCH_NODE_ARGS: node flags for the cloud's process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const cloud = await startStratus({}, nodeArgs, { args: ["--compute-hosts", "0"] });
  try {
    const auth = await request(`${cloud.url}/identity/v3/auth/tokens?nocatalog`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "admin", domain: { name: "Default" }, password: cloud.adminPassword } },
          },
          scope: { project: { name: "admin", domain: { name: "Default" } } },
        },
      }),
    });
    const token = String(auth.headers["x-subject-token"]);
    const tok = (await auth.body.json()) as { token: { project: { id: string }; user: { id: string } } };
    const project = tok.token.project.id;
    const base = `/object-store/v1/AUTH_${project}`;
    const h = { "x-auth-token": token };
    const p = pool(cloud.url, 8);
    const call = async (method: "PUT" | "GET", path: string, body?: Buffer) => {
      const r = await p.request({ method, path: `${base}${path}`, headers: h, body });
      await r.body.dump();
      return r.statusCode;
    };
    await call("PUT", "/bench");
    // Warm-up (not measured): the cloud's first requests run through cold code (the JIT has not compiled it yet)
    // and a fresh WAL file still growing, which a steady state (and Swift's figures) does not pay.
    const warm = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
    const small = Buffer.alloc(4096, 7);
    if (warm > 0) {
      for (const c of [1, 8]) {
        await measure(
          "warm-up PUT",
          c,
          warm / 4,
          async (i) => (await call("PUT", `/bench/w-${i}`, small)) === 201,
        );
        await measure(
          "warm-up GET",
          c,
          warm / 4,
          async (i) => (await call("GET", `/bench/w-${i % 100}`)) === 200,
        );
      }
      console.log(`(warmed up for ${warm} s: PUT and GET at 1 and 8 clients, not measured)`);
    }
    const pid = cloud.child.pid!;
    console.log(`(waited ${(await settle(pid)) / 1000} s for the cloud to be idle)`);
    const cpu = new Map<string, number>();
    /** measure() with the cloud's CPU ms per request noted. */
    const measured = async (
      name: string,
      c: number,
      fn: (i: number) => Promise<boolean>,
    ): Promise<Result> => {
      const before = cpuMs(pid) ?? 0;
      const r = await measure(name, c, seconds, fn);
      cpu.set(name, ((cpuMs(pid) ?? 0) - before) / Math.max(1, r.requests));
      return r;
    };
    /** How many of the objects a PUT measurement stored GETs read in turn (at most 500). */
    const stored = (r: Result) => Math.max(1, Math.min(500, r.requests - r.errors));
    const rows = [];
    for (const c of [1, 8]) {
      const put = await measured(
        `4 KiB PUT, ${c} client(s)`,
        c,
        async (i) => (await call("PUT", `/bench/p${c}-${i}`, small)) === 201,
      );
      const n = stored(put);
      rows.push(put);
      rows.push(
        await measured(
          `4 KiB GET, ${c} client(s)`,
          c,
          async (i) => (await call("GET", `/bench/p${c}-${i % n}`)) === 200,
        ),
      );
    }
    // The same through the S3 API (path-style /s3, SigV4 with the body's SHA-256 signed, as boto3 over http).
    const ec2 = await request(`${cloud.url}/identity/v3/users/${tok.token.user.id}/credentials/OS-EC2`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": token },
      body: JSON.stringify({ tenant_id: project }),
    });
    const cred = ((await ec2.body.json()) as { credential: { access: string; secret: string } }).credential;
    const keys: AwsKeys = { access: cred.access, secret: cred.secret };
    const host = new URL(cloud.url).host;
    const s3 = async (method: "PUT" | "GET", path: string, body?: Buffer) => {
      const headers = signHeaders(keys, {
        method,
        url: `/s3${path}`,
        host,
        body,
        headers: body ? { "content-length": String(body.length) } : {},
      });
      delete headers.host;
      const r = await p.request({ method, path: `/s3${path}`, headers, body });
      await r.body.dump();
      return r.statusCode;
    };
    if ((await s3("PUT", "/s3bench")) !== 200) throw new Error("S3 CreateBucket failed");
    for (const c of [1, 8]) {
      const put = await measured(
        `S3 4 KiB PUT, ${c} client(s)`,
        c,
        async (i) => (await s3("PUT", `/s3bench/p${c}-${i}`, small)) === 200,
      );
      const n = stored(put);
      rows.push(put);
      rows.push(
        await measured(
          `S3 4 KiB GET, ${c} client(s)`,
          c,
          async (i) => (await s3("GET", `/s3bench/p${c}-${i % n}`)) === 200,
        ),
      );
    }
    const notes: Record<string, string> = {
      "4 KiB PUT, 1 client(s)": `>= ${SWIFT.put1 * 10} (Swift ${SWIFT.put1})`,
      "4 KiB GET, 1 client(s)": `>= ${SWIFT.get1 * 10} (Swift ${SWIFT.get1})`,
      "4 KiB PUT, 8 client(s)": `>= ${SWIFT.put8 * 10} (Swift ${SWIFT.put8})`,
      "4 KiB GET, 8 client(s)": `>= ${SWIFT.get8 * 10} (Swift ${SWIFT.get8})`,
    };
    for (const [name, ms] of cpu)
      notes[name] = `${notes[name] ?? ""} cloud CPU ${ms.toFixed(2)} ms/req`.trim();
    console.log(
      `\nSmall objects (${seconds} s each; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")})\n`,
    );
    printTable(rows, notes);

    // Large object: Stratus, then the plain reference server on the same disk.
    const size = largeMiB * MIB;
    const big = await transfer(`${cloud.url}${base}/bench/large`, h, size, cloud.child.pid!);
    // The same object through S3 (UNSIGNED-PAYLOAD: the body streams without being hashed first).
    const s3Path = "/s3/s3bench/large";
    const s3Headers = (method: string) => {
      const hs = signHeaders(keys, { method, url: s3Path, host, unsigned: true });
      delete hs.host;
      return hs;
    };
    const bigS3 = await transfer(`${cloud.url}${s3Path}`, s3Headers, size, cloud.child.pid!);
    const dir = mkdtempSync(join(tmpdir(), "stratus-bench-object-"));
    const port = await freePort();
    const plain = spawn(
      process.execPath,
      ["--input-type=module", "-e", PLAIN, join(dir, "f"), String(port)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    // A reference server that dies before it is ready fails the run instead of leaving it waiting.
    await Promise.race([
      once(plain.stdout!, "data"),
      once(plain, "exit").then(() => {
        throw new Error("the reference server exited before it was ready");
      }),
    ]);
    const ref = await transfer(`http://127.0.0.1:${port}/f`, {}, size, plain.pid!);
    plain.kill();
    rmSync(dir, { recursive: true, force: true });
    console.log(`\nOne ${largeMiB} MiB object (target >= 80% of the plain server's)\n`);
    printRows(
      ["what", "PUT MB/s", "GET MB/s", "PUT peak RSS (growth)", "GET peak RSS (growth)"],
      [
        [
          "stratus",
          big.up.toFixed(0),
          big.down.toFixed(0),
          rssCell(big.upPeak, big.upRss),
          rssCell(big.downPeak, big.downRss),
        ],
        [
          "stratus S3",
          bigS3.up.toFixed(0),
          bigS3.down.toFixed(0),
          rssCell(bigS3.upPeak, bigS3.upRss),
          rssCell(bigS3.downPeak, bigS3.downRss),
        ],
        [
          "plain node:http + fsync",
          ref.up.toFixed(0),
          ref.down.toFixed(0),
          rssCell(ref.upPeak, ref.upRss),
          rssCell(ref.downPeak, ref.downRss),
        ],
        ["Swift 2.30 (issue)", String(SWIFT.bigPut), String(SWIFT.bigGet), "", ""],
        [
          "stratus / plain",
          `${((100 * big.up) / ref.up).toFixed(0)}%`,
          `${((100 * big.down) / ref.down).toFixed(0)}%`,
          "",
          "",
        ],
      ],
    );

    // Listing: a container of listObjects names in 100 pseudo-directories.
    await call("PUT", "/list");
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < listObjects; i = next++)
          if ((await call("PUT", `/list/d${i % 100}/o${i}`, Buffer.alloc(0))) !== 201)
            throw new Error("PUT failed");
      }),
    );
    const fill = (performance.now() - t0) / 1000;
    const q = [
      ["delimiter=/ (100 subdirs)", "?delimiter=/&format=json"],
      ["prefix=d42/ (1% of names)", "?prefix=d42/&format=json"],
      ["first 10000 names", "?format=json"],
      ["prefix=d7/&delimiter=/&marker", "?prefix=d7/&delimiter=/&marker=d7/o5&format=json"],
    ];
    const lrows = [];
    for (const [name, query] of q) {
      const r = await measure(name, 1, Math.min(seconds, 5), async () => {
        const res = await p.request({ method: "GET", path: `${base}/list${query}`, headers: h });
        await res.body.dump();
        return res.statusCode === 200;
      });
      lrows.push(r);
    }
    console.log(
      `\nListing a container of ${listObjects} objects (filled in ${fill.toFixed(0)} s, ${(listObjects / fill).toFixed(0)} PUT/s at 8 clients)\n`,
    );
    printTable(lrows);
    await p.close();
  } finally {
    await cloud.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
