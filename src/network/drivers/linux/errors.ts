// Errors of the linux data plane's building blocks. The agent maps them to port/agent status and log lines.

/** Base class of the linux data plane's errors. */
export class LinuxNetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command (ip, iptables-restore, dnsmasq, ...) exited non-zero, timed out or could not start. */
export class CommandFailed extends LinuxNetError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`${argv.join(" ")} failed (exit ${exitCode ?? "none"}): ${stderr.trim().slice(0, 2000)}`, options);
  }
}

/** An input value (id, address, DHCP option, rule) is not acceptable for the data plane; nothing was changed. */
export class InvalidSpec extends LinuxNetError {}
