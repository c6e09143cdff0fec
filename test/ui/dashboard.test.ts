/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a
 * whole local Burst: jobs run on the ACI emulator, runner jobs come from signed GitHub
 * webhooks to the fake GitHub, and every page is checked against what the HTTP API says.
 * Each page's screenshot is written to docs/screenshots/ (the README shows them).
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { workflowJobPayload } from "../../tools/github/samples.js";
import { runnerJobId } from "../../src/github/runnerJob.js";
import { loadGitHubSettings } from "../../src/github/settings.js";
import { Api, ended } from "../api/apiClient.js";
import { deliver, startGitHubStack, type GitHubStack } from "../github/support.js";
import { openBrowser, type Browser } from "../support/browser.js";
import { ROOT } from "../support/hostProcess.js";
import { waitUntil } from "../support/wait.js";
import { time, usd } from "../../ui/format.js";

const SHOTS = path.join(ROOT, "docs", "screenshots");
const REPO = "octo-org/octo-repo";
const KEY = `ui-key-${randomBytes(6).toString("hex")}`;
// Distinctive, so finding it on a page is unambiguous.
const planted = `SECRET-${randomBytes(16).toString("hex")}`;
const sh = (script: string) => ["sh", "-c", script];

let g: GitHubStack;
let api: Api;
let browser: Browser;
let base: string;
const ids: Record<string, string> = {};
const runners: Record<string, string> = {};

async function open(hash: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${base}${hash}`);
  return page;
}

/** Waits until what the page shows equals what the API says (both read again each time: the pages refresh themselves). */
async function agree<T>(what: string, onPage: () => Promise<T>, fromApi: () => Promise<T>): Promise<void> {
  let last: { page?: T; api?: T } = {};
  try {
    await waitUntil(
      async () => {
        last = { page: await onPage(), api: await fromApi() };
        return JSON.stringify(last.page) === JSON.stringify(last.api) || undefined;
      },
      { what, timeoutMs: 30_000, intervalMs: 250 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}: the page shows ${JSON.stringify(last.page)}, the API ${JSON.stringify(last.api)}`, {
      cause: err,
    });
  }
}

const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();
const fact = (page: Page, scope: string, name: string) => page.locator(`${scope} [data-fact="${name}"]`).first().textContent();
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  g = await startGitHubStack({
    profiles: {
      idle: {
        repository: REPO,
        labels: ["self-hosted", "idle"],
        command: ["sleep", "300"],
        cpu: 1,
        memoryGb: 1,
        timeoutSeconds: 600,
        pool: "ci",
      },
    },
    pools: {
      default: { maxConcurrency: 4, budget: { dailyUsd: 5, monthlyUsd: 100 }, resourceGroup: `rg-ui-${Date.now()}` },
      ci: { maxConcurrency: 2, resourceGroup: `rg-uici-${Date.now()}` },
    },
    env: { BURST_API_KEY: KEY },
  });
  api = new Api(g.stack.hosts[0]!.url, KEY);
  base = `${g.stack.hosts[0]!.url}/api/ui`;
  browser = await openBrowser();

  const submit = async (name: string, spec: Record<string, unknown>) => {
    const r = await api.post("/api/jobs", { name, image: "alpine", timeoutSeconds: 120, ...spec });
    expect(r.status, r.text).toBe(202);
    ids[name] = r.json.id;
  };
  await submit("hello", { command: sh("echo hello from the dashboard; echo second line"), labels: { team: "data" } });
  await submit("with-secret", {
    command: ["echo", "done"],
    env: { MODE: "visible-mode" },
    secureEnv: { API_TOKEN: planted },
    labels: { team: "data" },
  });
  await submit("fails", { command: sh("echo failing; exit 3"), labels: { team: "ml" } });
  await submit("batch", { command: sh("echo child $BURST_ARRAY_INDEX"), array: { count: 3 } });
  expect(
    (await api.post("/api/schedules", { name: "nightly", cron: "0 2 * * *", job: { image: "alpine", command: ["echo", "nightly"] } }))
      .status,
  ).toBe(201);

  // Two runners: one a workflow job picks up, one canceled unused when its workflow job ran elsewhere.
  const profile = loadGitHubSettings(g.stack.env, new Set(["default", "ci"])).profiles[0]!;
  const id = 500_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const payload = (action: "queued" | "in_progress" | "completed", n: number, runner?: { runnerName: string; runnerId: number }) =>
    workflowJobPayload(action, {
      id: n,
      labels: ["self-hosted", "idle"],
      repository: REPO,
      conclusion: action === "completed" ? "success" : null,
      ...runner,
    });
  for (const [name, n] of [
    ["used", id],
    ["unused", id + 1],
  ] as const) {
    expect((await deliver(g, { payload: payload("queued", n) })).status).toBe(201);
    runners[name] = runnerJobId(profile, n);
  }
  const used = await g.stack.waitFor(runners.used!, (j) => j.state === "Running");
  await g.stack.waitFor(runners.unused!, (j) => j.state === "Running");
  await deliver(g, {
    payload: payload("in_progress", id, { runnerName: used.source!.runnerName as string, runnerId: used.source!.runnerId as number }),
  });
  const elsewhere = { runnerName: "someone-elses-runner", runnerId: 4 };
  await deliver(g, { payload: payload("in_progress", id + 1, elsewhere) });
  await deliver(g, { payload: payload("completed", id + 1, elsewhere) });

  await Promise.all([...Object.values(ids), runners.unused!].map((j) => api.waitFor(j, ended, 90_000)));
});

