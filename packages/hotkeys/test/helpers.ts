export { keysOf, seededRandom as random } from '@redkit/testing';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
