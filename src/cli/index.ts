/**
 * The programmatic entry of the `portcullis` package (docs/packages.md): one command line run
 * as the bin runs it. Its signature is spelled out so that the published declaration names
 * nothing of the CLI's dependencies.
 */
import { run as runProgram } from "./program.ts";

/**
 * Runs one command line (the arguments after `portcullis`), printing as the bin does, and
 * answers its exit code (docs/cli.md); it never throws.
 */
export function run(argv: readonly string[]): Promise<number> {
  return runProgram([...argv]);
}
