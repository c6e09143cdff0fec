/**
 * The Burst dashboard: a few pages over the HTTP API, routed by the URL's hash
 * (#/jobs, #/jobs/{id}, #/pools, #/costs, #/batch, #/runners), so the Functions host
 * serves one page (src/ui/serve.ts). The function key is asked for once and kept in this
 * browser's localStorage.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { forgetKey, getJson, saveKey, savedKey, Unauthorized } from "./api.js";
import { JobsPage } from "./pages/jobs.js";
import { JobPage } from "./pages/job.js";
import { PoolsPage } from "./pages/pools.js";
import { CostsPage } from "./pages/costs.js";
import { BatchPage } from "./pages/batch.js";
import { RunnersPage } from "./pages/runners.js";

const PAGES = [
  { hash: "#/jobs", title: "Jobs" },
  { hash: "#/pools", title: "Pools" },
  { hash: "#/costs", title: "Costs" },
  { hash: "#/batch", title: "Arrays & schedules" },
  { hash: "#/runners", title: "CI runners" },
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/jobs");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/jobs");
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function KeyForm(props: { failed: boolean; onSaved: () => void }) {
  const [key, setKey] = useState("");
  return (
    <form
      class="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        saveKey(key.trim());
        props.onSaved();
      }}
    >
      <h1>Burst dashboard</h1>
      {props.failed && <p role="alert" class="error">The API did not accept that key.</p>}
      <p>
        Enter a function key of this app once; this browser keeps it (in localStorage) and sends it as <code>x-functions-key</code>. Locally it is
        <code>BURST_API_KEY</code> (by default <code>burst-local-key</code>).
      </p>
      <label for="function-key">Function key</label>
      <input id="function-key" type="password" autocomplete="off" required value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
      <button type="submit">Open the dashboard</button>
    </form>
  );
}

function route(hash: string) {
  const job = /^#\/jobs\/([^/?]+)/.exec(hash);
  if (job) return <JobPage id={decodeURIComponent(job[1]!)} />;
  if (hash.startsWith("#/pools")) return <PoolsPage />;
  if (hash.startsWith("#/costs")) return <CostsPage />;
  if (hash.startsWith("#/batch")) return <BatchPage />;
  if (hash.startsWith("#/runners")) return <RunnersPage />;
  return <JobsPage />;
}

function App() {
  const hash = useHash();
  // "checking" until the saved key (if any) has been tried once against the API.
  const [auth, setAuth] = useState<"checking" | "ok" | "needed" | "refused">(savedKey() ? "checking" : "needed");
  useEffect(() => {
    if (auth !== "checking") return;
    getJson("/pools")
      .then(() => setAuth("ok"))
      .catch((err) => setAuth(err instanceof Unauthorized ? "refused" : "ok"));
  }, [auth]);
  if (auth === "checking") return <p>Checking the key…</p>;
  if (auth !== "ok") return <KeyForm failed={auth === "refused"} onSaved={() => setAuth("checking")} />;
  const current = PAGES.find((p) => hash.startsWith(p.hash)) ?? PAGES[0]!;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>Skip to content</a>
      <header>
        <span class="brand">Burst</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a href={p.hash} aria-current={p === current ? "page" : undefined}>{p.title}</a>
          ))}
        </nav>
        <button type="button" class="link" onClick={() => { forgetKey(); setAuth("needed"); }}>Forget key</button>
      </header>
      <main id="main" tabIndex={-1}>{route(hash)}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
