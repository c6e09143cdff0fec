/**
 * The `sim` runtime: no processes. A command in the documented shell subset is
 * interpreted with timers, so thousands of groups fit on a laptop. A command outside
 * the subset fails the container with exit code 127 and a log line saying why; a wrapper
 * around a command (sim/wrapper.ts) runs its command in the sim and itself for real.
 */
import { runnerStandInOutput } from "../images.js";
import { Aborted, runScript } from "../sim/interpreter.js";
import { parseCommand, SimUnsupported, type Script } from "../sim/script.js";
import { finishWrapper, wrapperOf } from "../sim/wrapper.js";
import { LineSplitter, type ContainerRuntime, type GroupAddress, type Launch, type RunningContainer } from "./runtime.js";

const SIGTERM_EXIT = 143;

export class SimRuntime implements ContainerRuntime {
  readonly kind = "sim" as const;
  private readonly live = new Set<RunningContainer>();
  private nextAddress = 0;

  async allocateAddress(ports: number[]): Promise<GroupAddress> {
    // Nothing listens in the sim; the address only has the right shape (10.0.0.0/8).
    const n = ++this.nextAddress;
    const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    return { ip, ports: ports.map((port) => ({ port, hostPort: port })) };
  }

  releaseAddress(): void {}

  launch(launch: Launch): RunningContainer {
    const controller = new AbortController();
    const out = new LineSplitter(launch.onLine);
    const write = (text: string) => out.write(text);
    const run = async (): Promise<number> => {
      // Start on a later tick, like a process: the caller finishes "Started" first.
      await new Promise((r) => setImmediate(r));
      if (launch.run.kind === "standIn") {
        const { standIn } = launch.run.entry;
        if (standIn === "exit0") return 0;
        if (standIn === "runner") {
          const { lines, exitCode } = runnerStandInOutput(launch.env);
          for (const line of lines) write(line + "\n");
          return exitCode;
        }
        write(`listening on port ${launch.network?.ports[0]?.port ?? 80}\n`);
        await new Promise<void>((_, reject) => {
          if (controller.signal.aborted) reject(new Aborted());
          controller.signal.addEventListener("abort", () => reject(new Aborted()), { once: true });
        });
        return 0;
      }
      const wrapper = wrapperOf(launch.run.argv);
      const env = wrapper ? Object.fromEntries(Object.entries(launch.env).filter(([k]) => !wrapper.unsets.includes(k))) : launch.env;
      const code = await this.interpret(wrapper?.command ?? launch.run.argv, env, write, controller.signal);
      return wrapper ? finishWrapper(wrapper, code, launch.env, write, controller.signal) : code;
    };

    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));
    const running: RunningContainer = {
      kill: async () => {
        controller.abort();
        await exited;
      },
    };
    this.live.add(running);
    // Left running on purpose: the container outlives this call, and the catch turns any failure of run() into an exit code.
    void run()
      .catch((err: unknown) => {
        if (err instanceof Aborted || controller.signal.aborted) return SIGTERM_EXIT;
        write(`sim runtime: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      })
      .then((code) => {
        out.end();
        this.live.delete(running);
        launch.onExit(controller.signal.aborted ? SIGTERM_EXIT : code);
        resolveExited();
      });
    return running;
  }

  private interpret(argv: readonly string[], env: Record<string, string>, write: (text: string) => void, signal: AbortSignal): Promise<number> {
    let script: Script;
    try {
      script = parseCommand(argv);
    } catch (err) {
      if (!(err instanceof SimUnsupported)) throw err;
      write(`sim runtime: ${err.message}; only the documented shell subset runs under --runtime sim (see the aci-emulator README)\n`);
      return Promise.resolve(127);
    }
    return runScript(script, { write, env, signal });
  }

  async close(): Promise<void> {
    await Promise.all([...this.live].map((c) => c.kill(0)));
  }
}
