import type { Admin } from 'kafkajs';

/**
 * Readiness as Kafka sees it: the cluster answers a metadata request within `timeoutMs`. The
 * rejection message is what /ready shows, so it names no broker address.
 */
export function kafkaReadiness(admin: Pick<Admin, 'describeCluster'>, timeoutMs = 2_000): () => Promise<void> {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        admin.describeCluster(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        }),
      ]);
    } catch {
      throw new Error('Kafka is not reachable');
    } finally {
      clearTimeout(timer);
    }
  };
}
