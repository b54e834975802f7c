import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface DockerfileFacts {
  /** Stage names (FROM ... AS name), in order. */
  readonly stages: readonly string[];
}

/** Stages that are deployables: a long-running service has a real HEALTHCHECK, a job HEALTHCHECK NONE. */
const SERVICES = ['collector', 'feature-processor', 'compactor', 'ranker'] as const;
const JOBS = ['trainer', 'provision', 'simulator'] as const;

interface Stage {
  readonly name: string;
  readonly from: string;
  readonly instructions: Instruction[];
}

function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      const args = instruction.getArguments().map((a) => a.getValue());
      const asIndex = args.findIndex((a) => a.toUpperCase() === 'AS');
      stages.push({
        name: asIndex >= 0 ? (args[asIndex + 1] ?? '') : '',
        from: args[0] ?? '',
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The chain of stages a target is built from, the target first. */
function lineage(stages: readonly Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  let current = stages.find((s) => s.name === name);
  while (current && !chain.includes(current)) {
    chain.push(current);
    const parent = current.from;
    current = stages.find((s) => s.name === parent);
  }
  return chain;
}

/** The last instruction with this keyword in a target's chain (nearest stage first, last in a stage). */
function effective(chain: readonly Stage[], keyword: string): Instruction | undefined {
  for (const stage of chain) {
    const found = stage.instructions.filter((i) => i.getKeyword() === keyword).at(-1);
    if (found) return found;
  }
  return undefined;
}

/**
 * What the images must be (issue #8): multi-stage, Node 24 slim base in step with .nvmrc, a numeric
 * non-root USER, a HEALTHCHECK on each service (jobs: NONE), production-only dependencies through the
 * shared install script, and COPY sources that exist.
 */
export function dockerfileProblems(
  text: string,
  options: { readonly nodeVersion: string; readonly pathExists: (path: string) => boolean },
): string[] {
  const problems: string[] = [];
  const parsed = DockerfileParser.parse(text);
  const stages = stagesOf(text);
  const names = stages.map((s) => s.name);
  if (stages.length < 2) problems.push('Dockerfile: expected a multi-stage build');

  const nodeArg = parsed
    .getInstructions()
    .find((i) => i.getKeyword() === 'ARG' && i.getArgumentsContent()?.startsWith('NODE_VERSION='));
  const nodeVersion = nodeArg?.getArgumentsContent()?.split('=')[1];
  if (nodeVersion !== options.nodeVersion) {
    problems.push(
      `Dockerfile: ARG NODE_VERSION=${nodeVersion ?? '(missing)'} differs from .nvmrc (${options.nodeVersion})`,
    );
  }
  if (!/^24\./.test(nodeVersion ?? '')) problems.push('Dockerfile: NODE_VERSION must be Node 24');
  for (const stage of stages) {
    if (names.includes(stage.from)) continue;
    if (!/^node:\$\{NODE_VERSION\}-[a-z]+-slim$/.test(stage.from)) {
      problems.push(
        `Dockerfile: stage ${stage.name || '(unnamed)'} starts from ${stage.from}, not node:\${NODE_VERSION}-<debian>-slim`,
      );
    }
  }

  const installs = stages.flatMap((s) =>
    s.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? ''),
  );
  if (!installs.some((run) => run.includes('stack/bin/install-production.sh'))) {
    problems.push('Dockerfile: dependencies must be installed by stack/bin/install-production.sh (npm ci --omit=dev)');
  }
  if (installs.some((run) => /\bnpm (ci|install|i)\b/.test(run))) {
    problems.push('Dockerfile: npm installs belong in stack/bin/install-production.sh, not in RUN lines');
  }

  for (const target of [...SERVICES, ...JOBS]) {
    if (!names.includes(target)) {
      problems.push(`Dockerfile: no stage ${target}`);
      continue;
    }
    const chain = lineage(stages, target);
    const user = effective(chain, 'USER')?.getArgumentsContent() ?? 'root';
    if (!/^[1-9]\d*(:\d+)?$/.test(user)) {
      problems.push(`Dockerfile: target ${target} runs as ${user}; expected a numeric non-root USER (uid:gid)`);
    }
    const health = effective(chain, 'HEALTHCHECK')?.getArgumentsContent() ?? '';
    const isJob = (JOBS as readonly string[]).includes(target);
    if (isJob && health.trim() !== 'NONE') problems.push(`Dockerfile: job ${target} should declare HEALTHCHECK NONE`);
    if (!isJob && !/CMD .*\/health/.test(health))
      problems.push(`Dockerfile: service ${target} has no HEALTHCHECK on /health`);
    if (!effective(chain, 'CMD') && !effective(chain, 'ENTRYPOINT'))
      problems.push(`Dockerfile: target ${target} has no CMD`);
  }

  for (const stage of stages) {
    for (const copy of stage.instructions.filter((i) => i.getKeyword() === 'COPY')) {
      if (copy instanceof Copy && copy.getFromFlag()) continue;
      const args = copy.getArguments().map((a) => a.getValue());
      const sources = args.filter((a) => !a.startsWith('--')).slice(0, -1);
      for (const source of sources) {
        if (!options.pathExists(source))
          problems.push(`Dockerfile: COPY ${source} (stage ${stage.name}): no such path`);
      }
    }
  }
  return problems;
}

export function dockerfileStages(text: string): string[] {
  return stagesOf(text).map((s) => s.name);
}

/** The command a target's container runs (ENTRYPOINT then CMD, exec form), as the image would. */
export function targetCommand(text: string, target: string): string[] {
  const chain = lineage(stagesOf(text), target);
  const exec = (keyword: string): string[] => {
    const content = effective(chain, keyword)?.getArgumentsContent();
    return content ? (JSON.parse(content) as string[]) : [];
  };
  return [...exec('ENTRYPOINT'), ...exec('CMD')];
}

/** What a stage COPYs from the build context (not from other stages): [source, destination] pairs. */
export function contextCopies(text: string, stage: string): [string, string][] {
  const found = stagesOf(text).find((s) => s.name === stage);
  if (!found) throw new Error(`Dockerfile: no stage ${stage}`);
  return found.instructions
    .filter((i) => i.getKeyword() === 'COPY' && !(i instanceof Copy && i.getFromFlag()))
    .flatMap((i) => {
      const args = i
        .getArguments()
        .map((a) => a.getValue())
        .filter((a) => !a.startsWith('--'));
      const destination = args.at(-1) ?? '';
      return args.slice(0, -1).map((source): [string, string] => [source, destination]);
    });
}
