// Long requests that answer at once and carry their outcome at the end of a streamed body, as Swift's bulk and SLO
// middlewares do: while the work runs, a filler goes out whenever more than yield_frequency seconds have passed
// since the last one (so that neither the client nor a proxy gives up on a silent connection), then the outcome,
// after a blank line when any filler was sent. The work stops once the client has gone.
import { PassThrough } from "node:stream";
import { STATUS_TITLES } from "../../shared/http/errors.js";

/** Thrown by `beat` once the client has gone: the work stops there. */
export class ClientGone extends Error {}

/** Swift's status lines (swob's RESPONSE_REASONS) where the shared table lacks them or words them otherwise. */
const TITLES: ReadonlyMap<number, string> = new Map([
  [201, "Created"],
  [411, "Length Required"],
  [412, "Precondition Failed"],
  [422, "Unprocessable Entity"],
  [499, "Client Disconnect"],
  [500, "Internal Error"],
  [502, "Bad Gateway"],
]);

/** A status as Swift words it in a summary's `Response Status` ("400 Bad Request"). */
export const statusLine = (status: number): string =>
  `${status} ${TITLES.get(status) ?? STATUS_TITLES[status] ?? "Error"}`;

/** The streamed body of such an answer. */
export class KeepAlive {
  /** The reply's body. */
  readonly body = new PassThrough();
  private last = process.hrtime.bigint();
  private readonly limit: bigint;
  private filled = false;

  /** `filler` is the first filler sent (later ones are single spaces). */
  constructor(
    yieldFrequency: number,
    private filler = " ",
  ) {
    this.limit = BigInt(Math.round(yieldFrequency * 1e9));
  }

  /** Whether the client has gone (the server destroys the body when its connection closes) or the body ended. */
  get gone(): boolean {
    return this.body.destroyed || this.body.writableEnded;
  }

  /** Send a filler now. */
  fill(): void {
    this.body.write(this.filler);
    this.filler = " ";
    this.filled = true;
    this.last = process.hrtime.bigint();
  }

  /** Between steps of the work: ClientGone once the client has left; a filler when more than yieldFrequency
   *  seconds have passed since the last one (or since the start). */
  beat(): void {
    if (this.gone) throw new ClientGone();
    if (process.hrtime.bigint() - this.last > this.limit) this.fill();
  }

  /** End the body with the outcome, after "\r\n\r\n" when any filler went out; nothing once the client has gone. */
  end(outcome: string): void {
    if (this.gone) return;
    this.body.end(this.filled ? `\r\n\r\n${outcome}` : outcome);
  }
}
