// A sample instance for the metadata document tests.
import type {
  InstanceMetadataSource,
  MetadataOptions,
  NetworkVif,
} from "../../../src/compute/metadata/types.js";

/** An instance with a key pair, user data and server metadata, and no network info. */
export function sampleSource(over: Partial<InstanceMetadataSource> = {}): InstanceMetadataSource {
  return {
    uuid: "83679162-1378-4288-a2d4-70e13ec132aa",
    internalId: 42,
    name: "vm1",
    hostname: "vm1",
    projectId: "b3f9e2c1d0a94f0e8e8b0a8a9f1c2d3e",
    availabilityZone: "nova",
    launchIndex: 0,
    reservationId: "r-7a3f01bc",
    keyPair: { name: "mykey", type: "ssh", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI mykey" },
    userData: Buffer.from("#!/bin/sh\necho hello from user data\n").toString("base64"),
    meta: { role: "web" },
    flavorName: "m1.nano",
    flavor: { ephemeralGb: 1, swapMb: 0 },
    imageId: "155d900f-4e14-4e4c-a73d-069cbf4541e6",
    securityGroups: ["default"],
    password: null,
    ...over,
  };
}

/** Options with a fixed random seed. */
export const sampleOptions = (over: Partial<MetadataOptions> = {}): MetadataOptions => ({
  dhcpDomain: "novalocal",
  vendorData: {},
  randomSeed: () => Buffer.alloc(512, 7),
  ...over,
});

/** One VIF with an IPv4 subnet (DNS, gateway, an extra route) and an IPv6 SLAAC subnet. */
export const sampleVifs = (): NetworkVif[] => [
  {
    id: "port-1",
    address: "fa:16:3e:00:00:01",
    type: "ovs",
    devName: "tap0",
    network: {
      id: "net-1",
      mtu: 1450,
      subnets: [
        {
          cidr: "10.0.0.0/24",
          version: 4,
          gateway: "10.0.0.1",
          ips: [{ address: "10.0.0.5", floatingIps: ["172.24.4.10"] }],
          dns: ["10.0.0.2"],
          routes: [{ cidr: "192.168.0.0/16", gateway: "10.0.0.254" }],
        },
        {
          cidr: "fd00:1::/64",
          version: 6,
          gateway: "fd00:1::1",
          ips: [{ address: "fd00:1::5" }],
          ipv6AddressMode: "slaac",
        },
      ],
    },
  },
];
