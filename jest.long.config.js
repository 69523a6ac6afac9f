/** The long tier, `npm run test:long`: the specs named `*.long.spec.ts` (the chaos short run, and runs of its kind), after `npm test`. */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/**/*.long.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
