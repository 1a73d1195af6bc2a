package dev.graft.train;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The default recipe's last decision: the linear probe or the best fine-tuned candidate, on validation images
 * neither was trained on, compared image by image (paired, by sample). With b the images only the fine-tuned
 * network gets right and c those only the probe gets right, fine-tuning is kept when b - c > z sqrt(b + c), z =
 * {@link #Z}: more right answers than the noise of that count explains at about the 70% level (one-sided). The
 * bar is lower than a significance test's because the two are not symmetric: the fine-tuned candidate is then
 * retrained on every training image, and a tie costs nothing (both models are about equally good); it is there
 * because the best of several candidates on the same images looks better than it is (the winner's curse), which
 * is what makes a fine-tune that merely ties the probe look like a win.
 */
public final class ModelSelection {
    /** Standard errors of the paired count a fine-tune must win by. */
    static final double Z = 0.5;

    private ModelSelection() {
    }

    /** The verdict, its evidence in numbers, and a sentence for the log and the report. */
    public record Decision(boolean fineTuned, int onlyFineTuned, int onlyProbe, int images, double probeAccuracy,
                           double fineTunedAccuracy, String why) {
    }

    /** Probe or fine-tuned network, from their predictions on the same validation images. */
    public static Decision decide(Evaluation probe, Evaluation fineTuned) {
        Map<Integer, Boolean> probeRight = new HashMap<>();
        for (int i = 0; i < probe.size(); i++) {
            probeRight.put(probe.samples()[i], probe.predictions()[i] == probe.labels()[i]);
        }
        if (probeRight.size() != fineTuned.size()) {
            throw new IllegalArgumentException("the two models were evaluated on different images");
        }
        int b = 0;
        int c = 0;
        for (int i = 0; i < fineTuned.size(); i++) {
            Boolean p = probeRight.get(fineTuned.samples()[i]);
            if (p == null) {
                throw new IllegalArgumentException("the two models were evaluated on different images");
            }
            boolean f = fineTuned.predictions()[i] == fineTuned.labels()[i];
            if (f && !p) {
                b++;
            } else if (p && !f) {
                c++;
            }
        }
        boolean keep = b - c > Z * Math.sqrt(b + c);
        String figures = String.format(Locale.ROOT, "on %d validation images: probe accuracy %.3f, fine-tuned %.3f; only fine-tuning "
                + "gets %d right, only the probe %d (needed: more than %.1f ahead)", fineTuned.size(), probe.accuracy(),
                fineTuned.accuracy(), b, c, Z * Math.sqrt(b + c));
        return new Decision(keep, b, c, fineTuned.size(), probe.accuracy(), fineTuned.accuracy(), keep
                ? "kept the fine-tuned network: it beat the probe " + figures
                : "kept the probe: fine-tuning did not beat it " + figures);
    }
}
