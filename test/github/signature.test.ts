import { describe, expect, it } from "vitest";
import { signBody, verifySignature } from "../../src/github/signature.js";

// The example in GitHub's "Validating webhook deliveries" documentation.
const DOC_SECRET = "It's a Secret to Everybody";
const DOC_BODY = Buffer.from("Hello, World!");
const DOC_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

describe("webhook signatures", () => {
  it("computes GitHub's documented signature for its documented example", () => {
    expect(signBody(DOC_SECRET, DOC_BODY)).toBe(DOC_SIGNATURE);
    expect(verifySignature(DOC_SECRET, DOC_BODY, DOC_SIGNATURE)).toBe(true);
  });

  it("accepts the hex digest in either case, as GitHub's is lowercase but HTTP tooling varies", () => {
    expect(verifySignature(DOC_SECRET, DOC_BODY, DOC_SIGNATURE.toUpperCase().replace("SHA256=", "sha256="))).toBe(true);
  });

  it("refuses a changed body, another secret, a missing header and malformed headers", () => {
    expect(verifySignature(DOC_SECRET, Buffer.from("Hello, World?"), DOC_SIGNATURE)).toBe(false);
    expect(verifySignature("another secret", DOC_BODY, DOC_SIGNATURE)).toBe(false);
    expect(verifySignature(DOC_SECRET, DOC_BODY, undefined)).toBe(false);
    expect(verifySignature(DOC_SECRET, DOC_BODY, "")).toBe(false);
    expect(verifySignature(DOC_SECRET, DOC_BODY, DOC_SIGNATURE.replace("sha256=", "sha1="))).toBe(false);
    expect(verifySignature(DOC_SECRET, DOC_BODY, DOC_SIGNATURE.slice(0, -2))).toBe(false);
    expect(verifySignature(DOC_SECRET, DOC_BODY, `${DOC_SIGNATURE}00`)).toBe(false);
  });

  it("checks the bytes as sent, so re-serialised JSON with the same meaning does not pass", () => {
    const sent = Buffer.from('{"action": "queued"}');
    const signature = signBody("s", sent);
    expect(verifySignature("s", Buffer.from(JSON.stringify(JSON.parse(sent.toString()))), signature)).toBe(false);
    expect(verifySignature("s", sent, signature)).toBe(true);
  });
});
