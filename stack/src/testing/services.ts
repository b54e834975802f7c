import type { StackEndpoints } from '../stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    schemaRegistryUrl: string;
    redisUrl: string;
  }
}

export type { StackEndpoints };
