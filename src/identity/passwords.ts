import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) =>
    // Runs on libuv's thread pool, off the event loop.
    scrypt(password, salt, KEYLEN, { N, r: 8, p: 1, maxmem: 256 * N * 8 + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Hashes and checks passwords with scrypt (cost 2^logN, r=8): 2^17 costs about what bcrypt cost 12 does. */
export class PasswordHasher {
  constructor(private readonly logN = 17) {}

  /** Hash a password into a self-describing string "scrypt$logN$salt$hash". */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await scryptAsync(password, salt, this.logN);
    return `scrypt$${this.logN}$${salt.toString("base64")}$${key.toString("base64")}`;
  }

  /** Check a password against a stored hash in constant time; false for any malformed hash. */
  async verify(password: string, stored: string | null): Promise<boolean> {
    if (!stored) {
      // Spend the same time so a missing user or password is not distinguishable by timing.
      await scryptAsync(password, randomBytes(16), this.logN);
      return false;
    }
    const [alg, logN, salt, hash] = stored.split("$");
    if (alg !== "scrypt" || !salt || !hash) return false;
    const expected = Buffer.from(hash, "base64");
    const got = await scryptAsync(password, Buffer.from(salt, "base64"), Number(logN));
    return expected.length === got.length && timingSafeEqual(expected, got);
  }
}
