export * from './projection';
export * from './runner';
export * from './fhir/writer';
export * from './checkpoint-watcher';
export * from './service';
export * from './read-model-schema';
export * from './fhir/projection';
export * from './latest-versions';
