/** Which quantity went non-finite. */
export type DivergedQuantity = 'loss' | 'gradient';

export interface DivergenceReport {
  /** The optimizer step being computed (1-based: the step that would have been saved as checkpoint-<step>). */
  step: number;
  /** Micro-batch index inside that step (0 .. accumulation-1). */
  microBatch: number;
  /** Batches consumed since the start of the run (0-based index of the offending batch), across resumes. */
  batchIndex: number;
  quantity: DivergedQuantity;
  /** The output key (loss) or parameter name (gradient) that was first found non-finite. */
  name: string;
  value: number;
}

/**
 * Thrown when a loss or gradient is NaN/Inf. The step is abandoned before the optimizer runs, so
 * parameters and the last checkpoint stay as they were.
 */
export class TrainingDivergedError extends Error {
  readonly report: DivergenceReport;

  constructor(report: DivergenceReport) {
    const where = report.quantity === 'loss' ? `loss '${report.name}'` : `gradient of '${report.name}'`;
    super(
      `training diverged at step ${report.step}, micro-batch ${report.microBatch} (batch #${report.batchIndex}): ` +
        `${where} is ${report.value}; the last good checkpoint was left untouched`,
    );
    this.name = 'TrainingDivergedError';
    this.report = report;
  }
}
