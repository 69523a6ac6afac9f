import { websocketResumeSuite } from './support/websocket-resume-suite.js';

// websocket-resume.e2e runs the same suite with a consumer per endpoint.
websocketResumeSuite('one consumer for every endpoint', '1');
