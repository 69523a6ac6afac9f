import { runMigrationStep } from './migration-step.js';

/**
 * `npm run migrate` (`node dist/scripts/migrate.js` in the image: the
 * Kubernetes Job, k8s/migrate.yaml; `npm start` and `npx event-service
 * migrate` run the same step): see runMigrationStep. The apps never migrate:
 * they wait for this step.
 */
try {
  for (const line of await runMigrationStep(process.env)) process.stdout.write(`${line}\n`);
} catch (error) {
  // One line: the variable at fault, or what PostgreSQL refused.
  process.stderr.write(`migrate: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
