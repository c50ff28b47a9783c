// The metadata documents match Nova's shapes: meta_data.json keys per OpenStack version, the version listings,
// network_data.json, vendor data, the EC2 tree and its printing, path lookup, and the config drive's file list.
import assert from "node:assert/strict";
import { test } from "node:test";
import { configDriveFiles, configDriveRequired } from "../../../src/compute/metadata/config-drive.js";
import {
  ec2Print,
  ec2Tree,
  lookup,
  metaDataJson,
  openstackListing,
  type Ec2Dir,
} from "../../../src/compute/metadata/documents.js";
import { netmask, networkData } from "../../../src/compute/metadata/network-data.js";
import { OPENSTACK_VERSIONS, listedOpenstackVersions } from "../../../src/compute/metadata/versions.js";
import { sampleOptions, sampleSource, sampleVifs } from "./fixtures.js";

const keysAt = (v: string) => Object.keys(metaDataJson(sampleSource(), v, sampleOptions())).sort();
const base = ["availability_zone", "hostname", "keys", "launch_index", "meta", "name", "public_keys", "uuid"];

test("meta_data.json gains Nova's keys version by version", () => {
  assert.deepEqual(keysAt("2012-08-10"), [...base].sort());
  assert.deepEqual(keysAt("2013-04-04"), [...base, "random_seed"].sort());
  assert.deepEqual(keysAt("2015-10-15"), [...base, "random_seed", "project_id"].sort());
  assert.deepEqual(keysAt("2016-06-30"), [...base, "random_seed", "project_id", "devices"].sort());
  assert.deepEqual(
    keysAt("2020-10-14"),
    [...base, "random_seed", "project_id", "devices", "dedicated_cpus"].sort(),
  );
  const md = metaDataJson(sampleSource(), "2020-10-14", sampleOptions());
  assert.equal(md.uuid, "83679162-1378-4288-a2d4-70e13ec132aa");
  assert.equal(md.hostname, "vm1.novalocal");
  assert.equal(md.name, "vm1");
  assert.equal(md.launch_index, 0);
  assert.equal(md.availability_zone, "nova");
  assert.deepEqual(md.meta, { role: "web" });
  assert.deepEqual(md.public_keys, { mykey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI mykey" });
  assert.deepEqual(md.keys, [
    { name: "mykey", type: "ssh", data: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI mykey" },
  ]);
  assert.equal(Buffer.from(md.random_seed as string, "base64").length, 512);
  assert.deepEqual(md.devices, []);
  assert.deepEqual(md.dedicated_cpus, []);
  assert.equal("admin_pass" in md, false, "no admin_pass unless given (config drive only)");
});

test("meta_data.json without key pair, metadata or domain; admin_pass when the config drive carries one", () => {
  const md = metaDataJson(
    sampleSource({ keyPair: null, meta: {} }),
    "2018-08-27",
    sampleOptions({ dhcpDomain: "", adminPass: "s3cret" }),
  );
  assert.equal("public_keys" in md, false);
  assert.equal("keys" in md, false);
  assert.equal("meta" in md, false);
  assert.equal(md.hostname, "vm1");
  assert.equal(md.admin_pass, "s3cret");
});

test("version listings: files per version, versions at /openstack with future ones hidden", () => {
  const src = sampleSource();
  assert.deepEqual(openstackListing(src, "2012-08-10"), ["meta_data.json", "user_data"]);
  assert.deepEqual(openstackListing(src, "2013-10-17"), [
    "meta_data.json",
    "user_data",
    "password",
    "vendor_data.json",
  ]);
  assert.deepEqual(openstackListing(sampleSource({ userData: null }), "2018-08-27"), [
    "meta_data.json",
    "password",
    "vendor_data.json",
    "network_data.json",
    "vendor_data2.json",
  ]);
  assert.deepEqual(listedOpenstackVersions(new Date("2019-01-01")), [
    "2012-08-10",
    "2013-04-04",
    "2013-10-17",
    "2015-10-15",
    "2016-06-30",
    "2016-10-06",
    "2017-02-22",
    "2018-08-27",
    "latest",
  ]);
  assert.deepEqual(listedOpenstackVersions(new Date("2030-01-01")), [...OPENSTACK_VERSIONS, "latest"]);
});

test("network_data.json: {} without network info; links, networks and services from VIFs", () => {
  assert.deepEqual(networkData(undefined), {});
  assert.deepEqual(networkData([]), {});
  const nd = networkData(sampleVifs());
  assert.deepEqual(nd, {
    links: [
      { id: "tap0", vif_id: "port-1", type: "ovs", mtu: 1450, ethernet_mac_address: "fa:16:3e:00:00:01" },
    ],
    networks: [
      {
        id: "network0",
        type: "ipv4",
        link: "tap0",
        ip_address: "10.0.0.5",
        netmask: "255.255.255.0",
        routes: [
          { network: "0.0.0.0", netmask: "0.0.0.0", gateway: "10.0.0.1" },
          { network: "192.168.0.0", netmask: "255.255.0.0", gateway: "10.0.0.254" },
        ],
        network_id: "net-1",
        services: [{ type: "dns", address: "10.0.0.2" }],
      },
      {
        id: "network1",
        type: "ipv6_slaac",
        link: "tap0",
        ip_address: "fd00:1::5",
        netmask: "ffff:ffff:ffff:ffff::",
        routes: [{ network: "::", netmask: "::", gateway: "fd00:1::1" }],
        network_id: "net-1",
        services: [],
      },
    ],
    services: [{ type: "dns", address: "10.0.0.2" }],
  });
  const dhcp = sampleVifs();
  dhcp[0]!.network.subnets[0]!.enableDhcp = true;
  dhcp[0]!.devName = undefined;
  dhcp[0]!.type = "midonet";
  const n2 = networkData(dhcp) as { links: any[]; networks: any[] };
  assert.deepEqual(n2.networks[0], {
    id: "network0",
    type: "ipv4_dhcp",
    link: "interface0",
    network_id: "net-1",
  });
  assert.equal(n2.links[0].type, "phy");
  assert.equal(netmask(0, 4), "0.0.0.0");
  assert.equal(netmask(32, 4), "255.255.255.255");
  assert.equal(netmask(128, 6), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  assert.equal(netmask(20, 6), "ffff:f000::");
});

test("EC2 tree: ids, keys, placement, block devices; printed as Nova prints it", () => {
  const t = ec2Tree(sampleSource(), "2009-04-04", sampleOptions({ address: "169.254.169.15" }));
  const md = t["meta-data"] as Ec2Dir;
  assert.equal(md["instance-id"], "i-0000002a");
  assert.equal(md["ami-id"], "ami-155d900f");
  assert.equal(md["reservation-id"], "r-7a3f01bc");
  assert.equal(md.hostname, "vm1.novalocal");
  assert.equal(md["local-hostname"], "vm1.novalocal");
  assert.equal(md["local-ipv4"], "169.254.169.15");
  assert.equal(md["instance-type"], "m1.nano");
  assert.deepEqual(md.placement, { "availability-zone": "nova" });
  assert.deepEqual(md["block-device-mapping"], { ami: "vda", root: "/dev/vda", ephemeral0: "/dev/vdb" });
  assert.equal(md["instance-action"], "none");
  assert.deepEqual(md["security-groups"], ["default"]);
  assert.equal(ec2Print(md["public-keys"]!), "0=mykey");
  assert.equal(ec2Print((md["public-keys"] as Ec2Dir)["0"]!), "openssh-key");
  assert.equal(ec2Print(t), "meta-data/\nuser-data");
  const old = ec2Tree(sampleSource(), "1.0", sampleOptions())["meta-data"] as Ec2Dir;
  assert.equal("local-hostname" in old, false);
  assert.equal("placement" in old, false);
  assert.equal(old["local-ipv4"], null, "no fixed IP and no caller address: None, as Nova");
  const withIp = ec2Tree(sampleSource({ networkInfo: sampleVifs() }), "2009-04-04", sampleOptions());
  assert.equal((withIp["meta-data"] as Ec2Dir)["local-ipv4"], "10.0.0.5");
  assert.equal((withIp["meta-data"] as Ec2Dir)["public-ipv4"], "172.24.4.10");
});

test("lookup resolves paths as Nova's metadata handler does", () => {
  const src = sampleSource();
  const o = sampleOptions();
  const body = (p: string) => {
    const r = lookup(src, p, o);
    assert.equal(r.kind, "data", p);
    return r.kind === "data" ? r.body.toString() : "";
  };
  const kind = (p: string) => lookup(src, p, o).kind;
  assert.match(body("/"), /^1\.0\n2007-01-19\n.*\n2009-04-04\nlatest$/s);
  assert.match(body("/openstack"), /^2012-08-10\n.*\nlatest$/s);
  assert.equal(body("/latest/meta-data/instance-id"), "i-0000002a");
  assert.equal(body("/2009-04-04/meta-data/placement/availability-zone"), "nova");
  assert.equal(body("/latest/meta-data/public-keys/0/openssh-key"), src.keyPair!.publicKey);
  assert.equal(body("/latest/meta-data/security-groups"), "default");
  assert.equal(body("/latest/user-data"), "#!/bin/sh\necho hello from user data\n");
  assert.equal(body("/ec2/latest/meta-data/hostname"), "vm1.novalocal");
  assert.match(
    body("/latest/meta-data/"),
    /^ami-id\nami-launch-index\n.*block-device-mapping\/\n.*public-keys\/?\n?/s,
  );
  assert.equal(JSON.parse(body("/openstack/latest/meta_data.json")).uuid, src.uuid);
  assert.equal(JSON.parse(body("/openstack/2012-08-10/meta_data.json")).project_id, undefined);
  assert.deepEqual(JSON.parse(body("/openstack/latest/vendor_data.json")), {});
  assert.deepEqual(JSON.parse(body("/openstack/latest/vendor_data2.json")), { static: {} });
  assert.deepEqual(JSON.parse(body("/openstack/latest/network_data.json")), {});
  assert.equal(body("/openstack/latest/user_data"), "#!/bin/sh\necho hello from user data\n");
  const r = lookup(src, "/openstack/latest/meta_data.json", o);
  assert.equal(r.kind === "data" && r.contentType, "application/json");
  assert.equal(kind("/openstack/latest/password"), "password");
  assert.equal(kind("/openstack/2012-08-10/password"), "not-found");
  assert.equal(kind("/openstack/2012-08-10/vendor_data.json"), "not-found");
  assert.equal(kind("/openstack/2015-10-15/vendor_data2.json"), "not-found");
  assert.equal(kind("/openstack/1999-01-01/meta_data.json"), "not-found");
  assert.equal(kind("/2010-01-01/meta-data/"), "not-found");
  assert.equal(kind("/latest/meta-data/nope"), "not-found");
  assert.equal(kind("/latest/meta-data/constructor"), "not-found");
  assert.equal(kind("/latest/meta-data/__proto__"), "not-found");
  assert.equal(lookup(sampleSource({ userData: null }), "/openstack/latest/user_data", o).kind, "not-found");
  assert.equal(body("/openstack/../latest/meta-data/instance-id"), "i-0000002a", "normalised like normpath");
});

test("config drive files: Nova's layout (ec2 2009-04-04 and latest; every OpenStack version)", () => {
  const paths = configDriveFiles(sampleSource(), sampleOptions()).map((f) => f.path);
  assert.ok(paths.includes("ec2/2009-04-04/meta-data.json"));
  assert.ok(paths.includes("ec2/latest/meta-data.json"));
  assert.ok(paths.includes("ec2/latest/user-data"));
  assert.ok(!paths.some((p) => p.startsWith("ec2/2008-09-01")), "older EC2 versions are skipped");
  for (const v of [...OPENSTACK_VERSIONS, "latest"]) {
    assert.ok(paths.includes(`openstack/${v}/meta_data.json`), v);
    assert.ok(paths.includes(`openstack/${v}/user_data`), v);
  }
  assert.ok(!paths.includes("openstack/2013-04-04/vendor_data.json"));
  assert.ok(paths.includes("openstack/2013-10-17/vendor_data.json"));
  assert.ok(!paths.includes("openstack/2013-10-17/network_data.json"));
  assert.ok(paths.includes("openstack/2015-10-15/network_data.json"));
  assert.ok(paths.includes("openstack/latest/vendor_data2.json"));
  assert.ok(!paths.some((p) => p.endsWith("/password")), "no password file on the drive");
  const ec2 = configDriveFiles(sampleSource(), sampleOptions()).find(
    (f) => f.path === "ec2/latest/meta-data.json",
  )!;
  assert.deepEqual(JSON.parse(ec2.data.toString())["public-keys"], {
    "0": { "openssh-key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI mykey" },
  });
});

test("config drive decision: asked for, forced for new servers, or mandatory by image", () => {
  assert.equal(configDriveRequired({ configDrive: "" }), false);
  assert.equal(configDriveRequired({ configDrive: "True" }), true);
  assert.equal(configDriveRequired({ configDrive: true }), true);
  assert.equal(configDriveRequired({ configDrive: "false" }), false);
  assert.equal(configDriveRequired({ configDrive: "", forceConfigDrive: true }), true);
  assert.equal(
    configDriveRequired({ configDrive: "", forceConfigDrive: true, launchedAt: "2026-01-01T00:00:00Z" }),
    false,
    "force applies only to servers not launched yet",
  );
  assert.equal(
    configDriveRequired({ configDrive: "", imageProperties: { img_config_drive: "mandatory" } }),
    true,
  );
  assert.equal(
    configDriveRequired({ configDrive: "", imageProperties: { img_config_drive: "optional" } }),
    false,
  );
});
