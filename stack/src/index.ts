export * from './stack.ts';
export * from './settings.ts';
export * from './errors.ts';
