import { websocketResumeSuite } from './support/websocket-resume-suite.js';

// The long tier runs the same suite with one consumer for every endpoint (websocket-resume-shared.long.spec.ts).
websocketResumeSuite('a consumer per endpoint', '1000');
