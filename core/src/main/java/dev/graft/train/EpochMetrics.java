package dev.graft.train;

/**
 * One epoch's numbers, as the book prints them: mean per-example training loss, training accuracy, test
 * accuracy and training throughput. Validation accuracy is NaN when no validation split is used.
 */
public record EpochMetrics(int epoch, double trainLoss, double trainAcc, double valAcc, double valLoss, double testAcc,
                           double examplesPerSec, double testExamplesPerSec, double seconds, double dataWaitSeconds,
                           double lr) {

    /** These training numbers with validation and test results (either may be null). */
    public EpochMetrics withEvaluation(Evaluation val, Evaluation test) {
        return new EpochMetrics(epoch, trainLoss, trainAcc, val == null ? Double.NaN : val.accuracy(),
                val == null ? Double.NaN : val.loss(), test == null ? Double.NaN : test.accuracy(), examplesPerSec,
                test == null ? Double.NaN : test.examplesPerSec(), seconds, dataWaitSeconds, lr);
    }
}
