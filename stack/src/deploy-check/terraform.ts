/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-explicit-any --
   Parsed YAML/HCL documents are loosely typed here: their shape is what these checks verify. */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { runTool } from './tools.ts';

type Any = any;

/** Literals that look like credentials: AWS keys, private keys, and password-like attributes set to a string. */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/AKIA[0-9A-Z]{16}/, 'an AWS access key id'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/(password|secret|token|auth_token)\s*=\s*"[^"$]{6,}"/i, 'a literal password, secret or token'],
];

function terraformFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.tf') && !e.parentPath.includes('.terraform'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Problems of one parsed .tf file (as hcl2json gives it) and its text. */
export function terraformFileProblems(file: string, text: string, parsed: Record<string, Any>): string[] {
  const problems: string[] = [];
  for (const [name, blocks] of Object.entries<Any[]>(parsed['variable'] ?? {})) {
    if (!blocks.every((b) => typeof b.description === 'string' && b.description.length > 0)) {
      problems.push(`${file}: variable ${name} has no description`);
    }
  }
  for (const [name, blocks] of Object.entries<Any[]>(parsed['output'] ?? {})) {
    if (!blocks.every((b) => typeof b.description === 'string' && b.description.length > 0)) {
      problems.push(`${file}: output ${name} has no description`);
    }
  }
  for (const [name, blocks] of Object.entries<Any[]>(parsed['module'] ?? {})) {
    for (const block of blocks) {
      const registry = typeof block.source === 'string' && !block.source.startsWith('.');
      if (registry && typeof block.version !== 'string')
        problems.push(`${file}: module ${name} is not pinned to a version`);
    }
  }
  text.split('\n').forEach((line, index) => {
    for (const [pattern, what] of SECRET_PATTERNS) {
      if (pattern.test(line)) problems.push(`${file}:${index + 1}: looks like ${what}`);
    }
  });
  return problems;
}

/** terraform/: formatted (`terraform fmt -check`), parses, variables and outputs described, no secrets. */
export async function terraformProblems(root: string, readText: (path: string) => string): Promise<string[]> {
  const dir = join(root, 'terraform');
  const problems: string[] = [];
  const fmt = runTool('terraform', ['fmt', '-check', '-recursive', '-list=true', '-no-color', 'terraform'], root);
  if (fmt.status !== 0) {
    const files = fmt.stdout.trim() || fmt.stderr.trim();
    problems.push(
      `terraform fmt -check: not formatted or not parsable (run terraform fmt -recursive terraform): ${files}`,
    );
  }
  const files = terraformFiles(dir);
  if (files.length === 0) problems.push('terraform/: no .tf files');
  let declared = { variables: 0, outputs: 0 };
  for (const path of files) {
    const file = relative(root, path);
    const text = readText(file);
    let parsed: Record<string, Any>;
    try {
      parsed = await parse(file, text);
    } catch (error) {
      problems.push(`${file}: does not parse: ${String(error)}`);
      continue;
    }
    declared = {
      variables: declared.variables + Object.keys(parsed['variable'] ?? {}).length,
      outputs: declared.outputs + Object.keys(parsed['output'] ?? {}).length,
    };
    problems.push(...terraformFileProblems(file, text, parsed));
  }
  if (declared.variables === 0 || declared.outputs === 0) problems.push('terraform/: expected variables and outputs');
  return problems;
}
