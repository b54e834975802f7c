/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   The tests edit built manifests, which are loosely typed documents. */
import { parse as parseHcl } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeProblems } from './compose.ts';
import { dockerfileProblems, dockerfileStages } from './dockerfile.ts';
import { readRepoFile, repoPathExists, repoRoot } from './files.ts';
import { checkDeployment } from './index.ts';
import { buildOverlay, manifestProblems } from './kubernetes.ts';
import { terraformFileProblems } from './terraform.ts';
import { workflowProblems } from './workflows.ts';

const exists = (path: string) => repoPathExists(repoRoot, path);
const dockerfile = readRepoFile(repoRoot, 'Dockerfile');
const nodeVersion = readRepoFile(repoRoot, '.nvmrc').trim();
const compose = readRepoFile(repoRoot, 'docker-compose.yml');
const stages = dockerfileStages(dockerfile);

describe('the repository deployment files', () => {
  it('have no problems (Dockerfile, compose, every overlay, terraform, workflows)', async () => {
    const report = await checkDeployment(repoRoot);
    expect(report.problems).toEqual([]);
    expect(report.checked.filter((line) => line.startsWith('k8s/overlays/'))).toHaveLength(2);
  }, 120_000);
});

describe('Dockerfile check', () => {
  const check = (text: string) => dockerfileProblems(text, { nodeVersion, pathExists: exists });

  it('refuses images that run as root', () => {
    const problems = check(dockerfile.replaceAll(/^USER .*$/gm, ''));
    expect(problems).toContain('Dockerfile: target ranker runs as root; expected a numeric non-root USER (uid:gid)');
    expect(problems).toContain('Dockerfile: target trainer runs as root; expected a numeric non-root USER (uid:gid)');
  });

  it('refuses a service without a HEALTHCHECK on /health', () => {
    const text = dockerfile.replace(/HEALTHCHECK [^\n]*\\\n[^\n]*RANKER_PORT[^\n]*\n/, '');
    expect(check(text)).toEqual(['Dockerfile: service ranker has no HEALTHCHECK on /health']);
  });

  it('refuses a Node version other than .nvmrc, a non-slim base and inline npm installs', () => {
    const problems = check(
      dockerfile
        .replace('ARG NODE_VERSION=24.21.0', 'ARG NODE_VERSION=22.1.0')
        .replace('-bookworm-slim AS base', '-bookworm AS base')
        .replace('RUN --mount=type=cache,target=/root/.npm sh', 'RUN npm ci && sh'),
    );
    expect(problems).toContain(`Dockerfile: ARG NODE_VERSION=22.1.0 differs from .nvmrc (${nodeVersion})`);
    expect(problems).toContain('Dockerfile: NODE_VERSION must be Node 24');
    expect(problems).toContain(
      'Dockerfile: stage base starts from node:${NODE_VERSION}-bookworm, not node:${NODE_VERSION}-<debian>-slim',
    );
    expect(problems).toContain('Dockerfile: npm installs belong in stack/bin/install-production.sh, not in RUN lines');
  });

  it('refuses COPY sources that do not exist', () => {
    expect(check(dockerfile.replace('COPY ranker/ ranker/', 'COPY rankr/ ranker/'))).toEqual([
      'Dockerfile: COPY rankr/ (stage app): no such path',
    ]);
  });
});

describe('docker-compose check', () => {
  const check = (text: string) => composeProblems(text, { stages, pathExists: exists }).problems;

  it('refuses variables a service does not read, and values it would refuse', () => {
    const problems = check(
      compose
        .replace("RANKER_PORT: '8080'", "RANKER_PORTT: '8080'")
        .replace("COLLECTOR_PORT: '8090'", 'COLLECTOR_PORT: eighty'),
    );
    expect(problems).toContain(
      'docker-compose.yml services.ranker: RANKER_PORTT is not a variable of the ranker (config schema)',
    );
    expect(
      problems.some(
        (p) =>
          p.startsWith('docker-compose.yml services.collector: the collector would refuse') &&
          p.includes('COLLECTOR_PORT'),
      ),
    ).toBe(true);
  });

  it('refuses build targets that are not Dockerfile stages, unpinned images and missing mounts', () => {
    const problems = check(
      compose
        .replace('target: ranker', 'target: rankr')
        .replace('image: prom/prometheus:v2.55.1', 'image: prom/prometheus')
        .replace('image: redis:7.0', 'image: redis:7.4')
        .replace(
          'build:\n      <<: *build\n      target: collector',
          'build:\n      <<: *build\n      target: collector\n    volumes: [./no-such-dir:/x]',
        ),
    );
    expect(problems).toContain('docker-compose.yml services.ranker: build target rankr is not a Dockerfile stage');
    expect(problems).toContain(
      'docker-compose.yml services.prometheus: image prom/prometheus is not pinned to a version',
    );
    expect(problems).toContain(
      'docker-compose.yml services.redis: image redis:7.4, but the tests use redis:7.0 (stack/src/testing/containers.ts)',
    );
    expect(problems).toContain('docker-compose.yml services.collector: mounted path ./no-such-dir does not exist');
  });

  it('refuses what the Compose Specification does not allow', () => {
    const problems = check(compose.replace('  init: true\n', '  init: true\n  restart_policy: always\n'));
    expect(problems).toContain(
      'docker-compose.yml/services/collector: must NOT have additional properties (restart_policy)',
    );
  });
});

