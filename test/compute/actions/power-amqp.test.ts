// The power suite again, with the control plane and agents talking over RabbitMQ (a private vhost).
import { after, test } from "node:test";
import { rabbitVhost } from "../../helpers/rabbit.js";

const v = await rabbitVhost();
if ("skip" in v) test("power over RabbitMQ", (t) => t.skip(v.skip));
else {
  process.env.STRATUS_TEST_BUS = v.url;
  await import("./power.test.js");
  after(() => v.drop()); // after the suite's own after(), which closes the cloud
}
