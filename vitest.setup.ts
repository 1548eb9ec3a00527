import fc from 'fast-check';

// Property tests run on a fixed seed so CI is reproducible; FC_SEED=<n> (or FC_SEED=random)
// explores other inputs, and a failure prints the seed and path that replay it.
const requested = process.env.FC_SEED;
if (requested !== 'random') fc.configureGlobal({ seed: requested ? Number(requested) : 20261127 });
