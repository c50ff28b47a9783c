// Compute calls the network service as the nova service user (service role), as Nova does with Neutron: with the
// network admin rule (admin_only) granted to nobody, a server still boots with its port created, bound to its host
// and deleted with it, which only the service_api rules allow; the user itself cannot do those service-only things.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";
import { netRequest } from "./net-request.js";
import type { Res } from "../../helpers/cloud.js";
import { until } from "../../helpers/wait.js";

let c: ComputeCloud;
let privateNet = "";
let policyFile = "";

const net = (method: string, path: string, token: string, body?: unknown): Promise<Res> =>
  netRequest(c, method, path, token, body);

/** Whether the cloud admin may bind a port now (false once the override applies). */
const adminBinds = async (): Promise<boolean> => {
  c.t.cloud.policy.reloadIfChanged();
  const r = await net("POST", "/ports", c.admin, {
    port: { network_id: privateNet, "binding:host_id": "elsewhere" },
  });
  if (r.status === 201) await net("DELETE", `/ports/${r.body.port.id}`, c.admin);
  return r.status === 201;
};

before(async () => {
  c = await bootCompute({ compute: { hosts: 1 } });
  const nets = (await net("GET", "/networks", c.admin)).body.networks as Array<{ id: string; name: string }>;
  privateNet = nets.find((n) => n.name === "private")!.id;
  policyFile = join(c.t.dataDir, "policy.yaml");
  // Nobody is a network admin: the cloud admin's token (what compute used before) could not bind a port.
  writeFileSync(policyFile, '"admin_only": "!"\n');
  await until("the override applies", async () => !(await adminBinds()));
});
after(async () => {
  rmSync(policyFile, { force: true });
  await c?.close();
});

test("a server's port is created, bound and deleted by the service user; its owner cannot do that", async () => {
  const r = await c.req("POST", "/v2.1/servers", {
    token: c.demo,
    mv: "2.37",
    body: { server: { name: "svc", imageRef: c.imageId, flavorRef: "42", networks: [{ uuid: privateNet }] } },
  });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  const s = await c.waitStatus(c.demo, id, "ACTIVE");
  const ports = (await net("GET", `/ports?device_id=${id}`, c.demo)).body.ports;
  assert.equal(ports.length, 1);
  const port = ports[0];
  assert.equal(port.device_owner, "compute:nova");
  assert.equal(s.addresses.private[0].addr, port.fixed_ips[0].ip_address);

  // The owner (a plain member) may not bind its server's port nor create a bound one...
  const rebind = await net("PUT", `/ports/${port.id}`, c.demo, { port: { "binding:host_id": "other" } });
  assert.equal(rebind.status, 403, rebind.text);
  assert.match(rebind.body.NeutronError.message, /update_port:binding:host_id/);
  const bound = await net("POST", "/ports", c.demo, {
    port: { network_id: privateNet, "binding:host_id": "other" },
  });
  assert.equal(bound.status, 403, bound.text);
  const profiled = await net("POST", "/ports", c.demo, {
    port: { network_id: privateNet, "binding:profile": { migrating_to: "other" } },
  });
  assert.equal(profiled.status, 403, profiled.text);
  // ...nor put a port on its network for another project (the network is not found for that project).
  const admin = await c.t.projectId("admin");
  const foreign = await net("POST", "/ports", c.demo, {
    port: { network_id: privateNet, project_id: admin },
  });
  assert.equal(foreign.status, 404, foreign.text);

  assert.equal((await c.req("DELETE", `/v2.1/servers/${id}`, { token: c.demo })).status, 204);
  await c.waitGone(c.demo, id);
  assert.equal((await net("GET", `/ports/${port.id}`, c.demo)).status, 404);
});
