import { describe, expect, it } from "vitest";
import { dependencyErrors, meets } from "../../src/scheduler/dependencies.js";
import { validateSpec, type JobSpec } from "../../src/jobSpec.js";
import type { Deps } from "../../src/scheduler/deps.js";
import type { JobRecord } from "../../src/model.js";

/** Just enough of Deps for dependencyErrors: a job store holding these records. */
function depsWith(jobs: Partial<JobRecord>[]): Deps {
  const byId = new Map(jobs.map((j) => [j.id!, j as JobRecord]));
  return { jobs: { get: async (id: string) => (byId.has(id) ? { value: byId.get(id)!, etag: "e" } : undefined) } } as unknown as Deps;
}

const spec = (extra: Record<string, unknown>): JobSpec => {
  const r = validateSpec({ image: "alpine", ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.spec;
};

describe("dependencies", () => {
  it("are met by the end each kind asks for, and not known before a job ends", () => {
    expect(meets("success", "Succeeded")).toBe(true);
    expect(meets("success", "Failed")).toBe(false);
    expect(meets("failure", "TimedOut")).toBe(true);
    expect(meets("failure", "Canceled")).toBe(false);
    expect(meets("completion", "Canceled")).toBe(true);
    expect(meets("completion", "Running")).toBeUndefined();
  });

  it("refuse a cycle through stored jobs, naming the ids on it", async () => {
    const deps = depsWith([
      { id: "ja", spec: spec({ dependsOn: [{ job: "jb" }] }) },
      { id: "jb", spec: spec({ dependsOn: [{ job: "kself" }] }) },
    ]);
    expect(await dependencyErrors(deps, spec({ dependsOn: [{ job: "ja" }] }), "kself")).toEqual([
      { field: "dependsOn", rule: "would make a cycle: kself → ja → jb → kself" },
    ]);
    expect(await dependencyErrors(deps, spec({ dependsOn: [{ job: "kself" }] }), "kself")).toEqual([
      { field: "dependsOn[0].job", rule: "would make a cycle: kself → kself" },
    ]);
  });

  it("refuse a missing job and an n-to-n partner of another size", async () => {
    const deps = depsWith([
      { id: "jarr", spec: spec({ array: { count: 3 } }), array: { count: 3, created: 0, marks: "...", billedSeconds: 0 } },
    ]);
    expect(
      await dependencyErrors(deps, spec({ array: { count: 4 }, dependsOn: [{ job: "jnone" }, { job: "jarr", mode: "n-to-n" }] })),
    ).toEqual([
      { field: "dependsOn[0].job", rule: 'must name an existing job (there is no job "jnone")' },
      { field: "dependsOn[1].job", rule: "n-to-n needs job jarr's array count (3) to equal this one's (4)" },
    ]);
  });

  it("are at most 100 per job, and n-to-n needs the job to be an array", () => {
    const many = validateSpec({ image: "alpine", dependsOn: Array.from({ length: 101 }, () => ({ job: "ja" })) });
    expect(many.ok ? [] : many.errors).toEqual([{ field: "dependsOn", rule: "must have at most 100 entries" }]);
    const notArray = validateSpec({ image: "alpine", dependsOn: [{ job: "ja", mode: "n-to-n" }] });
    expect(notArray.ok ? [] : notArray.errors).toEqual([
      { field: "dependsOn[0].mode", rule: "n-to-n needs this job to be an array (array.count)" },
    ]);
  });
});
