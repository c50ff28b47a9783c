// Object expiry headers on writes: X-Delete-After (seconds from now) or X-Delete-At (Unix time), checked as Swift's
// check_delete_headers checks them.
import { swiftText } from "../errors.js";
import { header, type Ctx } from "./request.js";

/** The time a write's X-Delete-After or X-Delete-At asks the object to expire at (After wins); 400 when it is not
 *  a whole number or is not in the future. */
export function deleteAtOf(ctx: Ctx): number | undefined {
  const at = header(ctx, "x-delete-at");
  const after = header(ctx, "x-delete-after");
  const now = Date.now() / 1000;
  let t: number | undefined;
  if (after !== undefined) {
    if (!/^\d{1,12}$/.test(after.trim())) throw swiftText(400, "Non-integer X-Delete-After");
    t = Math.floor(now) + Number(after.trim());
  } else if (at !== undefined) {
    if (!/^\d{1,12}$/.test(at.trim())) throw swiftText(400, "Non-integer X-Delete-At");
    t = Number(at.trim());
  }
  if (t !== undefined && t <= now) throw swiftText(400, "X-Delete-At in past");
  return t;
}
