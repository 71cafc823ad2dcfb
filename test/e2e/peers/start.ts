/**
 * Starts real proxies from Debian's packages (installed by .ci/run) in front of Portcullis,
 * each with a configuration written to a temporary directory, on a free loopback port.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../wrangler-dev";

export interface Peer {
  url: string;
  stop(): Promise<void>;
}

async function waitUntilListening(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited early:\n${output()}`);
    try {
      await (await fetch(url)).body?.cancel();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`did not start:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function startPeer(
  name: string,
  build: (dir: string, port: number) => { file: string; config: string; command: string; args: string[] },
): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), `portcullis-${name}-`));
  const port = await freePort();
  const { file, config, command, args } = build(dir, port);
  writeFileSync(join(dir, file), config);
  let output = "";
  const child = spawn(command, args, {
    cwd: dir,
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.on("error", (error) => {
    output += `${error.message} (is ${command} installed? .ci/run installs it with apt-get)\n`;
  });
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilListening(url, child, () => output);
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
