/** `npm run catalogue`: grades the reference solutions and writes tests/catalogue.json from what ran. */
import { buildCatalogue, CATALOGUE_FILE, writeCatalogue } from './catalogue';
import { loadManifest } from './manifest';

async function main(): Promise<void> {
  const manifest = loadManifest();
  const catalogue = await buildCatalogue(manifest.exercises.map((exercise) => exercise.id));
  writeCatalogue(catalogue);
  const tests = Object.values(catalogue).reduce((sum, titles) => sum + titles.length, 0);
  console.log(`${CATALOGUE_FILE}: ${Object.keys(catalogue).length} exercises, ${tests} tests`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
