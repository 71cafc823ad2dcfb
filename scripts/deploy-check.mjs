/**
 * `predeploy` (`node scripts/deploy-check.mjs [--config PATH]`): refuses to deploy a
 * wrangler.toml whose D1 database DB still has the placeholder `database_id`, which would deploy
 * the Worker bound to no database. `npm run setup:cloudflare` writes the real id (docs/deploy.md).
 */
import { readFileSync } from "node:fs";
import { configOption, databaseBlock, PLACEHOLDER_ID } from "./setup-cloudflare.mjs";

const config = configOption(process.argv.slice(2)) ?? "wrangler.toml";
let database;
try {
  database = databaseBlock(readFileSync(config, "utf8"));
} catch (error) {
  console.error(`${config}: ${error.message}`);
  process.exit(1);
}
if (database.id === "" || database.id === PLACEHOLDER_ID) {
  console.error(
    `${config}: the database_id of the D1 database DB is still the placeholder ${PLACEHOLDER_ID}.\n` +
      "Run `npm run setup:cloudflare` first: it creates the database and the queues and writes the id.",
  );
  process.exit(1);
}
console.log(`${config}: D1 database ${database.name} (${database.id ?? "by name"}): ready to deploy`);
