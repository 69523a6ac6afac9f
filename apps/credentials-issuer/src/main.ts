import { runApp } from '@app/runtime';
import { bootstrap } from './bootstrap.js';

runApp('credentials-issuer', () => bootstrap());
