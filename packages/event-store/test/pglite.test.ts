import { pgliteBackend } from '../src';
import { describeConformance } from './conformance';

describeConformance('PGlite (embedded)', () => pgliteBackend({}));
