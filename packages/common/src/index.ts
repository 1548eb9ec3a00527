export { wordSpans, maskableSpans, type WordSpan, type WordSpanOptions } from './word-spans.js';
export { writeFileAtomic, writeFileSynced, syncDirectory, atomicTempPath } from './atomic-write.js';
export { nodeFs, nodeFsPromises, nodePath } from './node-builtins.js';
export { ProgressLine, formatDuration, type ProgressStream } from './progress.js';
export { recordLines, type RecordLine } from './record-lines.js';
