export * from './table';
export * from './decide';
export * from './remedy';
export * from './advice';
