export { createEmbeddedStack, DEV_COMMITS, EmbeddedStack } from './embedded-stack.js';
