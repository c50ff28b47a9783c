// os-server-password: the encrypted password a guest posted to the metadata service, kept in the server's
// system metadata in chunks (password_0..3, as Nova does). No Stratus guest posts one, so it reads "" unless set.
import { noContent } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { updateServer } from "../../instances/store.js";
import type { Ctx } from "../common.js";
import { ADMIN_OR_PROJECT, PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { authorizedServer } from "../server-actions/common.js";

const rule = (a: string) => `os_compute_api:os-server-password:${a}`;
const PATH = "/servers/{server_id}/os-server-password";
/** Nova keeps the password in four system metadata items of 255 characters. */
const CHUNKS = 4;

/** Policy defaults of os-server-password. */
export const serverPasswordPolicies: RuleDefault[] = [
  policyRule(rule("show"), ADMIN_OR_PROJECT, "Show a server's encrypted password.", "GET", PATH),
  policyRule(rule("clear"), PROJECT_MEMBER, "Clear a server's encrypted password.", "DELETE", PATH),
];

/** GET and DELETE /servers/{id}/os-server-password. */
export function serverPasswordRoutes(core: ComputeCore): Route[] {
  const P = "/v2.1/servers/:id/os-server-password";
  return [
    route({
      method: "GET",
      path: P,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, rule("show"));
        let password = "";
        for (let i = 0; i < CHUNKS; i++) {
          const part = inst.system_metadata[`password_${i}`];
          if (typeof part === "string") password += part;
        }
        return { password };
      },
    }),
    route({
      method: "DELETE",
      path: P,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, rule("clear"));
        const keys = Array.from({ length: CHUNKS }, (_, i) => `password_${i}`);
        // Only the password items are written: the rest of system_metadata stays as the row has it then.
        if (keys.some((k) => inst.system_metadata[k]))
          await updateServer(core.db, inst.uuid, {
            sysmeta: { set: Object.fromEntries(keys.map((k) => [k, ""])) },
          });
        return noContent();
      },
    }),
  ];
}
