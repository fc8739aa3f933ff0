export * from './types';
export * from './table';
export * from './decide';
