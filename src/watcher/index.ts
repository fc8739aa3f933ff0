export * from './classify';
export * from './incident-starter';
export * from './reconcile';
export * from './watcher';
