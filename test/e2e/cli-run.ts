/**
 * The `portcullis` bin run as a person or a script runs it: a child process to its end, read as
 * its exit code, stdout and stderr. Shared by the CLI's end-to-end and attack tests.
 */
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = join(ROOT, "src/cli/main.ts");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in the clone to its end, with `env` over this process's, `input` as its stdin. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  input = "",
): Promise<Run> {
  return new Promise<Run>((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** `portcullis ARGS`, the bin run by this Node (the project's Node 24) as npx runs it. */
export function runCli(args: string[], env: Record<string, string> = {}, input = ""): Promise<Run> {
  return run(process.execPath, [BIN, ...args], env, input);
}
