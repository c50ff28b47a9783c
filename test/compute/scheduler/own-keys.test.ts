// Issue 8 item 3: user-chosen names (flavor extra specs, image properties, scheduler hints, aggregate metadata)
// named like Object.prototype members (__proto__, constructor, toString, ...) neither throw nor match anything.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AggregateInstanceExtraSpecsFilter,
  ComputeCapabilitiesFilter,
  defaultFilters,
  firstFailure,
  ImagePropertiesFilter,
} from "../../../src/compute/scheduler/filters.js";
import { placementRequest } from "../../../src/compute/scheduler/request.js";
import { imageSpec } from "../../../src/compute/instances/image.js";
import { aggregateMetadata } from "../../../src/compute/scheduler/host-state.js";
import { flavor, hostState, request } from "./fixtures.js";

const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];
/** A plain object with `key` as an own property, as JSON.parse makes it (a literal would set the prototype). */
const specs = (key: string, value: string) =>
  JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value)}}`);

test("flavor extra specs named like prototype members: no throw, no match", () => {
  const h = hostState({ aggregates: [{ uuid: "a", name: "a", metadata: { ssd: "true" } }] });
  for (const n of NAMES)
    for (const spec of ["true", "<in> function", "<in> native", "s!= x", "<in> object"]) {
      const agg = request({
        flavor: flavor({ extra_specs: specs(`aggregate_instance_extra_specs:${n}`, spec) }),
      });
      const cap = request({ flavor: flavor({ extra_specs: specs(`capabilities:${n}`, spec) }) });
      assert.equal(typeof AggregateInstanceExtraSpecsFilter.check(h, agg), "string", `${n} ${spec}`);
      assert.equal(typeof ComputeCapabilitiesFilter.check(h, cap), "string", `${n} ${spec}`);
      assert.doesNotThrow(() => placementRequest(agg.flavor, agg.spec.image));
    }
});

test("aggregate metadata keys named like prototype members are kept as plain keys and match only themselves", () => {
  for (const n of NAMES) {
    const md = aggregateMetadata([{ meta_key: n, value: "yes" }]);
    assert.ok(Object.hasOwn(md, n), n);
    assert.equal(md[n], "yes");
    const h = hostState({ aggregates: [{ uuid: "a", name: "a", metadata: md }] });
    const req = request({
      flavor: flavor({ extra_specs: specs(`aggregate_instance_extra_specs:${n}`, "yes") }),
    });
    assert.equal(AggregateInstanceExtraSpecsFilter.check(h, req), true, n);
    const other = request({
      flavor: flavor({ extra_specs: specs("aggregate_instance_extra_specs:ssd", "yes") }),
    });
    assert.equal(typeof AggregateInstanceExtraSpecsFilter.check(h, other), "string", n);
  }
});

test("image properties named or valued like prototype members: kept, no throw, no false match", () => {
  for (const n of NAMES) {
    const spec = imageSpec("img", specs(n, "x86_64"));
    assert.ok(Object.hasOwn(spec.properties!, n), n);
    assert.equal(Object.getPrototypeOf(spec.properties), Object.prototype);
    for (const arch of NAMES) {
      const req = request(
        {},
        { image: { id: "i", min_ram: 0, min_disk: 0, properties: specs("architecture", arch) } },
      );
      assert.equal(
        ImagePropertiesFilter.check(hostState(), req),
        `did not support the image's architecture '${arch}'`,
      );
    }
  }
});

test("scheduler hints named like prototype members: every filter answers, none throws", () => {
  for (const n of NAMES) {
    const req = request({}, { hints: specs(n, "x") });
    assert.doesNotThrow(() => firstFailure(defaultFilters(), hostState(), req), n);
  }
});
