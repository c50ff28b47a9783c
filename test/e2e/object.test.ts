// End to end for Object Storage: `bin/stratus up` as a child process, driven by the real clients — Debian's
// python3-swiftclient (`/usr/bin/swift`) and python3-openstackclient (`/usr/bin/openstack container/object`) —
// through the catalog's object-store endpoint.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
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

  test("swift CLI: another project's user cannot read demo's container (403)", async () => {
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
  });
});
