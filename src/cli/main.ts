#!/usr/bin/env node
/**
 * The `portcullis` bin. In the clone (package.json), Node 24, which npm puts first on the PATH
 * of `npx portcullis` (the project's `node` devDependency), runs this TypeScript as it is; the
 * published `portcullis` package ships it compiled for Node 20 and later (docs/packages.md).
 */
import { run } from "./program.ts";

process.exitCode = await run(process.argv.slice(2));
