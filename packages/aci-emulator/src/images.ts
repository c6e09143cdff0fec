/**
 * The image map: what a container runs when its group gives no command. The emulator
 * cannot pull images, so a few well-known ones have local stand-ins; any other image
 * without a command fails like an inaccessible image. This is the one place to add more.
 *
 * | image (any tag or digest)                    | stand-in                                            |
 * |----------------------------------------------|-----------------------------------------------------|
 * | mcr.microsoft.com/azuredocs/aci-helloworld   | web: welcome page on the group's IP and port        |
 * | nginx                                        | web: "Welcome to nginx!" page                       |
 * | ghcr.io/actions/actions-runner               | runner: reports its JIT configuration, exits 0;     |
 * |                                              | also for the command /home/runner/run.sh (any args) |
 * | alpine, busybox, ubuntu, debian              | exit0: their default shell exits at once (no TTY)   |
 */
import { fileURLToPath } from "node:url";

export type StandIn = "web" | "runner" | "exit0";

export interface ImageEntry {
  repository: string;
  standIn: StandIn;
  /** Page title for web stand-ins. */
  title?: string;
  /** Programs inside the image that the stand-in also plays when a command names them. */
  programs?: string[];
}

export const IMAGE_MAP: readonly ImageEntry[] = [
  { repository: "mcr.microsoft.com/azuredocs/aci-helloworld", standIn: "web", title: "Welcome to Azure Container Instances!" },
  { repository: "nginx", standIn: "web", title: "Welcome to nginx!" },
  { repository: "ghcr.io/actions/actions-runner", standIn: "runner", programs: ["/home/runner/run.sh", "./run.sh", "run.sh"] },
  { repository: "alpine", standIn: "exit0" },
  { repository: "busybox", standIn: "exit0" },
  { repository: "ubuntu", standIn: "exit0" },
  { repository: "debian", standIn: "exit0" },
];

/** The secure environment variable the runner stand-in reads (never printed). */
export const RUNNER_JITCONFIG_VAR = "ACTIONS_RUNNER_INPUT_JITCONFIG";

/** "nginx:1.25", "docker.io/library/nginx@sha256:…" → "nginx". */
export function imageRepository(image: string): string {
  let ref = image.trim().toLowerCase();
  const at = ref.indexOf("@");
  if (at >= 0) ref = ref.slice(0, at);
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) ref = ref.slice(0, colon);
  for (const prefix of ["docker.io/", "index.docker.io/", "registry-1.docker.io/"]) if (ref.startsWith(prefix)) ref = ref.slice(prefix.length);
  if (ref.startsWith("library/")) ref = ref.slice("library/".length);
  return ref;
}

export function lookupImage(image: string): ImageEntry | undefined {
  const repo = imageRepository(image);
  return IMAGE_MAP.find((e) => e.repository === repo);
}

/** The stand-in for a command that runs one of the image's own programs (which the emulator cannot run). */
export function lookupProgram(image: string, command: readonly string[] | undefined): ImageEntry | undefined {
  const entry = lookupImage(image);
  return command?.[0] !== undefined && entry?.programs?.includes(command[0]) ? entry : undefined;
}

/** What the runner stand-in prints; shared by both runtimes so they say the same. */
export function runnerStandInOutput(env: Record<string, string>): { lines: string[]; exitCode: number } {
  const config = env[RUNNER_JITCONFIG_VAR];
  if (!config) {
    return { lines: [`actions-runner stand-in: no JIT configuration in ${RUNNER_JITCONFIG_VAR}; nothing to do`], exitCode: 1 };
  }
  return {
    lines: [
      `actions-runner stand-in: received JIT configuration in ${RUNNER_JITCONFIG_VAR} (${config.length} characters)`,
      "actions-runner stand-in: a real runner would now connect to GitHub and run one job",
    ],
    exitCode: 0,
  };
}

/** Absolute path of a stand-in script in the package's images/ folder, from src (tests) or dist (build). */
export function standInScript(file: "web-server.mjs" | "actions-runner.mjs"): string {
  return fileURLToPath(new URL(`../images/${file}`, import.meta.url));
}
