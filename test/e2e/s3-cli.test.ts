// End to end for the S3 API with Debian's command-line clients: `bin/stratus up --listen s3=0` as a child process,
// EC2 keys from `openstack ec2 credentials create`, then rclone (1.60) and s3cmd (2.3.0), each configured only by a
// temporary config file and flags (HOME points into the test's directory, AWS_*/RCLONE_* variables are dropped),
// path-style against the S3 listener's own port, region RegionOne, Signature V4 and then V2.
// rclone: mkdir, copy of a tree (nested directories, an empty file, names with spaces, %, + and non-ASCII
// characters, a 12 MiB file uploaded in 3 parts), lsjson/lsf listings paged by 2 (ListObjects v1 and v2, URL
// encoding on and off) against the local tree, check (sizes and MD5s: a multipart object's MD5 is rclone's
// X-Amz-Meta-Md5chksum), modification times (X-Amz-Meta-Mtime, seen through Swift, in lsl and on download),
// a presigned link, a streamed upload of unknown length (rcat), copy back down, sync after a deletion, an edit and a
// touch (an in-place CopyObject with REPLACE), moveto, server-side copies (a multipart one by UploadPartCopy, one
// across buckets), bucket versioning (backend versioning, --s3-versions), delete, rmdir, purge (of every version);
// with --s3-v2-auth a copy, paged listing, check, download, moveto and purge.
// s3cmd: mb, ls, put (metadata and type; a 12 MiB file in 5 MiB parts), ls --list-md5, info, du, get, signurl,
// modify (metadata replaced in place), sync up and down (a second sync uploads nothing; --delete-removed), setacl
// --acl-public and --acl-private on a bucket seen through Swift's container read ACL, cp, mv, del, rb; the same
// with --signature-v2. Per-object ACLs are left out: objects here have their bucket's ACL (docs/architecture.md,
// S3), so s3cmd's setacl on an object whose ACL differs from its bucket's is NotImplemented (501) by design.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  exec,
  killStratus,
  openstack,
  pyEnv,
  s3Access,
  startStratus,
  terminateStratus,
  type ExecResult,
  type StratusProcess,
} from "../helpers/stratus-process.js";

const RCLONE = "/usr/bin/rclone";
const S3CMD = "/usr/bin/s3cmd";
const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** A file of the local tree: its bytes and modification time (seconds, exact in binary: .25). */
interface LocalFile {
  data: Buffer;
  mtime: number;
}

/** The tree the tools upload: relative path → content and mtime. */
function makeTree(): Map<string, LocalFile> {
  const base = 1577934245.25; // 2020-01-02T03:04:05.250Z
  const files: Array<[string, Buffer]> = [
    ["top.txt", Buffer.from("hello from the top\n")],
    ["empty", Buffer.alloc(0)],
    ["a/b c/file with spaces.txt", Buffer.from("spaced out\n")],
    ["a/b c/d/deep.bin", randomBytes(1000)],
    ["a/50% off + more.txt", Buffer.from("percent and plus\n")],
    ["ünï/日本語.txt", Buffer.from("unicode\n")],
    ["a/big.bin", randomBytes(12 * MiB)],
  ];
  return new Map(files.map(([p, data], i) => [p, { data, mtime: base + i * 3600 }]));
}

/** Write `tree` under `dir` with its mtimes. */
async function writeTree(dir: string, tree: Map<string, LocalFile>): Promise<void> {
  for (const [p, f] of tree) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), f.data);
    await utimes(join(dir, p), f.mtime, f.mtime);
  }
}

