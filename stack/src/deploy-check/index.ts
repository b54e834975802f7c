import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { composeProblems } from './compose.ts';
import { dockerfileProblems, dockerfileStages } from './dockerfile.ts';
import { readRepoFile, repoPathExists } from './files.ts';
import { buildOverlay, manifestProblems, overlayDirs } from './kubernetes.ts';
import { terraformProblems } from './terraform.ts';
import { workflowProblems } from './workflows.ts';

export interface DeployReport {
  readonly problems: string[];
  readonly notices: string[];
  /** What was checked, one line per area (printed by the CLI). */
  readonly checked: string[];
}

/**
 * Validates the deployment files of the repository at `root` without a Docker engine or a cluster:
 * Dockerfile, docker-compose.yml, every kustomize overlay, terraform/ and .github/workflows/.
 */
export async function checkDeployment(root: string): Promise<DeployReport> {
  const problems: string[] = [];
  const notices: string[] = [];
  const checked: string[] = [];
  const exists = (path: string) => repoPathExists(root, path);

  const dockerfile = readRepoFile(root, 'Dockerfile');
  const stages = dockerfileStages(dockerfile);
  problems.push(
    ...dockerfileProblems(dockerfile, { nodeVersion: readRepoFile(root, '.nvmrc').trim(), pathExists: exists }),
  );
  checked.push(`Dockerfile: ${stages.length} stages (${stages.filter(Boolean).join(', ')})`);

  const compose = composeProblems(readRepoFile(root, 'docker-compose.yml'), { stages, pathExists: exists });
  problems.push(...compose.problems);
  notices.push(...compose.notices);
  checked.push('docker-compose.yml: Compose Specification schema, images, mounts, service environments');

  for (const overlay of overlayDirs(root)) {
    try {
      const objects = buildOverlay(root, overlay);
      problems.push(...(await manifestProblems(overlay, objects)));
      checked.push(`${overlay}: ${objects.length} objects built and validated against the Kubernetes API schemas`);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  problems.push(...(await terraformProblems(root, (path) => readRepoFile(root, path))));
  checked.push('terraform/: fmt, HCL parse, descriptions, module versions, no literal secrets');

  const workflowDir = join(root, '.github', 'workflows');
  const workflows = readdirSync(workflowDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => ({ path: `.github/workflows/${f}`, text: readRepoFile(root, `.github/workflows/${f}`) }));
  problems.push(...workflowProblems(workflows, readRepoFile(root, '.ci/run'), readRepoFile(root, '.ci/steps.sh')));
  checked.push(`.github/workflows: ${workflows.length} workflow(s) call only .ci/steps.sh, as .ci/run does`);
  return { problems, notices, checked };
}
