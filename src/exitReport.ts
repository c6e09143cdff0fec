/**
 * Exit reports (notifyExit): the container tells Burst it has exited, so the monitor step
 * starts at once instead of at the next poll.
 *
 * How a report travels: the job's command is wrapped in a POSIX `sh` script (it needs
 * only `sh` and a `wget`, busybox's or GNU's) that runs the command, keeps its exit code,
 * and POSTs one message to the deployment's exits queue through a service SAS that allows
 * only adding messages to that one queue and expires at the attempt's deadline. The SAS
 * URL reaches the container as a secure environment variable (ACI never returns those),
 * is made at launch from the account key, and is never stored.
 *
 * Why this and not a sidecar: a sidecar would be a second container in every group
 * (billed, pulled, and unable to see the main container's exit without a shared volume
 * and a changed entrypoint anyway), while the wrapper costs nothing and needs no image.
 * Why a queue and not Burst's HTTP API: Storage takes the report even while the app is
 * scaling or down, the container holds no key to the API, and the SAS can do nothing but
 * add messages to one queue until the deadline.
 *
 * What a report is worth: nothing but a hint. It carries a token (an HMAC of job, attempt
 * and launch time under the account key), so a report forged for another job is dropped
 * without an ARM read. The attempt's own container knows its token and may repeat it, so
 * the handler (scheduler/exitReport.ts) acts on one report per attempt, and only by
 * polling ARM at once: the end, the exit code and the cost still come from ARM and the
 * meter, and a report for a container that still runs changes nothing.
 *
 * The message must be base64 (host.json messageEncoding), and a POSIX shell has no
 * base64 encoder. So the message text is a prefix whose length is a multiple of three
 * (base64 encodes three bytes at a time) followed by three three-byte groups, one per
 * decimal digit of the exit code: each group's base64 depends on its digit alone, and
 * the script picks it from a ten-way `case` built here.
 */
import { z } from "zod";
import { QueueClient, QueueSASPermissions, StorageSharedKeyCredential, type QueueServiceClient } from "@azure/storage-queue";
import type { StorageSettings } from "./storage.js";
import { EXIT_URL_ENV } from "./jobSpec.js";
import { UnreadableMessage } from "./errors.js";

/** `$0` of the wrapper script (what `ps` shows for it), and the first line of every token's signed text. */
export const WRAPPER_NAME = "burst-exit-report";

export interface ExitReport {
  jobId: string;
  attempt: number;
  exitCode: number;
  token: string;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** The report's JSON text up to the exit code's digits, padded to a multiple of three bytes. */
function prefixText(jobId: string, attempt: number, token: string): string {
  const head = `{"v":1,"job":${JSON.stringify(jobId)},"attempt":${attempt},"token":${JSON.stringify(token)},"code":[`;
  return head + " ".repeat((3 - (Buffer.byteLength(head) % 3)) % 3);
}

/** The message text for a given exit code, exactly as the wrapper composes it (for tests and the README). */
export function reportText(jobId: string, attempt: number, token: string, exitCode: number): string {
  const [a, b, c] = String(exitCode).padStart(3, "0").split("");
  return `${prefixText(jobId, attempt, token)}${a}, ${b}, ${c}]}`;
}

/** A `case` that prints the base64 of one three-byte group, by digit. */
function digitCase(fn: string, tail: string): string {
  const arms = Array.from({ length: 10 }, (_, d) => `${d}) printf %s ${b64(`${d}${tail}`)};;`).join(" ");
  return `${fn}() { case $1 in ${arms} esac; }`;
}

/**
 * The container's command, wrapped: `sh -c SCRIPT burst-exit-report COMMAND…`. The
 * original command runs as `"$@"`, so its arguments need no quoting; the URL is read
 * from the environment and removed from the command's own. sh stays PID 1 and passes
 * SIGTERM/SIGINT/SIGHUP on to every process of the container's process group (ACI stops a
 * container with SIGTERM to PID 1), and exits with the command's own code — or 128 + the
 * signal's number, as a shell reports a command killed by one.
 */
export function wrapCommand(command: readonly string[], jobId: string, attempt: number, token: string): string[] {
  const script = [
    `u="$${EXIT_URL_ENV}"; unset ${EXIT_URL_ENV}`,
    `"$@" & pid=$!`,
    // To the whole process group, as `tini -g` does: a command that is itself a shell waiting on a child would otherwise hold the signal until that child ends.
    `trap 'trap "" TERM INT HUP; kill -TERM 0 2>/dev/null' TERM INT HUP`,
    // wait returns early when a trap runs; wait again until the command itself has ended.
    `while :; do wait $pid; code=$?; kill -0 $pid 2>/dev/null || break; done`,
    `trap - TERM INT HUP`,
    digitCase("g", ", "),
    digitCase("h", "]}"),
    `d=$(printf %03d "$code"); r=\${d#?}`,
    `body="<QueueMessage><MessageText>${b64(prefixText(jobId, attempt, token))}$(g \${d%??})$(g \${r%?})$(h \${d#??})</MessageText></QueueMessage>"`,
    // Three tries; a report that cannot be sent only means the next poll notices the exit.
    `if [ -n "$u" ]; then i=0; until wget -q -O /dev/null -T 10 --header 'Content-Type: application/xml' --post-data "$body" "$u"; do i=$((i+1)); if [ $i -ge 3 ]; then echo "burst: could not report the exit (code $code); Burst will notice it by polling" >&2; break; fi; sleep 1; done; fi`,
    `exit $code`,
  ].join("\n");
  return ["/bin/sh", "-c", script, WRAPPER_NAME, ...command];
}

const reportSchema = z.strictObject({
  v: z.literal(1),
  job: z.string().regex(/^[a-z0-9]{1,40}(?:-[0-9]{5})?$/),
  attempt: z.number().int().min(1),
  token: z.string().min(1).max(100),
  code: z.array(z.number().int().min(0).max(9)).length(3),
});

/** Reads a report as the host hands it over (parsed JSON, or text); a bad one is unreadable (poison). */
export function readReport(body: unknown): ExitReport {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      value = body;
    }
  }
  const r = reportSchema.safeParse(value);
  if (!r.success) throw new UnreadableMessage(`not an exit report: ${JSON.stringify(body)?.slice(0, 200)}`);
  const [a, b, c] = r.data.code as [number, number, number];
  return { jobId: r.data.job, attempt: r.data.attempt, token: r.data.token, exitCode: a * 100 + b * 10 + c };
}

