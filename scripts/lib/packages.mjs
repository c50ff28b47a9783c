// Debian packages the project needs, by purpose. Each entry: the package and why; scripts install the missing ones.

/** Needed to build the guest image (scripts/guest-image/build.sh; `stratus up` builds it on first run). */
export const GUEST_IMAGE_PACKAGES = [
  { pkg: "e2fsprogs", why: "guest image: mkfs.ext4 -d makes its root filesystem" },
  { pkg: "qemu-utils", why: "guest image: qemu-img converts the disk to qcow2" },
  { pkg: "binutils", why: "guest image: readelf finds the shared libraries to copy" },
];

/** Needed to run the cloud (`npm start`): so far what building the guest image needs. Planned entries, when their drivers land:
 *  { pkg: "qemu-system-x86", why: "compute: qemu virt driver" }, { pkg: "qemu-utils", why: "image conversion" },
 *  { pkg: "dnsmasq-base", why: "network: DHCP for the linux driver" }, { pkg: "iproute2", why: "network: namespaces" }. */
export const RUNTIME_PACKAGES = [...GUEST_IMAGE_PACKAGES];

/** Needed by the tests (`npm test`, `npm run tempest`): the real OpenStack CLI and tempest, run by /usr/bin/python3. */
export const TEST_PACKAGES = [
  { pkg: "python3-openstackclient", why: "e2e tests: /usr/bin/openstack" },
  { pkg: "python3-openstacksdk", why: "image e2e test: openstacksdk's create_image and download_image" },
  {
    pkg: "python3-osc-placement",
    why: "e2e tests: openstack resource provider commands (placement, planned)",
  },
  { pkg: "tempest", why: "npm run tempest: the OpenStack API conformance suite" },
  ...GUEST_IMAGE_PACKAGES,
  { pkg: "qemu-system-x86", why: "guest image test: boots the built image under TCG" },
  { pkg: "openssh-client", why: "guest image test: ssh into the booted guest" },
  {
    pkg: "qemu-utils",
    why: "image inspector tests cross-check against qemu-img; the image e2e test makes its qcow2 with it",
  },
];

/** Package names of a list. */
export const names = (list) => [...new Set(list.map((p) => p.pkg))];
