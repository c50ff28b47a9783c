// Unit tests of the weighers, their normalisation and the ranking.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cpuWeigher,
  defaultWeighers,
  diskWeigher,
  normalise,
  ramWeigher,
  ServerGroupSoftAffinityWeigher,
  ServerGroupSoftAntiAffinityWeigher,
  weighHosts,
} from "../../../src/compute/scheduler/weighers.js";
import { config, hostState, request } from "./fixtures.js";

const names = (ranked: Array<{ host: { host: string } }>) => ranked.map((r) => r.host.host);

test("normalise scales to 0..1 and maps all-equal scores to 0", () => {
  assert.deepEqual(normalise([]), []);
  assert.deepEqual(normalise([5, 5, 5]), [0, 0, 0]);
  assert.deepEqual(normalise([10, 20, 15]), [0, 1, 0.5]);
  assert.deepEqual(normalise([-3, 0]), [0, 1]);
});

test("RAM, CPU and disk weighers score free capacity", () => {
  const cfg = config();
  const h = hostState({ memoryMbUsed: 1000, vcpusUsed: 3, diskGbUsed: 100 });
  assert.equal(ramWeigher(cfg).weigh(h, request()), 32768 - 1000);
  assert.equal(cpuWeigher(cfg).weigh(h, request()), 13);
  assert.equal(diskWeigher(cfg).weigh(h, request()), 400);
  assert.equal(ramWeigher(config({ ramWeightMultiplier: -2 })).multiplier(), -2);
});

test("a positive RAM multiplier spreads, a negative one packs", () => {
  const hosts = [
    hostState({ host: "busy", memoryMbUsed: 30000 }),
    hostState({ host: "idle", memoryMbUsed: 0 }),
    hostState({ host: "half", memoryMbUsed: 16000 }),
  ];
  const only = (m: number) => [ramWeigher(config({ ramWeightMultiplier: m }))];
  assert.deepEqual(names(weighHosts(hosts, request(), only(1))), ["idle", "half", "busy"]);
  assert.deepEqual(names(weighHosts(hosts, request(), only(-1))), ["busy", "half", "idle"]);
  const spread = weighHosts(hosts, request(), only(1));
  assert.equal(spread[0].weight, 1);
  assert.equal(spread[2].weight, 0);
});

test("weights of several weighers add up after normalisation", () => {
  const cfg = config({ ramWeightMultiplier: 1, cpuWeightMultiplier: 3, diskWeightMultiplier: 0 });
  // a has more free RAM, b more free VCPUs; CPU's larger multiplier wins.
  const a = hostState({ host: "a", memoryMbUsed: 0, vcpusUsed: 8 });
  const b = hostState({ host: "b", memoryMbUsed: 20000, vcpusUsed: 0 });
  const ranked = weighHosts([a, b], request(), defaultWeighers(cfg));
  assert.deepEqual(names(ranked), ["b", "a"]);
  assert.equal(ranked[0].weight, 3);
  assert.equal(ranked[1].weight, 1);
});

test("ties are broken by host name", () => {
  const hosts = ["c", "a", "b"].map((host) => hostState({ host }));
  assert.deepEqual(names(weighHosts(hosts, request(), defaultWeighers(config()))), ["a", "b", "c"]);
});

test("soft affinity prefers hosts with members; soft anti-affinity prefers hosts without", () => {
  const hosts = [
    hostState({ host: "a" }),
    hostState({ host: "b", instances: new Set(["m1", "m2"]) }),
    hostState({ host: "c", instances: new Set(["m3"]) }),
  ];
  const group = (policy: string) => ({
    uuid: "g",
    policy,
    rules: {},
    hosts: ["b", "c"],
    members: ["m1", "m2", "m3"],
  });
  const soft = request({ group: group("soft-affinity") });
  assert.equal(ServerGroupSoftAffinityWeigher.weigh(hosts[1], soft), 2);
  assert.equal(ServerGroupSoftAffinityWeigher.weigh(hosts[1], request()), 0);
  assert.deepEqual(names(weighHosts(hosts, soft, [ServerGroupSoftAffinityWeigher])), ["b", "c", "a"]);
  const anti = request({ group: group("soft-anti-affinity") });
  assert.equal(ServerGroupSoftAntiAffinityWeigher.weigh(hosts[1], anti), -2);
  assert.equal(ServerGroupSoftAntiAffinityWeigher.weigh(hosts[1], soft), 0);
  assert.deepEqual(names(weighHosts(hosts, anti, [ServerGroupSoftAntiAffinityWeigher])), ["a", "c", "b"]);
});
