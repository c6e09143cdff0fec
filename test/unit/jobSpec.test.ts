import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { validateSpec, parseSpecText, redactSpec } from "../../src/jobSpec.js";

const rulesFor = (input: unknown) => {
  const r = validateSpec(input);
  return r.ok ? [] : r.errors;
};

describe("job spec validation", () => {
  it("accepts a minimal spec and fills the documented defaults", () => {
    const r = validateSpec({ image: "mcr.microsoft.com/azuredocs/aci-helloworld:latest" });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.spec).toMatchObject({ cpu: 1, memoryGb: 1.5, retries: 0, pool: "default", priority: 0, labels: {} });
  });

  it("accepts image references with registries, ports, tags and digests", () => {
    for (const image of ["alpine", "library/alpine:3.20", "ghcr.io/actions/actions-runner:2.320.0", "localhost:5000/team/app_x:v1.2-rc", `busybox@sha256:${"a".repeat(64)}`]) {
      expect(validateSpec({ image }).ok, image).toBe(true);
    }
  });

  it("names the field and the rule for each problem", () => {
    const errors = rulesFor({ image: "Bad Image!", cpu: 64, memoryGb: 0.05, retries: -1, command: "echo hi", env: { "1BAD": "x" }, colour: "blue" });
    const byField: Record<string, string> = {};
    for (const e of errors) byField[e.field] = byField[e.field] ? `${byField[e.field]}; ${e.rule}` : e.rule;
    expect(byField.image).toMatch(/image reference/);
    expect(byField.cpu).toMatch(/at most 31 vCPU/);
    expect(byField.memoryGb).toMatch(/at least 0.1 GB/);
    expect(byField.retries).toMatch(/at least 0/);
    expect(byField.command).toMatch(/array of strings/);
    expect(byField["env.1BAD"]).toMatch(/env names must match/);
    expect(byField.colour).toBe("is not a known field");
  });

  it("requires an image", () => {
    expect(rulesFor({})).toContainEqual({ field: "image", rule: "is required and must be a string" });
  });

  it("takes ttlSecondsAfterFinished as whole seconds from an hour to 10 years, naming the rule otherwise", () => {
    expect(validateSpec({ image: "alpine", ttlSecondsAfterFinished: 3600 }).ok).toBe(true);
    expect(rulesFor({ image: "alpine", ttlSecondsAfterFinished: 0 })).toContainEqual({ field: "ttlSecondsAfterFinished", rule: "must be at least 3600 (an hour: a redelivered submission must still find its job)" });
    expect(rulesFor({ image: "alpine", ttlSecondsAfterFinished: 3600.5 })).toContainEqual({ field: "ttlSecondsAfterFinished", rule: "must be a whole number of seconds" });
    expect(rulesFor({ image: "alpine", ttlSecondsAfterFinished: 315_360_001 })).toContainEqual({ field: "ttlSecondsAfterFinished", rule: "must be at most 315360000 (10 years)" });
    expect(rulesFor({ image: "alpine", ttlSecondsAfterFinished: "1h" })).toContainEqual({ field: "ttlSecondsAfterFinished", rule: "must be a number" });
  });

  it("takes expectedSeconds as a positive hint no longer than timeoutSeconds, naming the rule otherwise", () => {
    expect(validateSpec({ image: "alpine", expectedSeconds: 12.5, timeoutSeconds: 60 }).ok).toBe(true);
    expect(rulesFor({ image: "alpine", expectedSeconds: 0 })).toContainEqual({ field: "expectedSeconds", rule: "must be greater than 0" });
    expect(rulesFor({ image: "alpine", expectedSeconds: "5m" })).toContainEqual({ field: "expectedSeconds", rule: "must be a number" });
    expect(rulesFor({ image: "alpine", expectedSeconds: 120, timeoutSeconds: 60 })).toContainEqual({ field: "expectedSeconds", rule: "must not be more than timeoutSeconds (60); got 120" });
  });

  it("refuses publicIp without ports and a name in both env and secureEnv", () => {
    const errors = rulesFor({ image: "alpine", publicIp: true, env: { A: "1" }, secureEnv: { A: "2" } });
    expect(errors.map((e) => e.field)).toEqual(expect.arrayContaining(["ports", "secureEnv.A"]));
  });

  it("never throws and never accepts a non-object, whatever the input", () => {
    fc.assert(fc.property(fc.anything(), (input) => {
      const r = validateSpec(input);
      if (r.ok) expect(typeof input).toBe("object");
      else for (const e of r.errors) { expect(e.field.length).toBeGreaterThan(0); expect(e.rule.length).toBeGreaterThan(0); }
    }), { numRuns: 500 });
  });

  it("drops secure values from the stored spec but keeps their names", () => {
    const r = validateSpec({ image: "alpine", secureEnv: { TOKEN: "s3cret" } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const stored = redactSpec(r.spec);
    expect(JSON.stringify(stored)).not.toContain("s3cret");
    expect(stored.secureEnvNames).toEqual(["TOKEN"]);
  });
});

describe("spec text", () => {
  it("reads JSON, JSON arrays, YAML and multi-document YAML", () => {
    expect(parseSpecText(`{"image":"alpine"}`)).toEqual({ ok: true, values: [{ image: "alpine" }], isList: false });
    expect(parseSpecText('[{"image":"a"},{"image":"b"}]')).toMatchObject({ ok: true, values: [{ image: "a" }, { image: "b" }] });
    expect(parseSpecText("image: alpine\ncommand: [echo, hi]\n")).toEqual({ ok: true, values: [{ image: "alpine", command: ["echo", "hi"] }], isList: false });
    expect(parseSpecText("image: a\n---\nimage: b\n")).toMatchObject({ ok: true, values: [{ image: "a" }, { image: "b" }] });
  });

  it("explains malformed JSON and YAML", () => {
    expect(parseSpecText('{"image": ')).toMatchObject({ ok: false, errors: [{ field: "(spec)", rule: expect.stringMatching(/valid JSON/) }] });
    expect(parseSpecText("image: [unclosed")).toMatchObject({ ok: false, errors: [{ field: "(spec)", rule: expect.stringMatching(/valid YAML/) }] });
    expect(parseSpecText("   ")).toMatchObject({ ok: false });
  });

  it("refuses YAML alias bombs", () => {
    const bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
    expect(() => parseSpecText(bomb)).not.toThrow();
    expect(parseSpecText(bomb).ok).toBe(false);
  });
});

describe("spec text errors", () => {
  it("never quote the text, which may hold secure values", () => {
    const secret = "hunter2-secret-value";
    const json = parseSpecText(`{"secureEnv": {"T": "${secret}"} x}`);
    const yaml = parseSpecText(`secureEnv: {T: "${secret}"\nimage: [unclosed ${secret}`);
    for (const r of [json, yaml]) {
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain(secret);
    }
  });
});
