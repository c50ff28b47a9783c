// The self-signed certificate and PKCS#12 file of a generated x509 key pair parse back with node and openssl.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { generateX509KeyPair } from "../../../src/compute/api/x509.js";

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"]);
    return true;
  } catch {
    return false;
  }
})();

test("certificate is self-signed for CN=<user>, ten years, clientAuth, UPN user@localhost", () => {
  const now = new Date("2026-01-02T03:04:05Z");
  const g = generateX509KeyPair("u-123", now);
  const cert = new X509Certificate(g.certificate);
  assert.equal(cert.subject, "CN=u-123");
  assert.equal(cert.issuer, "CN=u-123");
  assert.ok(cert.verify(cert.publicKey));
  assert.ok(cert.checkIssued(cert));
  assert.equal(new Date(cert.validFrom).toISOString(), "2026-01-02T03:04:05.000Z");
  assert.equal(new Date(cert.validTo).toISOString(), "2035-12-31T03:04:05.000Z");
  assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
  assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.match(g.fingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  assert.equal(g.fingerprint, cert.fingerprint.toLowerCase());
  assert.match(
    g.certificate,
    /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE-----\n$/,
  );
});

test(
  "openssl reads the certificate and the passwordless PKCS#12 private key",
  { skip: !hasOpenssl && "no openssl" },
  () => {
    const g = generateX509KeyPair("alice");
    const dir = mkdtempSync(join(tmpdir(), "x509-"));
    try {
      writeFileSync(join(dir, "c.pem"), g.certificate);
      writeFileSync(join(dir, "k.p12"), Buffer.from(g.privateKey, "base64"));
      const text = execFileSync("openssl", ["x509", "-noout", "-text", "-in", join(dir, "c.pem")]).toString();
      assert.match(text, /Version: 3/);
      assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
      assert.match(text, /TLS Web Client Authentication/);
      assert.match(text, /othername: (UPN|1\.3\.6\.1\.4\.1\.311\.20\.2\.3)[:;]+\s*alice@localhost/i);
      const out = execFileSync("openssl", [
        "pkcs12",
        "-in",
        join(dir, "k.p12"),
        "-passin",
        "pass:",
        "-nodes",
      ]).toString();
      const key = createPrivateKey(out.slice(out.indexOf("-----BEGIN PRIVATE KEY-----")));
      const cert = new X509Certificate(out.slice(out.indexOf("-----BEGIN CERTIFICATE-----")));
      assert.equal(cert.fingerprint.toLowerCase(), g.fingerprint);
      assert.ok(cert.checkPrivateKey(key));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
