/**
 * GET /api/ui and /api/ui/{*path}: the dashboard's page and its bundled script and style,
 * built by scripts/buildUi.mjs into ./assets beside this file (so `npm run package` ships
 * them with dist/src). The files hold no data and no key: every figure on the pages comes
 * from the HTTP API, called by the browser with the function key the user enters.
 *
 * The page uses hash routes (#/jobs, #/jobs/{id}, ...), so every other path under ui/ that
 * is not an asset answers the page too: a bookmarked or reloaded URL still opens it.
 */
import { readFile } from "node:fs/promises";
import type { ApiRequest, ApiResponse } from "../api/http.js";

const ASSETS = new URL("./assets/", import.meta.url);

const TYPES: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

// Scripts and styles from this app only; the API is the one place the page talks to.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const cache = new Map<string, string>();

async function asset(name: string): Promise<string> {
  let text = cache.get(name);
  if (text === undefined) {
    text = await readFile(new URL(name, ASSETS), "utf8");
    cache.set(name, text);
  }
  return text;
}

/** The path the page was asked at, up to and including its `ui` segment: assets are linked from there whatever the route prefix. */
function uiBase(url: string): string {
  const path = new URL(url).pathname;
  const m = /^(.*?\/ui)(\/|$)/i.exec(path);
  return m ? m[1]! : "/api/ui";
}

export function page(base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Burst dashboard</title>
<link rel="stylesheet" href="${base}/style.css">
<script type="module" src="${base}/app.js"></script>
</head>
<body>
<div id="app"><noscript>The Burst dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}

export async function serveUi(req: ApiRequest): Promise<ApiResponse> {
  const path = req.params.path ?? "";
  const type = TYPES[path];
  if (type) {
    try {
      // Bundles are rebuilt only with a new deploy; an hour is short enough for a redeploy to show.
      return {
        status: 200,
        body: await asset(path),
        headers: { "content-type": type, "cache-control": "public, max-age=3600", ...SECURITY_HEADERS },
      };
    } catch {
      return {
        status: 500,
        body: `the dashboard's ${path} is missing: run \`npm run build\`\n`,
        headers: { "content-type": "text/plain; charset=utf-8" },
      };
    }
  }
  return {
    status: 200,
    body: page(uiBase(req.url)),
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...SECURITY_HEADERS },
  };
}
