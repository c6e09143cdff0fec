import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { plainJson, plainNumber } from "../../src/plainJson.js";

const EXPONENT = /(?<![A-Za-z"\\])\d[eE][+-]?\d/;

describe("plain JSON", () => {
  it("writes small and large numbers in decimal notation, never with an exponent", () => {
    expect(plainJson({ diff: 5e-10, cost: -3.2451e-7, big: 1e21 })).toBe('{"diff":0.0000000005,"cost":-0.00000032451,"big":1000000000000000000000}');
    expect(plainNumber(0.000032451)).toBe("0.000032451");
  });

  it("parses back to the same value, for any value, and leaves strings alone", () => {
    const value = fc.jsonValue().chain((v) => fc.constant(v));
    fc.assert(fc.property(value, fc.double({ noNaN: true, noDefaultInfinity: true }), (v, n) => {
      const doc = { v, n, s: `${n} \u0000x` };
      const text = plainJson(doc, 2);
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(doc)));
      const numbersOnly = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      expect(numbersOnly).not.toMatch(EXPONENT);
    }), { numRuns: 300 });
  });
});
