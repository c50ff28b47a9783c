// The resize quota holds across API processes (issue 8 item 2): two `bin/stratus up` processes share one data
// directory, a temporary database (PostgreSQL, then MariaDB) and a RabbitMQ vhost; the first runs one fake compute
// host. A member project's servers are resized to a flavor with one more vCPU, the requests alternating between
// the two processes, with room for exactly `FREE` more cores: exactly `FREE` resizes are accepted, the rest are 403.
//
// PostgreSQL, MariaDB and RabbitMQ are started when installed; when one cannot be used the cases skip with the
// reason, unless CI is set: then they fail. Every wait is bounded.
import { strict as assert } from "node:assert";
import { after, before, describe, test, type TestContext } from "node:test";
import { twoProcessCloud, untilOk, type TwoProcessCloud } from "../helpers/multiprocess.js";

const SERVERS = 12;
const FREE = 3;
const ROUNDS = 3;
const BIG = "mpr-big";
const CONFIG = "compute:\n  fake: { vcpus: 64, memoryMb: 131072, diskGb: 2048 }\n";
/** Task states of a resize under way (its growth is counted; the test waits for none before a round). */
const MOVING = /^resize_/;

for (const engine of ["postgres", "mysql"] as const) {
  describe(`resize quota across two API processes on ${engine} and RabbitMQ`, () => {
    let skip: string | null = "before() did not finish";
    let cloud: TwoProcessCloud | null = null;
    let bases: string[] = [];
    let adminToken = "";
    let demoToken = "";
    let demoProject = "";

    const guard = (t: TestContext): boolean => {
      if (skip) t.skip(skip);
      return !!skip;
    };

    const call: TwoProcessCloud["call"] = (...a) => cloud!.call(...a);

    /** The demo project's servers (id, status, task state, flavor's vCPUs). */
    const servers = async () => {
      const r = await call(bases[1], demoToken, "GET", "/compute/v2.1/servers/detail?limit=1000");
      assert.equal(r.status, 200, r.text);
      return (r.body.servers as Array<Record<string, any>>).map((s) => ({
        id: s.id as string,
        status: s.status as string,
        task: (s["OS-EXT-STS:task_state"] as string | null) ?? "",
        flavor: s.flavor.id as string,
      }));
    };

    /** The demo project's cores in use, as the quota counts them. */
    const coresInUse = async () => {
      const r = await call(bases[0], adminToken, "GET", `/compute/v2.1/os-quota-sets/${demoProject}/detail`);
      assert.equal(r.status, 200, r.text);
      return r.body.quota_set.cores.in_use as number;
    };

    const setCores = async (cores: number) => {
      const r = await call(bases[0], adminToken, "PUT", `/compute/v2.1/os-quota-sets/${demoProject}`, {
        quota_set: { instances: -1, cores, ram: -1 },
      });
      assert.equal(r.status, 200, r.text);
    };

    before(async () => {
      // The first process runs the one compute host (so resizes go to the same host); the second is API only.
      const c = await twoProcessCloud("mpr", engine, CONFIG, [
        ["--compute-hosts", "1", "--compute-driver", "fake"],
        ["--compute-hosts", "0", "--compute-driver", "fake"],
      ]);
      if ("skip" in c) {
        skip = c.skip;
        return;
      }
      cloud = c;
      bases = c.bases;
      [adminToken, demoToken, demoProject] = [c.admin.token, c.demo.token, c.demo.project];
      const flavor = await call(bases[0], adminToken, "POST", "/compute/v2.1/flavors", {
        flavor: { name: BIG, id: BIG, vcpus: 2, ram: 128, disk: 1 },
      });
      assert.equal(flavor.status, 200, flavor.text);
      const image = await c.tinyImage("mpr-image");
      await setCores(SERVERS);
      for (let i = 0; i < SERVERS; i++) {
        const r = await call(bases[i % 2], demoToken, "POST", "/compute/v2.1/servers", {
          server: { name: `mpr-${i}`, imageRef: image, flavorRef: "42", networks: "none" },
        });
        assert.equal(r.status, 202, r.text);
      }
      await untilOk(
        `${SERVERS} servers ACTIVE`,
        async () => (await servers()).filter((s) => s.status === "ACTIVE" && !s.task).length === SERVERS,
        120_000,
      );
      skip = null;
    });

    after(async () => {
      await cloud?.stop();
    });

    test(`${SERVERS} servers resized one vCPU up over two processes, ${FREE} cores free per round: exactly ${FREE} accepted`, async (t) => {
      if (guard(t)) return;
      let accepted = 0;
      for (let round = 1; round <= ROUNDS; round++) {
        // Every earlier resize settled (its growth counted or released), then room for exactly FREE more cores.
        const small = await untilOk(
          `round ${round}: no resize under way`,
          async () => {
            const list = await servers();
            return list.some((s) => MOVING.test(s.task)) ? null : list;
          },
          120_000,
        );
        const targets = small.filter((s) => s.flavor === "42" && s.status === "ACTIVE").map((s) => s.id);
        assert.equal(targets.length, SERVERS - accepted, `round ${round}: servers left to resize`);
        const limit = (await coresInUse()) + FREE;
        await setCores(limit);
        const results = await Promise.all(
          targets.map((id, i) =>
            call(bases[i % 2], demoToken, "POST", `/compute/v2.1/servers/${id}/action`, {
              resize: { flavorRef: BIG },
            }),
          ),
        );
        const statuses = results.map((r) => r.status);
        const ok = statuses.filter((s) => s === 202).length;
        assert.equal(
          ok,
          FREE,
          `round ${round}: ${ok} accepted for ${FREE} free cores (${statuses.join(",")})`,
        );
        for (const r of results.filter((x) => x.status !== 202)) {
          assert.equal(r.status, 403, r.text);
          assert.match(r.text, /Quota exceeded for cores/);
        }
        accepted += ok;
        const used = await coresInUse();
        assert.ok(used <= limit, `round ${round}: ${used} cores in use over the limit of ${limit}`);
      }
      assert.equal(accepted, FREE * ROUNDS);
    });
  });
}
