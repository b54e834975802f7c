import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is stack/src/deploy-check/files.ts). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function readRepoFile(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

export function repoPathExists(root: string, path: string): boolean {
  return existsSync(join(root, path));
}
