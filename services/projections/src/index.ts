export * from './projection';
export * from './runner';
export * from './fhir/schema';
export * from './fhir/search-params';
export * from './fhir/reader';
export * from './fhir/writer';
export * from './checkpoint-watcher';
export * from './service';