/** Every file under `dir` (relative paths, sorted) with its bytes and mtime in ms. */
async function readTree(dir: string): Promise<Map<string, { data: Buffer; mtimeMs: number }>> {
  const out = new Map<string, { data: Buffer; mtimeMs: number }>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else if (e.isFile())
        out.set(p, { data: await readFile(join(dir, p)), mtimeMs: (await stat(join(dir, p))).mtimeMs });
    }
  };
  await walk("");
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The tree's paths as rclone lists them (sorted by byte order, as S3 lists keys). */
const sortedPaths = (tree: Map<string, unknown>) =>
  [...tree.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** An RFC 3339 time with any number of fractional digits, in ms. */
const timeMs = (s: string) =>
  Date.parse(s.replace(/\.(\d{1,3})\d*Z$/, (_m, f: string) => `.${f.padEnd(3, "0")}Z`));

/** The environment of the tools: no AWS/rclone/s3cmd settings or proxies of ours, HOME in the test's directory. */
function toolEnv(home: string): NodeJS.ProcessEnv {
  const env = pyEnv({});
  for (const k of Object.keys(env))
    if (/^(AWS_|RCLONE_|S3CMD|BOTO)|^(https?|all|no)_proxy$/i.test(k)) delete env[k];
  return { ...env, HOME: home, TZ: "UTC", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };
}

/** `what` failed: its exit status and everything it printed, for the assertion message. */
const failure = (what: string, r: ExecResult) =>
  `${what}: exit ${r.code}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;

describe("S3 API with rclone and s3cmd", () => {
  let s: StratusProcess;
  let work: string;
  let access = "";
  let secret = "";
  let port = "";
  const have = { rclone: existsSync(RCLONE), s3cmd: existsSync(S3CMD) };

  before(async () => {
    if (process.env.CI === "true") {
      if (!have.rclone) throw new Error("rclone is missing (apt-get install rclone)");
      if (!have.s3cmd) throw new Error("s3cmd is missing (apt-get install s3cmd)");
    }
    if (!have.rclone && !have.s3cmd) return;
    s = await startStratus("stratus-e2e-s3cli-", { args: ["--listen", "s3=0"] });
    work = await mkdtemp(join(tmpdir(), "stratus-e2e-s3cli-work-"));
    await mkdir(join(work, "home"));
    ({ access, secret, port } = await s3Access(s));
  });
  after(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The project's container names and a container's read ACL, through Swift's API (the openstack CLI). */
  const containers = async () => {
    const r = await openstack(s, ["container", "list", "-f", "value", "-c", "Name"], "stratus-demo");
    assert.equal(r.code, 0, failure("openstack container list", r));
    return r.stdout.split("\n").filter(Boolean);
  };
  const readAcl = async (bucket: string) => {
    const r = await openstack(s, ["container", "show", bucket, "-f", "json"], "stratus-demo");
    assert.equal(r.code, 0, failure("openstack container show", r));
    return (JSON.parse(r.stdout) as Record<string, string>).read_acl ?? "";
  };

  test("rclone: copy, listings, check with MD5s and mtimes, sync, server-side copies, delete and purge", async (t) => {
    if (!have.rclone) return t.skip("rclone is not installed");
    const env = toolEnv(join(work, "home"));
    const conf = join(work, "rclone.conf");
    await writeFile(
      conf,
      [
        "[st]",
        "type = s3",
        "provider = Other",
        `access_key_id = ${access}`,
        `secret_access_key = ${secret}`,
        `endpoint = http://127.0.0.1:${port}`,
        "region = RegionOne",
        "force_path_style = true",
        "",
      ].join("\n"),
    );
    // One try per command: a retry would hide a wrong answer.
    const rcloneFlags = ["--config", conf, "--retries", "1", "--low-level-retries", "1"];
    const run = (args: string[]) => exec(RCLONE, [...rcloneFlags, ...args], env);
    const rclone = async (...args: string[]) => {
      const r = await run(args);
      assert.equal(r.code, 0, failure(`rclone ${args.join(" ")}`, r));
      return r;
    };
    const lsjson = async (...args: string[]) =>
      JSON.parse((await rclone("lsjson", ...args)).stdout) as Array<{
        Path: string;
        Size: number;
        ModTime: string;
        IsDir: boolean;
        Hashes?: { md5?: string };
      }>;
    /** The remote listed against a local tree: same paths, sizes, MD5s and mtimes (ms). */
    const sameAsLocal = async (remote: string, dir: string, extra: string[] = []) => {
      const local = await readTree(dir);
      const listed = await lsjson("-R", "--files-only", "--hash", ...extra, remote);
      assert.deepEqual(
        listed.map((f) => f.Path),
        sortedPaths(local),
        "the remote lists the local tree",
      );
      for (const f of listed) {
        const l = local.get(f.Path)!;
        assert.equal(f.Size, l.data.length, `${f.Path}: size`);
        assert.equal(f.Hashes?.md5, md5(l.data), `${f.Path}: md5`);
        // The mtime goes through a decimal string of seconds: within a millisecond.
        const drift = Math.abs(timeMs(f.ModTime) - l.mtimeMs);
        assert.ok(drift < 1, `${f.Path}: mtime ${f.ModTime}, locally ${new Date(l.mtimeMs).toISOString()}`);
      }
    };
    const check = async (a: string, b: string, files: number, extra: string[] = []) => {
      const r = await rclone("check", ...extra, a, b);
      assert.match(r.stderr, /: 0 differences found/, failure("rclone check", r));
      assert.match(r.stderr, new RegExp(`: ${files} matching files`), failure("rclone check", r));
    };

    const src = join(work, "src");
    const tree = makeTree();
    await writeTree(src, tree);
    const multipart = ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"];

    await rclone("mkdir", "st:rbucket");
    const up = await rclone("copy", "-vv", ...multipart, src, "st:rbucket");
    assert.match(
      up.stderr,
      /a\/big\.bin: multipart upload starting chunk 3 size 2Mi/,
      failure("rclone copy", up),
    );
    assert.match((await rclone("lsd", "st:")).stdout, / rbucket\n/);
    await sameAsLocal("st:rbucket", src);
    // The big file went up in 3 parts: S3's multipart ETag (no MD5), so rclone's MD5 above is its metadata's.
    const head = await rclone("lsl", "--dump", "headers", "st:rbucket/a/big.bin");
    assert.match(head.stderr, /Etag: "[0-9a-f]{32}-3"/i, failure("rclone lsl --dump headers", head));
    const big = await openstack(s, ["object", "show", "rbucket", "a/big.bin", "-f", "json"], "stratus-demo");
    assert.equal(big.code, 0, failure("openstack object show", big));
    const props = (JSON.parse(big.stdout) as { properties: Record<string, string> }).properties;
    assert.equal(props.md5chksum, createHash("md5").update(tree.get("a/big.bin")!.data).digest("base64"));
    assert.equal(Number(props.mtime), tree.get("a/big.bin")!.mtime, "X-Amz-Meta-Mtime, seen through Swift");
    // lsl prints the local times (TZ=UTC).
    assert.match(
      (await rclone("lsl", "st:rbucket")).stdout,
      /^ +19 2020-01-02 03:04:05\.250000000 top\.txt$/m,
    );
    // Listings paged 2 keys at a time, ListObjects v1 (marker) and v2 (continuation token), URL-encoded or not.
    for (const version of ["1", "2"])
      for (const encode of ["true", "false"]) {
        const opts = ["--s3-list-chunk", "2", "--s3-list-version", version, "--s3-list-url-encode", encode];
        const paged = await rclone("lsf", "-R", "--files-only", ...opts, "st:rbucket");
        assert.deepEqual(paged.stdout.split("\n").filter(Boolean), sortedPaths(tree), opts.join(" "));
      }
    await check(src, "st:rbucket", tree.size);
    assert.equal((await rclone("cat", "--offset", "6", "--count", "4", "st:rbucket/top.txt")).stdout, "from");
    // A presigned GET (V4 in the query) that rclone makes, fetched without credentials.
    const link = (await rclone("link", "--expire", "1h", "st:rbucket/ünï/日本語.txt")).stdout.trim();
    assert.match(link, /X-Amz-Signature=/);
    const linked = await fetch(link);
    assert.equal(linked.status, 200);
    assert.equal(await linked.text(), tree.get("ünï/日本語.txt")!.data.toString());
    // A stream of unknown length (rcat) goes up in parts as it comes.
    const streamed = randomBytes(7 * MiB);
    const rcat = await exec(
      RCLONE,
      [...rcloneFlags, "rcat", "-vv", "--s3-chunk-size", "5M", "st:rbucket/streamed.bin"],
      env,
      streamed,
    );
    assert.equal(rcat.code, 0, failure("rclone rcat", rcat));
    assert.match(rcat.stderr, /multipart upload starting chunk 2 size 2Mi/, failure("rclone rcat", rcat));
    assert.equal(
      (await rclone("md5sum", "--download", "st:rbucket/streamed.bin")).stdout,
      `${md5(streamed)}  streamed.bin\n`,
    );
    await rclone("deletefile", "st:rbucket/streamed.bin");

    // Back down: the same bytes and mtimes.
    const down = join(work, "down");
    await rclone("copy", "st:rbucket", down);
    const got = await readTree(down);
    assert.deepEqual([...got.keys()], [...(await readTree(src)).keys()]);
    for (const [p, f] of tree) {
      assert.ok(got.get(p)!.data.equals(f.data), `${p}: same bytes`);
      assert.equal(got.get(p)!.mtimeMs, f.mtime * 1000, `${p}: mtime set from the metadata`);
    }

    // Sync after a deletion, an edit, a new file and a touch: the remote follows; the touched file's mtime is
    // changed in place (CopyObject onto itself with REPLACE), not uploaded again.
    await rm(join(src, "empty"));
    await writeFile(join(src, "a/b c/file with spaces.txt"), "edited, and longer than before\n");
    await writeFile(join(src, "new.txt"), "new\n");
    await utimes(join(src, "a/b c/file with spaces.txt"), 1600000100.75, 1600000100.75);
    await utimes(join(src, "top.txt"), 1600000000.5, 1600000000.5);
    const sync = await rclone("sync", "-v", src, "st:rbucket");
    assert.match(
      sync.stderr,
      /top\.txt: Updated modification time in destination/,
      failure("rclone sync", sync),
    );
    assert.match(sync.stderr, /empty: Deleted/, failure("rclone sync", sync));
    assert.doesNotMatch(sync.stderr, /top\.txt: Copied/, failure("rclone sync", sync));
    await sameAsLocal("st:rbucket", src);
    await check(src, "st:rbucket", tree.size);
    assert.equal(
      (await rclone("cat", "st:rbucket/a/b c/file with spaces.txt")).stdout,
      "edited, and longer than before\n",
    );

    // Server-side: a move (copy then delete), a multipart copy part by part, a copy to another bucket.
    await rclone("moveto", "st:rbucket/new.txt", "st:rbucket/moved/ñew file.txt");
    assert.equal((await rclone("cat", "st:rbucket/moved/ñew file.txt")).stdout, "new\n");
    assert.ok(!(await rclone("lsf", "st:rbucket")).stdout.split("\n").includes("new.txt"), "moved away");
    const cp = await rclone(
      "copyto",
      "-vv",
      "--s3-copy-cutoff",
      "5M",
      "st:rbucket/a/big.bin",
      "st:rbucket/c/big.bin",
    );
    assert.match(cp.stderr, /multipart copy with 3 parts/, failure("rclone copyto", cp));
    const bigMd5 = md5(tree.get("a/big.bin")!.data);
    assert.equal((await lsjson("--hash", "st:rbucket/c"))[0].Hashes?.md5, bigMd5);
    const summed = await rclone("md5sum", "--download", "st:rbucket/c");
    assert.equal(summed.stdout, `${bigMd5}  big.bin\n`, "the copied data itself");
    await rclone("mkdir", "st:rbucket2");
    await rclone("copy", "st:rbucket/a", "st:rbucket2/x");
    await check("st:rbucket/a", "st:rbucket2/x", 4);
    // Bucket versioning: an overwrite keeps the old version, which --s3-versions lists with its date.
    assert.equal((await rclone("backend", "versioning", "st:rbucket2")).stdout.trim(), "Unversioned");
    assert.equal((await rclone("backend", "versioning", "st:rbucket2", "Enabled")).stdout.trim(), "Enabled");
    await rclone("copyto", join(src, "top.txt"), "st:rbucket2/v.txt");
    await rclone("copyto", join(src, "new.txt"), "st:rbucket2/v.txt");
    const versions = (await rclone("lsf", "--s3-versions", "st:rbucket2")).stdout.split("\n").filter(Boolean);
    assert.deepEqual(versions.filter((n) => n.startsWith("v")).length, 2, versions.join(", "));
    assert.ok(
      versions.some((n) => /^v-v\d{4}-\d\d-\d\d-\d{6}-\d{3}\.txt$/.test(n)),
      versions.join(", "),
    );
    assert.equal((await rclone("cat", "st:rbucket2/v.txt")).stdout, "new\n");

    // Deletion: by filter, rmdir of a non-empty bucket refused, purge, rmdir of an empty one.
    await rclone("delete", "--include", "*.txt", "st:rbucket");
    const left = (await rclone("lsf", "-R", "--files-only", "st:rbucket")).stdout.split("\n").filter(Boolean);
    assert.deepEqual(left, ["a/b c/d/deep.bin", "a/big.bin", "c/big.bin"]);
    const notEmpty = await run(["rmdir", "st:rbucket2"]);
    assert.notEqual(notEmpty.code, 0, "rmdir of a bucket with objects");
    assert.match(notEmpty.stderr, /BucketNotEmpty/, failure("rclone rmdir", notEmpty));
    await rclone("purge", "st:rbucket2");
    await rclone("purge", "st:rbucket");
    await rclone("mkdir", "st:rempty");
    await rclone("rmdir", "st:rempty");
    assert.equal((await rclone("lsd", "st:")).stdout, "");
    assert.deepEqual(
      (await containers()).filter((n) => /^r(bucket|empty)/.test(n)),
      [],
      "no container left behind (segments included)",
    );

    // Signature V2 (rclone signs the percent-encoded path and sends spaces in query values as +).
    const v2 = ["--s3-v2-auth"];
    await rclone("mkdir", ...v2, "st:rv2");
    await rclone("copy", ...v2, ...multipart, src, "st:rv2");
    await sameAsLocal("st:rv2", src, [...v2, "--s3-list-chunk", "2"]);
    await check(src, "st:rv2", tree.size, v2);
    const down2 = join(work, "down2");
    await rclone("copy", ...v2, "st:rv2/a", down2);
    assert.ok((await readFile(join(down2, "big.bin"))).equals(tree.get("a/big.bin")!.data));
    await rclone("moveto", ...v2, "st:rv2/a/50% off + more.txt", "st:rv2/m ø+.txt");
    assert.equal((await rclone("cat", ...v2, "st:rv2/m ø+.txt")).stdout, "percent and plus\n");
    await rclone("purge", ...v2, "st:rv2");
  });

  test("s3cmd: buckets, put/get (multipart), info, du, sync both ways, modify, bucket ACLs, cp/mv, del, rb", async (t) => {
    if (!have.s3cmd) return t.skip("s3cmd is not installed");
    const env = toolEnv(join(work, "home"));
    const cfg = join(work, "s3cfg");
    await writeFile(
      cfg,
      [
        "[default]",
        `access_key = ${access}`,
        `secret_key = ${secret}`,
        `host_base = 127.0.0.1:${port}`,
        // No %(bucket)s: path-style.
        `host_bucket = 127.0.0.1:${port}`,
        "use_https = False",
        "bucket_location = RegionOne",
        "",
      ].join("\n"),
    );
    const run = (args: string[]) => exec(S3CMD, ["-c", cfg, ...args], env);

    const dir = join(work, "s3cmd");
    const src = join(dir, "src");
    const tree = makeTree();
    await writeTree(src, tree);
    const bigData = tree.get("a/big.bin")!.data;

    for (const sig of ["v4", "v2"]) {
      const flags = sig === "v2" ? ["--signature-v2"] : [];
      const s3cmd = async (...args: string[]) => {
        const r = await run([...flags, ...args]);
        assert.equal(r.code, 0, failure(`s3cmd ${[...flags, ...args].join(" ")}`, r));
        return r.stdout;
      };
      const b = `s3://s3cmd-${sig}`;
      const out = join(dir, sig);

      await s3cmd("mb", b);
      assert.match(await s3cmd("ls"), new RegExp(`${b}\\n`));
      await s3cmd(
        "put",
        "--add-header=x-amz-meta-color:blue",
        "--mime-type=text/x-test",
        join(src, "top.txt"),
        `${b}/dir/sp ace ü+.txt`,
      );
      await s3cmd("put", "--multipart-chunk-size-mb=5", join(src, "a/big.bin"), `${b}/big.bin`);
      const listed = await s3cmd("ls", "-r", "--list-md5", b);
      assert.match(listed, new RegExp(` 12582912 +${md5(bigData)} +${b}/big\\.bin\\n`), listed);
      assert.match(
        listed,
        new RegExp(` 19 +${md5(tree.get("top.txt")!.data)} +${b}/dir/sp ace ü\\+\\.txt\\n`),
      );
      // The big object is a 3-part upload (S3's multipart ETag); s3cmd keeps the file's MD5 in its metadata.
      const debug = await run([...flags, "-d", "info", `${b}/big.bin`]);
      assert.match(debug.stderr, /'etag': '"[0-9a-f]{32}-3"'/, failure("s3cmd -d info", debug));
      const info = await s3cmd("info", `${b}/dir/sp ace ü+.txt`);
      assert.match(info, /File size: 19\n/);
      assert.match(info, /MIME type: text\/x-test\n/);
      assert.match(info, /x-amz-meta-color: blue\n/);
      assert.match(info, new RegExp(`MD5 sum: +${md5(tree.get("top.txt")!.data)}\\n`));
      assert.match(await s3cmd("du", b), new RegExp(`^ *${bigData.length + 19} +2 objects ${b}/`));

      await mkdir(out, { recursive: true });
      await s3cmd("get", `${b}/big.bin`, join(out, "big.bin"));
      assert.ok((await readFile(join(out, "big.bin"))).equals(bigData), "get: the same 12 MiB");
      await s3cmd("get", `${b}/dir/sp ace ü+.txt`, join(out, "small.txt"));
      assert.ok((await readFile(join(out, "small.txt"))).equals(tree.get("top.txt")!.data));

      // s3cmd signurl: a V2 presigned URL over the percent-encoded path, fetched without credentials.
      const signed = (await s3cmd("signurl", `${b}/dir/sp ace ü+.txt`, "+300")).trim();
      assert.match(signed, /\/dir\/sp%20ace%20%C3%BC%2B\.txt\?AWSAccessKeyId=/);
      const fetched = await fetch(signed);
      assert.equal(fetched.status, 200);
      assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(tree.get("top.txt")!.data));

      // In-place metadata change (CopyObject onto itself, REPLACE).
      await s3cmd("modify", "--add-header=x-amz-meta-color:red", `${b}/dir/sp ace ü+.txt`);
      const modified = await s3cmd("info", `${b}/dir/sp ace ü+.txt`);
      assert.match(modified, /x-amz-meta-color: red\n/);
      assert.match(modified, /MIME type: text\/x-test\n/);

      // sync up and down; a second sync has nothing to do; a deletion and an edit follow with --delete-removed.
      const mp = "--multipart-chunk-size-mb=5";
      const first = await s3cmd("sync", mp, `${src}/`, `${b}/tree/`);
      assert.equal(first.match(/^upload: /gm)?.length, tree.size, first);
      assert.doesNotMatch(await s3cmd("sync", mp, `${src}/`, `${b}/tree/`), /upload: /);
      const syncedDown = join(out, "synced");
      await s3cmd("sync", `${b}/tree/`, `${syncedDown}/`);
      const back = await readTree(syncedDown);
      assert.deepEqual([...back.keys()], [...(await readTree(src)).keys()]);
      for (const [p, f] of tree) assert.ok(back.get(p)!.data.equals(f.data), `sync down: ${p}`);
      const edited = join(out, "edited");
      await writeTree(edited, tree);
      await rm(join(edited, "empty"));
      await writeFile(join(edited, "top.txt"), "changed\n");
      const second = await s3cmd("sync", "--delete-removed", mp, `${edited}/`, `${b}/tree/`);
      assert.match(second, /delete: '.*\/tree\/empty'/, second);
      assert.match(second, /upload: '.*top\.txt' -> /, second);
      const tops = await s3cmd("ls", `${b}/tree/`);
      assert.match(tops, / 8 +s3:\/\/[^\n]*\/tree\/top\.txt\n/, tops);
      assert.doesNotMatch(tops, /tree\/empty/);
      assert.match(tops, /DIR +s3:\/\/[^\n]*\/tree\/ünï\/\n/);
      await s3cmd("sync", "--delete-removed", `${b}/tree/`, `${syncedDown}/`);
      assert.ok(!existsSync(join(syncedDown, "empty")));
      assert.equal(await readFile(join(syncedDown, "top.txt"), "utf8"), "changed\n");

      // Bucket ACLs are the container's read ACL.
      assert.match(await s3cmd("setacl", "--acl-public", b), /ACL set to Public/);
      assert.equal(await readAcl(b.slice(5)), ".r:*,.rlistings");
      assert.match(await s3cmd("info", b), /ACL: +\*anon\*: READ\n/);
      assert.match(await s3cmd("setacl", "--acl-private", b), /ACL set to Private/);
      assert.equal(await readAcl(b.slice(5)), "");
      assert.doesNotMatch(await s3cmd("info", b), /\*anon\*/);

      // Server-side copy and move, delete, rb refused while objects remain, then emptied and removed.
      await s3cmd("cp", `${b}/dir/sp ace ü+.txt`, `${b}/copy/c ø.txt`);
      await s3cmd("mv", `${b}/big.bin`, `${b}/moved/big ü.bin`);
      const moved = await s3cmd("ls", "-r", b);
      assert.match(moved, /copy\/c ø\.txt\n/);
      assert.match(moved, new RegExp(` 12582912 +${b}/moved/big ü\\.bin\\n`));
      assert.doesNotMatch(moved, new RegExp(`${b}/big\\.bin`));
      await s3cmd("get", `${b}/moved/big ü.bin`, join(out, "moved.bin"));
      assert.ok((await readFile(join(out, "moved.bin"))).equals(bigData), "moved: the same 12 MiB");
      await s3cmd("del", `${b}/copy/c ø.txt`);
      assert.doesNotMatch(await s3cmd("ls", "-r", b), /copy\//);
      const notEmpty = await run([...flags, "rb", b]);
      assert.notEqual(notEmpty.code, 0, "rb of a bucket with objects");
      assert.match(notEmpty.stderr, /BucketNotEmpty/, failure("s3cmd rb", notEmpty));
      await s3cmd("del", "--recursive", "--force", b);
      await s3cmd("rb", b);
      assert.doesNotMatch(await s3cmd("ls"), new RegExp(`${b}\\n`));
    }
    assert.deepEqual(
      (await containers()).filter((n) => n.startsWith("s3cmd-")),
      [],
      "no container left behind (segments included)",
    );
  });
});
