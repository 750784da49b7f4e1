/** Test helpers for driver authors: `import { runDriverConformance } from 'tessera/testing'`. */
export { makeRecord, randomKey, runDriverConformance } from './conformance.js'
export type { ConformanceOptions, TestApi } from './conformance.js'
