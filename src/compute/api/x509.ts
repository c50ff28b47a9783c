// x509 key pairs as Nova generates them below 2.92 (for WinRM certificate login): an RSA key, a self-signed
// certificate for CN=<user id> (clientAuth, UPN <user id>@localhost, ten years), the private key handed back as a
// base64 PKCS#12 file with an empty password. Built with node:crypto and the DER encoder in der.ts.
import { X509Certificate, createHash, createHmac, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { bits, explicit, int, nul, octets, oid, seq, set, time, tlv, utf8 } from "./der.js";

const OID = {
  sha256WithRsa: "1.2.840.113549.1.1.11",
  commonName: "2.5.4.3",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  msUpn: "1.3.6.1.4.1.311.20.2.3",
  data: "1.2.840.113549.1.7.1",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Cert: "1.2.840.113549.1.9.22.1",
  localKeyId: "1.2.840.113549.1.9.21",
  sha256: "2.16.840.1.101.3.4.2.1",
};
const VALID_DAYS = 3650;
const MAC_ITERATIONS = 2048;

/** A generated x509 key pair: certificate PEM (the "public key"), base64 PKCS#12 private key, fingerprint. */
export interface X509KeyPair {
  certificate: string;
  privateKey: string;
  fingerprint: string;
}

/** Nova's fingerprint of an x509 certificate: SHA-1 of the DER, lowercase colon-separated hex pairs. */
export function x509CertFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint.toLowerCase();
}

/** A new RSA key and self-signed client certificate for the user, as Nova's generate_winrm_x509_cert. */
export function generateX509KeyPair(userId: string, now = new Date()): X509KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const algorithm = seq(oid(OID.sha256WithRsa), nul());
  const name = seq(set(seq(oid(OID.commonName), utf8(userId))));
  const upn = tlv(0xa0, Buffer.concat([oid(OID.msUpn), explicit(0, utf8(`${userId}@localhost`))]));
  const extensions = seq(
    seq(oid(OID.extKeyUsage), octets(seq(oid(OID.clientAuth)))),
    seq(oid(OID.subjectAltName), octets(seq(upn))),
  );
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const tbs = seq(
    explicit(0, int(2)),
    int(serial),
    algorithm,
    name,
    seq(time(now), time(new Date(now.getTime() + VALID_DAYS * 86_400_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(3, extensions),
  );
  const der = seq(tbs, algorithm, bits(sign("sha256", tbs, privateKey)));
  const certificate = `-----BEGIN CERTIFICATE-----\n${der
    .toString("base64")
    .replace(/.{64}/g, "$&\n")
    .replace(/\n?$/, "\n")}-----END CERTIFICATE-----\n`;
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
  return {
    certificate,
    privateKey: pkcs12(der, pkcs8).toString("base64"),
    fingerprint: x509CertFingerprint(certificate),
  };
}

/** A PKCS#12 file (RFC 7292) holding the key and certificate unencrypted, MACed with the empty password. */
function pkcs12(cert: Buffer, pkcs8: Buffer): Buffer {
  const keyId = set(seq(oid(OID.localKeyId), set(octets(createHash("sha1").update(cert).digest()))));
  const certBag = seq(
    oid(OID.certBag),
    explicit(0, seq(oid(OID.x509Cert), explicit(0, octets(cert)))),
    keyId,
  );
  const keyBag = seq(oid(OID.keyBag), explicit(0, pkcs8), keyId);
  const data = (inner: Buffer): Buffer => seq(oid(OID.data), explicit(0, octets(inner)));
  const authSafe = seq(data(seq(certBag)), data(seq(keyBag)));
  const salt = randomBytes(8);
  const macKey = pkcs12Kdf(Buffer.alloc(2), salt, MAC_ITERATIONS, 32);
  const mac = createHmac("sha256", macKey).update(authSafe).digest();
  const macData = seq(seq(seq(oid(OID.sha256), nul()), octets(mac)), octets(salt), int(MAC_ITERATIONS));
  return seq(int(3), data(authSafe), macData);
}

/** RFC 7292 appendix B.2 key derivation (ID 3: MAC key) with SHA-256; password as BMPString with its terminator. */
function pkcs12Kdf(password: Buffer, salt: Buffer, iterations: number, n: number): Buffer {
  const u = 32;
  const v = 64;
  const fill = (b: Buffer): Buffer => {
    const out = Buffer.alloc(v * Math.ceil(b.length / v));
    for (let i = 0; i < out.length; i++) out[i] = b[i % b.length];
    return out;
  };
  const d = Buffer.alloc(v, 3);
  const i = Buffer.concat([fill(salt), fill(password)]);
  const chunks: Buffer[] = [];
  for (let c = 0; c < Math.ceil(n / u); c++) {
    let a = createHash("sha256").update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = createHash("sha256").update(a).digest();
    chunks.push(a);
    const b = fill(a);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k] + b[k] + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(chunks).subarray(0, n);
}
