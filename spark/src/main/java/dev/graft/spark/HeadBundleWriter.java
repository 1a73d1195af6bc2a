package dev.graft.spark;

import dev.graft.model.Architectures;
import dev.graft.model.Backbone;
import dev.graft.train.HeadBundle;
import org.apache.spark.SparkContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Writes {@link HeadFitter}'s bundle: the source body checked against the features' weights, the fitted head. */
final class HeadBundleWriter {
    private HeadBundleWriter() {
    }

    /** Into {@code out} (local: beside the old bundle, moved into place whole; a Hadoop URI: written locally, then copied). */
    static void write(String out, String w, FeaturesMeta meta, List<String> classes, HeadFits.Head head, Map<String, Object> extra,
                      boolean overwrite, SparkContext sc, Consumer<String> log) {
        Path local = FeatureExtractor.driverLocal(w, sc);
        Backbone source = Backbone.load(Architectures.get(meta.model()), local, true, null, meta.preprocessing(), log);
        String sha = source.sha256();
        if (meta.weightsSha256() != null && sha != null && !meta.weightsSha256().equals(sha)) {
            throw new IllegalArgumentException("weights " + w + " (sha256 " + sha + ") are not the weights the features were computed with ("
                    + meta.weights() + ", sha256 " + meta.weightsSha256() + ")");
        }
        if (!source.architecture().name().equals(meta.model())) {
            throw new IllegalArgumentException("weights " + w + " hold " + source.architecture().name() + ", but the features were computed with "
                    + meta.model());
        }
        try {
            if (Hadoop.isLocal(out)) {
                // written beside the old bundle and moved into place when complete (Bundle): the folder holds the old
                // bundle or the new one, never a mix and never neither
                HeadBundle.save(Hadoop.localPath(out), source, classes, head.weight(), head.bias(), head.how(), extra);
            } else {
                Path tmp = Hadoop.tempDir("graft-bundle").resolve("bundle");
                HeadBundle.save(tmp, source, classes, head.weight(), head.bias(), head.how(), extra);
                Hadoop.copyFromLocal(tmp, out, overwrite, sc.hadoopConfiguration());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the bundle to " + out + ": " + e.getMessage(), e);
        }
    }
}
