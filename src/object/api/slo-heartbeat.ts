// PUT ?multipart-manifest=put&heartbeat=on: answer 202 Accepted at once, send a space now and after any segment
// lookup that ends more than yield_frequency seconds after the last one, then "\r\n\r\n" and the real outcome
// (Response Status, Response Body, Etag and Last Modified on success, Errors) in the Accept header's format.
import { Reply } from "../../shared/http/reply.js";
import { formatObjectError, SwiftError, swiftError } from "../errors.js";
import { param, type Ctx } from "./request.js";
import { bulkBody, bulkType, formatOf } from "./bulk.js";
import { ClientGone, KeepAlive, statusLine } from "./keepalive.js";
import { SloProblems } from "./slo-put.js";

const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);

/** Whether the request asks for heartbeats (Swift's config_true_value of `heartbeat`). */
export const heartbeatOn = (ctx: Ctx): boolean => TRUE.has((param(ctx, "heartbeat") ?? "").toLowerCase());

/** Swift's reason texts (swob's RESPONSE_REASONS) for the refusals SLO makes itself, whose body is empty. */
const REASONS: ReadonlyMap<number, string> = new Map([
  [400, "The server could not comply with the request since it is either malformed or otherwise incorrect."],
  [422, "Unable to process the contained instructions"],
]);

/**
 * Run `work` behind a 202 whose body carries its outcome. `work` calls `beat` between steps (a space when
 * `yieldFrequency` seconds have passed since the last one) and resolves to the 201 it would have answered; a
 * SwiftError or SloProblems it throws becomes the outcome instead.
 */
export function heartbeatReply(
  ctx: Ctx,
  log: { error(o: object, msg: string): void },
  yieldFrequency: number,
  work: (beat: () => void) => Promise<Reply>,
): Reply {
  // Swift's SLO answers plain text when Accept matches none of its types.
  const type = bulkType(ctx) ?? "text/plain";
  const format = formatOf(type);
  const out = new KeepAlive(yieldFrequency);
  const beat = (): void => out.beat();
  const finish = (summary: Record<string, string>, errors: Array<[string, string]> = []): void =>
    out.end(bulkBody(format, summary, errors, "upload"));
  const failed = (status: number, body: string): Record<string, string> => ({
    "Response Status": statusLine(status),
    "Response Body": body || `${statusLine(status).slice(4)}\n${REASONS.get(status) ?? ""}`,
  });
  // The first space goes out with the headers.
  out.fill();
  void (async () => {
    try {
      const r = await work(beat);
      finish({
        "Response Status": statusLine(r.status),
        Etag: r.headers.etag ?? "",
        "Last Modified": r.headers["last-modified"] ?? "",
        "Response Body": "",
      });
    } catch (e) {
      // The client has gone: nothing is stored.
      if (e instanceof ClientGone) return;
      if (e instanceof SloProblems) finish(failed(400, ""), e.problems);
      // The manifest's own ETag mismatch has no body in Swift, so its reason stands in; the write's refusals
      // (quota, conditions, a missing container) carry their page.
      else if (e instanceof SwiftError && e.status === 422) finish(failed(422, ""));
      else if (e instanceof SwiftError) finish(failed(e.status, String(formatObjectError(e).body)));
      else {
        log.error({ err: e }, "SLO heartbeat PUT failed");
        finish(failed(500, String(formatObjectError(swiftError(500)).body)));
      }
    }
  })();
  return new Reply(202, out.body, { "content-type": type });
}
