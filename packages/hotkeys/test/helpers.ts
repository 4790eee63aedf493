export { keysOf, seededRandom as random, sleep } from '@redkit/testing';
