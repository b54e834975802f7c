/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-explicit-any --
   Parsed YAML/HCL documents are loosely typed here: their shape is what these checks verify. */
import { parse } from 'yaml';

type Any = any;

const STEP_CALL = /^bash \.ci\/steps\.sh(?: [a-z-]+)+$/;

/** The step names .ci/steps.sh defines (its `step_<name>()` functions). */
export function definedSteps(stepsScript: string): string[] {
  return [...stepsScript.matchAll(/^step_([a-z-]+)\(\)/gm)].map((m) => m[1] ?? '');
}

/** The steps a shell script (.ci/run) or a run: line calls through .ci/steps.sh. */
export function calledSteps(script: string): string[] {
  return [...script.matchAll(/bash \.ci\/steps\.sh((?: [a-z-]+)+)/g)].flatMap((m) => (m[1] ?? '').trim().split(' '));
}

/**
 * A workflow may only run `bash .ci/steps.sh <steps>` (other work goes through actions: checkout, tool
 * set-up, image build); every step it names exists; and, across the workflows, the steps .ci/run runs
 * are all run too — so GitHub's CI and .ci/run do the same things.
 */
export function workflowProblems(
  workflows: readonly { readonly path: string; readonly text: string }[],
  ciRun: string,
  stepsScript: string,
): string[] {
  const problems: string[] = [];
  const defined = new Set(definedSteps(stepsScript));
  const run = calledSteps(ciRun);
  if (run.length === 0) problems.push('.ci/run does not call .ci/steps.sh');
  for (const step of run) if (!defined.has(step)) problems.push(`.ci/run calls unknown step ${step}`);
  const called = new Set<string>();
  for (const { path, text } of workflows) {
    let doc: Any;
    try {
      doc = parse(text);
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
      continue;
    }
    for (const [jobName, job] of Object.entries<Any>(doc?.jobs ?? {})) {
      for (const step of job.steps ?? []) {
        if (step.run === undefined) continue;
        const command = String(step.run).trim();
        if (!STEP_CALL.test(command)) {
          problems.push(
            `${path} job ${jobName}: runs "${command}"; call .ci/steps.sh instead so that .ci/run runs the same`,
          );
          continue;
        }
        for (const name of calledSteps(command)) {
          if (!defined.has(name)) problems.push(`${path} job ${jobName}: unknown step ${name}`);
          called.add(name);
        }
      }
    }
  }
  for (const step of run) {
    if (!called.has(step)) problems.push(`.ci/run runs step ${step}, which no workflow runs`);
  }
  return problems;
}
