import type { Reporter, TestModule } from 'vitest/node';

/**
 * A skipped or to-do test is not a passing test: this reporter fails the run when any test was
 * skipped (an integration test that could not reach its services must fail, not vanish), and prints
 * a plain closing line "tests: N passed, N failed, N skipped" that CI tooling reads in any language.
 */
export default class NoSkipsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped.push(`${module.moduleId.replace(process.cwd() + '/', '')} > ${test.fullName}`);
      }
      if (module.state() === 'failed' && module.children.size === 0) failed++;
    }
    if (skipped.length > 0) {
      console.error(
        `\n${skipped.length} test(s) skipped or not run; skips fail this suite:\n  ${skipped.join('\n  ')}`,
      );
      process.exitCode = 1;
    }
    if (passed + failed + skipped.length === 0) {
      console.error('\nno test ran; that is a failure');
      process.exitCode = 1;
    }
    console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  }
}
