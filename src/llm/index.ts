export * from './client';
export * from './diagnose';
export * from './errors';
export * from './prompt';
export * from './proposal';
export * from './tools';
