export { spearman, pearson, averageRanks } from './spearman.js';
export { averagePrecision } from './average-precision.js';
export { mrrAtK, dcgAtK, ndcgAtK, recallAtK, pessimisticOrder, meanDefined } from './ranking.js';
