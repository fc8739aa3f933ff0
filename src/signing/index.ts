export * from './scheme';
export * from './keys';
export * from './key-files';
