/**
 * Gives each process-runtime group that asks for an IP address its own loopback address
 * (127.0.0.2 to 127.0.0.254 on Linux, where the whole 127/8 block answers on lo) and the ports it
 * asked for. If that cannot be bound (ports below 1024 without root, or a non-Linux
 * host) it falls back to 127.0.0.1 with free ports. The group reports what it got in
 * properties.ipAddress, so clients connect to the right place either way.
 */
import net from "node:net";
import type { GroupAddress } from "./runtime/runtime.js";

async function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function freePortOn(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export class LoopbackAllocator {
  private inUse = new Set<string>();
  // Start somewhere different in each emulator process, so parallel test files rarely
  // probe the same address at the same moment.
  private cursor = (process.pid * 7919) % 253;

  constructor(private readonly linux = process.platform === "linux") {}

  async allocate(ports: number[]): Promise<GroupAddress> {
    if (this.linux) {
      for (let attempt = 0; attempt < 16; attempt++) {
        const ip = this.nextAddress();
        if (this.inUse.has(ip)) continue;
        const results = await Promise.all(ports.map((p) => canBind(ip, p)));
        if (results.every(Boolean)) {
          this.inUse.add(ip);
          return { ip, ports: ports.map((port) => ({ port, hostPort: port })) };
        }
        // A privileged port fails on every address; don't keep trying.
        if (ports.some((p, i) => p < 1024 && !results[i])) break;
      }
    }
    const hostPorts: number[] = [];
    for (const _ of ports) hostPorts.push(await freePortOn("127.0.0.1"));
    return { ip: "127.0.0.1", ports: ports.map((port, i) => ({ port, hostPort: hostPorts[i]! })) };
  }

  release(address: GroupAddress): void {
    this.inUse.delete(address.ip);
  }

  private nextAddress(): string {
    this.cursor = (this.cursor + 1) % 253;
    return `127.0.0.${2 + this.cursor}`;
  }
}
