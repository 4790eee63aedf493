export { keysOf, sleep } from '@redkit/testing';
