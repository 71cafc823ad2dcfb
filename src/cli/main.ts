#!/usr/bin/env node
/**
 * The `portcullis` bin (package.json). Node 24, which npm puts first on the PATH of
 * `npx portcullis` (the project's `node` devDependency), runs this TypeScript as it is.
 */
import { run } from "./program.ts";

process.exitCode = await run(process.argv.slice(2));
