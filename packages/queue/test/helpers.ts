export { keysOf, sleep, waitFor } from '@redkit/testing';
