/**
 * Where redkit's source lives. The package.json metadata and the absolute
 * links of the package READMEs (which must work on the npm package page,
 * where relative links lead nowhere) are built from this one constant.
 */
export const repositoryUrl = 'https://github.com/redkit/redkit';

/** Absolute links to a file or folder of the main branch start with one of these; the rest is the path in this repo. */
export const mainBranchPrefixes = [`${repositoryUrl}/blob/main/`, `${repositoryUrl}/tree/main/`];
