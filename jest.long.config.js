/** The long tier, `npm run test:long`: the specs named `*.long.spec.ts` (the chaos short run, and runs of its kind), after `npm test`. */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/**/*.long.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // One at a time: each chaos run starts a whole stack (the scaled one, sixteen apps on three NATS servers), and two at
  // once on two cores starve every process of CPU for seconds.
  maxWorkers: 1,
};
