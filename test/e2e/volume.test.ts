// End to end for Block Storage: `bin/stratus up` as a child process (the fake volume backend), driven by Debian's
// python3-openstackclient through the catalog's volumev3 endpoint: volume create/list/show/set/delete, types with
// properties, snapshots, volumes from snapshots, a volume-backed server's image (its volume snapshotted; a server
// booted from it, with the fake compute driver), and backups in object storage (the swift backup driver): backup
// create (full and incremental), list, show, restore to a new volume, delete.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openstack } from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";
import { volumeCli } from "./volume-cli.js";

describe("block storage with the openstack CLI", () => {
  const { s, os, status } = volumeCli("stratus-e2e-volume-", "fake");

  test("volumes, types, snapshots and volumes from snapshots", async () => {
    const t = await os(
      ["volume", "type", "create", "--property", "file:format=raw", "--property", "k=v", "e2e-type"],
      "stratus-admin",
    );
    assert.equal(t.name, "e2e-type");
    const made = await os([
      "volume",
      "create",
      "--size",
      "1",
      "--type",
      "e2e-type",
      "--property",
      "a=b",
      "vol1",
    ]);
    assert.equal(made.size, 1);
    await status("volume", "vol1", "available");
    const list = await os(["volume", "list"]);
    assert.ok(list.some((v: any) => v.Name === "vol1" && v.Status === "available"));
    await os(
      ["volume", "set", "--name", "vol1b", "--description", "described", "--property", "c=d", "vol1"],
      "stratus-demo",
      false,
    );
    const shown = await os(["volume", "show", "vol1b"]);
    assert.equal(shown.description, "described");
    assert.equal(shown.type, "e2e-type");
    assert.match(JSON.stringify(shown.properties), /c/);
    await os(["volume", "set", "--size", "2", "vol1b"], "stratus-demo", false);
    await until("extended", async () => (await os(["volume", "show", "vol1b"])).size === 2, 60_000, 200);
    const snap = await os(["volume", "snapshot", "create", "--volume", "vol1b", "snap1"]);
    assert.equal(snap.name, "snap1");
    await status("volume snapshot", "snap1", "available");
    await os(["volume", "create", "--snapshot", "snap1", "--size", "2", "vol2"]);
    await status("volume", "vol2", "available");
    await os(["volume", "snapshot", "delete", "snap1"], "stratus-demo", false);
    await until(
      "snapshot gone",
      async () => !(await os(["volume", "snapshot", "list"])).some((x: any) => x.Name === "snap1"),
      60_000,
      200,
    );
    await os(["volume", "delete", "vol1b", "vol2"], "stratus-demo", false);
    await until("volumes gone", async () => (await os(["volume", "list"])).length === 0, 60_000, 200);
    await os(["volume", "type", "delete", "e2e-type"], "stratus-admin", false);
  });

  test("server image create of a volume-backed server snapshots its volume; a server boots from that image", async () => {
    const mv = ["--os-compute-api-version", "2.60"];
    await os(["volume", "create", "--size", "1", "--bootable", "bfv-root"]);
    await status("volume", "bfv-root", "available");
    const srv = await os([
      ...mv,
      ...[
        "server",
        "create",
        "--volume",
        "bfv-root",
        "--flavor",
        "m1.nano",
        "--nic",
        "none",
        "--wait",
        "bfv",
      ],
    ]);
    assert.equal(srv.status, "ACTIVE");
    const img = await os([...mv, "server", "image", "create", "--name", "bfv-image", "--wait", "bfv"]);
    assert.equal(img.name, "bfv-image");
    const shown = await os(["image", "show", "bfv-image"]);
    assert.equal(shown.status, "active");
    assert.equal(shown.size, 0);
    assert.equal(shown.properties.bdm_v2, "True");
    const maps = JSON.parse(shown.properties.block_device_mapping);
    assert.equal(maps.length, 1);
    assert.equal(maps[0].source_type, "snapshot");
    assert.equal(maps[0].boot_index, 0);
    const snap = await status("volume snapshot", maps[0].snapshot_id, "available");
    assert.equal(snap.name, "snapshot for bfv-image");
    const again = await os([
      ...mv,
      ...[
        "server",
        "create",
        "--image",
        "bfv-image",
        "--flavor",
        "m1.nano",
        "--nic",
        "none",
        "--wait",
        "bfv2",
      ],
    ]);
    assert.equal(again.status, "ACTIVE");
    const vols: Array<{ ID: string; "Attached to": unknown }> = await os(["volume", "list"]);
    const made = vols.find((v) => JSON.stringify(v["Attached to"]).includes(again.id));
    assert.ok(made, JSON.stringify(vols));
    assert.equal((await os(["volume", "show", made.ID])).snapshot_id, maps[0].snapshot_id);
    await os([...mv, "server", "delete", "--wait", "bfv", "bfv2"], "stratus-demo", false);
    await os(["volume", "delete", made.ID], "stratus-demo", false);
    await os(["volume", "delete", "--purge", "bfv-root"], "stratus-demo", false);
    await os(["image", "delete", "bfv-image"], "stratus-demo", false);
    await until("volumes gone", async () => (await os(["volume", "list"])).length === 0, 60_000, 200);
  });

  test("quota show and limits show ask block storage too", async () => {
    const q = await os(["quota", "show", "demo"], "stratus-admin", false);
    assert.match(String(q), /volumes/);
    assert.match(String(q), /snapshots/);
    const l = await os(["limits", "show", "--absolute"], "stratus-demo", false);
    assert.match(String(l), /maxTotalVolumes/);
  });

  test("backup create, list, show, restore and delete", async () => {
    await os(["volume", "create", "--size", "1", "bvol"]);
    await status("volume", "bvol", "available");
    const made = await os(["volume", "backup", "create", "--name", "bk1", "--description", "e2e", "bvol"]);
    assert.equal(made.name, "bk1");
    await status("volume backup", "bk1", "available");
    const list = await os(["volume", "backup", "list"]);
    assert.ok(list.some((b: any) => b.Name === "bk1" && b.Status === "available" && b.Size === 1));
    const shown = await os(["volume", "backup", "show", "bk1"]);
    assert.equal(shown.description, "e2e");
    assert.equal(shown.container, "volumebackups");
    assert.equal(shown.is_incremental, false);
    const incr = await os(["volume", "backup", "create", "--incremental", "--name", "bk2", "bvol"]);
    assert.equal(incr.name, "bk2");
    await status("volume backup", "bk2", "available");
    assert.equal((await os(["volume", "backup", "show", "bk2"])).is_incremental, true);
    // python3-openstackclient 6.0.0 sends the restore and gets Cinder's answer, then fails to print it (its
    // ShowOne returns the client's VolumeBackupsRestore object, fixed in later releases): only that is accepted.
    const restored = await openstack(s(), ["volume", "backup", "restore", "bk2", "rvol"], "stratus-demo");
    if (restored.code !== 0)
      assert.match(
        restored.stderr,
        /cannot unpack non-iterable VolumeBackupsRestore object/,
        restored.stderr,
      );
    await status("volume", "rvol", "available");
    await status("volume backup", "bk2", "available");
    // The full backup has a child: refused; the child first, then the parent.
    const refused = await openstack(s(), ["volume", "backup", "delete", "bk1"], "stratus-demo");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Incremental backups exist for this backup/);
    await os(["volume", "backup", "delete", "bk2"], "stratus-demo", false);
    await until(
      "bk2 gone",
      async () => !(await os(["volume", "backup", "list"])).some((b: any) => b.Name === "bk2"),
      60_000,
      200,
    );
    await os(["volume", "backup", "delete", "bk1"], "stratus-demo", false);
    await until("bk1 gone", async () => (await os(["volume", "backup", "list"])).length === 0, 60_000, 200);
  });
});