afterAll(async () => {
  await browser?.close();
  await g?.stop();
});

describe("the dashboard's routes", () => {
  it("serves the page, its script and its style at /api/ui without a key, while the API still asks for one", async () => {
    const pageRes = await fetch(base);
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers.get("content-type")).toMatch(/^text\/html/);
    expect(pageRes.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    const html = await pageRes.text();
    expect(html).toContain(`src="/api/ui/app.js"`);
    // A reloaded deep path answers the same page (routes are in the hash).
    expect(await (await fetch(`${base}/jobs/anything`)).text()).toBe(html);
    const script = await fetch(`${base}/app.js`);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(10_000);
    expect((await fetch(`${base}/style.css`)).headers.get("content-type")).toMatch(/^text\/css/);
    expect((await api.get("/api/jobs", { key: null })).status).toBe(401);
  });
});

describe("access", () => {
  it("asks for the function key once, by keyboard, refuses a wrong one, and keeps the right one in this browser", async () => {
    const page = await open("");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("function-key");
    await page.keyboard.type("not-the-key");
    await page.keyboard.press("Enter");
    await page.getByRole("alert").filter({ hasText: "did not accept" }).waitFor();
    await page.getByLabel("Function key").fill(KEY);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
    await page.close();
    // Another tab of the same browser goes straight in.
    const again = await open("#/pools");
    await again.getByRole("heading", { name: "Pools", level: 1 }).waitFor();
    expect(await again.getByLabel("Function key").count()).toBe(0);
    await again.close();
  });
});

