// Debian packages the project needs, by purpose. Each entry: the package and why; scripts install the missing ones.

/** Needed to build the guest image (scripts/guest-image/build.sh; `stratus up` builds it on first run). */
export const GUEST_IMAGE_PACKAGES = [
  { pkg: "e2fsprogs", why: "guest image: mkfs.ext4 -d makes its root filesystem" },
  { pkg: "qemu-utils", why: "guest image: qemu-img converts the disk to qcow2" },
  {
    pkg: "binutils",
    why: "guest image: readelf finds the shared libraries to copy; strip unsigns the modules",
  },
  { pkg: "lz4", why: "guest image: the initramfs is LZ4-compressed" },
];

/** The linux network data plane (src/network/drivers/linux): bridges, namespaces, DHCP, firewall, NAT. */
export const NETWORK_PACKAGES = [
  { pkg: "iproute2", why: "network: ip and bridge make namespaces, bridges, veths, taps and VXLAN devices" },
  { pkg: "dnsmasq-base", why: "network: dnsmasq serves DHCP in each network's qdhcp namespace" },
  { pkg: "dnsmasq-utils", why: "network: dhcp_release frees the lease of a deleted port's address" },
  { pkg: "iptables", why: "network: security groups (iptables via br_netfilter) and router NAT" },
  { pkg: "ipset", why: "network: remote-group security group rules match ipsets swapped atomically" },
  { pkg: "nftables", why: "network: nft bridge-family table for MAC and ARP anti-spoofing" },
  { pkg: "conntrack", why: "network: deletes the connections of a floating IP that is removed or moved" },
  { pkg: "iputils-arping", why: "network: gratuitous ARP announces floating IPs on the external network" },
  {
    pkg: "iputils-ping",
    why: "network: `stratus public-exec -- ping` reaches floating IPs from the public network",
  },
  { pkg: "procps", why: "network: sysctl sets forwarding and br_netfilter inside namespaces" },
];

/** The block storage data path (src/volume/drivers): iSCSI targets, NBD exports and QEMU's iSCSI initiator. */
export const VOLUME_PACKAGES = [
  { pkg: "tgt", why: "volume: tgtd/tgtadm serve volumes as iSCSI targets (CHAP, one target per volume)" },
  { pkg: "qemu-utils", why: "volume: qemu-img makes, snapshots, clones and converts volume files" },
  { pkg: "qemu-system-common", why: "volume: qemu-storage-daemon serves NBD exports of volumes" },
  {
    pkg: "qemu-block-extra",
    why: "volume: QEMU's libiscsi initiator (blockdev driver iscsi) attaches iSCSI volumes",
  },
];

/** Needed to run the cloud (`npm start`). */
export const RUNTIME_PACKAGES = [
  { pkg: "qemu-system-x86", why: "compute: the qemu virt driver runs each guest in qemu-system-x86_64" },
  {
    pkg: "socat",
    why: "compute: pipes a guest's metadata connections to its listener (else node, slower to start)",
  },
  {
    pkg: "qemu-utils",
    why: "compute: qemu-img makes instance disks (overlays, ephemeral) and converts cached base images",
  },
  ...GUEST_IMAGE_PACKAGES.filter((p) => p.pkg !== "qemu-utils"),
  ...NETWORK_PACKAGES,
  ...VOLUME_PACKAGES.filter((p) => p.pkg !== "qemu-utils"),
  { pkg: "bzip2", why: "object storage: extract-archive=tar.bz2 decompresses with bzip2" },
];

/** Needed by `npm ci` when a native module (better-sqlite3) compiles from source because no prebuilt binary is
 *  reachable: node-gyp runs python3, make and a C++ compiler. Installed before npm dependencies. */
export const BUILD_PACKAGES = [
  {
    pkg: "build-essential",
    why: "npm ci: g++ and make to compile better-sqlite3 when no prebuilt binary is reachable",
  },
  { pkg: "python3", why: "npm ci: node-gyp, which compiles better-sqlite3, runs python3" },
];

/** Needed by the tests (`npm test`, `npm run tempest`): the real OpenStack CLI and tempest, run by /usr/bin/python3. */
export const TEST_PACKAGES = [
  { pkg: "python3-openstackclient", why: "e2e tests: /usr/bin/openstack" },
  { pkg: "python3-openstacksdk", why: "image e2e test: openstacksdk's create_image and download_image" },
  {
    pkg: "python3-swiftclient",
    why: "object storage e2e test: /usr/bin/swift (and openstack container/object)",
  },
  {
    pkg: "python3-boto3",
    why: "S3 e2e test (test/e2e/s3-boto3.test.ts): boto3 against the S3 API",
  },
  { pkg: "rclone", why: "S3 e2e test (test/e2e/s3-cli.test.ts): rclone's S3 backend against the S3 API" },
  {
    pkg: "s3cmd",
    why: "S3 e2e test (test/e2e/s3-cli.test.ts): s3cmd against the S3 API (Signature V4 and V2)",
  },
  {
    pkg: "python3-osc-placement",
    why: "e2e tests: openstack resource provider commands (placement, planned)",
  },
  { pkg: "tempest", why: "npm run tempest: the OpenStack API conformance suite" },
  { pkg: "genisoimage", why: "config drive tests read the ISO 9660 image back with isoinfo" },
  {
    pkg: "attr",
    why: "extract-archive test: setfattr gives files the user xattrs GNU tar stores as pax headers",
  },
  ...GUEST_IMAGE_PACKAGES,
  { pkg: "qemu-system-x86", why: "guest image test: boots the built image under TCG" },
  { pkg: "openssh-client", why: "guest image and qemu e2e tests: ssh into the booted guest" },
  {
    pkg: "qemu-utils",
    why: "image inspector tests cross-check against qemu-img; the image e2e test makes its qcow2 with it",
  },
  { pkg: "qemu-system-x86", why: "qemu driver tests: QMP, supervisor and accel probe against a real QEMU" },
  { pkg: "chromium", why: "console tests: noVNC in a real headless browser, driven by playwright-core" },
  ...NETWORK_PACKAGES,
  {
    pkg: "busybox",
    why: "network data plane tests: udhcpc, udhcpd, ping and arping inside the test's guest namespaces",
  },
  ...VOLUME_PACKAGES,
];

/** Package names of a list. */
export const names = (list) => [...new Set(list.map((p) => p.pkg))];
