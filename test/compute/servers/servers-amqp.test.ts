import { after } from "node:test";
import { rabbitVhost } from "../../helpers/rabbit.js";
import { serverCases } from "./servers.cases.js";

let skip: string | null = null;
let drop: (() => void) | null = null;
serverCases(
  "servers (RabbitMQ bus)",
  async () => {
    const v = await rabbitVhost();
    if ("skip" in v) {
      skip = v.skip;
      return null;
    }
    drop = v.drop;
    return v.url;
  },
  () => skip,
);
after(() => drop?.());
