/**
 * `npm run policy:check -- [FILE...]`: checks policies as the Worker would, and prints every
 * problem of each, with its field path. FILE is a JSON policy or a wrangler configuration (its
 * `[vars.POLICY]`); without one, wrangler.toml. Exits 1 if any policy is invalid.
 */
import { filePolicy, problemReport } from "./policy-source.ts";

const files = process.argv.slice(2);
let invalid = 0;
for (const file of files.length > 0 ? files : ["wrangler.toml"]) {
  let source;
  try {
    source = await filePolicy(file);
  } catch (error) {
    console.error(`${file}: cannot be read (${error.message})`);
    invalid += 1;
    continue;
  }
  const problems = problemReport(source);
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    invalid += 1;
  } else {
    console.log(`${source.label}: valid`);
  }
}
process.exit(invalid > 0 ? 1 : 0);
