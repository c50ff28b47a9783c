// Account quotas (Swift's account_quotas): X-Account-Meta-Quota-Bytes, which only a reseller admin may set or
// remove, caps the bytes an account holds; an upload that would pass it is 413.
import type { ObjectCore } from "../core.js";
import { swiftError, swiftText } from "../errors.js";
import { accountBytes, accountMeta } from "../store/accounts.js";
import { header, type Ctx } from "./request.js";

const QUOTA = "x-account-meta-quota-bytes";

/** Refuse a quota change by anyone but a reseller admin (403), or a quota that is not digits (400), as Swift. */
export function checkAccountQuotaChange(ctx: Ctx): void {
  let next = header(ctx, QUOTA);
  if (header(ctx, "x-remove-account-meta-quota-bytes")) next = "0";
  if (next === undefined) return;
  if (ctx.auth && ctx.allowed("object:reseller_admin", {})) {
    if (next && !/^\d{1,18}$/.test(next)) throw swiftError(400);
    return;
  }
  throw swiftError(403);
}

/** Refuse an upload of `length` bytes (0 when unknown) that would take the account past its quota. */
export async function checkAccountQuota(
  core: ObjectCore,
  account: string,
  length: number | undefined,
): Promise<void> {
  // The sum over the account's containers is read only when there is a quota to hold it to.
  const quota = (await accountMeta(core, account)).get(QUOTA);
  if (quota === undefined || !/^\d+$/.test(quota)) return;
  if ((await accountBytes(core, account)) + (length ?? 0) > Number(quota))
    throw swiftText(413, "Upload exceeds quota.");
}
