import { checkDeployment } from './index.ts';
import { repoRoot } from './files.ts';

/** `npm run check:deploy`: validates the deployment files; exit 1 listing every problem. */
const report = await checkDeployment(repoRoot);
for (const line of report.checked) console.log(`checked ${line}`);
for (const line of report.notices) console.log(`notice: ${line}`);
if (report.problems.length > 0) {
  console.error(`\n${report.problems.length} deployment problem(s):`);
  for (const line of report.problems) console.error(`  ${line}`);
  process.exitCode = 1;
} else {
  console.log('deployment files: no problems');
}
