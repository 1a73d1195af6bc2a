package dev.graft.weights;

/** The classifier cut off the source model, as a linear map from body features: rows are source classes. */
public record SourceClassifier(float[] weight, float[] bias, int classes, int features) {

    /** The logit of source class {@code c} for one feature vector at {@code offset}. */
    public double logit(int c, float[] features, int offset) {
        double v = bias[c];
        for (int j = 0; j < this.features; j++) {
            v += weight[c * this.features + j] * features[offset + j];
        }
        return v;
    }
}
