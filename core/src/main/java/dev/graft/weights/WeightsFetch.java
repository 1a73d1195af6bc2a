package dev.graft.weights;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.util.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Brings a zoo entry's weights into the cache: the file itself, and for TF.js models the shards and labels beside it. */
public final class WeightsFetch {
    private WeightsFetch() {
    }

    public static Path fetch(WeightsSpec spec, Downloader dl, Consumer<String> log) {
        if (spec.url() == null || spec.url().isEmpty()) {
            throw new IllegalArgumentException("model '" + spec.name() + "' has no download; pass --weights FILE");
        }
        String dir = spec.name();
        try {
            Path main = dl.fetch(spec.url(), dir, spec.cacheName(), spec.checksum());
            if (spec.format() == WeightsSpec.Format.TFJS) {
                JsonNode manifest = Json.read(main).path("weightsManifest");
                String base = spec.url().substring(0, spec.url().lastIndexOf('/') + 1);
                for (JsonNode group : manifest) {
                    for (JsonNode p : group.path("paths")) {
                        String rel = p.asText();
                        if (rel.contains("/") || rel.contains("..")) {
                            throw new WeightsException(main.toString(), "names shard '" + rel + "', which is not a plain file name");
                        }
                        dl.fetch(base + rel, dir, rel, null);
                    }
                }
                String meta = base + "metadata.json";
                try {
                    dl.fetch(meta, dir, "metadata.json", null);
                } catch (DownloadException e) {
                    log.accept("no class labels at " + meta + " (" + e.getMessage() + ")");
                }
            }
            return main;
        } catch (DownloadException e) {
            String hint = e.unreachable()
                    ? "graft could not download the " + spec.name() + " weights (" + e.getMessage() + "). Offline? Download "
                    + spec.url() + " elsewhere and pass --weights FILE, or put it in " + dl.cached(dir, spec.cacheName())
                    : e.getMessage();
            throw new DownloadException(hint, e.unreachable(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether a zoo entry's file is already in the cache (for listings; not verified). */
    public static boolean cached(WeightsSpec spec, Path cache) {
        return spec.url() != null && !spec.url().isEmpty()
                && java.nio.file.Files.isRegularFile(cache.resolve(spec.name()).resolve(spec.cacheName()));
    }
}
