export * from './scheme';
export * from './keys';
