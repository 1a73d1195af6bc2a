package dev.graft.train;

import dev.graft.data.Preprocessing;
import dev.graft.model.Backbone;
import dev.graft.model.Network;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Writes a network as a model bundle, the files graft train writes, without training it (for export tests). */
public final class TestBundles {
    private TestBundles() {
    }

    public static Path write(Path dir, Backbone source, Network net, List<String> labels, Preprocessing pre) throws IOException {
        Bundle.write(dir, Bundle.manifest(source, net, labels, pre, "test"), source, net, labels);
        return dir;
    }
}
