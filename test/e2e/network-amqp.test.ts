// The network CLI suite again, with the cloud's services and agents talking over RabbitMQ (a private vhost).
import { after, test } from "node:test";
import { rabbitVhost } from "../helpers/rabbit.js";

const v = await rabbitVhost();
if ("skip" in v) test("network CLI over RabbitMQ", (t) => t.skip(v.skip));
else {
  process.env.STRATUS_TEST_BUS = v.url;
  await import("./network.test.js");
  after(() => v.drop()); // after the suite's own after(), which stops the cloud
}
