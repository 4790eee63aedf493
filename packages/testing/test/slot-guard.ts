import { guardScriptSlots } from '@redkit/testing/vitest';

// Every script call in every test must keep its KEYS in one cluster slot.
guardScriptSlots();
