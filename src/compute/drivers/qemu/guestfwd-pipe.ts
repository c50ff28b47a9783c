// Run by QEMU (user networking's guestfwd `cmd:`) once per guest connection to the metadata address: the
// connection is this process's stdin/stdout; pipe it to the instance's metadata listener (a unix socket, argv[2]).
import { connect } from "node:net";

const path = process.argv[2];
if (!path) process.exit(2);
const sock = connect({ path });
sock.on("error", () => process.exit(1));
sock.on("connect", () => {
  process.stdin.pipe(sock);
  sock.pipe(process.stdout);
});
sock.on("close", () => process.exit(0));
process.stdin.on("end", () => sock.end());
