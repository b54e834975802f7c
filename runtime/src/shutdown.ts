import closeWithGrace from 'close-with-grace';
import type { Logger } from './logger.ts';

export interface Closer {
  readonly name: string;
  close(): Promise<void> | void;
}

/**
 * On SIGTERM/SIGINT (or an uncaught error) closes resources in reverse order of registration —
 * servers stop accepting first, then consumers commit, then producers flush, then clients — within
 * `timeoutMs`, logging each step; a second signal or the timeout exits at once.
 */
export function installGracefulShutdown(logger: Logger, closers: Closer[], timeoutMs = 10_000): void {
  closeWithGrace({ delay: timeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an unexpected error');
    else logger.info({ signal }, 'shutting down');
    for (const closer of [...closers].reverse()) {
      try {
        await closer.close();
        logger.info({ resource: closer.name }, 'closed');
      } catch (error) {
        logger.error({ err: error, resource: closer.name }, 'close failed');
      }
    }
  });
}