describe("the pages", () => {
  it("lists jobs newest first with the state, attempts and cost the API reports, filtered by state, pool and label", async () => {
    const page = await open("#/jobs");
    const rows = async (query: string) =>
      (await api.get(`/api/jobs?limit=200${query}`)).json.jobs.map((j: any) => [j.id, j.state, String(j.attemptCount)]);
    const shown = async () =>
      page
        .locator("table.jobs tbody tr")
        .evaluateAll((trs) =>
          trs.map((tr) => [
            tr.getAttribute("data-job-id"),
            tr.querySelector("[data-field=state]")?.textContent,
            tr.children[3]?.textContent,
          ]),
        );
    await agree("the jobs page to list what GET /api/jobs lists", shown, () => rows(""));
    const hello = (await api.get(`/api/jobs/${ids.hello}`)).json;
    expect(await page.locator(`tr[data-job-id="${ids.hello}"] [data-field=cost]`).textContent()).toBe(usd(hello.costUsd));
    await shot(page, "jobs");

    await page.getByLabel("State").selectOption("Failed");
    await agree("the state filter", shown, () => rows("&state=Failed"));
    expect((await shown()).map((r) => r[0])).toContain(ids.fails);
    await page.getByLabel("State").selectOption("");
    await page.getByLabel("Pool").selectOption("ci");
    await agree("the pool filter", shown, () => rows("&pool=ci"));
    await page.getByLabel("Pool").selectOption("");
    await page.getByLabel(/^Label/).fill("team=data");
    await page.getByLabel(/^Label/).press("Enter");
    await agree("the label filter", shown, () => rows("&label=team%3Ddata"));
    expect((await shown()).map((r) => r[0]).sort()).toEqual([ids.hello, ids["with-secret"]].sort());
    await page.close();
  });

  it("shows a job's state, exit code, attempts, estimate against the bill and its log", async () => {
    const page = await open(`#/jobs/${ids.fails}`);
    const job = (await api.get(`/api/jobs/${ids.fails}`)).json;
    await page.locator("pre.log").filter({ hasText: "failing" }).waitFor();
    expect(await fact(page, "", "State")).toBe(job.state);
    expect(await fact(page, "", "Exit code")).toBe("3");
    expect(await fact(page, "", "Cost (Burst's estimate)")).toBe(usd(job.costUsd));
    expect(await page.locator("table.attempts tbody tr").count()).toBe(job.attempts.length);
    expect(await page.locator("[data-log-status]").textContent()).toBe("(complete)");
    await shot(page, "job");
    await page.close();
  });

  it("never shows a secure value, on the job's page or in the list, while naming the variable", async () => {
    const page = await open(`#/jobs/${ids["with-secret"]}`);
    await page.locator("pre.log").filter({ hasText: "done" }).waitFor();
    expect(await fact(page, "", "MODE")).toBe("visible-mode");
    expect(await fact(page, "", "API_TOKEN")).toBe("(secure: never shown)");
    expect(await page.content()).not.toContain(planted);
    await page.goto(`${base}#/jobs`);
    await page.locator(`tr[data-job-id="${ids["with-secret"]}"]`).waitFor();
    expect(await page.content()).not.toContain(planted);
    expect((await api.get(`/api/jobs/${ids["with-secret"]}`)).text).not.toContain(planted);
    await page.close();
  });

  it("follows a running job's log live, and shows its cancel, asked for by keyboard, without a reload", async () => {
    const r = await api.post("/api/jobs", {
      name: "follow-me",
      image: "alpine",
      timeoutSeconds: 600,
      command: sh("for i in $(seq 1 600); do echo tick $i; sleep 0.5; done"),
    });
    const id = r.json.id as string;
    const page = await open(`#/jobs/${id}`);
    await page.evaluate(() => {
      (window as any).sameDocument = true;
    });
    await page.locator("pre.log").filter({ hasText: "tick 2" }).waitFor({ timeout: 60_000 });
    const highest = async () =>
      Math.max(...[...((await page.locator("pre.log").textContent()) ?? "").matchAll(/tick (\d+)/g)].map((m) => Number(m[1])));
    const first = await highest();
    await waitUntil(highest, {
      what: "more log lines to arrive on the open page",
      until: (n) => n >= first + 4,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    await shot(page, "job-live");

    await page.getByRole("button", { name: "Cancel job" }).focus();
    await page.keyboard.press("Enter");
    await page
      .locator("[data-fact=State] [data-field=state]")
      .filter({ hasText: /^Canceled/ })
      .waitFor({ timeout: 60_000 });
    expect((await api.get(`/api/jobs/${id}`)).json.state).toBe("Canceled");
    expect(await page.evaluate(() => (window as any).sameDocument)).toBe(true);
    await page.close();
  });

  it("shows each pool's slots, waiting line and budget windows as GET /api/pools reports them", async () => {
    const page = await open("#/pools");
    const pools = async () => (await api.get("/api/pools")).json.pools as any[];
    for (const p of await pools()) {
      const scope = `article[data-pool="${p.name}"]`;
      await agree(
        `pool ${p.name}'s figures`,
        async () => [
          await fact(page, scope, "Slots in use"),
          await fact(page, `${scope} [data-window=day]`, "Spent"),
          await fact(page, `${scope} [data-window=month]`, "Limit"),
        ],
        async () => {
          const now = (await pools()).find((x) => x.name === p.name);
          return [
            `${now.slotsInUse} of ${now.maxConcurrency}`,
            usd(now.budget.day.spentUsd),
            now.budget.month.limitUsd === null ? "none" : usd(now.budget.month.limitUsd),
          ];
        },
      );
      expect(await page.locator(`${scope} canvas`).count()).toBeGreaterThanOrEqual(3);
    }
    await shot(page, "pools");
    await page.close();
  });

  it("shows the most expensive jobs as GET /api/costs does, and exports the costs by day and pool as CSV", async () => {
    const page = await open("#/costs");
    const since = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    await agree(
      "the most expensive jobs",
      () => texts(page, "table.top-jobs tbody tr td:first-child"),
      async () => (await api.get(`/api/costs?by=job&since=${since}`)).json.rows.slice(0, 10).map((r: any) => r.job),
    );
    await shot(page, "costs");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /Export CSV/ }).click()]);
    const csv = (await readFile((await download.path())!, "utf8")).trim().split("\n");
    expect(csv[0]).toBe("day,pool,costUsd,billedUsd,jobs,attempts,billedSeconds");
    const expected: string[] = [];
    for (const pool of ["ci", "default"]) {
      for (const row of (await api.get(`/api/costs?by=day&pool=${pool}&since=${since}`)).json.rows)
        expected.push(`${row.day},${pool},${row.costUsd}`);
    }
    expect(
      csv
        .slice(1)
        .map((l) => l.split(",").slice(0, 3).join(","))
        .sort(),
    ).toEqual(expected.sort());
    await page.close();
  });

  it("shows each array's progress and each schedule's next runs", async () => {
    const page = await open("#/batch");
    const parent = (await api.get(`/api/jobs/${ids.batch}`)).json;
    const label = page.locator(`li[data-array="${ids.batch}"] label`);
    await label.waitFor();
    expect(await label.textContent()).toContain(
      `${parent.array.count} of ${parent.array.count} ended: ${parent.array.counts.Succeeded} Succeeded`,
    );
    expect(await page.locator(`li[data-array="${ids.batch}"] progress`).evaluate((p: HTMLProgressElement) => [p.value, p.max])).toEqual([
      3, 3,
    ]);
    const nightly = (await api.get("/api/schedules/nightly")).json;
    expect(await texts(page, `tr[data-schedule="nightly"] li`)).toEqual(nightly.nextRuns.map((t: string) => time(t)));
    await shot(page, "batch");
    await page.close();
  });

  it("shows each CI runner's queued → launched → picked-up latency, and which were picked up or canceled unused", async () => {
    const page = await open("#/runners");
    const status = (id: string) => page.locator(`tr[data-job-id="${id}"] [data-field=status]`);
    await status(runners.used!).filter({ hasText: "picked up" }).waitFor();
    await status(runners.unused!).filter({ hasText: "canceled unused" }).waitFor();
    expect(await fact(page, "", "Runner jobs")).toBe("2");
    expect(await fact(page, "", "Canceled unused")).toBe("1");
    expect(await fact(page, "", "Median launched → picked up")).not.toBe("—");
    await shot(page, "runners");
    await page.close();
  });
});

