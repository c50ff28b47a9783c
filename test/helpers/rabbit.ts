// A private RabbitMQ vhost for a test file: the broker is made reachable by scripts/rabbitmq.mjs; without it the
// caller skips (or, under CI, fails).
import { randomBytes } from "node:crypto";

interface RabbitScript {
  ensureRabbitMQ(opts?: {
    install?: boolean;
  }): Promise<{ usable: boolean; url: string | null; reason: string | null; ctl: boolean }>;
  addVhost(name: string): void;
  deleteVhost(name: string): { ok: boolean; out: string };
  vhostUrl(url: string, name: string): string;
}

/** Whether CI is set (then missing infrastructure is a failure, not a skip). */
export const CI = !!process.env.CI && !["0", "false", "no"].includes(process.env.CI.toLowerCase());

/** A broker URL on a fresh vhost, and how to drop it; or the reason RabbitMQ cannot be used. */
export async function rabbitVhost(): Promise<{ url: string; drop(): void } | { skip: string }> {
  const script = (await import(
    new URL("../../../scripts/rabbitmq.mjs", import.meta.url).href
  )) as RabbitScript;
  const st = await script.ensureRabbitMQ({ install: CI || process.env.STRATUS_INSTALL === "1" });
  if (!st.usable || !st.url) {
    const reason = `RabbitMQ is not usable: ${st.reason}`;
    if (CI) throw new Error(`${reason} (CI is set, so this is a failure)`);
    return { skip: reason };
  }
  if (!st.ctl) {
    if (CI) throw new Error("rabbitmqctl does not work here (CI is set, so this is a failure)");
    return { skip: "rabbitmqctl does not work here (needed for a private vhost)" };
  }
  const vhost = `stratus-test-${randomBytes(4).toString("hex")}`;
  script.addVhost(vhost);
  return { url: script.vhostUrl(st.url, vhost), drop: () => void script.deleteVhost(vhost) };
}
