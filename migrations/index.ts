import { InitialSchema1795318535842 } from './1795318535842-InitialSchema';
import { CreateProfiles1795318728174 } from './1795318728174-CreateProfiles';

/**
 * Every migration, oldest first. Listed by hand because glob loading finds nothing under a
 * TypeScript test runner. Add a new file's class at the end; never edit a migration that has landed.
 */
export const MIGRATIONS = [
  InitialSchema1795318535842,
  CreateProfiles1795318728174,
];
