import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { DEFAULT_RUNNER_COMMAND, matchProfile, parseProfiles, type RunnerProfile } from "../../src/github/profiles.js";
import { loadGitHubSettings } from "../../src/github/settings.js";
import { validateSpec } from "../../src/jobSpec.js";
import { runnerSpec } from "../../src/github/runnerJob.js";
import { workflowJobPayload } from "../../tools/github/samples.js";
import { parseWorkflowJobEvent } from "../../src/github/payload.js";

const pools = new Set(["default", "gpu"]);
const parse = (profiles: unknown) => parseProfiles({ profiles }, "BURST_GITHUB_PROFILES", pools);
const errorOf = (profiles: unknown) => {
  try {
    parse(profiles);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("runner profiles", () => {
  it("fills in defaults for the official runner image", () => {
    const [p] = parse({ linux: { repository: "octo-org/octo-repo", labels: ["self-hosted", "burst"] } });
    expect(p).toMatchObject({
      name: "linux", pool: "default", image: "ghcr.io/actions/actions-runner", command: DEFAULT_RUNNER_COMMAND,
      cpu: 2, memoryGb: 4, timeoutSeconds: 3600, runnerGroupId: 1, workFolder: "_work",
      scope: { kind: "repository", owner: "octo-org", repo: "octo-repo" },
    });
  });

  it("refuses bad profiles, naming the setting, the field and the bad value", () => {
    const ok = { repository: "octo-org/octo-repo", labels: ["burst"] };
    expect(errorOf({ big: { ...ok, cpu: 64 } })).toBe("BURST_GITHUB_PROFILES: profiles.big.cpu: must be at most 31 vCPU (ACI's per-group limit), got 64");
    expect(errorOf({ a: { ...ok, labels: ["self-hosted", "x,y"] } })).toMatch(/profiles\.a\.labels\[1\]: must be a runner label.*got "x,y"/);
    expect(errorOf({ a: { ...ok, labels: [] } })).toMatch(/profiles\.a\.labels: must list at least one label, got \[\]/);
    expect(errorOf({ a: { labels: ["burst"] } })).toMatch(/profiles\.a\.repository: exactly one of repository \(owner\/name\) or organization/);
    expect(errorOf({ a: { ...ok, organization: "octo-org" } })).toMatch(/exactly one of repository/);
    expect(errorOf({ a: { ...ok, repository: "not a repo" } })).toMatch(/profiles\.a\.repository: must be owner\/name, got "not a repo"/);
    expect(errorOf({ a: { ...ok, pool: "nope" } })).toMatch(/profiles\.a\.pool: must name a configured pool \(default, gpu\), got "nope"/);
    expect(errorOf({ a: { ...ok, image: "NOT AN IMAGE" } })).toMatch(/profiles\.a\.image: must be an image reference.*got "NOT AN IMAGE"/);
    expect(errorOf({ a: { ...ok, memoryGb: "4" } })).toMatch(/profiles\.a\.memoryGb: must be a number, got "4"/);
    expect(errorOf({ a: { ...ok, lables: ["x"] } })).toMatch(/profiles\.a\.lables: is not a known field/);
    expect(errorOf({ a: { ...ok, env: { ACTIONS_RUNNER_INPUT_JITCONFIG: "x" } } })).toMatch(/profiles\.a\.env\.ACTIONS_RUNNER_INPUT_JITCONFIG: is set by Burst/);
    // Zod's errors end with the bad value, as the hand-written ones do.
    expect(errorOf({ a: { ...ok, runnerGroupId: 0 } })).toBe("BURST_GITHUB_PROFILES: profiles.a.runnerGroupId: must be at least 1, got 0");
    expect(errorOf({ a: { ...ok, allowPublicRepositories: "yes" } })).toBe('BURST_GITHUB_PROFILES: profiles.a.allowPublicRepositories: must be true or false, got "yes"');
    expect(errorOf({ Bad_Name: ok })).toMatch(/profile name "Bad_Name"/);
    expect(errorOf({})).toMatch(/at least one runner profile/);
    expect(() => parseProfiles({ pools: {} }, "BURST_GITHUB_PROFILES", pools)).toThrow(/must have a "profiles" object/);
  });

  it("never repeats a runner env value in an error: it may be a secret", () => {
    const ok = { repository: "octo-org/octo-repo", labels: ["burst"] };
    const jit = errorOf({ a: { ...ok, env: { ACTIONS_RUNNER_INPUT_JITCONFIG: "eyJzZWNyZXQiOiJqaXQifQ==" } } });
    expect(jit).toBe("BURST_GITHUB_PROFILES: profiles.a.env.ACTIONS_RUNNER_INPUT_JITCONFIG: is set by Burst (the runner's JIT configuration, as a secure value); the value is not shown");
    expect(errorOf({ a: { ...ok, env: { TOKEN: 12345 } } })).toBe("BURST_GITHUB_PROFILES: profiles.a.env.TOKEN: must be a string; the value is not shown");
  });

  it("reads YAML as well as JSON from the app setting", () => {
    const yaml = "profiles:\n  linux:\n    organization: octo-org\n    labels: [self-hosted, burst]\n    pool: gpu\n";
    const s = loadGitHubSettings({ BURST_GITHUB_WEBHOOK_SECRET: "s", BURST_GITHUB_TOKEN: "t", BURST_GITHUB_PROFILES: yaml }, pools);
    expect(s.profiles.map((p) => [p.name, p.pool, p.scope])).toEqual([["linux", "gpu", { kind: "organization", org: "octo-org" }]]);
  });

  it("builds runner job specs the scheduler accepts, with the JIT configuration only in secureEnv", () => {
    const [p] = parse({ linux: { repository: "octo-org/octo-repo", labels: ["self-hosted", "burst"], env: { RUNNER_DEBUG: "1" } } });
    const e = parseWorkflowJobEvent(workflowJobPayload("queued", { id: 9, labels: ["burst"], repository: "octo-org/octo-repo" }));
    if (!e.ok) throw new Error(e.error);
    const spec = runnerSpec(e.event, p!, "the-jit-config");
    const checked = validateSpec(spec);
    expect(checked.ok).toBe(true);
    expect(spec.secureEnv).toEqual({ ACTIONS_RUNNER_INPUT_JITCONFIG: "the-jit-config" });
    expect(JSON.stringify({ ...spec, secureEnv: undefined })).not.toContain("the-jit-config");
    expect(spec).toMatchObject({ command: ["/home/runner/run.sh"], env: { RUNNER_DEBUG: "1" }, retries: 0 });
    // The job's id comes from an internal key, never a user-visible idempotencyKey (see the hardening tests).
    expect(spec.idempotencyKey).toBeUndefined();
  });
});

describe("matching a workflow job to a profile", () => {
  const profiles: RunnerProfile[] = parse({
    small: { repository: "octo-org/octo-repo", labels: ["self-hosted", "linux", "burst"] },
    gpu: { repository: "octo-org/octo-repo", labels: ["self-hosted", "linux", "burst", "gpu"], pool: "gpu" },
    org: { organization: "octo-org", labels: ["self-hosted", "burst", "org-wide"] },
  });
  const match = (labels: string[], repository = "octo-org/octo-repo") => matchProfile(profiles, { labels, repository, public: false })?.name;

  it("matches when every label the job asks for is in the profile's set", () => {
    expect(match(["self-hosted", "burst"])).toBe("small");
    expect(match(["burst"])).toBe("small");
    expect(match(["self-hosted", "linux", "burst"])).toBe("small");
  });

  it("does not match when the job asks for a label the profile lacks", () => {
    expect(match(["self-hosted", "burst", "windows"])).toBeUndefined();
    expect(match(["ubuntu-latest"])).toBeUndefined();
  });

  it("takes the first matching profile in the order written", () => {
    expect(match(["burst", "gpu"])).toBe("gpu");
    expect(match(["self-hosted", "linux"])).toBe("small");
  });

  it("compares labels case-insensitively, as GitHub does", () => {
    expect(match(["Self-Hosted", "BURST"])).toBe("small");
  });

  it("matches only repositories in the profile's scope", () => {
    expect(match(["burst", "org-wide"], "octo-org/another-repo")).toBe("org");
    expect(match(["burst", "org-wide"], "Octo-Org/Another-Repo")).toBe("org");
    expect(match(["burst", "linux"], "octo-org/another-repo")).toBeUndefined();
    expect(match(["burst", "org-wide"], "other-org/octo-repo")).toBeUndefined();
  });

  it("never matches a job that asks for no labels", () => {
    expect(match([])).toBeUndefined();
  });

  it("serves a public repository only through a profile that allows public repositories", () => {
    const both = parse({
      closed: { repository: "octo-org/octo-repo", labels: ["burst"] },
      open: { organization: "octo-org", labels: ["burst", "public-ok"], allowPublicRepositories: true },
    });
    const pick = (labels: string[], isPublic: boolean) => matchProfile(both, { labels, repository: "octo-org/octo-repo", public: isPublic })?.name;
    expect(pick(["burst"], false)).toBe("closed");
    expect(pick(["burst"], true)).toBe("open");
    expect(pick(["burst", "public-ok"], true)).toBe("open");
    expect(matchProfile(both.slice(0, 1), { labels: ["burst"], repository: "octo-org/octo-repo", public: true })).toBeUndefined();
  });
});

describe("GitHub app settings", () => {
  const base = { BURST_GITHUB_WEBHOOK_SECRET: "s", BURST_GITHUB_PROFILES: JSON.stringify({ profiles: { a: { repository: "o/r", labels: ["burst"] } } }) };
  const errorOfSettings = (env: Record<string, string>) => {
    try {
      loadGitHubSettings(env, pools);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error("expected an error");
  };

  it("needs the webhook secret, credentials and profiles", () => {
    expect(errorOfSettings({ ...base, BURST_GITHUB_WEBHOOK_SECRET: "", BURST_GITHUB_TOKEN: "t" })).toMatch(/BURST_GITHUB_WEBHOOK_SECRET is not set/);
    expect(errorOfSettings(base)).toMatch(/no GitHub credentials/);
    expect(errorOfSettings({ BURST_GITHUB_WEBHOOK_SECRET: "s", BURST_GITHUB_TOKEN: "t" })).toMatch(/BURST_GITHUB_PROFILES \(or BURST_GITHUB_PROFILES_FILE\) is not set/);
  });

  it("quotes a bad URL or App id, but never a secret", () => {
    expect(errorOfSettings({ ...base, BURST_GITHUB_TOKEN: "t", BURST_GITHUB_API_URL: "ftp://x" })).toMatch(/BURST_GITHUB_API_URL must be an http\(s\) URL, got "ftp:\/\/x"/);
    expect(errorOfSettings({ ...base, BURST_GITHUB_APP_ID: "my-app", BURST_GITHUB_APP_PRIVATE_KEY: "k" })).toMatch(/BURST_GITHUB_APP_ID must be the App's numeric id, got "my-app"/);
    const secretKey = "super-secret-not-a-pem";
    const message = errorOfSettings({ ...base, BURST_GITHUB_APP_ID: "1", BURST_GITHUB_APP_PRIVATE_KEY: secretKey });
    expect(message).toMatch(/must be a PEM private key/);
    expect(message).not.toContain(secretKey);
    expect(errorOfSettings({ ...base, BURST_GITHUB_TOKEN: "tok", BURST_GITHUB_APP_ID: "1" })).not.toContain("tok");
  });

  it("unescapes a private key given on one line with literal \\n", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----\\n";
    const s = loadGitHubSettings({ ...base, BURST_GITHUB_APP_ID: "12", BURST_GITHUB_APP_PRIVATE_KEY: pem }, pools);
    expect(s.auth).toEqual({ kind: "app", appId: "12", privateKey: pem.replace(/\\n/g, "\n") });
    expect(s.apiUrl).toBe("https://api.github.com");
  });
});