describe("waiting jobs", () => {
  it("filters the list by waiting reason, and shows jobs canceled elsewhere change state without a reload", async () => {
    // Pool ci has 2 slots and one runner holding one: the first of these takes the other, the second waits for a slot.
    const sleeper = { image: "alpine", pool: "ci", command: ["sleep", "600"], timeoutSeconds: 900 };
    const first = (await api.post("/api/jobs", { ...sleeper, name: "holds-a-slot" })).json.id as string;
    await api.waitFor(first, (j) => j.state === "Running", 60_000);
    const second = (await api.post("/api/jobs", { ...sleeper, name: "waits-for-a-slot" })).json.id as string;
    await api.waitFor(second, (j) => (j.waiting as { reason?: string } | undefined)?.reason === "slot");

    const page = await open("#/jobs");
    await page.evaluate(() => {
      (window as any).sameDocument = true;
    });
    await page.getByLabel("Waiting reason").selectOption("slot");
    const shown = () => page.locator("table.jobs tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-job-id")));
    await agree("the waiting-reason filter", shown, async () =>
      ((await api.get("/api/jobs?limit=200")).json.jobs as any[]).filter((j) => j.waiting?.reason === "slot").map((j) => j.id),
    );
    expect(await shown()).toEqual([second]);
    await page.getByLabel("Waiting reason").selectOption("");
    const state = (id: string) => page.locator(`tr[data-job-id="${id}"] [data-field=state]`);
    await state(first).filter({ hasText: "Running" }).waitFor();

    // Canceled through the API, as another user would: the open list shows it.
    for (const id of [second, first]) expect((await api.delete(`/api/jobs/${id}`)).status).toBe(202);
    for (const id of [first, second]) await state(id).filter({ hasText: "Canceled" }).waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => (window as any).sameDocument)).toBe(true);
    await page.close();
  });
});

describe("on a phone and by keyboard", () => {
  it("fits a phone's width without sideways scrolling of the page", async () => {
    const page = await open("#/jobs");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator("table.jobs tbody tr").first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await shot(page, "jobs-phone");
    await page.close();
  });

  it("reaches every page from the keyboard, and every control has a label", async () => {
    const page = await open("#/jobs");
    await page.getByRole("heading", { name: "Jobs" }).waitFor();
    const names: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press("Tab");
      names.push(await page.evaluate(() => document.activeElement?.textContent ?? ""));
    }
    expect(names).toEqual(["Skip to content", "Jobs", "Pools", "Costs", "Arrays & schedules", "CI runners", "Forget key"]);
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "CI runners", level: 1 }).waitFor();
    for (const hash of ["#/jobs", `#/jobs/${ids.hello}`]) {
      await page.goto(`${base}${hash}`);
      await page.locator("main h1").waitFor();
      await page.locator("select, input").first().waitFor();
      const unlabelled = await page
        .locator("input, select, button")
        .evaluateAll((els) =>
          els
            .filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute("aria-label") && !el.textContent?.trim())
            .map((el) => el.outerHTML),
        );
      expect(unlabelled).toEqual([]);
    }
    await page.close();
  });
});
