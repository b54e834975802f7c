import { spawnSync } from 'node:child_process';

export interface ToolResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool; a missing tool is an error naming it and how CI installs it (never a silent skip). */
export function runTool(command: string, args: readonly string[], cwd: string): ToolResult {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // terraform warns on every call when ~/.terraformrc is absent.
    env: { ...process.env, TF_CLI_CONFIG_FILE: process.env['TF_CLI_CONFIG_FILE'] ?? '/dev/null' },
  });
  if (result.error) {
    throw new Error(
      `${command} could not run (${result.error.message}); CI installs it with \`bash .ci/steps.sh prerequisites\``,
    );
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

function onPath(command: string): boolean {
  return spawnSync(command, ['version'], { stdio: 'ignore' }).error === undefined;
}

/** `kustomize build DIR`, with the standalone binary when there is one, else kubectl's built-in kustomize. */
export function kustomizeBuild(dir: string, cwd: string): ToolResult {
  return onPath('kustomize') ? runTool('kustomize', ['build', dir], cwd) : runTool('kubectl', ['kustomize', dir], cwd);
}
