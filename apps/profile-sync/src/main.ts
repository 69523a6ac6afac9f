import { runApp } from '@app/runtime';
import { bootstrap } from './bootstrap.js';

runApp('profile-sync', () => bootstrap());
