/**
 * `npm run catalogue [-- <exercise or chapter id>...]`: grades the reference solutions and writes
 * tests/catalogue.json from what ran. With ids, only those exercises are graded and their entries replaced;
 * the others are kept as they are.
 */
import { buildCatalogue, CATALOGUE_FILE, loadCatalogue, writeCatalogue } from './catalogue';
import { loadManifest, selectExercises } from './manifest';

async function main(): Promise<void> {
  const manifest = loadManifest();
  const wanted = process.argv.slice(2);
  const ids = (wanted.length > 0 ? selectExercises(manifest, wanted) : manifest.exercises).map((e) => e.id);
  const fresh = await buildCatalogue(ids, wanted.length > 0);
  const previous = wanted.length > 0 ? loadCatalogue() : {};
  // In manifest order, each exercise's entry from this run if it was graded, else as it was.
  const catalogue = Object.fromEntries(
    manifest.exercises
      .map((exercise) => [exercise.id, fresh[exercise.id] ?? previous[exercise.id]] as const)
      .filter((entry): entry is readonly [string, string[]] => entry[1] !== undefined),
  );
  writeCatalogue(catalogue);
  const tests = Object.values(catalogue).reduce((sum, titles) => sum + titles.length, 0);
  console.log(`${CATALOGUE_FILE}: ${Object.keys(catalogue).length} exercises, ${tests} tests`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
