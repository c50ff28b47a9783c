import { serverCases } from "./servers.cases.js";

serverCases(
  "servers (in-process bus)",
  async () => "memory",
  () => null,
);
