import { isSearchOpError } from '@searchop/runtime';
import { EXIT, main, stamp } from './commands.ts';
import { TrainerErrorCode } from './errors.ts';

/** The trainer's command line: `node trainer/src/cli.ts run|status|rollback ...` (see commands.ts). */
try {
  process.exitCode = await main(process.argv.slice(2), process.env);
} catch (error) {
  if (isSearchOpError(error)) {
    process.stderr.write(`${stamp()} ${error.code}: ${error.message}\n`);
    process.exitCode = error.code === TrainerErrorCode.USAGE ? EXIT.USAGE : EXIT.FAILED;
  } else {
    process.stderr.write(`${stamp()} unexpected failure: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.FAILED;
  }
}
