// End to end for the S3 API: `bin/stratus up --listen s3=0` as a child process, EC2 keys from
// `openstack ec2 credentials create`, and Debian's python3-boto3 (test/e2e/s3-boto3.py) doing bucket and object
// CRUD, a listing with a delimiter, a 12 MiB multipart upload (and one part of it by PartNumber), a presigned GET, a copy, a copy part by part
// (UploadPartCopy), canned ACLs seen through Swift, a multi-delete, bucket versioning (versions, VersionId reads, a
// delete marker, list_object_versions paged, a copy of an older version) and bucket tagging.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ROOT,
  exec,
  killStratus,
  pyEnv,
  s3Access,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";

const PYTHON = "/usr/bin/python3";

describe("S3 API with boto3", () => {
  let s: StratusProcess;
  let work: string;
  before(async () => {
    const probe = await exec(PYTHON, ["-c", "import boto3"], pyEnv({}));
    if (probe.code !== 0 && process.env.CI === "true")
      throw new Error("python3-boto3 is missing (apt-get install python3-boto3)");
    s = await startStratus("stratus-e2e-s3-", { args: ["--listen", "s3=0"] });
    work = await mkdtemp(join(tmpdir(), "stratus-e2e-s3-work-"));
  });
  after(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("ec2 credentials from the openstack CLI; boto3 buckets, objects, listing, multipart, presigned GET", async (t) => {
    if (!existsSync(PYTHON) || (await exec(PYTHON, ["-c", "import boto3"], pyEnv({}))).code !== 0)
      return t.skip("python3-boto3 is not installed");
    const { access, secret, port: ownPort } = await s3Access(s);
    const base = String(s.clouds["stratus-demo"].auth.auth_url).replace(/\/identity\/v3\/?$/, "");
    const r = await exec(
      PYTHON,
      [
        join(ROOT, "test", "e2e", "s3-boto3.py"),
        `${base}/s3`,
        `http://127.0.0.1:${ownPort}`,
        access,
        secret,
        work,
        base,
      ],
      pyEnv({}),
    );
    assert.equal(r.code, 0, `boto3: ${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    assert.ok(out.buckets.includes("boto-bucket"));
    assert.ok(out.buckets_own_port.includes("boto-bucket"), "the same buckets on the S3 listener's own port");
    assert.match(out.put_etag, /^"[0-9a-f]{32}"$/);
    assert.equal(out.get_body, "hello from boto3\n");
    assert.deepEqual(out.get_meta, { color: "blue" });
    assert.equal(out.head_length, 17);
    assert.equal(out.range, "hello");
    assert.deepEqual(out.keys, ["top"]);
    assert.deepEqual(out.prefixes, ["dir/", "other/"]);
    assert.deepEqual(out.paged, ["dir/a", "dir/b", "dir/hello.txt", "other/c", "top"]);
    assert.match(out.big_etag, /^"[0-9a-f]{32}-3"$/, "a multipart upload's ETag: md5 of the part md5s, -3");
    assert.equal(out.big_length, 12 * 1024 * 1024 + 123);
    assert.equal(out.big_same, true);
    const MiB5 = 5 * 1024 * 1024;
    const total = 12 * 1024 * 1024 + 123;
    assert.equal(out.part2_same, true, "GetObject PartNumber=2 is the second 5 MiB");
    assert.deepEqual(out.part2, [206, MiB5, `bytes ${MiB5}-${2 * MiB5 - 1}/${total}`, 3, out.big_etag]);
    assert.deepEqual(out.part1_head, [206, MiB5, `bytes 0-${MiB5 - 1}/${total}`, 3, out.big_etag]);
    assert.deepEqual(out.part4, ["InvalidPartNumber", 416]);
    assert.equal(out.presigned, "hello from boto3\n");
    assert.equal(out.copy, "hello from boto3\n");
    assert.match(out.copy_parts_etag, /^"[0-9a-f]{32}-3"$/, "copied part by part");
    assert.equal(out.copy_parts_length, 12 * 1024 * 1024 + 123);
    assert.equal(out.ranged, "from");
    assert.deepEqual(out.acl_grants, [
      ["CanonicalUser", "FULL_CONTROL"],
      ["Group", "READ"],
    ]);
    assert.equal(out.public_get, "hello from boto3\n");
    assert.equal(out.private_get, 401);
    assert.deepEqual(out.object_acl, ["FULL_CONTROL"]);
    assert.equal(out.missing, "NoSuchKey");
    assert.equal(out.not_empty, "BucketNotEmpty");
    assert.equal(out.deleted, 9);
    assert.ok(!out.after.includes("boto-bucket"));
    assert.equal(out.versioning_before, null);
    assert.equal(out.versioning, "Enabled");
    assert.equal(out.version_ids_differ, true);
    assert.equal(out.copy_source_version, true, "CopySourceVersionId names the version copied");
    assert.equal(out.copy_v1, "one");
    assert.equal(out.get_v1, "one");
    assert.equal(out.get_latest, "two");
    assert.deepEqual(out.versions, [
      [true, true],
      [false, false],
    ]);
    assert.equal(out.delete_marker, true);
    assert.equal(out.after_marker, "404");
    assert.deepEqual(out.markers, [[true, true]]);
    assert.equal(out.restored, "two");
    assert.equal(out.paged_versions, 2);
    assert.equal(out.suspended, "Suspended");
    assert.equal(out.no_tags, "NoSuchTagSet");
    assert.deepEqual(out.bucket_tags, [
      ["env", "test"],
      ["team", "storage"],
    ]);
    assert.equal(out.tags_deleted, "NoSuchTagSet");
  });
});
