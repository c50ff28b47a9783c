// The metadata path's header rules: what the in-namespace proxy passes on, strips and adds, and how the host-side
// agent reads the caller back.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  callerAddress,
  isIdentityHeader,
  proxiedCaller,
  upstreamHeaders,
} from "../../../src/network/metadata/headers.js";

test("identity headers are recognised whatever their case", () => {
  for (const h of [
    "X-Instance-ID",
    "x-instance-id-signature",
    "X-Instance-Id-Whatever",
    "X-Tenant-ID",
    "X-Forwarded-For",
    "Forwarded",
    "X-Real-IP",
    "X-Neutron-Network-ID",
    "x-neutron-router-id",
  ])
    assert.equal(isIdentityHeader(h), true, h);
  for (const h of ["Accept", "Content-Type", "User-Agent", "X-Instance", "X-Tenant"])
    assert.equal(isIdentityHeader(h), false, h);
});

test("upstream headers: the guest's identity and hop-by-hop headers go, the caller's address and network come", () => {
  const raw = [
    "Host",
    "169.254.169.254",
    "Accept",
    "application/json",
    "X-Instance-ID",
    "someone-else",
    "x-instance-id-signature",
    "abc",
    "X-Tenant-ID",
    "p",
    "X-Forwarded-For",
    "10.0.0.99",
    "X-Neutron-Network-ID",
    "other-net",
    "Connection",
    "keep-alive",
    "Transfer-Encoding",
    "chunked",
    "Content-Type",
    "text/plain",
  ];
  const out = upstreamHeaders(raw, { address: "10.0.0.5", networkId: "net-1" });
  assert.deepEqual(out, [
    ["Accept", "application/json"],
    ["Content-Type", "text/plain"],
    ["x-forwarded-for", "10.0.0.5"],
    ["x-neutron-network-id", "net-1"],
  ]);
});

test("caller addresses: IPv4-mapped IPv6 is unwrapped, non-addresses are refused", () => {
  assert.equal(callerAddress("::ffff:10.0.0.5"), "10.0.0.5");
  assert.equal(callerAddress("10.0.0.5"), "10.0.0.5");
  assert.equal(callerAddress("fd00::5"), "fd00::5");
  assert.equal(callerAddress("10.0.0.5, 1.2.3.4"), null);
  assert.equal(callerAddress(""), null);
  assert.equal(callerAddress(undefined), null);
});

test("the agent reads exactly one well-formed network id and address", () => {
  const ok = proxiedCaller({ "x-neutron-network-id": ["net-1"], "x-forwarded-for": ["10.0.0.5"] });
  assert.deepEqual(ok, { networkId: "net-1", address: "10.0.0.5" });
  const bad = [
    {},
    { "x-neutron-network-id": ["net-1"] },
    { "x-forwarded-for": ["10.0.0.5"] },
    { "x-neutron-network-id": ["net-1", "net-2"], "x-forwarded-for": ["10.0.0.5"] },
    { "x-neutron-network-id": ["net-1"], "x-forwarded-for": ["10.0.0.5", "10.0.0.6"] },
    { "x-neutron-network-id": ["../etc"], "x-forwarded-for": ["10.0.0.5"] },
    { "x-neutron-network-id": ["net-1"], "x-forwarded-for": ["10.0.0.5, 10.0.0.6"] },
    { "x-neutron-network-id": ["net-1"], "x-forwarded-for": ["nope"] },
  ];
  for (const h of bad) assert.ok("error" in proxiedCaller(h), JSON.stringify(h));
});
