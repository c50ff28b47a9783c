// Identity's RPC contract: a fanout every API process listens to, so that a revocation recorded by one process
// clears the token-validation caches of all of them at once (the revocation poll covers a message that is lost).
import { cast, defineContract } from "../shared/bus/index.js";

/** Identity events fanned out to every process that validates tokens. */
export const identityEventsContract = defineContract("identity_events", "1.0", {
  /** A revocation event was recorded (seq: its order): load new events and drop cached validations. */
  revoked: cast<{ seq: number }>(),
});