/** Signs and checks reports, and makes the SAS URL a container posts to. */
export interface ExitReportSigner {
  /** The attempt's token: only Burst (and the attempt's own container) can know it. */
  token(jobId: string, attempt: number, launchedAt: string): string;
  /** The URL, SAS included, that can only add messages to the exits queue until `expiresOn`. */
  postUrl(expiresOn: Date): Promise<string>;
}

/** Azurite's account and its well-known key (public: Azurite's README), for `UseDevelopmentStorage=true`. */
const DEV_ACCOUNT = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
};

/** The account's name and key from a connection string; undefined without a key (a SAS connection string). */
function accountKeyOf(connectionString: string): StorageSharedKeyCredential | undefined {
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return new StorageSharedKeyCredential(DEV_ACCOUNT.name, DEV_ACCOUNT.key);
  const parts = new Map(
    connectionString
      .split(";")
      .map((p) => p.split(/=(.*)/s))
      .filter((kv) => kv[1] !== undefined)
      .map(([k, v]) => [k!.trim().toLowerCase(), v!.trim()]),
  );
  const name = parts.get("accountname");
  const key = parts.get("accountkey");
  return name && key ? new StorageSharedKeyCredential(name, key) : undefined;
}

/**
 * The signer, for an account reached with its key. With an identity there is no key: a
 * queue user delegation SAS needs service version 2026-02-06, which Burst does not use
 * yet, so there is no signer, pools refuse notifyExit (config.ts) and a job that asks for
 * it is polled (README, Exit reports).
 */
export function exitReportSigner(settings: StorageSettings, queues: QueueServiceClient, queueName: string): ExitReportSigner | undefined {
  if (settings.kind !== "connectionString") return undefined;
  const credential = accountKeyOf(settings.connectionString);
  if (!credential) return undefined;
  // The host's own client for where the queue is; this one only signs.
  const queue = new QueueClient(queues.getQueueClient(queueName).url, credential);
  let created: Promise<unknown> | undefined;
  return {
    token(jobId, attempt, launchedAt) {
      // Its first line can start no string Storage signs, so a token is never a signature for anything else.
      return credential.computeHMACSHA256(`${WRAPPER_NAME}\n${jobId}\n${attempt}\n${launchedAt}`);
    },
    async postUrl(expiresOn) {
      // The queue must exist before any container posts to it.
      created ??= queue.createIfNotExists().catch((err: unknown) => {
        created = undefined;
        throw err;
      });
      await created;
      // No start time: a container whose clock runs behind must not be refused.
      const sas = queue.generateSasUrl({ permissions: QueueSASPermissions.parse("a"), expiresOn });
      const url = new URL(sas);
      url.pathname = `${url.pathname.replace(/\/+$/, "")}/messages`;
      return url.toString();
    },
  };
}
