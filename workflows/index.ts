/** Workflow definitions registered by the worker (`workflowsPath` points here). */
export { incidentWorkflow } from './incident';
export { drillWorkflow } from './drill';
export { stormWorkflow } from './storm';
