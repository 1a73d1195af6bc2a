package dev.graft.train;

/**
 * One epoch's numbers, as the book prints them: mean per-example training loss, training accuracy, test
 * accuracy and training throughput. Validation accuracy is NaN when no validation split is used.
 */
public record EpochMetrics(int epoch, double trainLoss, double trainAcc, double valAcc, double valLoss, double testAcc,
                           double examplesPerSec, double testExamplesPerSec, double seconds, double dataWaitSeconds,
                           double lr) {
}
