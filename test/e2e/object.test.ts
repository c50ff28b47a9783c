// End to end for Object Storage: `bin/stratus up` as a child process, driven by the real clients — Debian's
// python3-swiftclient (`/usr/bin/swift`) and python3-openstackclient (`/usr/bin/openstack container/object`) —
// through the catalog's object-store endpoint.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import {
  exec,
  killStratus,
  openstack,
  pyEnv,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";

const SWIFT = "/usr/bin/swift";
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

describe("object storage with the swift and openstack CLIs", () => {
  let s: StratusProcess;
  let work: string;
  before(async () => {
    if (!existsSync(SWIFT)) {
      if (process.env.CI === "true")
        throw new Error(`${SWIFT} is missing (apt-get install python3-swiftclient)`);
    }
    s = await startStratus("stratus-e2e-object-");
    work = await mkdtemp(join(tmpdir(), "stratus-e2e-object-work-"));
  });
  after(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Run the swift CLI as `cloud` of clouds.yaml (its credentials as swift's --os-* options) in the work dir. */
  const swift = async (args: string[], cloud = "stratus-demo") => {
    const a = s.clouds[cloud].auth;
    const auth = [
      "--auth-version",
      "3",
      "--os-auth-url",
      a.auth_url,
      "--os-username",
      a.username,
      "--os-password",
      a.password,
      "--os-project-name",
      a.project_name,
      "--os-user-domain-name",
      a.user_domain_name,
      "--os-project-domain-name",
      a.project_domain_name,
    ];
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
      exec("/bin/sh", ["-c", `cd "${work}" && exec "$@"`, "sh", SWIFT, ...auth, ...args], pyEnv({})).then(
        res,
      ),
    );
    return r;
  };
  const ok = async (args: string[], cloud?: string) => {
    const r = await swift(args, cloud);
    assert.equal(r.code, 0, `swift ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const os = async (args: string[], json = true, cloud = "stratus-demo") => {
    const r = await openstack(s, [...args, ...(json ? ["-f", "json"] : [])], cloud);
    assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}`);
    return json && r.stdout.trim() ? JSON.parse(r.stdout) : r.stdout;
  };

  test("openstack container/object: create, list, show, set/unset properties, save, delete", async () => {
    await writeFile(join(work, "hello.txt"), "hello object storage\n");
    const made = await os(["container", "create", "photos"]);
    assert.equal(made[0].container, "photos");
    assert.ok((await os(["container", "list"])).some((c: any) => c.Name === "photos"));
    // The CLI names the object after the path it uploads: run it in the work directory.
    const up = await exec(
      "/bin/sh",
      ["-c", `cd "${work}" && exec /usr/bin/openstack object create photos hello.txt -f json`],
      pyEnv({ OS_CLIENT_CONFIG_FILE: s.cloudsYaml, OS_CLOUD: "stratus-demo" }),
    );
    assert.equal(up.code, 0, up.stderr);
    assert.equal(JSON.parse(up.stdout)[0].etag, md5(Buffer.from("hello object storage\n")));
    const listed = await os(["object", "list", "photos"]);
    assert.deepEqual(
      listed.map((x: any) => x.Name),
      ["hello.txt"],
    );
    const shown = await os(["object", "show", "photos", "hello.txt"]);
    assert.equal(shown["content-length"], "21");
    assert.equal(shown["content-type"], "text/plain");
    await os(["object", "set", "--property", "color=blue", "photos", "hello.txt"], false);
    assert.match(JSON.stringify(await os(["object", "show", "photos", "hello.txt"])), /color.*blue/i);
    await os(["object", "unset", "--property", "color", "photos", "hello.txt"], false);
    assert.doesNotMatch(JSON.stringify(await os(["object", "show", "photos", "hello.txt"])), /blue/);
    await os(["container", "set", "--property", "team=red", "photos"], false);
    assert.match(JSON.stringify(await os(["container", "show", "photos"])), /team.*red/i);
    const saved = join(work, "saved.txt");
    await os(["object", "save", "--file", saved, "photos", "hello.txt"], false);
    assert.equal(await readFile(saved, "utf8"), "hello object storage\n");
    const cs = await os(["container", "show", "photos"]);
    assert.equal(String(cs.object_count), "1");
    await os(["object", "delete", "photos", "hello.txt"], false);
    await os(["container", "delete", "photos"], false);
    assert.ok(!(await os(["container", "list"])).some((c: any) => c.Name === "photos"));
  });

  test("swift CLI: stat, upload, list, download and compare, post metadata, capabilities, delete", async () => {
    const data = randomBytes(5 * 1024 * 1024 + 123);
    await writeFile(join(work, "blob.bin"), data);
    await ok(["upload", "docs", "blob.bin"]);
    assert.match(await ok(["list", "docs"]), /^blob\.bin$/m);
    const stat = await ok(["stat", "docs", "blob.bin"]);
    assert.match(stat, new RegExp(`ETag: ${md5(data)}`));
    assert.match(stat, /Content Length: 5243003/);
    await ok(["download", "docs", "blob.bin", "-o", "back.bin"]);
    assert.ok((await readFile(join(work, "back.bin"))).equals(data));
    await ok(["post", "-m", "owner:alice", "docs", "blob.bin"]);
    assert.match(await ok(["stat", "docs", "blob.bin"]), /Meta Owner: alice/);
    const acct = await ok(["stat"]);
    assert.match(acct, /Containers: 1/);
    assert.match(acct, /Objects: 1/);
    assert.match(acct, /Bytes: 5243003/);
    assert.match(await ok(["capabilities"]), /max_file_size: 5368709122/);
    await ok(["delete", "docs"]);
    assert.doesNotMatch(await ok(["list"]), /docs/);
  });

  test("swift CLI: a segmented upload (--segment-size) is a DLO that downloads whole and identical", async () => {
    const data = randomBytes(12 * 1024 * 1024 + 77);
    await writeFile(join(work, "large.bin"), data);
    await ok(["upload", "--segment-size", String(4 * 1024 * 1024), "big", "large.bin"]);
    assert.match(await ok(["list", "big_segments"]), /large\.bin\/.*\/00000003$/m);
    const stat = await ok(["stat", "big", "large.bin"]);
    assert.match(stat, /Manifest: big_segments\/large\.bin\//);
    assert.match(stat, /Content Length: 12582989/);
    await ok(["download", "big", "large.bin", "-o", "large-back.bin"]);
    assert.ok((await readFile(join(work, "large-back.bin"))).equals(data));
    // Deleting the manifest deletes its segments too (the CLI reads the manifest header).
    await ok(["delete", "big", "large.bin"]);
    assert.equal((await ok(["list", "big_segments"])).trim(), "");
  });

  test("swift CLI: a 300 MiB file uploads with --use-slo as an SLO and without as a DLO; both download identical", async () => {
    // Written and hashed in chunks: neither the test nor the service holds the file in memory.
    const size = 300 * 1024 * 1024 + 4321;
    const path = join(work, "huge.bin");
    const out = createWriteStream(path);
    const sum = createHash("md5");
    for (let left = size; left > 0;) {
      const chunk = randomBytes(Math.min(left, 4 * 1024 * 1024));
      sum.update(chunk);
      if (!out.write(chunk)) await once(out, "drain");
      left -= chunk.length;
    }
    out.end();
    await once(out, "finish");
    const want = sum.digest("hex");
    const fileMd5 = async (p: string) => {
      const h = createHash("md5");
      for await (const c of createReadStream(p)) h.update(c as Buffer);
      return h.digest("hex");
    };
    const seg = String(64 * 1024 * 1024);
    await ok(["upload", "--use-slo", "--segment-size", seg, "slo", "huge.bin"]);
    const stat = await ok(["stat", "slo", "huge.bin"]);
    assert.match(stat, new RegExp(`Content Length: ${size}`));
    assert.doesNotMatch(stat, /Manifest:/);
    assert.equal((await ok(["list", "slo_segments"])).trim().split("\n").length, 5);
    await ok(["download", "slo", "huge.bin", "-o", "huge-slo.bin"]);
    assert.equal(await fileMd5(join(work, "huge-slo.bin")), want);
    await rm(join(work, "huge-slo.bin"));
    // The CLI deletes an SLO's segments with multipart-manifest=delete.
    await ok(["delete", "slo", "huge.bin"]);
    assert.equal((await ok(["list", "slo_segments"])).trim(), "");
    await ok(["upload", "--segment-size", seg, "dlo", "huge.bin"]);
    assert.match(await ok(["stat", "dlo", "huge.bin"]), /Manifest: dlo_segments\/huge\.bin\//);
    await ok(["download", "dlo", "huge.bin", "-o", "huge-dlo.bin"]);
    assert.equal(await fileMd5(join(work, "huge-dlo.bin")), want);
    await ok(["delete", "dlo", "huge.bin"]);
    await rm(join(work, "huge-dlo.bin"));
    await rm(path);
  });

  test("swift CLI: tempurl signs a GET that works without a token, until the key changes", async () => {
    await writeFile(join(work, "shared.txt"), "for anyone with the link");
    await ok(["upload", "links", "shared.txt"]);
    await ok(["post", "-m", "Temp-URL-Key:e2e-secret"]);
    const storage = (await ok(["auth"])).match(/OS_STORAGE_URL=(\S+)/)![1];
    const account = storage.slice(storage.indexOf("/v1/"));
    const rel = (await ok(["tempurl", "GET", "600", `${account}/links/shared.txt`, "e2e-secret"])).trim();
    const origin = new URL(storage).origin;
    const got = await fetch(`${origin}/object-store${rel}`);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), "for anyone with the link");
    await ok(["post", "-m", "Temp-URL-Key:changed"]);
    assert.equal((await fetch(`${origin}/object-store${rel}`)).status, 401);
  });

  test("a chunked upload (no Content-Length) streams in; a wrong ETag is 422 and leaves the old object", async () => {
    const auth = await ok(["auth"]);
    const url = auth.match(/OS_STORAGE_URL=(\S+)/)![1];
    const token = auth.match(/OS_AUTH_TOKEN=(\S+)/)![1];
    assert.equal(
      (await fetch(`${url}/chunks`, { method: "PUT", headers: { "x-auth-token": token } })).status,
      201,
    );
    const parts = [randomBytes(100_000), randomBytes(3_000_000), randomBytes(7)];
    const body = new ReadableStream({
      start(c) {
        for (const p of parts) c.enqueue(new Uint8Array(p));
        c.close();
      },
    });
    const put = await fetch(`${url}/chunks/streamed`, {
      method: "PUT",
      headers: { "x-auth-token": token },
      body,
      duplex: "half",
    } as RequestInit);
    assert.equal(put.status, 201, await put.text());
    const whole = Buffer.concat(parts);
    assert.equal(put.headers.get("etag"), md5(whole));
    const bad = await fetch(`${url}/chunks/streamed`, {
      method: "PUT",
      headers: { "x-auth-token": token, etag: md5(Buffer.from("other")) },
      body: "replacement",
    });
    assert.equal(bad.status, 422);
    const got = Buffer.from(
      await (await fetch(`${url}/chunks/streamed`, { headers: { "x-auth-token": token } })).arrayBuffer(),
    );
    assert.ok(got.equals(whole));
  });

  test("swift CLI: another project's user cannot read demo's container (403) until post -r/-w grants it; .r:* is public", async () => {
    await writeFile(join(work, "secret.txt"), "s3cret");
    await ok(["upload", "private", "secret.txt"]);
    const demoAccount = (await ok(["stat"])).match(/Account: (\S+)/)![1];
    // The admin's own account has no such container; demo's account is refused to the admin (not a reseller).
    assert.notEqual((await swift(["list", "private"], "stratus-admin")).code, 0);
    const token = (await ok(["auth"], "stratus-admin")).match(/OS_AUTH_TOKEN=(\S+)/)![1];
    const url = (await ok(["auth"])).match(/OS_STORAGE_URL=(\S+)/)![1];
    assert.ok(url.endsWith(demoAccount));
    const res = await fetch(`${url}/private`, { headers: { "x-auth-token": token } });
    assert.equal(res.status, 403);
    assert.ok(res.headers.get("x-trans-id"));
    // `swift post -r` grants the admin project's users read access (names, as keystoneauth takes them), and
    // `-w` write access; `.r:*` makes objects public.
    await ok(["post", "-r", "admin:*", "private"]);
    const read = await fetch(`${url}/private/secret.txt`, { headers: { "x-auth-token": token } });
    assert.equal(read.status, 200);
    assert.equal(await read.text(), "s3cret");
    const denied = await fetch(`${url}/private/new.txt`, {
      method: "PUT",
      headers: { "x-auth-token": token },
      body: "x",
    });
    assert.equal(denied.status, 403);
    await ok(["post", "-w", "admin:admin", "private"]);
    const wrote = await fetch(`${url}/private/new.txt`, {
      method: "PUT",
      headers: { "x-auth-token": token },
      body: "x",
    });
    assert.equal(wrote.status, 201);
    assert.equal((await fetch(`${url}/private/secret.txt`)).status, 401);
    await ok(["post", "-r", ".r:*", "private"]);
    assert.equal(await (await fetch(`${url}/private/secret.txt`)).text(), "s3cret");
  });

  test("swift CLI: an account ACL (post -H X-Account-Access-Control) lets another project's user read, then write, in demo's account with its own token (--os-storage-url)", async () => {
    // A second project and a plain member of it, made by the admin.
    const project = await os(["project", "create", "oacl-e2e"], true, "stratus-admin");
    const user = await os(
      ["user", "create", "--password", "Passw0rd-oacl-e2e", "oacl-e2e-user"],
      true,
      "stratus-admin",
    );
    await os(["role", "add", "--project", project.id, "--user", user.id, "member"], false, "stratus-admin");
    const a = s.clouds["stratus-demo"].auth;
    const url = (await ok(["auth"])).match(/OS_STORAGE_URL=(\S+)/)![1];
    /** The swift CLI as oacl-e2e-user (its own project's token) against demo's account. */
    const other = (args: string[]) =>
      exec(
        "/bin/sh",
        [
          "-c",
          `cd "${work}" && exec "$@"`,
          "sh",
          SWIFT,
          "--auth-version",
          "3",
          "--os-auth-url",
          a.auth_url,
          "--os-username",
          "oacl-e2e-user",
          "--os-password",
          "Passw0rd-oacl-e2e",
          "--os-project-name",
          "oacl-e2e",
          "--os-user-domain-name",
          "Default",
          "--os-project-domain-name",
          "Default",
          "--os-storage-url",
          url,
          ...args,
        ],
        pyEnv({}),
      );
    const otherOk = async (args: string[]) => {
      const r = await other(args);
      assert.equal(r.code, 0, `swift ${args.join(" ")} as oacl-e2e-user: ${r.stderr}`);
      return r.stdout;
    };
    await writeFile(join(work, "acct-acl.txt"), "shared by the account ACL");
    await ok(["upload", "acct-shared", "acct-acl.txt"]);
    // Nothing granted yet.
    assert.notEqual((await other(["list"])).code, 0);
    // Read-only for that user of that project.
    await ok(["post", "-H", `X-Account-Access-Control: {"read-only":["${project.id}:${user.id}"]}`]);
    assert.match(await ok(["stat"]), /Access-Control: \{"read-only":\[/);
    assert.match(await otherOk(["list"]), /^acct-shared$/m);
    assert.equal(
      await otherOk(["download", "acct-shared", "acct-acl.txt", "-o", "-"]),
      "shared by the account ACL",
    );
    await writeFile(join(work, "from-other.txt"), "written by another project");
    assert.notEqual((await other(["upload", "acct-shared", "from-other.txt"])).code, 0);
    // The grantee does not see the ACL, nor may it change it.
    assert.doesNotMatch(await otherOk(["stat"]), /Access-Control/);
    assert.notEqual((await other(["post", "-H", "X-Account-Access-Control: {}"])).code, 0);
    // Read-write for that user from any project: upload, a new container, delete (bulk delete) — not the account.
    await ok(["post", "-H", `X-Account-Access-Control: {"read-write":["*:${user.id}"]}`]);
    await otherOk(["upload", "acct-shared", "from-other.txt"]);
    await otherOk(["upload", "made-by-other", "from-other.txt"]);
    assert.match(await ok(["list", "acct-shared"]), /^from-other\.txt$/m);
    assert.equal(
      await ok(["download", "made-by-other", "from-other.txt", "-o", "-"]),
      "written by another project",
    );
    await otherOk(["delete", "made-by-other"]);
    assert.doesNotMatch(await ok(["list"]), /made-by-other/);
    assert.notEqual((await other(["post", "-m", "by:other"])).code, 0);
    assert.notEqual((await other(["post", "-r", "*:*", "acct-shared"])).code, 0);
    // Removed: refused again.
    await ok(["post", "-H", "X-Account-Access-Control: {}"]);
    assert.notEqual((await other(["list"])).code, 0);
    await ok(["delete", "acct-shared"]);
  });
});

/** The demo user's token, project id and the object-store base URL of a running Stratus. */
async function demoSession(s: StratusProcess): Promise<{ token: string; project: string; base: string }> {
  const a = s.clouds["stratus-demo"].auth;
  const auth = await fetch(`${a.auth_url}/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: a.username, domain: { name: "Default" }, password: a.password } },
        },
        scope: { project: { name: a.project_name, domain: { name: "Default" } } },
      },
    }),
  });
  assert.equal(auth.status, 201);
  const project = ((await auth.json()) as any).token.project.id as string;
  const base = `${a.auth_url.replace(/\/identity\/v3$/, "")}/object-store/v1/AUTH_${project}`;
  return { token: auth.headers.get("x-subject-token")!, project, base };
}

describe("object storage: a crash mid-PUT leaves the old object whole", () => {
  let s: StratusProcess | undefined;
  afterEach(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
    s = undefined;
  });

  test("SIGKILL while a replacement streams in: after a restart GET returns the old bytes, no partial file is left", async () => {
    s = await startStratus("stratus-e2e-object-crash-");
    const dir = s.dir;
    const { token, base } = await demoSession(s);
    const url = `${base}/crash`;
    assert.equal((await fetch(url, { method: "PUT", headers: { "x-auth-token": token } })).status, 201);
    const old = randomBytes(1024 * 1024);
    const put = await fetch(`${url}/obj`, { method: "PUT", headers: { "x-auth-token": token }, body: old });
    assert.equal(put.status, 201);
    // A replacement announced as 64 MiB, of which 16 MiB arrive before the server dies.
    const { request } = await import("node:http");
    const u = new URL(`${url}/obj`);
    const req = request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: "PUT",
      headers: { "x-auth-token": token, "content-length": String(64 * 1024 * 1024) },
    });
    req.on("error", () => {});
    const chunk = randomBytes(1024 * 1024);
    for (let i = 0; i < 16; i++) if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
    // Wait until the server has started the temporary file, then kill it.
    const objects = join(dir, "objects");
    const { readdir } = await import("node:fs/promises");
    const partials = async () =>
      (await readdir(objects, { recursive: true })).filter((f) => String(f).includes(".partial-"));
    const deadline = Date.now() + 60_000;
    while ((await partials()).length === 0) {
      assert.ok(Date.now() < deadline, "no temporary file appeared");
      await new Promise((r) => setTimeout(r, 20));
    }
    s.child.kill("SIGKILL");
    await s.exited;
    req.destroy();
    s = await startStratus("stratus-e2e-object-crash-", { dir });
    assert.deepEqual(await partials(), []);
    const again = await demoSession(s);
    const url2 = `${again.base}/crash`;
    const got = await fetch(`${url2}/obj`, { headers: { "x-auth-token": again.token } });
    assert.equal(got.status, 200);
    const body = Buffer.from(await got.arrayBuffer());
    assert.equal(md5(body), md5(old));
    const head = await fetch(url2, { method: "HEAD", headers: { "x-auth-token": again.token } });
    assert.equal(head.headers.get("x-container-object-count"), "1");
    assert.equal(head.headers.get("x-container-bytes-used"), String(old.length));
  });

  test("SIGKILL amid concurrent small PUTs (data in the database): every acknowledged object survives whole, listings and counts agree", async () => {
    s = await startStratus("stratus-e2e-object-crash-small-");
    const dir = s.dir;
    const { token, base } = await demoSession(s);
    const url = `${base}/small`;
    assert.equal((await fetch(url, { method: "PUT", headers: { "x-auth-token": token } })).status, 201);
    const bodyOf = (name: string) => Buffer.from(`${name}:`.repeat(100));
    const acked: string[] = [];
    let stop = false;
    // Eight writers of fresh names and overwrites of one name each, until the server dies under them.
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = i % 4 === 3 ? `w${w}-same` : `w${w}-${i}`;
        const r = await fetch(`${url}/${name}`, {
          method: "PUT",
          headers: { "x-auth-token": token },
          body: bodyOf(name),
        }).catch(() => null);
        if (r?.status === 201) acked.push(name);
        else if (r === null) return;
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    const deadline = Date.now() + 60_000;
    while (acked.length < 300) {
      assert.ok(Date.now() < deadline, `only ${acked.length} PUTs answered in 60 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    s.child.kill("SIGKILL");
    await s.exited;
    stop = true;
    await Promise.all(writers);
    s = await startStratus("stratus-e2e-object-crash-small-", { dir });
    const again = await demoSession(s);
    const h = { "x-auth-token": again.token };
    const list = (await (await fetch(`${again.base}/small?format=json`, { headers: h })).json()) as Array<{
      name: string;
      hash: string;
      bytes: number;
    }>;
    const listed = new Map(list.map((o) => [o.name, o]));
    for (const name of new Set(acked)) assert.ok(listed.has(name), `${name} was acknowledged but is gone`);
    for (const o of list) {
      const got = Buffer.from(
        await (await fetch(`${again.base}/small/${o.name}`, { headers: h })).arrayBuffer(),
      );
      assert.deepEqual(got, bodyOf(o.name), `${o.name} reads back whole`);
      assert.equal(o.hash, md5(got));
    }
    const head = await fetch(`${again.base}/small`, { method: "HEAD", headers: h });
    assert.equal(head.headers.get("x-container-object-count"), String(list.length));
    assert.equal(head.headers.get("x-container-bytes-used"), String(list.reduce((n, o) => n + o.bytes, 0)));
  });
});
