/**
 * The webhook endpoint's logic, apart from HTTP plumbing: authenticate the delivery by
 * its signature over the raw bytes, only then parse it, and route `workflow_job`
 * actions. Anything else GitHub may send is acknowledged and does nothing.
 */
import { ConfigError } from "../config.js";
import { errorMessage } from "../errors.js";
import { GitHubApiError } from "./api.js";
import { parseWorkflowJobEvent } from "./payload.js";
import { verifySignature } from "./signature.js";
import { onCompleted, onInProgress, onQueued, type GitHubDeps, type Outcome } from "./workflowJob.js";

export interface WebhookRequest {
  header(name: string): string | null | undefined;
  body: Uint8Array;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface WebhookEnv {
  /** The secret alone, so a delivery is authenticated before anything else is loaded. */
  webhookSecret(): string | undefined;
  /** Everything else; may throw ConfigError, which an authenticated caller is shown. */
  github(): GitHubDeps;
  log(level: "info" | "warn" | "error", message: string): void;
}

function parseBody(body: Uint8Array, contentType: string): unknown {
  const text = Buffer.from(body).toString("utf8");
  // GitHub's other content type: application/x-www-form-urlencoded with the JSON in `payload`.
  if (/^application\/x-www-form-urlencoded/i.test(contentType)) return JSON.parse(new URLSearchParams(text).get("payload") ?? "");
  return JSON.parse(text);
}

/** GitHub pings a new webhook: a good moment to say whether the rest of the settings are usable. */
function ping(env: WebhookEnv): WebhookResponse {
  try {
    const g = env.github();
    return { status: 200, body: { outcome: "pong", profiles: g.settings.profiles.map((p) => p.name) } };
  } catch (err) {
    if (err instanceof ConfigError) return { status: 500, body: { error: `Burst's GitHub settings are invalid: ${err.message}` } };
    throw err;
  }
}

export async function handleWebhook(env: WebhookEnv, req: WebhookRequest): Promise<WebhookResponse> {
  const secret = env.webhookSecret();
  if (!secret) {
    env.log("error", "GitHub webhook refused: BURST_GITHUB_WEBHOOK_SECRET is not set");
    return { status: 500, body: { error: "GitHub webhooks are not configured on this Burst" } };
  }
  if (!verifySignature(secret, req.body, req.header("x-hub-signature-256"))) {
    return { status: 401, body: { error: "missing or invalid X-Hub-Signature-256" } };
  }
  const event = req.header("x-github-event") ?? "";
  const delivery = req.header("x-github-delivery") ?? undefined;
  let payload: unknown;
  try {
    payload = parseBody(req.body, req.header("content-type") ?? "");
  } catch (err) {
    return { status: 400, body: { error: `the payload is not valid JSON: ${errorMessage(err)}` } };
  }
  if (event === "ping") return ping(env);
  if (event !== "workflow_job") return { status: 202, body: { outcome: "ignored", reason: `event ${JSON.stringify(event)} is not handled` } };

  const parsed = parseWorkflowJobEvent(payload);
  if (!parsed.ok) return { status: 400, body: { error: parsed.error } };
  const e = parsed.event;
  const what = `workflow_job ${e.action} ${e.workflow_job.id} (${e.repository.full_name}, delivery ${delivery ?? "?"})`;
  try {
    const g = env.github();
    let out: Outcome;
    if (e.action === "queued") out = await onQueued(g, e, delivery);
    else if (e.action === "in_progress") out = await onInProgress(g, e);
    else if (e.action === "completed") out = await onCompleted(g, e);
    else out = { status: 202, outcome: "ignored", reason: `action ${JSON.stringify(e.action)} is not handled` };
    env.log("info", `${what}: ${out.outcome}${out.jobId ? ` (job ${out.jobId})` : ""}${out.reason ? `: ${out.reason}` : ""}`);
    const { status, ...body } = out;
    return { status, body };
  } catch (err) {
    env.log("error", `${what}: ${errorMessage(err)}`);
    if (err instanceof ConfigError) return { status: 500, body: { error: `Burst's GitHub settings are invalid: ${err.message}` } };
    if (err instanceof GitHubApiError) return { status: 502, body: { error: `GitHub API: ${err.message}` } };
    return { status: 500, body: { error: errorMessage(err) } };
  }
}