describe('Kubernetes manifests check', () => {
  let objects: any[];
  beforeAll(() => {
    objects = buildOverlay(repoRoot, 'k8s/overlays/dev');
  }, 60_000);
  const edited = (edit: (objects: any[]) => void) => {
    const copy = structuredClone(objects);
    edit(copy);
    return manifestProblems('dev', copy);
  };
  const find = (all: any[], kind: string, name: string) => all.find((o) => o.kind === kind && o.metadata.name === name);

  it('validates objects against the Kubernetes API schemas', async () => {
    const problems = await edited((all) => {
      find(all, 'Deployment', 'ranker').spec.replicas = 'two';
    });
    expect(problems.some((p) => p.startsWith('dev Deployment/ranker:') && p.includes('replicas'))).toBe(true);
  });

  it('requires probes, resources and a PodDisruptionBudget', async () => {
    const problems = await edited((all) => {
      const container = find(all, 'Deployment', 'ranker').spec.template.spec.containers[0];
      delete container.livenessProbe;
      delete container.resources.limits;
      all.splice(all.indexOf(find(all, 'PodDisruptionBudget', 'collector')), 1);
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'dev Deployment/ranker container ranker: needs liveness and readiness probes',
        'dev Deployment/ranker container ranker: no resources.limits.cpu',
        'dev Deployment/collector: no PodDisruptionBudget',
      ]),
    );
  });

  it('holds the ranker HPA to 2–10 and the processors to their partition count', async () => {
    const problems = await edited((all) => {
      find(all, 'HorizontalPodAutoscaler', 'ranker').spec.maxReplicas = 12;
      find(all, 'HorizontalPodAutoscaler', 'feature-processor').spec.maxReplicas = 7;
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'dev: ranker HPA must scale 2–10',
        "dev: feature-processor HPA maxReplicas 7 exceeds its topics' 6 partitions",
      ]),
    );
  });

  it('keeps Redis and Kafka closed to all but SearchOp pods, and only the ranker and collector public', async () => {
    const problems = await edited((all) => {
      find(all, 'NetworkPolicy', 'redis-internal').spec.ingress[0].from = [{ namespaceSelector: {} }];
      find(all, 'NetworkPolicy', 'schema-registry-internal').spec.ingress[0].from = [];
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'dev StatefulSet/redis: NetworkPolicy redis-internal lets in more than SearchOp pods',
        'dev Deployment/schema-registry: NetworkPolicy schema-registry-internal opens it to everyone; only ranker and collector may be',
      ]),
    );
  });

  it('checks each container environment with the service config schema, and refuses committed secrets', async () => {
    const problems = await edited((all) => {
      find(all, 'Deployment', 'ranker').spec.template.spec.containers[0].env.push({ name: 'RANKER_TYPO', value: '1' });
      all.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'leak' },
        stringData: { KAFKA_SASL_PASSWORD: 'x' },
      });
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'dev Deployment/ranker container ranker: RANKER_TYPO is not a variable of the ranker (config schema)',
        'dev Secret/leak: a Secret with values is committed; reference searchop-secrets instead',
      ]),
    );
  });
});

describe('Terraform check', () => {
  it('requires descriptions on variables and outputs, pinned modules and no literal secrets', async () => {
    const text = [
      'variable "a" {\n  type = string\n}',
      'output "b" {\n  value = 1\n}',
      'module "m" {\n  source = "terraform-aws-modules/vpc/aws"\n}',
      'resource "x" "y" {\n  password = "hunter2hunter2"\n}',
    ].join('\n');
    const parsed = await parseHcl('t.tf', text);
    expect(terraformFileProblems('t.tf', text, parsed)).toEqual([
      't.tf: variable a has no description',
      't.tf: output b has no description',
      't.tf: module m is not pinned to a version',
      't.tf:11: looks like a literal password, secret or token',
    ]);
  });
});

describe('workflow check', () => {
  const ciRun = readRepoFile(repoRoot, '.ci/run');
  const steps = readRepoFile(repoRoot, '.ci/steps.sh');

  it('refuses workflow commands that bypass .ci/steps.sh and steps that .ci/run runs but no workflow does', () => {
    const workflow = 'jobs:\n  t:\n    steps:\n      - run: npm test\n      - run: bash .ci/steps.sh install lint\n';
    expect(workflowProblems([{ path: 'w.yml', text: workflow }], ciRun, steps)).toEqual([
      'w.yml job t: runs "npm test"; call .ci/steps.sh instead so that .ci/run runs the same',
      'w.yml job t: unknown step lint',
      '.ci/run runs step prerequisites, which no workflow runs',
      '.ci/run runs step check, which no workflow runs',
      '.ci/run runs step test, which no workflow runs',
    ]);
  });
});
